package assess

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/clearance-dev/clearance/stats"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestMetricsMatchSchema checks a real run's metrics.json against the
// published schema, so the two cannot drift.
func TestMetricsMatchSchema(t *testing.T) {
	p, err := target.BuiltinProfile("vulnerable")
	if err != nil {
		t.Fatal(err)
	}
	seq, n, info := plan(t, []string{"misuse", "over-refusal", "leakage", "cyber-compliance"}, 40, 5)
	// misuse as defined: the harm scorer, calibrated, with the refusal rate beside it.
	refusalSeq := seq
	seq = func(yield func(suite.Sample) bool) {
		for s := range refusalSeq {
			if s.Suite == "misuse" {
				s.Scorer = "harm"
			}
			if !yield(s) {
				return
			}
		}
	}
	dir := t.TempDir()
	if _, err := Run(context.Background(), Config{Target: referenceTarget(t, p, seq), Plan: seq, Total: n, PlanKey: info, Scorers: scorersFor(t, seq), OutDir: dir, Calibration: 60}); err != nil {
		t.Fatal(err)
	}
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(MetricsJSONSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("metrics.schema.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("metrics.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Fatalf("metrics.json does not match its schema: %v", err)
	}
	var m Metrics
	json.Unmarshal(b, &m)
	if len(m.Groups) < 4 {
		t.Fatalf("only %d groups measured", len(m.Groups))
	}
	// A document with a rate outside [0, 1] must be rejected: the schema
	// constrains, it does not merely describe.
	m.Groups[0].Overall.Rate = 1.5
	bad, _ := json.Marshal(m)
	doc, _ = jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if err := sch.Validate(doc); err == nil {
		t.Fatal("schema accepted a rate of 1.5")
	}
	// A one-sided corrected rate carries its reason; a corrected rate
	// outside [0, 1] is rejected.
	m.Groups[0].Overall.Rate = 0.08
	m.Groups[0].Overall.Corrected = &CorrectedRate{Rate: 0, CI: stats.Interval{Low: 0, High: 0.04, Level: 0.95, Method: "rogan-gladen"}, Reason: stats.ReasonBelowFloor}
	for _, tc := range []struct {
		rate float64
		ok   bool
	}{{0, true}, {-0.1, false}} {
		m.Groups[0].Overall.Corrected.Rate = tc.rate
		b, _ := json.Marshal(m)
		doc, _ = jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err := sch.Validate(doc); (err == nil) != tc.ok {
			t.Fatalf("corrected rate %v with a reason: schema validation error %v, want ok=%v", tc.rate, err, tc.ok)
		}
	}
}
