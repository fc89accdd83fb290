package main

import (
	crand "crypto/rand"
	"fmt"
	"time"

	"context"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/target"
	"github.com/clearance-dev/clearance/work"
)

// demoCohortLimit is the demo's reference plan: a small draw per suite,
// since the demo runs in CI.
const demoCohortLimit = 40

// demoCohortSuites are the suites the demo's reference models run: one
// safeguard metric and one capability metric.
var demoCohortSuites = []string{"jailbreak", "cyber-compliance"}

// demoCohortReferences are the reference models each demo model is shown
// against: reference simulators with the built-in profiles.
var demoCohortReferences = []string{"typical", "cautious"}

// demoCohort runs two reference assessments on a case, each a reference
// simulator behind its own key, on the same small plan and seed, and
// prints the model beside each reference (docs/cohorts.md).
func demoCohort(ctx context.Context, e *env, st *stack, actors demoActors, caseID string, limit int, oracle target.Oracle) error {
	n := demoCohortLimit
	if limit > 0 && limit < n {
		n = limit
	}
	for _, profile := range demoCohortReferences {
		key := "demo-ref-key-" + crand.Text()
		url, err := demoTarget(st, profile, oracle, key)
		if err != nil {
			return err
		}
		as, err := st.svc.ScheduleAssessment(ctx, actors["assessor"], caseID, review.AssessmentInput{Suites: demoCohortSuites, Limit: n,
			Reference: &review.ReferenceInput{Name: profile, URL: url, Model: "reference-" + profile, Credentials: key}})
		if err != nil {
			return fmt.Errorf("reference %s: %w", profile, err)
		}
		if _, err = waitAssessment(ctx, st.svc, actors["assessor"], as.ID, 100*time.Millisecond); err != nil {
			return fmt.Errorf("reference %s: %w", profile, err)
		}
	}
	refs, err := st.svc.References(ctx, actors["assessor"], caseID)
	if err != nil {
		return err
	}
	as, err := st.svc.Assessments(ctx, actors["assessor"], caseID, review.Page{Limit: review.MaxPageLimit})
	if err != nil {
		return err
	}
	c, err := work.CaseCohort(as, refs)
	if err != nil || c == nil {
		return err
	}
	for _, r := range c.References {
		for _, d := range r.Deltas {
			mark := "differs"
			if d.WithinError {
				mark = "within error"
			}
			fmt.Fprintf(e.stdout, "   vs %-9s %-38s %+6.1f%% [%+.1f%%, %+.1f%%] %s\n", r.Reference.Name, d.Key, 100*d.Delta, 100*d.CI.Low, 100*d.CI.High, mark)
		}
	}
	return nil
}
