package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/web/ui/uitest"
)

// TestDemoUI checks the README's promise that `clearance demo` opens onto
// a populated UI: it runs the demo as the command does and, in Chromium,
// signs in as the demo's reviewer with the token from demo-tokens.txt and
// finds both reviewed models decided, each case page with its regime
// comparison, charts, finding and decision, the decision page with its
// log index and verify command, and, signed out, both decisions on the
// public transparency page. Like the UI's browser tests it skips when
// chromium is missing, unless CLEARANCE_CI=1.
func TestDemoUI(t *testing.T) {
	uitest.RequireChromium(t) // before the demo's seeding, which takes seconds
	demo := sharedDemo(t)
	data, addr, base, ds := demo.data, demo.addr, demo.base, demo.ds
	token := demoToken(t, filepath.Join(data, "demo-tokens.txt"), "reviewer")

	b := uitest.New(t, base)
	b.SignIn(token)
	b.Open("/cases")
	for _, m := range demoModels {
		if n := b.Count(`table.cases a[href="/cases/` + ds.Cases[m.name] + `"]`); n != 1 {
			t.Fatalf("/cases has %d links to %s's case %s, want 1", n, m.name, ds.Cases[m.name])
		}
	}
	b.WantText("table.cases", "northwind-robust", "contoso-vulnerable", "decided")
	if n := b.Count("table.cases .state-decided"); n != 2 {
		t.Fatalf("/cases shows %d decided cases, want 2:\n%s", n, b.Text("table.cases"))
	}
	// Each case names its developer and shows its outcome per profile.
	// With --limit 20 every evaluation is too small to judge: nothing
	// that needs one is cleared, and the vulnerable model's clear
	// jailbreak failure is refused, in red, not in the cleared green.
	b.WantText("table.cases", "Northwind Labs", "Contoso AI")
	for _, m := range demoModels {
		row := `table.cases tr:has(a[href="/cases/` + ds.Cases[m.name] + `"])`
		b.WantText(row, m.org, "eu-ai-act-gpai-sr", "us-2026-draft", "ca-sb-53")
		for _, p := range []string{"eu-ai-act-gpai-sr", "us-2026-draft"} {
			if txt := b.Text(row + " ul.outcomes"); strings.Contains(txt, p+" cleared") {
				t.Errorf("%s: %s is cleared on insufficient evaluations:\n%s", m.name, p, txt)
			}
		}
	}
	contoso := `table.cases tr:has(a[href="/cases/` + ds.Cases["contoso-vulnerable"] + `"])`
	if n := b.Count(contoso + " .badge-refused"); n != 1 {
		t.Fatalf("contoso-vulnerable's row has %d refused badges, want 1:\n%s", n, b.Text(contoso))
	}
	b.Screenshot("cases")

	for _, m := range demoModels {
		caseID, decID := ds.Cases[m.name], ds.Decisions[m.name]
		if caseID == "" || decID == "" {
			t.Fatalf("demo.json has no case or no decision for %s: %+v", m.name, ds)
		}
		b.Open("/cases/" + caseID)
		b.WantText("h1", m.name, "decided")
		b.WantText("#matrix", demoProfiles...)
		if n := b.Count("#matrix table.matrix tbody tr"); n != len(demoProfiles) {
			t.Fatalf("%s: regime comparison has %d rows, want %d", m.name, n, len(demoProfiles))
		}
		if n := b.Count("#assessments figure.chart svg"); n < 3 {
			t.Fatalf("%s: case page has %d charts, want at least 3", m.name, n)
		}
		if n := b.Count("#findings article.finding"); n != 1 {
			t.Fatalf("%s: case page shows %d findings, want 1", m.name, n)
		}
		b.WantText("#findings", "jailbreak", "We will add refusal training")
		// Against two reference models, with deltas and within-error marks.
		if n := b.Count("#cohort table.cohort-ref"); n != len(demoCohortReferences) {
			t.Fatalf("%s: case page compares with %d reference models, want %d", m.name, n, len(demoCohortReferences))
		}
		b.WantText("#cohort", append([]string{"jailbreak.attack_success_rate", "95% interval"}, demoCohortReferences...)...)
		if n := b.Count("#cohort .within-error") + b.Count("#cohort .differs"); n < 2*len(demoCohortReferences) {
			t.Fatalf("%s: cohort has %d within-error/differs marks, want at least %d:\n%s", m.name, n, 2*len(demoCohortReferences), b.Text("#cohort"))
		}
		if n := b.Count(`#decisions a[href="/decisions/` + decID + `"]`); n != 1 {
			t.Fatalf("%s: case page has %d links to decision %s, want 1", m.name, n, decID)
		}
		b.Screenshot(strings.SplitN(m.name, "-", 2)[0] + "-case")
	}

	// The first model's review is joint: the office leads, the Institute
	// takes the cyber domain, shares its assessment and keeps its own
	// finding internal (the reviewer above saw one finding, the office's).
	joint := demoModels[0]
	if ds.Joint != joint.name || ds.Partner == "" {
		t.Fatalf("demo.json: joint %q partner %q, want the joint review of %s", ds.Joint, ds.Partner, joint.name)
	}
	b.Open("/cases/" + ds.Cases[joint.name])
	b.WantText("main", demoPartner, "cyber", "Concurrence", "concur")

	m := demoModels[0]
	decID := ds.Decisions[m.name]
	b.Open("/decisions/" + decID)
	b.WantText("h1", "Decision on "+m.name)
	b.WantText("main", "Transparency log", "index", "clearance verify --bundle", decID)
	if n := b.Count(`a[href="/decisions/` + decID + `/receipt"]`); n != 1 {
		t.Fatalf("decision page has %d receipt links, want 1 (the decision is logged)", n)
	}
	b.Screenshot("decision")

	b.SignOut()
	b.Open("/transparency")
	for _, m := range demoModels {
		id := ds.Decisions[m.name]
		b.WantText("table.public", m.name, id)
		if n := b.Count(`table.public a[href="/transparency/` + id + `"]`); n != 1 {
			t.Fatalf("/transparency has %d links to %s's decision page, want 1", n, m.name)
		}
	}
	b.WantText("main", "audit anchors")
	// The demo's three witnesses cosigned the latest checkpoint.
	b.WantText("#cosigners", "3 of 3", "witness-1.demo.example", "witness-2.demo.example", "witness-3.demo.example")
	b.Screenshot("transparency")
	// Signed out, the decision's public page: its receipt's checkpoint is
	// cosigned too.
	b.Open("/transparency/" + decID)
	b.WantText("main", m.name, "Verify it yourself", "clearance verify --from http://"+addr+"/transparency/"+decID)
	b.WantText("#cosigners", "3 of 3")
	b.Screenshot("public-decision")

	// The joint decision verifies offline under a two-signer policy.
	jb := filepath.Join(data, "decisions", joint.name+".sigstore.json")
	office, partner := "office="+filepath.Join(data, "decision.pub"), "partner="+filepath.Join(data, "keys", ds.Partner+".pub")
	if code, out := clearanceRun(t, nil, "verify", "--bundle", jb, "--key", office, "--key", partner, "--require-signers", "office,partner",
		"--log-key", filepath.Join(data, "log", "log.pub")); code != 0 || !strings.Contains(out, "signed by: office, partner") {
		t.Fatalf("verify the joint decision with both agencies required: exit %d\n%s", code, out)
	}
	// The other review was the office's alone: the same policy fails it.
	ob := filepath.Join(data, "decisions", demoModels[1].name+".sigstore.json")
	if code, out := clearanceRun(t, nil, "verify", "--bundle", ob, "--key", office, "--key", partner, "--require-signers", "office,partner",
		"--log-key", filepath.Join(data, "log", "log.pub")); code != exitVerifySigners {
		t.Fatalf("verify the office's own decision with both agencies required: exit %d, want %d\n%s", code, exitVerifySigners, out)
	}

	// An outsider with keys copied by hand (here: read from the files,
	// never fetched from the server) verifies from the public URL alone.
	trustFile := filepath.Join(t.TempDir(), "trust.json")
	vars := map[string]string{trustEnv: trustFile}
	args := []string{"trust", "add", "demo", "--key", filepath.Join(data, "decision.pub"), "--log-key", filepath.Join(data, "log", "log.pub")}
	for i := 1; i <= 3; i++ {
		args = append(args, "--witness", filepath.Join(data, "witnesses", fmt.Sprintf("w%d", i), "witness.pub"))
	}
	if code, out := clearanceRun(t, vars, args...); code != 0 {
		t.Fatalf("clearance %v: exit %d\n%s", args, code, out)
	}
	code, out := clearanceRun(t, vars, "verify", "--from", "http://"+addr+"/transparency/"+decID)
	if code != 0 || !strings.Contains(out, "cosigned by 3 of 3 required witnesses") {
		t.Fatalf("verify --from the demo's public page: exit %d\n%s", code, out)
	}
	// Or from the site and the weights alone: the newest decision about
	// them, found through the public index and then verified in full.
	code, out = clearanceRun(t, vars, "verify", "--from", "http://"+addr, "--model", filepath.Join(data, "models", m.name))
	if code != 0 || !strings.Contains(out, "newest logged decision about") || !strings.Contains(out, decID) {
		t.Fatalf("verify --from SITE --model DIR: exit %d\n%s", code, out)
	}
	code, out = clearanceRun(t, vars, "verify", "--from", "http://"+addr, "--digest", "sha256:"+strings.Repeat("0", 64))
	if code != exitVerifyLog || !strings.Contains(out, "no logged decision about") {
		t.Fatalf("verify --from SITE --digest of weights never decided: exit %d, want %d\n%s", code, exitVerifyLog, out)
	}
	resp, err := http.Get(base + "/transparency/models/sha256:nothex")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("/transparency/models/sha256:nothex: %d, want 400", resp.StatusCode)
	}
	b.Submit(`a[href="/transparency/verify"]`)
	b.WantText("main", "clearance verify --bundle", "clearance log proof --url http://"+addr+"/log/")
	b.Screenshot("verify-guide")
	demo.stop()
}

