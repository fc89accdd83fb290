package web

import (
	"fmt"
	"net/http"

	"github.com/clearance-dev/clearance/review"
)

// Incidents on each regime's clock (review/incidents.go):
// POST /api/v1/incidents files one against a cleared decision and returns
// it with its duties; GET lists and reads them; duties are listed with
// their state (due, overdue, done, closed) and a report is filed for one.

type fileIncidentJSON struct {
	review.Incident
	Duties []review.Duty `json:"duties"`
}

type resolveIncidentRequest struct {
	Resolution string `json:"resolution"`
}

func (handlers) fileIncident(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in review.IncidentInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	inc, ds, err := srv(r).svc.FileIncident(r.Context(), a, in)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []review.Duty{}
	}
	writeJSON(w, http.StatusCreated, fileIncidentJSON{Incident: inc, Duties: ds})
	return nil
}

func (handlers) listIncidents(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	is, err := srv(r).svc.ListIncidents(r.Context(), a, review.IncidentFilter{CaseID: r.URL.Query().Get("case"), Page: p})
	if err != nil {
		return err
	}
	return writeList(w, is, p, func(x review.Incident) string { return x.ID }, func(x review.Incident) review.Incident { return x })
}

func (handlers) getIncident(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	v, err := srv(r).svc.GetIncident(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (handlers) resolveIncident(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in resolveIncidentRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := srv(r).svc.ResolveIncident(r.Context(), a, r.PathValue("id"), in.Resolution)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (handlers) listDuties(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	ds, err := srv(r).svc.ListDuties(r.Context(), a, review.DutyFilter{CaseID: q.Get("case"), IncidentID: q.Get("incident"),
		State: review.DutyState(q.Get("state")), Page: p})
	if err != nil {
		return err
	}
	return writeList(w, ds, p, func(x review.Duty) string { return x.ID }, func(x review.Duty) review.Duty { return x })
}

func (handlers) fileReport(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in review.ReportInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	rep, err := srv(r).svc.FileReport(r.Context(), a, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rep)
	return nil
}

func (handlers) getIncidentReport(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	rep, err := srv(r).svc.GetIncidentReport(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "markdown" {
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(rep.Markdown))
		return nil
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// priorJSON is the case a modified model's case re-reviews.
type priorJSON struct {
	PriorCaseID     string                   `json:"prior_case_id"`
	PriorModel      string                   `json:"prior_model"`
	PriorDigest     string                   `json:"prior_model_digest"`
	PriorDecisionID string                   `json:"prior_decision_id,omitempty"`
	PriorCompute    float64                  `json:"prior_compute_flop"`
	Compute         float64                  `json:"compute_flop"`
	Checks          []review.FullReviewCheck `json:"checks"`
}

func (handlers) getPriorReview(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	pr, err := srv(r).svc.PriorReview(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	if pr == nil {
		return fmt.Errorf("case %s re-reviews no decided case of its model family: %w", r.PathValue("id"), review.ErrNotFound)
	}
	out := priorJSON{PriorCaseID: pr.Prior.ID, PriorModel: pr.Prior.ModelName, PriorDigest: pr.Prior.ModelDigest,
		PriorDecisionID: pr.Decision.ID, PriorCompute: pr.PriorCompute, Compute: pr.Compute, Checks: pr.Checks}
	if out.Checks == nil {
		out.Checks = []review.FullReviewCheck{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
