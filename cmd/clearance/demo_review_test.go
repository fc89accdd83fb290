package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/policy"
)

// The demo's developers file their own dossiers, dated from the day the
// demo runs: the as-of date is today, the release is ahead, the model was
// shared with the agency in the past.
func TestDemoDossiersDatedToday(t *testing.T) {
	now := time.Date(2026, 12, 2, 15, 4, 5, 0, time.UTC)
	seen := map[string]string{}
	for _, m := range demoModels {
		raw, err := demoDossierOn(m.name, m.dossier, now)
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		var d struct {
			AsOf  string `json:"as_of"`
			Model struct {
				Name string  `json:"name"`
				FLOP float64 `json:"training_compute_flop"`
			} `json:"model"`
			Developer struct {
				Name string `json:"name"`
			} `json:"developer"`
			Release struct {
				Planned string `json:"planned_date"`
			} `json:"release"`
			Events []struct{ Type, Date string } `json:"events"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		// YAML dates arrive as RFC 3339 timestamps at midnight UTC.
		day := func(s string) string { return s[:min(len(s), 10)] }
		d.AsOf, d.Release.Planned = day(d.AsOf), day(d.Release.Planned)
		for i := range d.Events {
			d.Events[i].Date = day(d.Events[i].Date)
		}
		if d.AsOf != "2026-12-02" {
			t.Errorf("%s: as_of %s, want the day the demo runs, 2026-12-02", m.name, d.AsOf)
		}
		if d.Developer.Name != m.org || d.Model.Name != m.name {
			t.Errorf("%s: dossier names developer %q and model %q, want %q and %q", m.name, d.Developer.Name, d.Model.Name, m.org, m.name)
		}
		if d.Release.Planned <= d.AsOf {
			t.Errorf("%s: release planned %s, not after %s", m.name, d.Release.Planned, d.AsOf)
		}
		for _, ev := range d.Events {
			if ev.Date > d.AsOf {
				t.Errorf("%s: event %s dated %s, after the as-of date %s", m.name, ev.Type, ev.Date, d.AsOf)
			}
		}
		if other, dup := seen[string(raw)]; dup {
			t.Errorf("%s and %s file the same dossier", m.name, other)
		}
		seen[string(raw)] = m.name
	}
}

// The demo's official never clears a US review on evaluations too small
// to judge: it holds, or refuses when even the interval's lower end is
// above the bound; with sufficient evaluations it clears within the bound.
func TestOfficialUSVerdict(t *testing.T) {
	insufficient := policy.Result{Profile: "us-2026-draft", Outcome: policy.Hold,
		FailedCriteria: []policy.Criterion{{ID: "jailbreak", Kind: "evaluation", Status: "insufficient"}}}
	sufficient := policy.Result{Profile: "us-2026-draft", Outcome: policy.Hold}
	artifactOnly := policy.Result{Profile: "us-2026-draft", Outcome: policy.Hold,
		FailedCriteria: []policy.Criterion{{ID: "model-card", Kind: "artifact", Status: "missing"}}}
	tests := []struct {
		name        string
		r           policy.Result
		asr, asrLow float64
		want        attest.Outcome
	}{
		{"insufficient, low rate", insufficient, 0.05, 0.01, attest.OutcomeHold},
		{"insufficient, high rate, interval straddles", insufficient, 0.3, 0.1, attest.OutcomeHold},
		{"insufficient, interval above the bound", insufficient, 0.8, 0.58, attest.OutcomeRefused},
		{"sufficient, within the bound", sufficient, 0.05, 0.01, attest.OutcomeClearedWithConditions},
		{"sufficient, above the bound", sufficient, 0.3, 0.1, attest.OutcomeRefused},
		{"missing artifact only", artifactOnly, 0.05, 0.01, attest.OutcomeClearedWithConditions},
	}
	for _, tt := range tests {
		if got, why := officialUSVerdict(tt.r, tt.asr, tt.asrLow); got != tt.want || why == "" {
			t.Errorf("%s: officialUSVerdict = %s (%q), want %s", tt.name, got, why, tt.want)
		}
	}
}