// servedDemo is a demo seeded and serving in the test process.
type servedDemo struct {
	data, addr, base string
	ds               demoState
	stop             func() // cancels the demo and checks it returned cleanly
}

// serveDemo runs clearance demo --limit 20 (and any extra flags) on a
// fresh private data directory (prepare, if not nil, runs on it first)
// and returns once it is seeded and serving; stop ends it. Seeding takes
// seconds, minutes under the race detector on a loaded machine: the wait
// is bounded at 5 minutes.
func serveDemo(t *testing.T, prepare func(data string), extra ...string) servedDemo {
	t.Helper()
	return startDemo(t, privateDir(t), false, prepare, extra...)
}

// The shared demo: one served demo that the tests which only read it
// (its pages, API, CLI against it) use together, so that the test binary
// seeds a demo a few times rather than once per test.
var (
	sharedOnce sync.Once
	shared     servedDemo
	sharedOK   bool
)

// sharedDemo returns the shared demo, started (with the default flags)
// by the first test that asks; it serves until the test binary exits,
// in a data directory of its own under the system's temporary directory.
// Its stop does nothing. A test that changes what others read, or needs
// other flags or a fresh directory, uses serveDemo.
func sharedDemo(t *testing.T) servedDemo {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clearance-shared-demo-")
		if err != nil {
			t.Fatal(err)
		}
		data := filepath.Join(dir, "data")
		if err := os.Mkdir(data, 0o700); err != nil {
			t.Fatal(err)
		}
		shared = startDemo(t, data, true, nil)
		sharedOK = true
	})
	if !sharedOK {
		t.Fatal("the shared demo did not start (see the first test that used it)")
	}
	return shared
}

