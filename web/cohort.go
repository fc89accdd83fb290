package web

import (
	"net/http"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/work"
)

// cohortJSON is a case's cohort (docs/cohorts.md): the model under review
// beside each reference model whose assessment the caller may see, per
// metric with the difference model − reference, its 95% Newcombe
// interval and a within_error mark (the interval covers 0), and the
// capability aggregate (a Rasch model, logits). References is empty when
// no reference assessment is finished.
type cohortJSON struct {
	assess.Cohort
}

func (handlers) getCohort(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	c, err := caseCohort(r, a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cohortJSON{*c})
	return nil
}

// caseCohort computes a case's cohort from the assessments the actor may
// see; never nil.
func caseCohort(r *http.Request, a review.Actor, caseID string) (*assess.Cohort, error) {
	svc := srv(r).svc
	refs, err := svc.References(r.Context(), a, caseID)
	if err != nil {
		return nil, err
	}
	var as []review.Assessment
	for p := (review.Page{Limit: review.MaxPageLimit}); ; {
		page, err := svc.Assessments(r.Context(), a, caseID, p)
		if err != nil {
			return nil, err
		}
		as = append(as, page...)
		if len(page) < p.N() {
			break
		}
		p.After = page[len(page)-1].ID
	}
	c, err := work.CaseCohort(as, refs)
	if err != nil {
		return nil, err
	}
	if c == nil {
		c = &assess.Cohort{Schema: assess.CohortSchema, Model: assess.Member{Name: "model"}, References: []assess.Comparison{}}
	}
	return c, nil
}
