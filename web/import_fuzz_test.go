package web

import (
	"encoding/json"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// FuzzParseImport feeds damaged imported runs to the import parser: it
// must refuse them with an error or return one sample per record with a
// known outcome, never panic; a repeated record is always refused.
func FuzzParseImport(f *testing.F) {
	f.Add([]byte(`{"schema":"https://clearance.dev/schemas/run/v1"}`), []byte(`{"schema":"https://clearance.dev/schemas/metrics/v1","status":"complete","samples":1,"usage":{},"groups":[]}`),
		[]byte(`{"id":"misuse/a/direct","suite":"misuse","kind":"harmful","verdict":{"label":"compliance","flagged":true}}`))
	f.Add([]byte(`{}`), []byte(`{"schema":"x"}`), []byte(`{"id":""}`))
	f.Add([]byte(`[`), []byte(`null`), []byte(`{"id":"a","suite":"s","error":{"kind":"timeout"}}`))
	f.Fuzz(func(t *testing.T, run, metrics, sample []byte) {
		got, err := parseImport(importRequest{Run: run, Metrics: metrics, Samples: []json.RawMessage{sample}})
		if err != nil {
			return
		}
		if len(got.Samples) != 1 || got.Samples[0].Seq != 0 || got.Samples[0].ID == "" {
			t.Fatalf("parseImport gave %+v", got.Samples)
		}
		switch got.Samples[0].Outcome {
		case review.SampleFlagged, review.SamplePassed, review.SampleError:
		default:
			t.Fatalf("outcome %q", got.Samples[0].Outcome)
		}
		if _, err := parseImport(importRequest{Run: run, Metrics: metrics, Samples: []json.RawMessage{sample, sample}}); err == nil {
			t.Fatal("a repeated record was accepted")
		}
	})
}
