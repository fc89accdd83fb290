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

func TestDossierFields(t *testing.T) {
	raw := json.RawMessage(`{"as_of":"2026-06-01","model":{"name":"atlas","training_compute_flop":1.2e26,"tags":["a"]},"empty":{},"deep":{"a":{"b":{"c":{"d":1}}}}}`)
	want := []dossierField{
		{"as_of", "2026-06-01"}, {"model.name", "atlas"}, {"model.training_compute_flop", "1.2e26"}, {"model.tags", `["a"]`},
		{"empty", "{}"}, {"deep.a.b.c", `{"d":1}`},
	}
	if diff := cmp.Diff(want, dossierFields(raw)); diff != "" {
		t.Errorf("dossierFields (-want +got):\n%s", diff)
	}
	if got := dossierFields(json.RawMessage(`[1]`)); len(got) != 1 || got[0].Key != "(dossier)" {
		t.Errorf("non-object dossier: %+v", got)
	}
}
