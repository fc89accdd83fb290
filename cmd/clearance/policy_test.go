package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func policyEnv() (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{
		stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		getenv: func(string) string { return "" },
		now:    func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) },
	}, &out, &errb
}

func TestPolicyCLI(t *testing.T) {
	evidence := filepath.Join("..", "..", "policy", "testdata", "evidence.json")
	dossier := filepath.Join("..", "..", "policy", "testdata", "dossier.yaml")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("id: bad\ntitle: Bad\nversion: '1'\nstatus: draft\ndecision:\n  - {id: a, outcome: hold, rationale: r, when: 'nope > 1'}\n"), 0o644)
	cases := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"list", []string{"policy", "list"}, 0, []string{"eu-ai-act-gpai-sr", "us-eo-14409"}},
		{"eval blocks with exit 3", []string{"policy", "eval", "--evidence", evidence, "--profile", "cn-tc260-003"}, 3, []string{"outcome: hold", "should-not-refuse"}},
		{"eval passes", []string{"policy", "eval", "--evidence", evidence, "--profile", "us-eo-14409,rand-sl", "--as-of", "2026-06-03"}, 0, []string{"window_expired"}},
		{"eval before the order", []string{"policy", "eval", "--evidence", evidence, "--profile", "us-eo-14409"}, 0, []string{"not_in_force", "2026-06-02"}},
		{"eval bare dossier", []string{"policy", "eval", "--evidence", dossier, "--profile", "frontier-framework", "--format", "json"}, 3, []string{`"status": "missing"`}},
		{"compare table", []string{"policy", "compare", "--evidence", evidence}, 0, []string{"PROFILE", "ca-sb-53", "not_applicable", "not_in_force", "fines apply from 2 August 2026"}},
		{"compare table after the EU fines start", []string{"policy", "compare", "--evidence", evidence, "--as-of", "2026-09-01"}, 0, []string{"EUR 54M"}},
		{"compare html", []string{"policy", "compare", "--evidence", evidence, "--format", "html"}, 0, []string{"<table>", "window_expired"}},
		{"plan", []string{"policy", "plan", "--dossier", dossier, "--profile", "eu-ai-act-gpai-sr"}, 0, []string{`"suite": "jailbreak"`}},
		{"lint builtin source is clean", []string{"policy", "lint", filepath.Join("..", "..", "policy", "profiles", "ny-raise.yaml")}, 0, []string{"no findings"}},
		{"lint error names file and line", []string{"policy", "lint", bad}, 1, []string{"bad.yaml:6: error: decision[0].when", "undeclared reference to 'nope'"}},
		{"schema", []string{"policy", "schema", "evidence"}, 0, []string{"training_compute_flop"}},
		{"unknown profile", []string{"policy", "eval", "--evidence", evidence, "--profile", "mars"}, 1, []string{"unknown profile"}},
		{"usage", []string{"policy", "eval"}, 2, []string{"want --evidence"}},
		{"bad date", []string{"policy", "eval", "--evidence", evidence, "--profile", "rand-sl", "--as-of", "soon"}, 2, []string{"--as-of"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, out, errb := policyEnv()
			code := run(context.Background(), e, tc.args)
			all := out.String() + errb.String()
			if code != tc.code {
				t.Fatalf("clearance %v: exit %d, want %d\n%s", tc.args, code, tc.code, all)
			}
			for _, w := range tc.contains {
				if !strings.Contains(all, w) {
					t.Errorf("clearance %v output lacks %q:\n%s", tc.args, w, all)
				}
			}
		})
	}
}

func TestPolicyEvalJSONContract(t *testing.T) {
	e, out, _ := policyEnv()
	evidence := filepath.Join("..", "..", "policy", "testdata", "evidence.json")
	if code := run(context.Background(), e, []string{"policy", "eval", "--evidence", evidence, "--profile", "eu-ai-act-gpai-sr", "--profile", "ca-sb-53", "--format", "json"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var list []map[string]any
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0]["profile"] != "eu-ai-act-gpai-sr" || list[1]["applicable"] != false || list[1]["outcome"] != "not_applicable" {
		t.Fatalf("eval json = %v", list)
	}
	for _, r := range list {
		if _, ok := r["tier"]; !ok {
			t.Errorf("result lacks tier: %v", r)
		}
	}
}
