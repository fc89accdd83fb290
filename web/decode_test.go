package web

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

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

// TestDecodeStrictText checks that a string that is not UTF-8, holds
// NUL or an unpaired surrogate is refused as invalid input naming its
// field, before encoding/json can turn it into U+FFFD or keep it raw.
func TestDecodeStrictText(t *testing.T) {
	tests := []struct {
		in, want string // want: "" for success, else the error's prefix after "decode body: "
	}{
		{`{"outcomes":{"p":"caf\u00e9 \ud83d\ude00"},"rationale":"ok"}`, ""},
		{"{\"outcomes\":{\"p\":\"caf\xe9\"}}", "outcomes.p: invalid UTF-8"},
		{"{\"rationale\":\"\xff\"}", "rationale: invalid UTF-8"},
		{`{"rationale":"a\u0000b"}`, `rationale: contains NUL (\u0000)`},
		{`{"outcomes":{"p":[1,{"x":"\ud800"}]}}`, "outcomes.p[1].x: unpaired UTF-16 surrogate escape"},
		{`{"outcomes":{"p":"\udc00\ud800"}}`, "outcomes.p: unpaired UTF-16 surrogate escape"},
		{"{\"outcomes\":{\"k\xff\":1}}", "outcomes: a member name: invalid UTF-8"},
		{`{"outcomes":{"a b":"\u0000"}}`, `outcomes["a b"]: contains NUL`},
		{`{"rationale":"\\u0000"}`, ""}, // an escaped backslash, then "u0000"
	}
	for _, tc := range tests {
		var v decisionRequest
		err := decodeStrict([]byte(tc.in), &v)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("decodeStrict(%q) = %v, want success", tc.in, err)
		case tc.want == "":
		case err == nil:
			t.Errorf("decodeStrict(%q) succeeded, want %q", tc.in, tc.want)
		case !strings.HasPrefix(err.Error(), "decode body: "+tc.want) || !errors.Is(err, review.ErrInvalidInput):
			t.Errorf("decodeStrict(%q) = %v, want ErrInvalidInput %q", tc.in, err, tc.want)
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
		{&review.QuotaError{What: "open cases", Limit: 1, Used: 1}, 429},
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
		"{\"title\":\"\xff\"}", `{"title":"\ud800"}`, `{"title":"\ud83d\ude00"}`, `{"outcomes":{"a":"\u0000"}}`,
		"{\"outcomes\":{\"\xc3\":1}}", `{"rationale":"r","outcomes":{"p":{"outcome":"cleared"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// What is accepted into a json.RawMessage must go back out as
		// valid JSON of valid UTF-8 with no NUL.
		var d decisionRequest
		if err := decodeStrict(data, &d); err == nil {
			b, err := json.Marshal(d)
			if err != nil || !utf8.Valid(b) || !json.Valid(b) || review.CheckJSONText(b, "") != nil {
				t.Fatalf("accepted %q, re-encoded as %q (%v)", data, b, err)
			}
		}
		var v findingRequest
		if err := decodeStrict(data, &v); err != nil {
			if !errors.Is(err, errBadRequest) && !errors.Is(err, review.ErrInvalidInput) {
				t.Fatalf("decodeStrict error %v wraps neither errBadRequest nor ErrInvalidInput", err)
			}
			return
		}
		// Anything accepted was UTF-8 throughout and no string holds NUL.
		if !utf8.Valid(data) {
			t.Fatalf("decodeStrict(%q) accepted bytes that are not UTF-8", data)
		}
		for _, s := range append([]string{v.Title, v.Description}, v.SampleIDs...) {
			if strings.ContainsRune(s, 0) {
				t.Fatalf("decodeStrict(%q) accepted the string %q", data, s)
			}
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
