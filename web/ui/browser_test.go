package ui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/clearance-dev/clearance/review"
)

// The browser tests drive Debian's chromium headless through the UI served
// on 127.0.0.1. They skip when chromium is missing, unless CLEARANCE_CI=1
// (CI installs it and makes them mandatory). Screenshots of every page go
// to $CLEARANCE_SCREENSHOTS (default: a temp dir), and their paths are
// logged.

type browser struct {
	t     *testing.T
	alloc context.Context
	root  context.Context
	base  string
	shots string
	n     int
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func newBrowser(t *testing.T, e *env) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CLEARANCE_CI") == "1" {
			t.Fatal("chromium not found, and CLEARANCE_CI=1 makes the browser tests mandatory")
		}
		t.Skip("chromium not found; install it (Debian: apt-get install chromium) to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1000),
		// No network: every host name but the test server's fails to
		// resolve, and no proxy is consulted.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("no-proxy-server", true),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(cancelRoot)
	// Start the browser on a context without a deadline (see chromedp.Run).
	if err := chromedp.Do(root, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	dir := os.Getenv("CLEARANCE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else {
		dir = filepath.Join(dir, t.Name())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, alloc: alloc, root: root, base: e.http.URL, shots: dir}
}

// as switches the one browser tab to another person: it clears every
// cookie and, unless who is "", signs in as who. (Headless Chromium does
// not paint tabs of a second browser context, so screenshots need the
// first tab; people take turns in it.)
func (b *browser) as(e *env, who string) context.Context {
	b.t.Helper()
	b.do(b.root, "clear cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
	if who != "" {
		b.signIn(b.root, e, who)
	}
	return b.root
}

func (b *browser) do(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *browser) open(ctx context.Context, path string) {
	b.t.Helper()
	b.do(ctx, "open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// submit clicks a submit button and waits for the next document: it
// marks the current one and waits for a loaded page without the mark.
func (b *browser) submit(ctx context.Context, button string) {
	b.t.Helper()
	b.do(ctx, "mark page", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("window.__clearanceOld = true")(ctx, t)
		return err
	}))
	b.do(ctx, "click "+button, chromedp.Click(chromedp.CSS(button)))
	deadline := time.Now().Add(15 * time.Second)
	for {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		done, err := chromedp.Run(tctx, chromedp.Evaluate[bool](
			"window.__clearanceOld === undefined && document.readyState === 'complete' && !!document.querySelector('main')"))
		cancel()
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no new page after clicking %s (last error %v)", button, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *browser) text(ctx context.Context, sel string) string {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *browser) count(ctx context.Context, sel string) int {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := chromedp.Run(tctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

func (b *browser) location(ctx context.Context) string {
	b.t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("location: %v", err)
	}
	return strings.TrimPrefix(loc, b.base)
}

func (b *browser) wantText(ctx context.Context, sel string, wants ...string) {
	b.t.Helper()
	got := b.text(ctx, sel)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			b.t.Fatalf("%s at %s does not contain %q; it reads:\n%s", sel, b.location(ctx), w, got)
		}
	}
}

// shot saves a PNG of the whole page and logs its path.
func (b *browser) shot(ctx context.Context, name string) {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.n++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

func (b *browser) signIn(ctx context.Context, e *env, who string) {
	b.t.Helper()
	b.open(ctx, "/login")
	b.do(ctx, "enter token", chromedp.SendKeys(chromedp.CSS("#token"), e.tokens[who]))
	b.submit(ctx, "main form button[type=submit]")
	if loc := b.location(ctx); loc != "/cases" {
		b.t.Fatalf("after signing in as %s the browser is at %s, want /cases", who, loc)
	}
}

func (b *browser) set(ctx context.Context, sel, value string) {
	b.t.Helper()
	b.do(ctx, "set "+sel, chromedp.SetValue(chromedp.CSS(sel), value))
}

// TestBrowserReviewFlow drives one case through the whole review in
// Chromium: the developer (whose case was submitted through the service)
// signs in and sees it; the assessor schedules an assessment in the UI,
// which the work package's runner runs against the reference model; the
// reviewer sees the charts, browses transcripts, reveals a harmful one
// (audited) and files a finding; the developer responds; the official
// decides; the decision is logged; and the public transparency page, with
// no sign-in, shows it.
func TestBrowserReviewFlow(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	ctx := context.Background()
	c := e.submit(t, "devA", "frontier-x")
	casePath := "/cases/" + c.ID

	login := b.as(e, "")
	b.open(login, "/login")
	b.shot(login, "sign-in")

	dev := b.as(e, "devA")
	b.wantText(dev, "table.cases", "frontier-x", "submitted", "90 days left")
	b.shot(dev, "developer-case-list")

	as := b.as(e, "assessor")
	b.open(as, casePath)
	b.set(as, "#schedule-suites", "misuse, over-refusal")
	b.set(as, "#schedule-limit", "20")
	b.set(as, "#schedule-seed", "7")
	b.shot(as, "assessor-schedules")
	b.submit(as, "#schedule button[type=submit]")
	b.wantText(as, "#assessments", "queued")
	b.wantText(as, "h1", "in assessment")

	e.runAssessments(t)

	rev := b.as(e, "reviewer")
	b.open(rev, casePath)
	b.wantText(rev, "h1", "under review")
	b.wantText(rev, "#assessments", "done", "40 samples")
	if n := b.count(rev, "#assessments figure.chart svg"); n < 5 {
		t.Fatalf("case page has %d charts, want the overall chart and per-category and per-transform charts", n)
	}
	b.wantText(rev, "#matrix", "us-caisi", "eu-gpai", "cleared with conditions", "misuse-refusal")
	b.shot(rev, "case-with-assessment")

	b.open(rev, casePath+"/samples?outcome=passed&suite=misuse")
	if n := b.count(rev, ".hidden-transcript button"); n == 0 {
		t.Fatal("reviewer sees no reveal button on hidden harmful transcripts")
	}
	if n := b.count(rev, ".sample .messages"); n != 0 {
		t.Fatalf("%d harmful transcripts shown without a reveal", n)
	}
	b.shot(rev, "transcripts-hidden")
	b.submit(rev, ".hidden-transcript button[type=submit]")
	b.wantText(rev, "#revealed", "Revealed harmful transcript", "Verdict:", "recorded in the case's audit trail")
	b.shot(rev, "transcript-revealed")
	audit, err := e.svc.CaseAudit(ctx, e.actors["official"], c.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if last := audit[len(audit)-1]; last.Action != "sample.revealed" || last.Actor != e.actors["reviewer"].User.ID {
		t.Fatalf("last audit entry = %s by %s, want sample.revealed by the reviewer", last.Action, last.Actor)
	}

	b.open(rev, casePath)
	b.do(rev, "choose severity", chromedp.SetValue(chromedp.CSS("#finding-severity"), "high"))
	b.set(rev, "#finding-title", "Refusal of misuse requests below threshold")
	b.set(rev, "#finding-description", "Role-play attacks succeed in 12% of misuse samples.")
	b.submit(rev, "#new-finding button[type=submit]")
	b.wantText(rev, "#findings", "Refusal of misuse requests below threshold", "open", "30 days left")
	b.shot(rev, "finding-recorded")

	fs, err := e.svc.Findings(ctx, e.actors["reviewer"], c.ID, review.Page{})
	if err != nil || len(fs) != 1 {
		t.Fatalf("findings = %d, %v", len(fs), err)
	}
	dev = b.as(e, "devA")
	b.open(dev, casePath)
	b.set(dev, "#respond-"+fs[0].ID, "Fixed in the next checkpoint; safety classifier retrained.")
	b.submit(dev, "#finding-"+fs[0].ID+" form button[type=submit]")
	b.wantText(dev, "#finding-"+fs[0].ID, "Fixed in the next checkpoint", "responded")
	if n := b.count(dev, "#decide"); n != 0 {
		t.Fatal("developer is shown the decision form")
	}
	b.shot(dev, "developer-responded")

	off := b.as(e, "official")
	b.open(off, casePath)
	for _, p := range c.Profiles {
		b.set(off, "#conditions-"+p, "Publish the model card before release")
	}
	b.set(off, "#decide-rationale", "Cleared on condition that the model card is published.")
	b.shot(off, "official-decides")
	b.submit(off, "#decide button[type=submit]")
	loc := b.location(off)
	if !strings.HasPrefix(loc, "/decisions/dec_") {
		t.Fatalf("after deciding the browser is at %s, want the decision page", loc)
	}
	decID := strings.TrimPrefix(loc, "/decisions/")
	b.wantText(off, "main", "cleared with conditions", "Publish the model card before release", "index 0",
		"clearance verify --bundle "+decID+".bundle", "cosign verify-blob-attestation")
	b.shot(off, "decision")

	pub := b.as(e, "")
	b.open(pub, "/transparency")
	b.wantText(pub, "main", "frontier-x", decID+".json", "cleared with conditions", "clearance.test/decisions")
	if n := b.count(pub, `a[href="/transparency/decisions/`+decID+`.json"]`); n != 1 {
		t.Fatalf("public page has %d download links for the decision, want 1", n)
	}
	b.shot(pub, "public-transparency")
}

// TestBrowserDenials checks in Chromium that a developer of another
// organisation gets the not-found page for organisation A's case and
// does not see it listed, and that a developer and an auditor see
// harmful transcripts neither in the page nor behind a reveal button.
func TestBrowserDenials(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	ctx := context.Background()
	c := e.submit(t, "devA", "frontier-x")
	if _, err := e.svc.ScheduleAssessment(ctx, e.actors["assessor"], c.ID, review.AssessmentInput{Suites: []string{"misuse"}, Limit: 10, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	e.runAssessments(t)

	devB := b.as(e, "devB")
	if n := b.count(devB, "a[href='/cases/"+c.ID+"']"); n != 0 {
		t.Fatal("devB's case list links to organisation A's case")
	}
	for _, path := range []string{"/cases/" + c.ID, "/cases/" + c.ID + "/samples"} {
		b.open(devB, path)
		b.wantText(devB, "h1", "Not found")
		if strings.Contains(b.text(devB, "main"), "frontier-x") {
			t.Fatalf("%s shows organisation A's model to devB", path)
		}
	}
	b.shot(devB, "other-org-denied")

	for _, who := range []string{"devA", "auditor"} {
		s := b.as(e, who)
		b.open(s, "/cases/"+c.ID+"/samples")
		if n := b.count(s, ".hidden-transcript"); n == 0 {
			t.Fatalf("%s: no hidden harmful transcript on the page", who)
		}
		if n := b.count(s, ".hidden-transcript form, .hidden-transcript button"); n != 0 {
			t.Fatalf("%s is offered %d reveal buttons", who, n)
		}
		if n := b.count(s, ".sample .messages"); n != 0 {
			t.Fatalf("%s sees %d harmful transcripts", who, n)
		}
		b.wantText(s, "main", "Your roles do not allow viewing harmful transcripts")
		b.shot(s, who+"-transcripts-denied")
	}
}
