package ui

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// Filing on the case page: the developer of the case, or an agency's
// official or reviewer, files an incident against a cleared decision,
// files the report a duty asks for (an incident's, a scheduled one's or a
// condition's) and resolves an incident. Bad input re-shows the case page
// with the form and the field's error (422); a duty already done, an
// incident already resolved, re-show it with the conflict (409).

// incidentFiling is the case page's scheduled duties and what the
// incident forms need.
type incidentFiling struct {
	// CanFile: the user may file incidents and reports on the case.
	CanFile bool
	// Decisions are the case's decisions that cleared a profile, newest
	// first: an incident is filed against one of them.
	Decisions []review.Decision
	Classes   []review.IncidentClass
	// Scheduled are the case's duties of no incident: a profile's
	// scheduled duties and a decision's conditions with due dates.
	Scheduled []dutyRow
}

func (h *Handler) incidentFiling(ctx context.Context, a review.Actor, c review.Case, decisions []review.Decision) (incidentFiling, error) {
	f := incidentFiling{CanFile: review.MayFileIncident(a, c), Classes: review.IncidentClasses}
	for i := len(decisions) - 1; i >= 0; i-- {
		if review.DecisionCleared(decisions[i]) {
			f.Decisions = append(f.Decisions, decisions[i])
		}
	}
	ds, err := h.svc.ListDuties(ctx, a, review.DutyFilter{CaseID: c.ID, Page: review.Page{Limit: review.MaxPageLimit}})
	if err != nil {
		return f, err
	}
	var own []review.Duty
	for _, d := range ds {
		if d.IncidentID == "" {
			own = append(own, d)
		}
	}
	f.Scheduled = dutyRows(own, h.now())
	return f, nil
}

// parseDiscovered reads the discovery time: RFC 3339, or a browser's
// datetime-local value (read as UTC).
func parseDiscovered(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// fileIncident: POST /cases/{id}/incidents.
func (h *Handler) fileIncident(w http.ResponseWriter, r *http.Request, u user) {
	f := newForm(r.PostForm)
	in := review.IncidentInput{DecisionID: strings.TrimSpace(f.V("decision_id")), Class: review.IncidentClass(f.V("class")),
		Summary: strings.TrimSpace(f.V("summary")), Evidence: strings.TrimSpace(f.V("evidence"))}
	if s := strings.TrimSpace(f.V("discovered_at")); s == "" {
		in.DiscoveredAt = h.now()
	} else if t, ok := parseDiscovered(s); ok {
		in.DiscoveredAt = t
	} else {
		f.fail("discovered_at", "Enter when it was discovered as YYYY-MM-DDTHH:MM (UTC) or RFC 3339, or leave it empty for now.")
	}
	if f.Failed() {
		h.reshow(w, r, u, "incident", f, nil)
		return
	}
	// The decision must be one of this case's: a form posted under one
	// case cannot file against another's.
	if ds, err := h.svc.Decisions(r.Context(), u.Actor, r.PathValue("id"), review.Page{Limit: review.MaxPageLimit}); err != nil {
		h.serviceError(w, r, err)
		return
	} else if !decisionIn(ds, in.DecisionID) {
		f.fail("decision_id", "Choose a cleared decision of this case.")
		h.reshow(w, r, u, "incident", f, nil)
		return
	}
	inc, _, err := h.svc.FileIncident(r.Context(), u.Actor, in)
	h.act(w, r, u, "incident", f, err, "incident-"+inc.ID, "decision_id", "class", "summary", "discovered_at", "evidence")
}

func decisionIn(ds []review.Decision, id string) bool {
	for _, d := range ds {
		if d.ID == id {
			return true
		}
	}
	return false
}

// fileDutyReport: POST /cases/{id}/duties/{did}/reports.
func (h *Handler) fileDutyReport(w http.ResponseWriter, r *http.Request, u user) {
	did := r.PathValue("did")
	f := newForm(r.PostForm)
	ds, err := h.svc.ListDuties(r.Context(), u.Actor, review.DutyFilter{CaseID: r.PathValue("id"), Page: review.Page{Limit: review.MaxPageLimit}})
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if !dutyIn(ds, did) {
		h.serviceError(w, r, review.ErrNotFound)
		return
	}
	_, err = h.svc.FileReport(r.Context(), u.Actor, did, review.ReportInput{Note: strings.TrimSpace(f.V("note"))})
	h.act(w, r, u, "report:"+did, f, err, "duty-"+did, "note")
}

func dutyIn(ds []review.Duty, id string) bool {
	for _, d := range ds {
		if d.ID == id {
			return true
		}
	}
	return false
}

// resolveIncident: POST /cases/{id}/incidents/{iid}/resolve.
func (h *Handler) resolveIncident(w http.ResponseWriter, r *http.Request, u user) {
	iid := r.PathValue("iid")
	f := newForm(r.PostForm)
	res := strings.TrimSpace(f.V("resolution"))
	if res == "" {
		f.fail("resolution", "Say how the incident was resolved.")
		h.reshow(w, r, u, "resolve:"+iid, f, nil)
		return
	}
	inc, err := h.svc.GetIncident(r.Context(), u.Actor, iid)
	if err == nil && inc.CaseID != r.PathValue("id") {
		err = review.ErrNotFound
	}
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	_, err = h.svc.ResolveIncident(r.Context(), u.Actor, iid, res)
	h.act(w, r, u, "resolve:"+iid, f, err, "incident-"+iid, "resolution")
}
