package web

import (
	"encoding/json"
	"net/http"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
)

// Token-budget sweeps (review.AssessmentInput.Budgets, review.BudgetSweeps):
// GET /api/v1/cases/{id}/budget-sweeps gives each sweep of a case with
// the solve rate at each budget, raw and excluding non-capability
// failures (the automatic triage in the assessment's metrics), as
// clearance assess --budget-sweep writes budget_sweep.json.

type budgetSweepsJSON struct {
	CaseID string            `json:"case_id"`
	Sweeps []budgetSweepJSON `json:"sweeps"`
}

type budgetSweepJSON struct {
	ID string `json:"id"`
	// Points are in increasing order of budget.
	Points []budgetPointJSON `json:"points"`
}

// budgetPointJSON is one budget of a sweep: its assessment and, once the
// assessment is done, the solve rates over its agent tasks with Wilson
// 95% intervals and the failed episodes by automatic triage label.
type budgetPointJSON struct {
	Budget       int64          `json:"budget_tokens"`
	AssessmentID string         `json:"assessment_id"`
	State        string         `json:"state"`
	Variant      string         `json:"variant"`
	Raw          *sweepRateJSON `json:"solve_rate,omitempty"`
	Adjusted     *sweepRateJSON `json:"solve_rate_excluding_noncapability,omitempty"`
	FailedBy     map[string]int `json:"failed_by_label,omitempty"`
}

type sweepRateJSON struct {
	Solved int `json:"solved"`
	N      int `json:"n"`
	Errors int `json:"errors"`
	// Excluded counts episodes left out as refused or scaffold errors.
	Excluded int     `json:"excluded,omitempty"`
	Rate     float64 `json:"rate"`
	Low      float64 `json:"ci_low"`
	High     float64 `json:"ci_high"`
}

func toSweepRate(r assess.Rate) *sweepRateJSON {
	return &sweepRateJSON{Solved: r.Flagged, N: r.N, Errors: r.Errors, Excluded: r.Excluded, Rate: r.Rate, Low: r.CI.Low, High: r.CI.High}
}

// budgetPoint reads the point of one assessment of a sweep; ok is false
// until it is done with metrics holding agent tasks.
func budgetPoint(as review.Assessment) (assess.BudgetPoint, bool) {
	b := as.Sweep().BudgetTokens
	if as.State != review.AssessmentDone || len(as.Metrics) == 0 {
		return assess.BudgetPoint{Budget: b}, false
	}
	var m assess.Metrics
	if json.Unmarshal(as.Metrics, &m) != nil {
		return assess.BudgetPoint{Budget: b}, false
	}
	return assess.BudgetPointOf(b, m)
}

func toBudgetSweep(s review.BudgetSweep) budgetSweepJSON {
	out := budgetSweepJSON{ID: s.ID, Points: []budgetPointJSON{}}
	for _, as := range s.Assessments {
		j := budgetPointJSON{Budget: as.Sweep().BudgetTokens, AssessmentID: as.ID, State: string(as.State), Variant: as.Variant().Label()}
		if p, ok := budgetPoint(as); ok {
			j.Raw, j.Adjusted, j.FailedBy = toSweepRate(p.Raw), toSweepRate(p.Adjusted), p.Triage
		}
		out.Points = append(out.Points, j)
	}
	return out
}

func (handlers) listBudgetSweeps(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	id := r.PathValue("id")
	ss, err := srv(r).svc.BudgetSweeps(r.Context(), a, id)
	if err != nil {
		return err
	}
	out := budgetSweepsJSON{CaseID: id, Sweeps: []budgetSweepJSON{}}
	for _, s := range ss {
		out.Sweeps = append(out.Sweeps, toBudgetSweep(s))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
