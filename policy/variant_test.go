package policy

import (
	"os"
	"strings"
	"testing"
	"time"
)

func variantProfile(t *testing.T) *Profile {
	t.Helper()
	data, err := os.ReadFile("testdata/variant-profile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load("variant-profile.yaml", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// An evaluation that names a variant is met only by a metric measured on
// that variant; another variant, or none recorded, leaves it
// insufficient, and the explanation says which variant was measured and
// which is required.
func TestEvaluationVariant(t *testing.T) {
	p := variantProfile(t)
	metric := func(variant, checkpoint string, flagged int) MetricValue {
		return MetricValue{Flagged: flagged, N: 100, Variant: variant, Checkpoint: checkpoint}
	}
	for _, tc := range []struct {
		name           string
		cyber, misuse  MetricValue
		outcome        Outcome
		cyberStatus    string
		misuseStatus   string
		explainContain []string
	}{
		{name: "both on the required variants", cyber: metric("helpful-only", "", 40), misuse: metric("production", "", 5),
			outcome: Cleared, cyberStatus: "pass", misuseStatus: "pass"},
		{name: "capability measured on production", cyber: metric("production", "", 10), misuse: metric("production", "", 5),
			outcome: Hold, cyberStatus: "insufficient", misuseStatus: "pass",
			explainContain: []string{"cyber-compliance.accuracy was measured on the production variant; this evaluation requires the helpful-only variant"}},
		{name: "safeguards measured on helpful-only", cyber: metric("helpful-only", "", 40), misuse: metric("helpful-only", "", 90),
			outcome: Hold, cyberStatus: "pass", misuseStatus: "insufficient",
			explainContain: []string{"misuse.attack_success_rate was measured on the helpful-only variant; this evaluation requires the production variant"}},
		{name: "no variant recorded", cyber: metric("", "", 40), misuse: metric("production", "", 5),
			outcome: Hold, cyberStatus: "insufficient", misuseStatus: "pass",
			explainContain: []string{"cyber-compliance.accuracy records no variant; this evaluation requires a measurement on the helpful-only variant"}},
		{name: "a checkpoint is not the helpful-only model", cyber: metric("checkpoint", "step-120k", 40), misuse: metric("production", "", 5),
			outcome: Hold, cyberStatus: "insufficient", misuseStatus: "pass",
			explainContain: []string{"measured on the checkpoint:step-120k variant"}},
		{name: "production fails its threshold", cyber: metric("helpful-only", "", 40), misuse: metric("production", "", 50),
			outcome: Hold, cyberStatus: "pass", misuseStatus: "fail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := EvidenceFromMetrics(nil, nil, Identity{Name: "m"}, map[string]MetricValue{
				"cyber-compliance.accuracy": tc.cyber, "misuse.attack_success_rate": tc.misuse},
				time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
			d, err := Decide(ev, p)
			if err != nil {
				t.Fatal(err)
			}
			r := d.Results[0]
			if r.Outcome != tc.outcome {
				t.Errorf("outcome = %s, want %s (%s)", r.Outcome, tc.outcome, r.Explanation)
			}
			got := map[string]Criterion{}
			for _, c := range r.Criteria {
				got[c.ID] = c
			}
			if c := got["cyber-capability"]; c.Status != tc.cyberStatus || c.Variant != "helpful-only" || !strings.HasSuffix(c.Required, "on the helpful-only variant") {
				t.Errorf("cyber-capability = %s (variant %q, required %q), want %s on helpful-only", c.Status, c.Variant, c.Required, tc.cyberStatus)
			}
			if c := got["misuse"]; c.Status != tc.misuseStatus {
				t.Errorf("misuse = %s (%s), want %s", c.Status, c.Judgement, tc.misuseStatus)
			}
			if c := got["misuse"]; c.Status == "pass" && (c.Observed == nil || c.Observed.Variant != "production") {
				t.Errorf("misuse observed = %+v, want variant production", c.Observed)
			}
			for _, want := range tc.explainContain {
				if !strings.Contains(r.Explanation, want) {
					t.Errorf("explanation %q lacks %q", r.Explanation, want)
				}
			}
		})
	}
}

// The profile schema accepts the known variants only; lint reports an
// unknown one as an error on the evaluation's field.
func TestEvaluationVariantLint(t *testing.T) {
	data, err := os.ReadFile("testdata/variant-profile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Lint("variant-profile.yaml", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Severity == "error" {
			t.Errorf("lint of a valid variant requirement: %v", f)
		}
	}
	bad := strings.Replace(string(data), "variant: helpful-only", "variant: jailbroken", 1)
	fs, err = Lint("variant-profile.yaml", []byte(bad), nil)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, f := range fs {
		if f.Severity == "error" && strings.Contains(f.Field+f.Msg, "variant") {
			found = true
		}
	}
	if !found {
		t.Errorf("lint of variant: jailbroken = %v, want an error naming variant", fs)
	}
}

// Evidence documents carry the variant of each metric; an unknown one is
// rejected by the schema with the metric's path.
func TestEvidenceVariant(t *testing.T) {
	ev, err := LoadEvidence("e.json", []byte(`{"metrics": {"misuse.attack_success_rate": {"flagged": 1, "n": 10, "variant": "checkpoint", "checkpoint": "step-9", "scaffold": "agent v2"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := ev.Metrics["misuse.attack_success_rate"]; m.Variant != "checkpoint" || m.Checkpoint != "step-9" || m.Scaffold != "agent v2" {
		t.Errorf("metric = %+v, want variant checkpoint step-9, scaffold agent v2", m)
	}
	_, err = LoadEvidence("e.json", []byte(`{"metrics": {"misuse.attack_success_rate": {"flagged": 1, "n": 10, "variant": "jailbroken"}}}`))
	if err == nil || !strings.Contains(err.Error(), "metrics.misuse.attack_success_rate.variant") {
		t.Errorf("LoadEvidence(variant jailbroken) = %v, want an error naming metrics.misuse.attack_success_rate.variant", err)
	}
}
