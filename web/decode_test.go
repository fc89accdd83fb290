package web

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // substring; "" means success
	}{
		{`{"severity":"low","title":"t"}`, ""},
		{` {"title":"t"} ` + "\n", ""},
		{`{"title":"t","deadline":"2026-05-01T00:00:00Z"}`, ""},
		{``, "empty body"},
		{`{"title":`, "truncated JSON"},
		{`{"title":"t",}`, "malformed JSON at byte"},
		{`{"title":5}`, `field "title"`},
		{`{"sample_ids":"a"}`, `field "sample_ids"`},
		{`{"deadline":"soon"}`, "soon"},
		{`{"nope":1}`, `unknown field "nope"`},
		{`{"title":"t"} {}`, "unexpected data after the JSON object"},
		{`{"title":"t"}x`, "unexpected data"},
		{`[]`, "want web.findingRequest"},
		{`null`, ""}, // decodes to the zero value; the service rejects it
	}
	for _, tc := range tests {
		var v findingRequest
		err := decodeStrict([]byte(tc.in), &v)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("decodeStrict(%q) = %v, want success", tc.in, err)
		case tc.wantErr != "" && err == nil:
			t.Errorf("decodeStrict(%q) succeeded, want error containing %q", tc.in, tc.wantErr)
		case err != nil && (!strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, errBadRequest)):
			t.Errorf("decodeStrict(%q) = %v, want errBadRequest containing %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestProblemFor(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{review.ErrNotFound, 404},
		{review.ErrForbidden, 403},
		{review.ErrUnauthenticated, 401},
		{review.ErrConflict, 409},
		{review.ErrInvalidTransition, 409},
		{review.ErrInvalidInput, 422},
		{errBadRequest, 400},
		{errTooLarge, 413},
		{errMediaType, 415},
		{review.ErrIdempotencyMismatch, 422},
		{errors.New("disk on fire"), 500},
	}
	for _, tc := range tests {
		p, known := problemFor(wrap(tc.err))
		if p.Status != tc.want || known != (tc.want != 500) {
			t.Errorf("problemFor(%v) = %d known=%v, want %d", tc.err, p.Status, known, tc.want)
		}
		if tc.want == 500 && strings.Contains(p.Detail, "fire") {
			t.Errorf("internal error shown: %q", p.Detail)
		}
	}
}

func wrap(err error) error { return errors.Join(errors.New("context"), err) }

// FuzzDecodeStrict checks that request decoding never panics and that
// whatever it accepts is one object of known fields: re-encoding and
// decoding again gives the same value.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{
		`{"severity":"high","title":"Jailbreak","description":"d","sample_ids":["s1"],"deadline":"2026-05-01T00:00:00Z"}`,
		`{"title":"t"} {}`, `{"nope":1}`, `[]`, `null`, `{"title":"\u0000"}`, `{"sample_ids":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v findingRequest
		if err := decodeStrict(data, &v); err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("decodeStrict error %v does not wrap errBadRequest", err)
			}
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var w findingRequest
		if err := decodeStrict(b, &w); err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if v.Title != w.Title || v.Severity != w.Severity || len(v.SampleIDs) != len(w.SampleIDs) ||
			(v.Deadline == nil) != (w.Deadline == nil) || (v.Deadline != nil && !v.Deadline.Equal(*w.Deadline)) {
			t.Fatalf("round trip %+v != %+v", v, w)
		}
	})
}
