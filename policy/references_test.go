package policy

import (
	"strings"
	"testing"
)

// TestRelativeCriterion: the frontier-framework template's relative rule
// fires on a material capability increase over the reference named
// "previous" (the lower bound of the difference above the margin), and
// not when the increase is within error, below the margin, or the
// reference is another model or absent.
func TestRelativeCriterion(t *testing.T) {
	p, err := Builtin("frontier-framework")
	if err != nil {
		t.Fatal(err)
	}
	base := decideOne(t, baseEvidence(), p)
	if base.Outcome == ClearedWithConditions && strings.Contains(base.Rationale, "previous model") {
		t.Fatalf("the relative rule fired without references: %+v", base)
	}
	tests := []struct {
		name  string
		refs  map[string]ReferenceView
		fires bool
	}{
		{"no references", nil, false},
		{"ability increase", map[string]ReferenceView{"previous": {HasAbility: true, Ability: DeltaView{Delta: 1.2, Low: 0.8, High: 1.6}}}, true},
		{"ability within error", map[string]ReferenceView{"previous": {HasAbility: true, Ability: DeltaView{Delta: 0.4, Low: -0.1, High: 0.9, WithinError: true}}}, false},
		{"ability increase below margin", map[string]ReferenceView{"previous": {HasAbility: true, Ability: DeltaView{Delta: 0.5, Low: 0.2, High: 0.8}}}, false},
		{"accuracy increase", map[string]ReferenceView{"previous": {Delta: map[string]DeltaView{"cyber-compliance.accuracy": {Delta: 0.3, Low: 0.15, High: 0.45}}}}, true},
		{"accuracy within error", map[string]ReferenceView{"previous": {Delta: map[string]DeltaView{"cyber-compliance.accuracy": {Delta: 0.05, Low: -0.05, High: 0.15, WithinError: true}}}}, false},
		{"another reference", map[string]ReferenceView{"frontier": {HasAbility: true, Ability: DeltaView{Delta: 2, Low: 1.5, High: 2.5}}}, false},
		{"previous without the metric", map[string]ReferenceView{"previous": {}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := baseEvidence()
			ev.References = tt.refs
			r := decideOne(t, ev, p)
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %v", r.Errors)
			}
			fired := strings.Contains(r.Rationale, "previous model")
			if fired != tt.fires {
				t.Errorf("relative rule fired = %v, want %v (outcome %s: %q)", fired, tt.fires, r.Outcome, r.Rationale)
			}
			if !tt.fires && r.Outcome != base.Outcome {
				t.Errorf("outcome %s, want the outcome without references %s", r.Outcome, base.Outcome)
			}
			if tt.fires && base.Outcome == Cleared && r.Outcome != ClearedWithConditions {
				t.Errorf("outcome %s, want cleared_with_conditions", r.Outcome)
			}
		})
	}
}

// TestEvidenceReferencesField: evidence documents carry references (the
// schema knows the field) and refuse unknown fields in them.
func TestEvidenceReferencesField(t *testing.T) {
	ev, err := LoadEvidence("e.yaml", []byte("references:\n  previous:\n    source: reference:typical\n    delta:\n      cyber-compliance.accuracy: {delta: 0.2, low: 0.1, high: 0.3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := ev.References["previous"].Delta["cyber-compliance.accuracy"]; d.Low != 0.1 {
		t.Errorf("References = %+v", ev.References)
	}
	if _, err := LoadEvidence("e.yaml", []byte("references:\n  previous:\n    deltas: {}\n")); err == nil {
		t.Error("LoadEvidence accepted an unknown field in a reference")
	}
	if _, err := LoadEvidence("e.yaml", []byte("references:\n  Bad Name:\n    delta: {}\n")); err == nil {
		t.Error("LoadEvidence accepted a bad reference name")
	}
}
