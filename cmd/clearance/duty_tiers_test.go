package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/review/reviewtest"
	"github.com/clearance-dev/clearance/store/sqlite"
)

// TestPolicyDutiesByRevenueTier: a decision clearing SB 53 owes the
// quarterly internal-use summaries (§22757.12(d)) and the annual
// framework review only when the developer is a large frontier developer
// (annual gross revenues in excess of $500,000,000, §22757.11(j)), as the
// profile's tier judges the case's dossier at decision time; a smaller
// frontier developer, including one at exactly $500M, owes only the
// transparency report (§22757.12(c)(1)). The service runs the built-in
// profile through policyEvidence on a real SQLite store, with a fixed clock.
func TestPolicyDutiesByRevenueTier(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, err := review.GenerateAgeIdentity()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := review.NewAgeSealer(id)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 14, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	svc, err := review.New(review.Config{Store: st, Sealer: sealer, Evidence: policyEvidence{store: st, now: clock},
		Clocks: policyClocks{}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	admin, _, err := svc.Bootstrap(ctx, "Agency", "Root", "root@agency.example")
	if err != nil {
		t.Fatal(err)
	}
	lab := reviewtest.Org(t, svc, admin, "Lab", review.OrgDeveloper)
	inst := reviewtest.Org(t, svc, admin, "Institute", review.OrgAssessor)
	dev, _ := reviewtest.User(t, svc, admin, lab.ID, "dev", review.RoleDeveloper)
	assessor, _ := reviewtest.User(t, svc, admin, inst.ID, "assessor", review.RoleAssessor)
	official, _ := reviewtest.User(t, svc, admin, admin.Org.ID, "official", review.RoleOfficial)

	for _, tc := range []struct {
		name    string
		revenue float64
		want    []string
	}{
		{"large frontier developer", 6e8, []string{"framework-review", "internal-use-summary", "transparency-report"}},
		{"frontier developer", 4e8, []string{"transparency-report"}},
		{"exactly $500M is not in excess", 5e8, []string{"transparency-report"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dossier := fmt.Sprintf(`{"model":{"training_compute_flop":3e26},"developer":{"annual_gross_revenue_usd":%g},"market":{"ca_nexus":true}}`, tc.revenue)
			c, err := svc.Submit(ctx, dev, review.Submission{
				Model:    review.SubmittedModel{Digest: "sha256:" + fmt.Sprintf("%064x", int64(tc.revenue)), Name: "frontier-x"},
				Dossier:  json.RawMessage(dossier),
				Target:   review.SubmittedTarget{URL: "https://api.example/v1", Credentials: "sk-secret"},
				Profiles: []string{"ca-sb-53"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.AssignCase(ctx, official, c.ID, []string{assessor.User.ID}); err != nil {
				t.Fatal(err)
			}
			for _, to := range []review.State{review.StateInAssessment, review.StateUnderReview} {
				if _, err := svc.Transition(ctx, assessor, c.ID, to, ""); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := svc.Decide(ctx, official, c.ID, review.DecisionInput{Outcomes: json.RawMessage(`{"ca-sb-53":"cleared_with_conditions"}`),
				Rationale: "transparency duties open", OverrideReason: "publications follow at deployment"}); err != nil {
				t.Fatal(err)
			}
			ds, err := svc.ListDuties(ctx, dev, review.DutyFilter{CaseID: c.ID})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range ds {
				if d.Kind == review.DutyScheduled {
					got = append(got, d.Class)
				}
				if d.Class == "internal-use-summary" && !d.DueAt.Equal(now.AddDate(0, 3, 0)) {
					t.Errorf("quarterly summary due %s, want %s", d.DueAt, now.AddDate(0, 3, 0))
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("scheduled duties %v, want %v", got, tc.want)
			}
		})
	}
}
