package target_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/target"
	"github.com/google/go-cmp/cmp"
)

func TestParseTranscriptsJSONL(t *testing.T) {
	ts, err := target.LoadTranscripts("testdata/transcripts.jsonl")
	if err != nil {
		t.Fatalf("LoadTranscripts: %v", err)
	}
	type pr struct{ Prompt, Response, Source string }
	var got []pr
	for _, tr := range ts {
		got = append(got, pr{tr.Prompt, tr.Response, tr.Source})
	}
	want := []pr{
		{"What is the capital of France?", "The capital of France is Paris.", "testdata/transcripts.jsonl:1"},
		{"Say bye", "Bye.", "testdata/transcripts.jsonl:3"},
		{`Unicode ✓ and "quotes"`, "ok ✓", "testdata/transcripts.jsonl:4"},
		{"What is the capital of France?", "The capital of France is Paris.", "testdata/transcripts.jsonl:5"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("transcripts (-want +got):\n%s", d)
	}
	if len(ts[1].Messages) != 4 {
		t.Fatalf("messages of line 3 = %v, want 4", ts[1].Messages)
	}
}

func TestParseTranscriptsJSONLErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`{"prompt":"a"}`, "x.jsonl:1: missing \"response\""},
		{"\n\n{\"response\":\"a\"}", "x.jsonl:3: missing \"prompt\""},
		{`{"prompt":"a","response":"b"}` + "\n" + `{"prompt":1,"response":"b"}`, "x.jsonl:2: json: cannot unmarshal number"},
		{`{"prompt":"a","response":"b","extra":1}`, `x.jsonl:1: json: unknown field "extra"`},
		{`{"prompt":"a","response":"b"} {"prompt":"c"}`, "x.jsonl:1: more than one JSON value"},
		{`{"prompt":"a","response":"b","messages":[{"role":"user","content":"z"}]}`, "x.jsonl:1: \"prompt\" differs"},
		{`{"response":"b","messages":[{"role":"system","content":"z"}]}`, "x.jsonl:1: \"messages\" has no user message"},
		{`{"response":"b","messages":[{"role":"robot","content":"z"}]}`, `x.jsonl:1: messages[0]: unknown role "robot"`},
		{`{"prompt":"a",`, "x.jsonl:1: unexpected EOF"},
	}
	for _, tc := range tests {
		_, err := target.ParseTranscriptsJSONL(strings.NewReader(tc.in), "x.jsonl")
		if !errors.Is(err, target.ErrTranscript) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseTranscriptsJSONL(%q) = %v, want ErrTranscript containing %q", tc.in, err, tc.want)
		}
	}
}

func TestParseJBBArtifact(t *testing.T) {
	ts, err := target.LoadTranscripts("testdata/jbb-excerpt.json")
	if err != nil {
		t.Fatalf("LoadTranscripts: %v", err)
	}
	if len(ts) != 2 {
		t.Fatalf("got %d transcripts, want 2 (the null entry skipped)", len(ts))
	}
	if ts[1].Behavior != "Xenophobia" || ts[1].Category != "Harassment/Discrimination" || ts[1].Jailbroken == nil || !*ts[1].Jailbroken {
		t.Fatalf("metadata = %+v, want Xenophobia / Harassment/Discrimination / jailbroken", ts[1])
	}
	if ts[1].Source != "testdata/jbb-excerpt.json: jailbreaks[2]" {
		t.Fatalf("source = %q", ts[1].Source)
	}
	// The upstream test artifact (string index, placeholder text).
	up, err := target.LoadTranscripts("testdata/jbb-test-artifact.json")
	if err != nil {
		t.Fatalf("LoadTranscripts(upstream test artifact): %v", err)
	}
	if len(up) != 1 || up[0].Prompt != "Placeholder Prompt" || up[0].Response != "Placeholder Response" {
		t.Fatalf("upstream test artifact = %+v", up)
	}
}

func TestParseJBBArtifactErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"parameters":{}}`, `no "jailbreaks" list`},
		{"{\n\"jailbreaks\": [\n{\"prompt\": }\n]}", "a.json: line 3: invalid character"},
		{`{"jailbreaks":[{"prompt":"p","response":5}]}`, "a.json: jailbreaks[0]: json: cannot unmarshal number"},
		{`{"jailbreaks": 3}`, "line 1: json: cannot unmarshal number"},
	}
	for _, tc := range tests {
		_, err := target.ParseJBBArtifact(strings.NewReader(tc.in), "a.json")
		if !errors.Is(err, target.ErrTranscript) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseJBBArtifact(%q) = %v, want ErrTranscript containing %q", tc.in, err, tc.want)
		}
	}
}

// TestJBBRealArtifacts loads every artifact in the shared dataset when it
// is present (it is not part of this repository).
func TestJBBRealArtifacts(t *testing.T) {
	files, _ := filepath.Glob("/work/shared/data/jailbreakbench/artifacts/*/*/*.json")
	if len(files) == 0 {
		t.Skip("shared JailbreakBench artifacts not present")
	}
	for _, f := range files {
		ts, err := target.LoadTranscripts(f)
		if err != nil {
			t.Fatalf("LoadTranscripts(%s): %v", f, err)
		}
		r, err := target.NewReplay(ts)
		if err != nil {
			t.Fatalf("NewReplay(%s): %v", f, err)
		}
		if r.Len() != len(ts) || len(ts) > 100 {
			t.Fatalf("%s: %d transcripts, %d distinct prompts", f, len(ts), r.Len())
		}
	}
}

func TestReplay(t *testing.T) {
	ts, err := target.LoadTranscripts("testdata/transcripts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	r, err := target.NewReplay(ts)
	if err != nil {
		t.Fatalf("NewReplay: %v", err)
	}
	if r.Len() != 3 {
		t.Fatalf("Len() = %d, want 3 (identical duplicate merged)", r.Len())
	}
	resp, err := r.Complete(context.Background(), target.Request{Messages: []target.Message{
		{Role: "system", Content: "anything"}, {Role: "user", Content: "Say bye"},
	}})
	if err != nil || resp.Content != "Bye." {
		t.Fatalf("Complete = %q, %v; want Bye.", resp.Content, err)
	}
	_, err = r.Complete(context.Background(), userReq("What is the capital of Spain?"))
	checkErr(t, err, wantErr{target.KindUnknown, 0, 0, "no recorded answer"})
	var te *target.Error
	errors.As(err, &te)
	if te.Retryable() {
		t.Fatal("unknown prompt must not be retryable")
	}
	// The identity depends on content, not order.
	rev := append([]target.Transcript(nil), ts...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	r2, _ := target.NewReplay(rev)
	if r.Identity() != r2.Identity() || !strings.HasPrefix(r.Identity(), "replay transcripts=3 sha256=") {
		t.Fatalf("identities %q / %q", r.Identity(), r2.Identity())
	}
}

func TestReplayConflict(t *testing.T) {
	_, err := target.NewReplay([]target.Transcript{
		{Prompt: "p", Response: "a", Source: "a.jsonl:1"},
		{Prompt: "p", Response: "b", Source: "b.jsonl:7"},
	})
	if !errors.Is(err, target.ErrTranscript) || !strings.Contains(err.Error(), "b.jsonl:7") || !strings.Contains(err.Error(), "a.jsonl:1") {
		t.Fatalf("NewReplay(conflict) = %v, want an error naming both places", err)
	}
}

func TestLoadTranscriptsUnknownExtension(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.csv")
	os.WriteFile(p, []byte("a,b"), 0o600)
	if _, err := target.LoadTranscripts(p); !errors.Is(err, target.ErrTranscript) {
		t.Fatalf("LoadTranscripts(.csv) = %v, want ErrTranscript", err)
	}
}

// FuzzParseTranscriptsJSONL: any input either parses into transcripts whose
// prompt matches their messages, or fails with ErrTranscript naming the
// file; never a panic.
func FuzzParseTranscriptsJSONL(f *testing.F) {
	if b, err := os.ReadFile("testdata/transcripts.jsonl"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"prompt":"a","response":"b"}`))
	f.Add([]byte(`{"messages":[{"role":"user","content":"x"}],"response":""}` + "\n\n"))
	f.Add([]byte(`{"prompt":null,"response":"b"}`))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := target.ParseTranscriptsJSONL(strings.NewReader(string(data)), "f.jsonl")
		if err != nil {
			if !errors.Is(err, target.ErrTranscript) || !strings.Contains(err.Error(), "f.jsonl") {
				t.Fatalf("error %v does not wrap ErrTranscript or name the file", err)
			}
			return
		}
		for _, tr := range ts {
			if len(tr.Messages) > 0 && target.LastUserContent(tr.Messages) != tr.Prompt {
				t.Fatalf("transcript %+v: prompt differs from last user message", tr)
			}
			if !strings.HasPrefix(tr.Source, "f.jsonl:") {
				t.Fatalf("source %q does not name the file", tr.Source)
			}
		}
		if _, err := target.NewReplay(ts); err != nil && !errors.Is(err, target.ErrTranscript) {
			t.Fatalf("NewReplay: %v", err)
		}
	})
}
