// Package assess runs evaluation suites against a model and turns the
// answers into metrics a reviewer can trust.
//
// A run takes a plan of samples (package suite), sends each to a target with
// adaptive concurrency (AIMD), bounded jittered retries and a per-request
// timeout, scores every answer (package score) and streams one record per
// sample to samples.jsonl in the run directory. Metrics (package stats) are
// computed from that file alone, so a run that was killed and resumed ends
// with exactly the metrics of an uninterrupted one. A content-addressed
// response cache makes re-runs cost no model calls.
//
// A target failure is recorded on its sample and never counted as a refusal
// or a pass; neither is a scorer that could not judge.
package assess

import (
	"context"

	"github.com/clearance-dev/clearance/target"
)

// Target is what the runner needs of a model client (package target
// provides them). Identity names the target and its generation settings,
// never its credentials; it keys the response cache.
type Target interface {
	Identity() string
	Complete(ctx context.Context, req target.Request) (target.Response, error)
}
