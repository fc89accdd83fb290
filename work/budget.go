package work

import (
	"fmt"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/suite"
)

// Token-budget sweeps in the service (review.AssessmentInput.Budgets):
// the review service plans a sweep once and stores one assessment per
// budget, each spec recording its budget (Spec.BudgetTokens); the
// runner gives every agent episode of such an assessment that many
// tokens (agent.Limits.MaxTokens), as clearance assess --budget-sweep
// does, and leaves the worker's other limits as they are.

// checkSweepable refuses a sweep of a plan with no agent tasks: budgets
// bound agent episodes only, so every point of the sweep would be the
// same run.
func checkSweepable(spec Spec, load *suites, budgets []int64) error {
	if len(budgets) == 0 {
		return nil
	}
	plan, _, _, err := spec.plan(load)
	if err != nil {
		return fmt.Errorf("plan assessment: %w", err)
	}
	for sm := range plan {
		if sm.Kind == suite.KindExploit {
			return nil
		}
	}
	return fmt.Errorf("plan assessment: budgets: the plan has no agent tasks to sweep (add suite %s): %w", "cyber-exploit", review.ErrInvalidInput)
}

// episodeLimits returns the worker's episode limits with the token
// budget of a sweep's assessment, if any (budget above 0).
func episodeLimits(l agent.Limits, budget int64) agent.Limits {
	if budget > 0 {
		l.MaxTokens = budget
	}
	return l
}
