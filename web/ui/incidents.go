package ui

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// Incidents on each regime's clock: the case page lists a case's
// incidents with their duties (due, overdue, done, closed); /incidents
// lists every duty the user may see, open ones first. Filing is through
// the API and CLI (clearance incident file|report|resolve).

// dutyRow is a duty as a page shows it.
type dutyRow struct {
	review.Duty
	// Left is how far the deadline is: "in 4d 3h", "2h ago".
	Left string
}

// incidentCard is an incident with its duties for a page.
type incidentCard struct {
	review.Incident
	Duties  []dutyRow
	Reports []review.IncidentReport
}

type incidentsPage struct {
	base
	Open, Closed []dutyRow
	Incidents    []review.Incident
}

func dutyRows(ds []review.Duty, now time.Time) []dutyRow {
	out := make([]dutyRow, 0, len(ds))
	for _, d := range ds {
		out = append(out, dutyRow{Duty: d, Left: timeLeft(d.DueAt, now)})
	}
	// Open duties first, by deadline.
	slices.SortStableFunc(out, func(a, b dutyRow) int {
		if ao, bo := a.State.Open(), b.State.Open(); ao != bo {
			if ao {
				return -1
			}
			return 1
		}
		return a.DueAt.Compare(b.DueAt)
	})
	return out
}

// timeLeft says how far due is from now.
func timeLeft(due, now time.Time) string {
	d := due.Sub(now).Round(time.Hour)
	past := d < 0
	if past {
		d = -d
	}
	h := int(d.Hours())
	s := fmt.Sprintf("%dh", h)
	if h >= 48 {
		s = fmt.Sprintf("%dd %dh", h/24, h%24)
	}
	if past {
		return s + " ago"
	}
	return "in " + s
}

// caseIncidents loads a case's incidents with their duties and reports.
func (h *Handler) caseIncidents(ctx context.Context, a review.Actor, caseID string) ([]incidentCard, error) {
	is, err := h.svc.ListIncidents(ctx, a, review.IncidentFilter{CaseID: caseID, Page: review.Page{Limit: review.MaxPageLimit}})
	if err != nil {
		return nil, err
	}
	now := h.now()
	out := make([]incidentCard, 0, len(is))
	for _, i := range is {
		v, err := h.svc.GetIncident(ctx, a, i.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, incidentCard{Incident: v.Incident, Duties: dutyRows(v.Duties, now), Reports: v.Reports})
	}
	return out, nil
}

// incidents lists the duties and incidents the user may see.
func (h *Handler) incidents(w http.ResponseWriter, r *http.Request, u user) {
	ctx := r.Context()
	p := review.Page{Limit: review.MaxPageLimit}
	ds, err := h.svc.ListDuties(ctx, u.Actor, review.DutyFilter{Page: p})
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	is, err := h.svc.ListIncidents(ctx, u.Actor, review.IncidentFilter{Page: p})
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	d := &incidentsPage{base: base{Title: "Incidents and duties", Nav: "incidents"}, Incidents: is}
	d.setUser(u)
	for _, row := range dutyRows(ds, h.now()) {
		if row.State.Open() {
			d.Open = append(d.Open, row)
		} else {
			d.Closed = append(d.Closed, row)
		}
	}
	h.render(w, r, http.StatusOK, "incidents", d)
}
