package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// demoPrivateSuite and demoPrivateLimit are the demo's private-variant
// run: a small draw of one suite, public and private form side by side.
const (
	demoPrivateSuite = "jailbreak"
	demoPrivateLimit = 40
)

// demoPrivateOracle extends the demo's oracle with the private forms of
// demoPrivateSuite under the service's private seed, so that the demo's
// reference models understand the reworded prompts as they understand
// the public ones (a simulator must be told what a prompt is). Without a
// seed, or on any error, it returns oracle as it is: the private step then
// fails with the reason.
func demoPrivateOracle(oracle target.Oracle, dataDir string) target.Oracle {
	seed, err := readPrivateSeed(filepath.Join(dataDir, privateSeedFile))
	if err != nil {
		return oracle
	}
	s, err := suite.Builtin(demoPrivateSuite)
	if err != nil {
		return oracle
	}
	p, err := suite.Private(s, seed)
	if err != nil {
		return oracle
	}
	seq, _, err := suite.Samples([]*suite.Suite{p}, suite.PlanOptions{})
	if err != nil {
		return oracle
	}
	private := assess.ReferenceOracle(seq)
	return func(key [32]byte) (target.Truth, bool) {
		if t, ok := private(key); ok {
			return t, true
		}
		return oracle(key)
	}
}

// demoPrivate runs one assessment of a case with private variants and
// prints the gap: the agency's view (rates) and what the developer sees
// (the flag alone).
func demoPrivate(ctx context.Context, e *env, st *stack, actors demoActors, dev review.Actor, caseID string, limit int) error {
	n := demoPrivateLimit
	if limit > 0 && limit < n {
		n = limit
	}
	as, err := st.svc.ScheduleAssessment(ctx, actors["assessor"], caseID, review.AssessmentInput{Suites: []string{demoPrivateSuite}, Limit: n, Private: true,
		Variant: review.VariantProduction, Scaffold: demoScaffold})
	if err != nil {
		return fmt.Errorf("private variants: %w", err)
	}
	if as, err = waitAssessment(ctx, st.svc, actors["assessor"], as.ID, 100*time.Millisecond); err != nil {
		return fmt.Errorf("private variants: %w", err)
	}
	var m assess.Metrics
	if err := json.Unmarshal(as.Metrics, &m); err != nil {
		return fmt.Errorf("private variants: %w", err)
	}
	if m.PrivateGap == nil {
		return fmt.Errorf("private variants: assessment %s has no private-variant gap", as.ID)
	}
	fmt.Fprintf(e.stdout, "   private variants (assessment %s, %d items in both forms):\n", as.ID, n)
	for _, g := range m.PrivateGap.Gaps {
		verdict := "no significant gap"
		if g.Flagged {
			verdict = "POSSIBLE OVERFITTING to the public suite"
		}
		fmt.Fprintf(e.stdout, "     %-34s public %5.1f%%  private %5.1f%%  gap %+5.1f points [%+.1f, %+.1f]: %s\n", g.Metric,
			100*g.Diff.B.Rate, 100*g.Diff.A.Rate, 100*g.Diff.Diff, 100*g.Diff.CI.Low, 100*g.Diff.CI.High, verdict)
	}
	seen, err := st.svc.GetAssessment(ctx, dev, as.ID)
	if err != nil {
		return fmt.Errorf("private variants: %w", err)
	}
	var dm assess.Metrics
	if err := json.Unmarshal(seen.Metrics, &dm); err != nil || dm.PrivateGap == nil || !dm.PrivateGap.Redacted {
		return fmt.Errorf("private variants: the developer's copy of %s is not redacted to the flag", as.ID)
	}
	fmt.Fprintf(e.stdout, "     the developer sees the flag only (flagged: %v), never the private items or their rates\n", dm.PrivateGap.Flagged)
	return nil
}
