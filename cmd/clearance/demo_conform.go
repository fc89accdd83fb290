package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/conform"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/target"
)

// demoConformProbes is the demo's probe draw from the suites (the 60
// generic prompts are added): small, since the demo runs in CI.
const demoConformProbes = 40

// demoFingerprint has the assessor ask the service for the fingerprint
// of the first demo model's endpoint before it is decided, so that the
// decision binds it, and waits for the job that records it. The answers
// are stored sealed in the service's database, nowhere else.
func demoFingerprint(ctx context.Context, e *env, st *stack, actors demoActors, caseID string) error {
	f, err := st.svc.RecordFingerprint(ctx, actors["assessor"], caseID, review.FingerprintInput{Probes: demoConformProbes})
	if err != nil {
		return err
	}
	for f.State == review.FingerprintPending {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		fs, _, err := st.svc.ListConformance(ctx, actors["assessor"], caseID)
		if err != nil {
			return err
		}
		for _, x := range fs {
			if x.ID == f.ID {
				f = x
			}
		}
	}
	if f.State != review.FingerprintRecorded {
		return fmt.Errorf("demo fingerprint %s: %s: %s", f.ID, f.State, f.Error)
	}
	fmt.Fprintf(e.stdout, "   endpoint fingerprint %s recorded by a job: %d probes, %d requests per check\n", f.Digest, f.Probes, f.Requests)
	return nil
}

// demoConform checks, through the service, that the first demo model's
// cleared decision is still served: once against the case's endpoint (it
// passes) and once with the vulnerable model's endpoint swapped in as the
// check's target (it fails, opening a finding and firing
// case.conformance_failed). Both show on the case page.
func demoConform(ctx context.Context, e *env, st *stack, actors demoActors, ds demoState, oracle target.Oracle) error {
	cleared, swapped := demoModels[0], demoModels[1]
	decisionID, ok := ds.Decisions[cleared.name]
	if !ok {
		return fmt.Errorf("demo conformance: %s has no decision", cleared.name)
	}
	apiKey := "demo-key-" + rand.Text()
	url, err := demoTarget(st, swapped.profile, oracle, apiKey)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "== conformance of %s's endpoint after release (decision %s)\n", cleared.name, decisionID)
	for i, in := range []review.ConformanceInput{{}, {TargetURL: url, Model: cleared.name, Credentials: apiKey}} {
		k, err := st.svc.CheckConformance(ctx, actors["official"], decisionID, in)
		if err != nil {
			return err
		}
		what := "the same endpoint"
		if i == 1 {
			what = swapped.name + "'s model swapped in"
		}
		verdict := "PASS: same model"
		if !k.Same {
			verdict = "FAIL: not the same model, finding " + k.FindingID
			var res conform.Result
			if json.Unmarshal(k.Result, &res) == nil {
				verdict += " (rejected: " + strings.Join(res.Failed(), ", ") + ")"
			}
		}
		fmt.Fprintf(e.stdout, "   check %s, %s: %s\n", k.ID, what, verdict)
	}
	return nil
}
