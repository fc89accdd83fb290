package review

import (
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

const digest = "sha256:5f2b4c1e9a7d3b8c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"

func TestParseSubmission(t *testing.T) {
	data, err := os.ReadFile("testdata/submission.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSubmission(data)
	if err != nil {
		t.Fatalf("ParseSubmission(testdata) = %v", err)
	}
	if s.Model.Digest != digest || s.Target.Credentials != "sk-test-123" || len(s.Profiles) != 2 {
		t.Fatalf("ParseSubmission decoded %+v", s)
	}
	if strings.Contains(string(s.Dossier), "\n") || strings.Contains(string(s.Dossier), "\": ") {
		t.Fatalf("dossier not compacted: %s", s.Dossier)
	}
}

func TestParseSubmissionRejects(t *testing.T) {
	ok := `{"model":{"digest":"` + digest + `","name":"m"},"dossier":{},"target":{"url":"https://x.example"},"profiles":["p"]}`
	if _, err := ParseSubmission([]byte(ok)); err != nil {
		t.Fatalf("minimal valid submission rejected: %v", err)
	}
	sub := func(old, new string) string { return strings.Replace(ok, old, new, 1) }
	tests := []struct {
		name, doc, field string
	}{
		{"empty", ``, "empty document"},
		{"not object", `[]`, "submission"},
		{"malformed", `{"model":`, "submission"},
		{"trailing", ok + `{}`, "after the JSON object"},
		{"unknown field", sub(`"profiles"`, `"extra":1,"profiles"`), "unknown field"},
		{"wrong type", sub(`["p"]`, `"p"`), "profiles"},
		{"bad digest", sub(digest, "sha256:abc"), "model.digest"},
		{"uppercase digest", sub(digest, strings.ToUpper(digest)), "model.digest"},
		{"no name", sub(`"name":"m"`, `"name":""`), "model.name"},
		{"control char name", sub(`"name":"m"`, `"name":"m\u0007"`), "model.name"},
		{"dossier missing", sub(`"dossier":{},`, ``), "dossier"},
		{"dossier array", sub(`"dossier":{}`, `"dossier":[1]`), "dossier"},
		{"dossier null", sub(`"dossier":{}`, `"dossier":null`), "dossier"},
		{"dossier string", sub(`"dossier":{}`, `"dossier":"x"`), "dossier"},
		{"url missing", sub(`"url":"https://x.example"`, `"url":""`), "target.url"},
		{"url scheme", sub(`https://x.example`, `file:///etc/passwd`), "target.url"},
		{"url userinfo", sub(`https://x.example`, `https://u:p@x.example`), "target.url"},
		{"url no host", sub(`https://x.example`, `https://`), "target.url"},
		{"no profiles", sub(`["p"]`, `[]`), "profiles"},
		{"bad profile", sub(`["p"]`, `["P Q"]`), "profiles[0]"},
		{"duplicate profile", sub(`["p"]`, `["p","p"]`), "profiles[1]"},
		{"huge", `{"x":"` + strings.Repeat("a", MaxSubmissionBytes) + `"}`, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSubmission([]byte(tt.doc))
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("ParseSubmission = %v, want ErrInvalidInput", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("ParseSubmission error %q does not name %q", err, tt.field)
			}
		})
	}
}

func FuzzParseSubmission(f *testing.F) {
	data, err := os.ReadFile("testdata/submission.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"model":{"digest":"` + digest + `","name":"m"},"dossier":{},"target":{"url":"https://x.example"},"profiles":["p"]}`))
	f.Add([]byte(`{"dossier":[{"a":{"b":null}}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte("{\"model\":{\"digest\":\"" + digest + "\",\"name\":\"m\"},\"dossier\":{\"card\":\"caf\xe9\"},\"target\":{\"url\":\"https://x.example\"},\"profiles\":[\"p\"]}"))
	f.Add([]byte(`{"model":{"digest":"` + digest + `","name":"m"},"dossier":{"a":["\u0000","\ud800"]},"target":{"url":"https://x.example"},"profiles":["p"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSubmission(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("ParseSubmission error %v does not wrap ErrInvalidInput", err)
			}
			return
		}
		// Whatever is accepted validates again, and its dossier is a
		// compact JSON object.
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted submission fails Validate: %v", err)
		}
		if len(s.Dossier) == 0 || s.Dossier[0] != '{' {
			t.Fatalf("accepted dossier is not an object: %q", s.Dossier)
		}
		// ...of UTF-8 text without NUL or a lone surrogate, which
		// PostgreSQL stores and JSON can carry back out.
		if !utf8.Valid(s.Dossier) || CheckJSONText(s.Dossier, "dossier") != nil {
			t.Fatalf("accepted dossier %q has text that cannot be stored", s.Dossier)
		}
	})
}

func TestRemediationDays(t *testing.T) {
	tests := []struct {
		s    Severity
		want int
	}{{SeverityCritical, 15}, {SeverityHigh, 30}, {SeverityModerate, 90}, {SeverityLow, 180}, {"info", 0}}
	for _, tt := range tests {
		if got := RemediationDays(tt.s); got != tt.want {
			t.Errorf("RemediationDays(%s) = %d, want %d", tt.s, got, tt.want)
		}
	}
}
