package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

	// With --logprobs the fingerprint holds the answers' mean token
	// log-probabilities (the reference server offers synthetic ones), and a
	// check of the same model compares them too.
	lp := filepath.Join(dir, "lp.json")
	if code, _, errOut := runCLI(t, "conform", "record", "--target", "reference", "--profile", "robust", "--probes", "40", "--seed", "2", "--logprobs", "--out", lp); code != 0 {
		t.Fatalf("conform record --logprobs: exit %d, stderr %s", code, errOut)
	}
	if b, err := os.ReadFile(lp); err != nil || !strings.Contains(string(b), `"mean_logprobs"`) {
		t.Fatalf("fingerprint recorded with --logprobs has no mean_logprobs (%v)", err)
	}
	code, out, _ = runCLI(t, "conform", "--fingerprint", lp, "--target", "reference", "--profile", "robust", "--format", "json")
	var lres struct {
		Same  bool `json:"same"`
		Tests []struct {
			Name string `json:"name"`
		} `json:"tests"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &lres) != nil || !lres.Same || !slices.ContainsFunc(lres.Tests, func(x struct {
		Name string `json:"name"`
	}) bool {
		return x.Name == "logprob"
	}) {
		t.Fatalf("conform with log-probabilities (same model): exit %d, stdout %.300q; want 0, same, and a logprob test", code, out)
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

// TestDemoConform: the demo records the cleared demo model's endpoint
// fingerprint through the service (a job) before its decision, and its
// two checks through the service show on the case page: the same
// endpoint passes, the vulnerable model's endpoint swapped in fails with
// a finding. No fingerprint file is left in the data directory (its
// answers are sealed in the database; TestDemoAtRest scans for them).
func TestDemoConform(t *testing.T) {
	demo := sharedDemo(t)
	caseID := demo.ds.Cases[demoModels[0].name]
	decisionID := demo.ds.Decisions[demoModels[0].name]
	token := demoToken(t, filepath.Join(demo.data, "demo-tokens.txt"), "reviewer")
	c := &apiClient{base: demo.base, token: token, hc: http.DefaultClient}
	ctx := context.Background()
	var list struct {
		Fingerprints []struct{ ID, State, Digest string }
	}
	if err := c.do(ctx, "GET", "/api/v1/cases/"+caseID+"/conformance", nil, nil, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Fingerprints) != 1 || list.Fingerprints[0].State != "recorded" || !strings.HasPrefix(list.Fingerprints[0].Digest, "sha256:") {
		t.Fatalf("demo fingerprints %+v, want one recorded", list.Fingerprints)
	}
	var raw struct {
		Checks []struct {
			DecisionID string `json:"decision_id"`
			FindingID  string `json:"finding_id"`
			Same       bool   `json:"same"`
		} `json:"checks"`
	}
	if err := c.do(ctx, "GET", "/api/v1/cases/"+caseID+"/conformance", nil, nil, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Checks) != 2 || !raw.Checks[0].Same || raw.Checks[1].Same || raw.Checks[1].FindingID == "" ||
		raw.Checks[0].DecisionID != decisionID || raw.Checks[1].DecisionID != decisionID {
		t.Fatalf("demo checks %+v, want a pass then a failure with a finding, both of decision %s", raw.Checks, decisionID)
	}
	matches, _ := filepath.Glob(filepath.Join(demo.data, "conform-*"))
	if len(matches) > 0 {
		t.Errorf("the demo left fingerprint files %v in its data directory", matches)
	}
	page := webPage(t, demo, "/cases/"+caseID)
	for _, want := range []string{"Conformance of the deployed endpoint", list.Fingerprints[0].Digest, "<strong>PASS</strong>", "<strong>FAIL</strong>"} {
		if !strings.Contains(page, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
}

// webPage signs in to a served demo's web UI as the reviewer, through
// the login form, and returns the HTML of path.
func webPage(t *testing.T, demo servedDemo, path string) string {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	get := func(p string) string {
		t.Helper()
		resp, err := hc.Get(demo.base + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", p, resp.StatusCode, b)
		}
		return string(b)
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get("/login"))
	if m == nil {
		t.Fatal("no csrf field on /login")
	}
	token := demoToken(t, filepath.Join(demo.data, "demo-tokens.txt"), "reviewer")
	resp, err := hc.PostForm(demo.base+"/login", url.Values{"csrf": {m[1]}, "token": {token}, "next": {"/cases"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return get(path)
}
