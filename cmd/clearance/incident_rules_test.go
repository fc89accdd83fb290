package main

import (
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// TestIncidentDeadlinesPerRegime: the built-in profiles' incident rules
// give each regime's pinpoint deadlines (EU Code of Practice Measure 9.3:
// 2/5/10/15 days by class, intermediate at least every 4 weeks, final
// within 60 days of resolution; SB 53 §22757.13(c): 15 days to OES, 24 h
// for imminent risk; New York §1422(3) from 2027-01-01: 72 h to DFS, 24 h
// for imminent risk).
func TestIncidentDeadlinesPerRegime(t *testing.T) {
	rules, err := policyEvidence{}.IncidentRules([]string{"eu-ai-act-gpai-sr", "ca-sb-53", "ny-raise"})
	if err != nil {
		t.Fatal(err)
	}
	at2026 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	at2027 := time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC)
	type due struct {
		profile string
		kind    review.DutyKind
		after   time.Duration
	}
	day := 24 * time.Hour
	for _, tt := range []struct {
		name  string
		class review.IncidentClass
		at    time.Time
		want  []due
	}{
		{"critical infrastructure 2026", review.ClassCriticalInfrastructure, at2026, []due{
			{"eu-ai-act-gpai-sr", review.DutyInitial, 2 * day}, {"eu-ai-act-gpai-sr", review.DutyIntermediate, 28 * day},
			{"ca-sb-53", review.DutyInitial, 15 * day}}},
		{"cyber 2026", review.ClassCyber, at2026, []due{
			{"eu-ai-act-gpai-sr", review.DutyInitial, 5 * day}, {"eu-ai-act-gpai-sr", review.DutyIntermediate, 28 * day},
			{"ca-sb-53", review.DutyInitial, 15 * day}}},
		{"death or injury 2026", review.ClassDeathOrInjury, at2026, []due{
			{"eu-ai-act-gpai-sr", review.DutyInitial, 10 * day}, {"eu-ai-act-gpai-sr", review.DutyIntermediate, 28 * day},
			{"ca-sb-53", review.DutyInitial, 15 * day}}},
		{"serious harm 2026", review.ClassSeriousHarm, at2026, []due{
			{"eu-ai-act-gpai-sr", review.DutyInitial, 15 * day}, {"eu-ai-act-gpai-sr", review.DutyIntermediate, 28 * day},
			{"ca-sb-53", review.DutyInitial, 15 * day}}},
		{"imminent risk 2026: no New York duty before 2027", review.ClassImminentRisk, at2026, []due{
			{"ca-sb-53", review.DutyInitial, 15 * day}, {"ca-sb-53", review.DutyInitial, 24 * time.Hour}}},
		{"serious harm 2027", review.ClassSeriousHarm, at2027, []due{
			{"eu-ai-act-gpai-sr", review.DutyInitial, 15 * day}, {"eu-ai-act-gpai-sr", review.DutyIntermediate, 28 * day},
			{"ca-sb-53", review.DutyInitial, 15 * day}, {"ny-raise", review.DutyInitial, 72 * time.Hour}}},
		{"imminent risk 2027", review.ClassImminentRisk, at2027, []due{
			{"ca-sb-53", review.DutyInitial, 15 * day}, {"ca-sb-53", review.DutyInitial, 24 * time.Hour},
			{"ny-raise", review.DutyInitial, 72 * time.Hour}, {"ny-raise", review.DutyInitial, 24 * time.Hour}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := review.IncidentDuties(rules, tt.class, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			var got []due
			for _, d := range ds {
				got = append(got, due{d.Profile, d.Kind, d.DueAt.Sub(tt.at)})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("duties %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("duty %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
	// The final report: 60 days after resolution (EU only).
	for _, r := range rules {
		want := 0
		if r.Profile == "eu-ai-act-gpai-sr" {
			want = 60
		}
		if r.FinalDays != want {
			t.Errorf("%s %s: final report %d days after resolution, want %d", r.Profile, r.Class, r.FinalDays, want)
		}
	}
}
