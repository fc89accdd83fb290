package policy

import (
	"testing"
	"time"
)

// A profile's rules read the variant a metric was measured on:
// metrics[KEY].variant and .checkpoint, also on a category's view.
func TestMetricVariantInCEL(t *testing.T) {
	const profile = `id: test-variant-cel
title: Test regime reading a metric's variant in CEL
version: "1"
status: in_force
applicability:
  any:
    - id: every-model
      when: "true"
      why: every model
decision:
  - id: helpful-only
    when: "metrics['cyber.solve_rate'].variant == 'helpful-only' && metrics['cyber.solve_rate/web'].variant == 'helpful-only'"
    outcome: cleared
    rationale: capability measured on the helpful-only variant
  - id: late-checkpoint
    when: "metrics['cyber.solve_rate'].variant == 'checkpoint' && metrics['cyber.solve_rate'].checkpoint == 'step-120k'"
    outcome: cleared_with_conditions
    rationale: measured on a named checkpoint
  - id: other
    outcome: hold
    rationale: not measured on the helpful-only variant
`
	p, err := Load("variant-cel.yaml", []byte(profile), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		variant, checkpoint string
		want                Outcome
	}{
		{"helpful-only", "", Cleared},
		{"production", "", Hold},
		{"", "", Hold},
		{"checkpoint", "step-120k", ClearedWithConditions},
		{"checkpoint", "step-1", Hold},
	} {
		m := MetricValue{Flagged: 3, N: 10, Variant: tc.variant, Checkpoint: tc.checkpoint,
			ByCategory: map[string]MetricValue{"web": {Flagged: 1, N: 4}}}
		ev := EvidenceFromMetrics(nil, nil, Identity{Name: "m"}, map[string]MetricValue{"cyber.solve_rate": m},
			time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
		d, err := Decide(ev, p)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Results[0].Outcome; got != tc.want {
			t.Errorf("variant %q checkpoint %q: outcome = %s, want %s (%s)", tc.variant, tc.checkpoint, got, tc.want, d.Results[0].Explanation)
		}
	}
}