// startDemo runs the demo on data; a shared one outlives t.
func startDemo(t *testing.T, data string, keep bool, prepare func(data string), extra ...string) servedDemo {
	t.Helper()
	d := servedDemo{data: data, addr: freeAddr(t)}
	d.base = "http://" + d.addr
	if prepare != nil {
		prepare(d.data)
	}
	e, _ := quietEnv()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args := append([]string{"--addr", d.addr, "--data", d.data, "--limit", "20"}, extra...)
	go func() { done <- runDemo(ctx, e, args) }()
	// The demo seeds before it serves: wait for its state file (or its
	// failure), then for the service.
	d.ds = waitDemoState(t, filepath.Join(d.data, "demo.json"), done, 5*time.Minute)
	waitHealthy(t, d.base, 30*time.Second)
	if keep {
		// Serves until the test binary exits: cancel is never due.
		d.stop = func() {}
		_ = cancel
		return d
	}
	stopped := false
	d.stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("runDemo after cancel = %v, want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("runDemo did not return within 30s of its context being cancelled")
		}
	}
	// A test that fails before stop still waits here for the demo to
	// return: its data directory is removed after this cleanup, and a
	// log appender still writing into a removed directory panics and
	// takes every other test in the binary with it.
	t.Cleanup(func() {
		cancel()
		if !stopped {
			select {
			case <-done:
			case <-time.After(time.Minute):
			}
		}
	})
	return d
}

// waitDemoState waits for the demo's state file and returns its contents;
// it fails the test if the demo returns first or the file does not appear
// within the limit.
func waitDemoState(t *testing.T, path string, done <-chan error, within time.Duration) demoState {
	t.Helper()
	deadline := time.After(within)
	for {
		if b, err := os.ReadFile(path); err == nil {
			var ds demoState
			// The file is written in one call, but may be read while
			// half-written: retry until it parses.
			if err := json.Unmarshal(b, &ds); err == nil {
				return ds
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("read %s: %v", path, err)
		}
		select {
		case err := <-done:
			t.Fatalf("runDemo returned before seeding: %v", err)
		case <-deadline:
			t.Fatalf("%s not written within %s", path, within)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// demoToken returns the token of the person labelled label in the demo's
// token file (lines: label, name (role), token; # starts a comment).
func demoToken(t *testing.T, path, label string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == label {
			return f[len(f)-1]
		}
	}
	t.Fatalf("%s has no %s token:\n%s", path, label, b)
	return ""
}
