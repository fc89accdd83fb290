package policy

import (
	"strings"
	"testing"
)

// TestRedTeamEvidence: redteam in CEL reads the campaign the review
// service records; the zero value (no campaign) passes a profile's
// red-team rules.
func TestRedTeamEvidence(t *testing.T) {
	const profile = `id: test-redteam
title: Test regime reading red-team campaigns
version: "1"
status: in_force
applicability:
  any:
    - {id: every-model, when: "true", why: every model}
decision:
  - id: universal
    when: "redteam.universal_still_work > 0"
    outcome: hold
    rationale: a universal attack still works
  - id: open
    when: "redteam.campaign && redteam.open > 0"
    outcome: cleared_with_conditions
    rationale: attacks to fix
  - id: ok
    outcome: cleared
    rationale: all met
`
	p, err := Load("redteam.yaml", []byte(profile), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		rt        RedTeam
		want      Outcome
		rationale string
	}{
		{"no campaign", RedTeam{}, Cleared, "all met"},
		{"universal still works", RedTeam{Campaign: true, Attempts: 5, Successes: 2, Universal: 1, Versions: 2, Retested: 2, StillWork: 1, UniversalStillWork: 1, Open: 1}, Hold, "universal"},
		{"fixed but one open", RedTeam{Campaign: true, Attempts: 5, Successes: 2, Universal: 1, Versions: 2, Retested: 2, StillWork: 1, Open: 1}, ClearedWithConditions, "attacks to fix"},
		{"all fixed", RedTeam{Campaign: true, Attempts: 5, Successes: 2, Universal: 1, Versions: 2, Retested: 2}, Cleared, "all met"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &Evidence{AsOf: day(2026, 6, 1), Known: map[string]bool{}, RedTeam: tt.rt}
			r := decideOne(t, ev, p)
			if r.Outcome != tt.want || !strings.Contains(r.Rationale, tt.rationale) {
				t.Errorf("outcome %s (%q), want %s (%q); errors %v", r.Outcome, r.Rationale, tt.want, tt.rationale, r.Errors)
			}
		})
	}
}
