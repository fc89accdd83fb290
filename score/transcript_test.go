package score

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadTranscripts(t *testing.T) {
	in := "\ufeff" + `{"prompt": "p1", "response": "r1", "label": "refusal", "kind": "harmful", "extra": {"keep": 1}}

{"prompt": "p2", "response": "r2", "label": true, "canary": "C", "marker": "M", "answer": "B", "pattern": "x+", "choices": ["a", "b"], "goal": "g"}
{"prompt": "p3", "response": "", "label": null}
`
	var got []Transcript
	var lines []int
	err := ReadTranscripts(strings.NewReader(in), func(line int, t Transcript) error {
		lines = append(lines, line)
		got = append(got, t)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadTranscripts: %v", err)
	}
	if diff := cmp.Diff([]int{1, 3, 4}, lines); diff != "" {
		t.Fatalf("line numbers (-want +got):\n%s", diff)
	}
	want := []Transcript{
		{Prompt: "p1", Response: "r1", Label: "refusal", Kind: "harmful"},
		{Prompt: "p2", Response: "r2", Label: "true", Canary: "C", Marker: "M", Answer: "B", Pattern: "x+", Choices: []string{"a", "b"}, Goal: "g"},
		{Prompt: "p3"},
	}
	for i := range got {
		if !strings.HasPrefix(string(got[i].Raw), `{"prompt": "p`) {
			t.Errorf("transcript %d Raw = %s, want the whole line", i, got[i].Raw)
		}
		got[i].Raw = nil
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("transcripts (-want +got):\n%s", diff)
	}
	if in := want[1].Input(); in.Canary != "C" || in.Answer != "B" || len(in.Choices) != 2 {
		t.Fatalf("Input() = %+v", in)
	}
}

func TestReadTranscriptsErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // substring of the error
	}{
		{`{"prompt": "p", "response": "r"}` + "\n" + `{"prompt": "p"}`, `line 2: field "response": missing`},
		{`{"response": "r"}`, `line 1: field "prompt": missing`},
		{`{"prompt": 3, "response": "r"}`, `line 1: field "prompt": want a string, got a number`},
		{`{"prompt": "p", "response": null}`, `field "response": want a string, got null`},
		{`{"prompt": "p", "response": "r", "label": 1}`, `field "label": want a string or a boolean, got a number`},
		{`{"prompt": "p", "response": "r", "choices": "a"}`, `field "choices": want an array of strings, got a string`},
		{`[1, 2]`, `line 1: want a JSON object, got array`},
		{`null`, `want a JSON object, got null`},
		{`{"prompt": "p", "response": "r"`, `line 1: invalid JSON`},
		{"\n\n" + `not json`, `line 3: invalid JSON`},
	}
	for _, tt := range tests {
		err := ReadTranscripts(strings.NewReader(tt.in), func(int, Transcript) error { return nil })
		if !errors.Is(err, ErrBadTranscript) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadTranscripts(%q) = %v, want ErrBadTranscript containing %q", tt.in, err, tt.want)
		}
	}
}

func TestReadTranscriptsCallbackError(t *testing.T) {
	stop := errors.New("stop")
	in := `{"prompt": "p", "response": "r"}` + "\n" + `{"prompt": "p", "response": "r"}`
	n := 0
	err := ReadTranscripts(strings.NewReader(in), func(int, Transcript) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("ReadTranscripts = %v after %d calls, want stop at line 1", err, n)
	}
}

func TestReadTranscriptsLongLine(t *testing.T) {
	long := fmt.Sprintf(`{"prompt": "p", "response": "%s"}`, strings.Repeat("x", 200<<10))
	var got int
	if err := ReadTranscripts(strings.NewReader(long), func(_ int, t Transcript) error { got = len(t.Response); return nil }); err != nil || got != 200<<10 {
		t.Fatalf("ReadTranscripts(200 KiB line) = %v, response %d bytes", err, got)
	}
}

func FuzzReadTranscripts(f *testing.F) {
	for _, s := range []string{
		`{"prompt": "p", "response": "r", "label": "refusal"}`,
		`{"prompt": "p", "response": "r", "label": true, "choices": ["a"]}` + "\n\n" + `{"prompt": "", "response": ""}`,
		`{"prompt": 1}`, `[]`, `null`, "\ufeff{}", `{"prompt":"p","response":"r","extra":{"x":[1,2,{"y":null}]}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		last := 0
		err := ReadTranscripts(strings.NewReader(s), func(line int, tr Transcript) error {
			if line <= last {
				t.Fatalf("line numbers not increasing: %d after %d", line, last)
			}
			last = line
			if len(tr.Raw) == 0 {
				t.Fatalf("empty Raw at line %d", line)
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrBadTranscript) {
			t.Fatalf("error %v does not wrap ErrBadTranscript", err)
		}
	})
}
