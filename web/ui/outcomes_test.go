package ui

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOutcomeRows(t *testing.T) {
	raw := json.RawMessage(`{"b":{"outcome":"cleared_with_conditions","conditions":["publish the card",{"text":"report","due":"2026-07-01"},{"text":"no due"},7]},
		"a":"refused","c":{"outcome":"hold","deemed":true},"d":[1]}`)
	want := []outcomeRow{
		{Profile: "a", Outcome: "refused"},
		{Profile: "b", Outcome: "cleared_with_conditions", Conditions: []string{"publish the card", "report (due 2026-07-01)", "no due", "7"}},
		{Profile: "c", Outcome: "hold", Deemed: true},
		{Profile: "d", Raw: "[1]"},
	}
	if diff := cmp.Diff(want, outcomeRows(raw)); diff != "" {
		t.Errorf("outcomeRows (-want +got):\n%s", diff)
	}
}
