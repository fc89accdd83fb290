package ui

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFormatDossierValue(t *testing.T) {
	for _, tc := range []struct{ key, in, want string }{
		{"model.training_compute_flop", "3.4e26", "3.4 × 10²⁶ FLOP"},
		{"training_compute_flop", "3e+26", "3 × 10²⁶ FLOP"},
		{"model.training_compute_cost_usd", "120000000", "USD 120 million"},
		{"developer.annual_revenue_usd", "1500000000", "USD 1.5 billion"},
		{"model.parameters", "70000000000", "70 billion parameters"},
		{"release.window_days", "30", "30 days"},
		{"release.window_days", "1", "1 day"},
		{"model.open_weights", "false", "no"},
		{"market.eu", "true", "yes"},
		{"release.planned_date", "2026-12-20", "20 December 2026"},
		{"as_of", "2026-12-02T10:00:00Z", "2 December 2026 10:00 UTC"},
		{"model.name", "atlas", "atlas"},
		{"security.level", "3", "3"},
		{"model.tags", `["a"]`, `["a"]`},
	} {
		if got := formatDossierValue(tc.key, tc.in); got != tc.want {
			t.Errorf("formatDossierValue(%q, %q) = %q, want %q", tc.key, tc.in, got, tc.want)
		}
	}
}

func TestDossierEventsTimeline(t *testing.T) {
	raw := json.RawMessage(`{"model":{"name":"atlas"},"events":[{"type":"planned_release","date":"2026-12-20"},{"type":"model_shared","date":"2026-11-01","note":"weights to the agency"}]}`)
	evs, rest := dossierEvents(dossierFields(raw))
	want := []dossierEvent{{Date: "2026-11-01", Type: "model shared", Note: "weights to the agency"}, {Date: "2026-12-20", Type: "planned release"}}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if len(rest) != 1 || rest[0].Key != "model.name" {
		t.Errorf("fields without events = %+v", rest)
	}
}

func TestPlanOf(t *testing.T) {
	spec := []byte(`{"version":1,"suites":[{"name":"jailbreak","version":"1.1.0","digest":"sha256:a3e757b1494ecee91865dd59eb3809f5","limit":8}],"seed":1,"skip_judge":true,"shard_size":5,"samples":8,"source":"request","judge":{"url":"http://127.0.0.1:1","model":"own-judge","rubric":"harmbench"}}`)
	p, ok := planOf(spec)
	if !ok {
		t.Fatal("planOf: not read")
	}
	want := planView{Suites: []planSuite{{Name: "jailbreak", Version: "1.1.0", Digest: "sha256:a3e757b1494e…", Limit: 8}}, Seed: 1, Samples: 8, Shard: 5, Source: "request",
		Judge: "own-judge at http://127.0.0.1:1 (rubric harmbench)"}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("planOf (-want +got):\n%s", diff)
	}
	if _, ok := planOf([]byte(`{"suites":[]}`)); ok {
		t.Error("an empty spec read as a plan")
	}
	if _, ok := planOf([]byte(`not json`)); ok {
		t.Error("invalid JSON read as a plan")
	}
}
