package web

import (
	"bytes"
	"errors"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

const (
	fuzzRun     = `{"schema":"https://clearance.dev/schemas/run/v1"}`
	fuzzMetrics = `{"schema":"https://clearance.dev/schemas/metrics/v1","status":"complete","samples":1,"usage":{},"groups":[]}`
	fuzzSample  = `{"id":"misuse/a/direct","suite":"misuse","kind":"harmful","verdict":{"label":"compliance","flagged":true}}`
)

func importDoc(run, metrics string, samples ...string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"run":` + run + `,"metrics":` + metrics + `,"samples":[`)
	for i, s := range samples {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// FuzzScanImport feeds damaged import documents to the streaming import
// parser: it must refuse them with a client error or return one sample
// per record, in order, with a known outcome, and the same again on a
// second reading (the service reads the spool twice); never panic.
func FuzzScanImport(f *testing.F) {
	f.Add(importDoc(fuzzRun, fuzzMetrics, fuzzSample))
	f.Add(importDoc(`{}`, `{"schema":"x"}`, `{"id":""}`))
	f.Add(importDoc(`[`, `null`, `{"id":"a","suite":"s","error":{"kind":"timeout"}}`))
	f.Add(importDoc(fuzzRun, fuzzMetrics, fuzzSample, fuzzSample))
	f.Add([]byte(`{"samples":[{"id":"a","suite":"s"}],"run":{},"metrics":{}}`))
	f.Add([]byte(`{"samples":[{"id":"a\u0000","suite":"s"}]}`))
	f.Add([]byte("{\"samples\":[{\"id\":\"\xff\",\"suite\":\"s\"}]}"))
	f.Add([]byte(`{"run":{},"run":{}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var got []review.Sample
		_, _, n, err := scanImport(bytes.NewReader(doc), func(s review.Sample) error {
			got = append(got, s)
			return nil
		})
		if err != nil {
			if !errors.Is(err, errBadRequest) && !errors.Is(err, review.ErrInvalidInput) {
				t.Fatalf("scanImport error %v is not a client error", err)
			}
			return
		}
		if n != len(got) {
			t.Fatalf("scanImport counted %d samples, put %d", n, len(got))
		}
		ids := map[string]bool{}
		for i, s := range got {
			if s.Seq != i || s.ID == "" || ids[s.ID] {
				t.Fatalf("sample %d = %+v (ids so far %v)", i, s, ids)
			}
			ids[s.ID] = true
			switch s.Outcome {
			case review.SampleFlagged, review.SamplePassed, review.SampleError:
			default:
				t.Fatalf("outcome %q", s.Outcome)
			}
		}
		again := 0
		if _, _, _, err := scanImport(bytes.NewReader(doc), func(review.Sample) error { again++; return nil }); err != nil || again != n {
			t.Fatalf("second reading: %d samples, %v; first %d", again, err, n)
		}
	})
}

// TestScanImportRefuses checks the refusals that matter: a repeated
// sample id, an unknown or repeated member, no samples, text that is not
// UTF-8 named by its place.
func TestScanImportRefuses(t *testing.T) {
	for _, tc := range []struct {
		doc  []byte
		want string
	}{
		{importDoc(fuzzRun, fuzzMetrics, fuzzSample, fuzzSample), "samples[1]: missing or repeated id"},
		{importDoc(fuzzRun, fuzzMetrics), "samples: want 1..1000000 records, got 0"},
		{[]byte(`{"run":{},"run":{}}`), `field "run" given twice`},
		{[]byte(`{"extra":1}`), `unknown field "extra"`},
		{[]byte("{\"samples\":[{\"id\":\"a\",\"suite\":\"s\",\"kind\":\"caf\xe9\"}]}"), "samples[0].kind: invalid UTF-8"},
		{[]byte(`{"metrics":{"note":"\u0000"}}`), `metrics.note: contains NUL`},
		{[]byte(`{"run":{}} x`), "unexpected data after the JSON object"},
	} {
		_, _, _, err := scanImport(bytes.NewReader(tc.doc), nil)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("scanImport(%.80q) = %v, want an error containing %q", tc.doc, err, tc.want)
		}
	}
}
