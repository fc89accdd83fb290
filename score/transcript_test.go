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
		{`{"messages": [{"role": "system", "content": "s"}], "response": "r"}`, `line 1: field "messages": no user message`},
		{`{"messages": "hi", "response": "r"}`, `line 1: field "messages": want an array`},
		{`{"prompt": "p", "response": "r", "harmful": "yes"}`, `line 1: field "harmful": want a boolean, got a string`},
		{`{"prompt": "p", "response": "r", "refusal_label": 2}`, `line 1: field "refusal_label": want a string, got a number`},
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
		`{"messages":[{"role":"user","content":"q"}],"response":"r","harmful":true,"refusal_label":"refusal","error":{"source":"target"}}`,
		`{"messages":[{"role":"user"}],"response":"r","error":"x","harmful":null}`,
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

// A run's own samples.jsonl line (assess.Record) is a transcript: the prompt
// is the last user message, the kind is kept, and a sample whose target
// failed is marked so that it is skipped, not scored as an empty answer.
func TestReadTranscriptsRunSamplesAndLabelFields(t *testing.T) {
	in := `{"id":"a","suite":"misuse","kind":"harmful","scorer":"refusal","messages":[{"role":"system","content":"sys"},{"role":"user","content":"first"},{"role":"assistant","content":"ok"},{"role":"user","content":"last"}],"response":"No.","verdict":{"label":"refusal","flagged":false}}
{"id":"b","kind":"harmful","messages":[{"role":"user","content":"q"}],"response":"","error":{"source":"target","kind":"timeout","message":"deadline exceeded"}}
{"prompt":"p","response":"r","refusal_label":"partial_refusal","harmful":true}
{"prompt":"p","response":"r","harmful":false,"error":"user's own field"}
`
	var got []Transcript
	if err := ReadTranscripts(strings.NewReader(in), func(_ int, tr Transcript) error {
		tr.Raw = nil
		got = append(got, tr)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	want := []Transcript{
		{Prompt: "last", Response: "No.", Kind: "harmful"},
		{Prompt: "q", Kind: "harmful", TargetError: "deadline exceeded"},
		{Prompt: "p", Response: "r", RefusalLabel: "partial_refusal", Harmful: &yes},
		{Prompt: "p", Response: "r", Harmful: &no},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("transcripts (-want +got):\n%s", diff)
	}
}

func TestReadTranscriptsLineError(t *testing.T) {
	err := ReadTranscripts(strings.NewReader("{\"prompt\":\"p\",\"response\":\"r\"}\n{\"prompt\":\"p\"}\n"), func(int, Transcript) error { return nil })
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 || !strings.Contains(le.Err.Error(), `field "response": missing`) {
		t.Fatalf("ReadTranscripts = %v, want a *LineError for line 2 naming the field", err)
	}
}
