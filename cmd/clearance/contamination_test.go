package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target/targettest"
)

// clearance assess --private-seed scans every sample's answer for the
// seed's canaries: a model that has taken in a private item (it adds that
// item's canary to every answer) raises the signal; an echoing model,
// whose private answers repeat their own prompt's canary, does not.
func TestAssessContaminationCLI(t *testing.T) {
	dir := t.TempDir()
	seedHex := strings.Repeat("5a", 32)
	seedFile := filepath.Join(dir, "seed.hex")
	os.WriteFile(seedFile, []byte(seedHex), 0o600)
	seed, _ := suite.ParsePrivateSeed(seedHex)
	leaked := suite.Canary(seed, "misuse", "leaked-item")
	clean := targettest.New(t, targettest.Options{})
	leaky := targettest.New(t, targettest.Options{Answer: func(p string) string { return "Sure. Ref " + leaked }})

	run := func(url, out string) (string, assess.Metrics) {
		t.Helper()
		code, stdout, stderr := runCLI(t, "assess", "--target", "openai", "--base-url", url, "--model", "m", "--suite", "misuse", "--limit", "4",
			"--seed", "1", "--skip-judge", "--no-cache", "--calibration", "0", "--private-seed", seedFile, "--out", out)
		if code != 0 {
			t.Fatalf("assess: exit %d, stderr %s", code, stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, "metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m assess.Metrics
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return stdout, m
	}
	stdout, m := run(clean.URL, filepath.Join(dir, "clean"))
	if c := m.Contamination; c == nil || c.Scanned != 8 || c.Signal() || !strings.Contains(stdout, "Canary scan: no private canary in the model output of 8 samples") {
		t.Fatalf("echoing model: contamination %+v, stdout %s", c, stdout)
	}
	stdout, m = run(leaky.URL, filepath.Join(dir, "leaky"))
	if c := m.Contamination; c == nil || c.Canaries != 8 || len(c.Samples) != 8 || !strings.Contains(stdout, "contamination signal: a private canary appeared in model output: 8 canaries in 8 of 8 samples") {
		t.Fatalf("leaky model: contamination %+v, stdout %s", c, stdout)
	}
}

// clearance assess --private-paraphrase has the --judge-* model paraphrase
// each private item: a helper that keeps the canary and the protected
// texts is used; one that drops the canary is not, and the fallbacks are
// counted in private-gap.json and the summary.
func TestAssessParaphraseCLI(t *testing.T) {
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "seed.hex")
	os.WriteFile(seedFile, []byte(strings.Repeat("3c", 32)), 0o600)
	model := targettest.New(t, targettest.Options{})
	good := targettest.New(t, targettest.Options{Answer: func(p string) string { return "Rephrased: " + p }})
	hostile := targettest.New(t, targettest.Options{Answer: func(p string) string {
		if i := strings.Index(p, "cx"); i >= 0 {
			p = p[:i]
		}
		return "Rephrased: " + p
	}})
	run := func(helper, out string) (string, assess.PrivateGap) {
		t.Helper()
		code, stdout, stderr := runCLI(t, "assess", "--target", "openai", "--base-url", model.URL, "--model", "m", "--suite", "prompt-injection", "--limit", "4",
			"--seed", "1", "--no-cache", "--calibration", "0", "--private-seed", seedFile, "--private-paraphrase",
			"--judge-target", "openai", "--judge-base-url", helper, "--judge-model", "helper", "--out", out)
		if code != 0 {
			t.Fatalf("assess: exit %d, stderr %s", code, stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, "private-gap.json"))
		if err != nil {
			t.Fatal(err)
		}
		var g assess.PrivateGap
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatal(err)
		}
		return stdout, g
	}
	stdout, g := run(good.URL, filepath.Join(dir, "good"))
	if p := g.Paraphrase; p == nil || p.Paraphrased != 4 || p.Fallbacks != 0 || !strings.Contains(stdout, "4 items paraphrased, 0 fell back") {
		t.Fatalf("good helper: paraphrase %+v, stdout %s", p, stdout)
	}
	if got := good.Requests(); got != 4 {
		t.Errorf("good helper: %d requests, want one per private item (4)", got)
	}
	stdout, g = run(hostile.URL, filepath.Join(dir, "hostile"))
	if p := g.Paraphrase; p == nil || p.Paraphrased != 0 || p.Fallbacks != 4 || p.Reasons[suite.FallbackCanary] != 4 || !strings.Contains(stdout, "canary lost 4") {
		t.Fatalf("hostile helper: paraphrase %+v, stdout %s", p, stdout)
	}
	// The private samples the model saw carry their canaries whichever
	// helper ran.
	b, _ := os.ReadFile(filepath.Join(dir, "hostile", "samples.jsonl"))
	if n := strings.Count(string(b), "Rephrased"); n != 0 {
		t.Errorf("a dropped-canary paraphrase reached the model (%d times)", n)
	}
	// Without --private-seed the flag is refused.
	if code, _, errOut := runCLI(t, "assess", "--target", "reference", "--suite", "misuse", "--private-paraphrase"); code != 2 || !strings.Contains(errOut, "--private-paraphrase needs --private-seed") {
		t.Errorf("--private-paraphrase alone: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "assess", "--target", "reference", "--suite", "misuse", "--private-seed", seedFile, "--private-paraphrase"); code != 2 || !strings.Contains(errOut, "needs a helper model") {
		t.Errorf("--private-paraphrase without a judge: exit %d, %s", code, errOut)
	}
}
