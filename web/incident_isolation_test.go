package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// isolationIncident files, as developer A, an incident against decision
// dec with an open duty and a done one with its report, for the tenant
// isolation table; it returns the incident, open duty and report ids.
func isolationIncident(t *testing.T, e *env, dec string) (inc, duty, rpt string) {
	t.Helper()
	ctx := context.Background()
	i, _, err := e.svc.FileIncident(ctx, e.actors["devA"], review.IncidentInput{DecisionID: dec, Class: review.ClassCyber,
		Summary: "weights copied", DiscoveredAt: e.now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.svc.GetDecision(ctx, e.actors["devA"], dec)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"duty_iso1", "duty_iso2"} {
		du := review.Duty{ID: id, CaseID: d.CaseID, IncidentID: i.ID, Profile: "us-caisi", Kind: review.DutyInitial, Class: "incident",
			Title: "incident report", To: "OES", DueAt: e.now.Add(24 * time.Hour), State: review.DutyDue, CreatedAt: e.now}
		if err := e.rs.CreateDuty(ctx, du); err != nil {
			t.Fatal(err)
		}
	}
	r, err := e.svc.FileReport(ctx, e.actors["devA"], "duty_iso2", review.ReportInput{Note: "n"})
	if err != nil {
		t.Fatal(err)
	}
	return i.ID, "duty_iso1", r.ID
}
