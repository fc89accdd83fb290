package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConformCLI: a fingerprint recorded from the robust reference model
// passes a check of the same model (exit 0) and fails one of the
// vulnerable model behind the endpoint (exit 40); bad input is a clear
// error, never a verdict.
func TestConformCLI(t *testing.T) {
	dir := t.TempDir()
	fp := filepath.Join(dir, "fp.json")
	code, out, errOut := runCLI(t, "conform", "record", "--target", "reference", "--profile", "robust", "--probes", "40", "--seed", "2", "--out", fp, "--format", "json")
	if code != 0 {
		t.Fatalf("conform record: exit %d, stderr %s", code, errOut)
	}
	var rec struct {
		Digest   string `json:"digest"`
		Requests int    `json:"requests"`
	}
	if err := json.Unmarshal([]byte(out), &rec); err != nil || !strings.HasPrefix(rec.Digest, "sha256:") || rec.Requests != 200 {
		t.Fatalf("conform record --format json = %q (%v), want a digest and 200 requests", out, err)
	}

	code, out, errOut = runCLI(t, "conform", "--fingerprint", fp, "--target", "reference", "--profile", "robust")
	if code != 0 || !strings.Contains(out, "SAME MODEL") {
		t.Fatalf("conform (same model): exit %d, stdout %q, stderr %q; want 0 and SAME MODEL", code, out, errOut)
	}
	code, out, _ = runCLI(t, "conform", "--fingerprint", fp, "--target", "reference", "--profile", "vulnerable", "--format", "json")
	var res struct {
		Same        bool   `json:"same"`
		Fingerprint string `json:"fingerprint"`
	}
	if code != exitNotSame || json.Unmarshal([]byte(out), &res) != nil || res.Same || res.Fingerprint != rec.Digest {
		t.Fatalf("conform (vulnerable swapped in): exit %d, stdout %q; want %d and same=false for %s", code, out, exitNotSame, rec.Digest)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"version":"v0"}`), 0o600)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"conform", "--target", "reference"}, 2, "--fingerprint is required"},
		{[]string{"conform", "--fingerprint", bad, "--target", "reference"}, 1, "invalid fingerprint: version"},
		{[]string{"conform", "--fingerprint", fp, "--target", "reference", "--alpha", "2"}, 2, "--alpha"},
		{[]string{"conform", "record", "--target", "reference"}, 2, "--out is required"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

// TestDemoConform: the demo's conformance step passes the cleared
// endpoint and fails it with the vulnerable model swapped in.
func TestDemoConform(t *testing.T) {
	var out strings.Builder
	e := &env{stdout: &out, stderr: &out, now: time.Now, getenv: func(string) string { return "" }}
	dir := t.TempDir()
	if err := demoConform(context.Background(), e, dir); err != nil {
		t.Fatalf("demoConform: %v", err)
	}
	s := out.String()
	if !strings.Contains(s, "the same endpoint: PASS") || !strings.Contains(s, "model swapped in: FAIL") {
		t.Fatalf("demoConform output:\n%s\nwant one PASS and one FAIL", s)
	}
	if _, err := readFingerprint(filepath.Join(dir, "conform-"+demoModels[0].name+".json")); err != nil {
		t.Fatalf("demo fingerprint: %v", err)
	}
}
