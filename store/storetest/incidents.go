package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/clearance-dev/clearance/review"
	"github.com/google/go-cmp/cmp"
)

// testIncidents: incidents, duties and reports round-trip every field
// (zero resolved/done times included), list by case, organisation, state
// and deadline, and a duty's update is refused (ErrConflict) when its
// stored state is no longer the one the caller read.
func testIncidents(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_dev", review.OrgDeveloper)
	mkOrg(t, s, "org_dev2", review.OrgDeveloper)
	mkCase(t, s, "case_i1", "org_dev", review.StateDecided)
	mkCase(t, s, "case_i2", "org_dev2", review.StateDecided)
	inc := review.Incident{ID: "inc_1", CaseID: "case_i1", DecisionID: "dec_1", OrgID: "org_dev", Class: review.ClassCyber,
		Summary: "weights exfiltrated ✓", Evidence: "log excerpt", DiscoveredAt: at(10), FiledBy: "usr_1", CreatedAt: at(11)}
	other := review.Incident{ID: "inc_2", CaseID: "case_i2", DecisionID: "dec_2", OrgID: "org_dev2", Class: review.ClassImminentRisk,
		Summary: "s", DiscoveredAt: at(12), FiledBy: "usr_2", CreatedAt: at(13)}
	must(t, "CreateIncident", s.CreateIncident(ctx, inc))
	must(t, "CreateIncident other", s.CreateIncident(ctx, other))
	wantErr(t, "CreateIncident duplicate", s.CreateIncident(ctx, inc), review.ErrConflict)
	got, err := s.GetIncident(ctx, "inc_1")
	must(t, "GetIncident", err)
	if d := cmp.Diff(inc, got); d != "" {
		t.Errorf("GetIncident (-want +got):\n%s", d)
	}
	_, err = s.GetIncident(ctx, "inc_none")
	wantErr(t, "GetIncident missing", err, review.ErrNotFound)
	inc.ResolvedAt, inc.Resolution = at(20), "keys rotated"
	must(t, "UpdateIncident", s.UpdateIncident(ctx, inc))
	wantErr(t, "UpdateIncident missing", s.UpdateIncident(ctx, review.Incident{ID: "inc_none"}), review.ErrNotFound)
	list, err := s.ListIncidents(ctx, review.IncidentFilter{OrgID: "org_dev"})
	must(t, "ListIncidents", err)
	if d := cmp.Diff([]review.Incident{inc}, list); d != "" {
		t.Errorf("ListIncidents by org (-want +got):\n%s", d)
	}
	list, err = s.ListIncidents(ctx, review.IncidentFilter{})
	must(t, "ListIncidents all", err)
	if len(list) != 2 {
		t.Errorf("ListIncidents all = %d, want 2", len(list))
	}

	d1 := review.Duty{ID: "duty_1", CaseID: "case_i1", IncidentID: "inc_1", Profile: "eu-ai-act-gpai-sr", Kind: review.DutyInitial,
		Class: "cybersecurity-breach", Title: "t", To: "AI Office", Cite: "CoP 9.3", DueAt: at(100), State: review.DutyDue, CreatedAt: at(11)}
	d2 := d1
	d2.ID, d2.Kind, d2.DueAt, d2.Cite = "duty_2", review.DutyIntermediate, at(300), ""
	d3 := review.Duty{ID: "duty_3", CaseID: "case_i2", IncidentID: "inc_2", Profile: "ny-raise", Kind: review.DutyInitial,
		Class: "imminent-risk", Title: "t", To: "x", DueAt: at(50), State: review.DutyDue, CreatedAt: at(13)}
	for _, d := range []review.Duty{d1, d2, d3} {
		must(t, "CreateDuty "+d.ID, s.CreateDuty(ctx, d))
	}
	gd, err := s.GetDuty(ctx, "duty_1")
	must(t, "GetDuty", err)
	if d := cmp.Diff(d1, gd); d != "" {
		t.Errorf("GetDuty (-want +got):\n%s", d)
	}
	due, err := s.ListDuties(ctx, review.DutyFilter{State: review.DutyDue, DueBefore: at(100)})
	must(t, "ListDuties due", err)
	if d := cmp.Diff([]review.Duty{d1, d3}, due); d != "" {
		t.Errorf("ListDuties due by at(100) (-want +got):\n%s", d)
	}
	byOrg, err := s.ListDuties(ctx, review.DutyFilter{OrgID: "org_dev2"})
	must(t, "ListDuties org", err)
	if len(byOrg) != 1 || byOrg[0].ID != "duty_3" {
		t.Errorf("ListDuties org_dev2 = %v, want duty_3", byOrg)
	}
	byInc, err := s.ListDuties(ctx, review.DutyFilter{IncidentID: "inc_1", CaseID: "case_i1", Page: review.Page{After: "duty_1"}})
	must(t, "ListDuties incident", err)
	if len(byInc) != 1 || byInc[0].ID != "duty_2" {
		t.Errorf("ListDuties inc_1 after duty_1 = %v, want duty_2", byInc)
	}

	rep := review.IncidentReport{ID: "rpt_1", IncidentID: "inc_1", DutyID: "duty_1", CaseID: "case_i1", Markdown: "# report",
		Document: json.RawMessage(`{"type":"incident_report"}`), FiledBy: "usr_1", CreatedAt: at(30)}
	must(t, "CreateIncidentReport", s.CreateIncidentReport(ctx, rep))
	gr, err := s.GetIncidentReport(ctx, "rpt_1")
	must(t, "GetIncidentReport", err)
	if d := cmp.Diff(rep, gr); d != "" {
		t.Errorf("GetIncidentReport (-want +got):\n%s", d)
	}
	rs, err := s.ListIncidentReports(ctx, "inc_1", review.Page{})
	must(t, "ListIncidentReports", err)
	if len(rs) != 1 {
		t.Errorf("ListIncidentReports = %d, want 1", len(rs))
	}
	done := d1
	done.State, done.ReportID, done.DoneAt = review.DutyDone, "rpt_1", at(30)
	must(t, "UpdateDuty", s.UpdateDuty(ctx, done, review.DutyDue))
	gd, err = s.GetDuty(ctx, "duty_1")
	must(t, "GetDuty done", err)
	if d := cmp.Diff(done, gd); d != "" {
		t.Errorf("GetDuty after update (-want +got):\n%s", d)
	}
	late := d1
	late.State = review.DutyOverdue
	wantErr(t, "UpdateDuty from a stale state", s.UpdateDuty(ctx, late, review.DutyDue), review.ErrConflict)
	wantErr(t, "UpdateDuty missing", s.UpdateDuty(ctx, review.Duty{ID: "duty_none", DueAt: at(1)}, review.DutyDue), review.ErrNotFound)
}
