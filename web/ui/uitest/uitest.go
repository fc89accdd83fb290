// Package uitest drives Clearance's web UI in a real browser, for tests
// only: it imports "testing" and reports every failure through the test
// it was given, so it must not be imported by non-test code.
//
// New starts Debian's chromium headless with no network: every host name
// but 127.0.0.1 fails to resolve and no proxy is consulted, so a page can
// reach only the service under test. When chromium is not installed the
// test is skipped, unless CLEARANCE_CI=1, which makes the browser tests
// mandatory and the test fails instead.
//
// A Browser has one tab, and people take turns in it (ClearCookies, then
// SignIn): headless Chromium does not paint the tabs of a second browser
// context, so screenshots need the first tab. Screenshots are full-page
// PNGs written to $CLEARANCE_SCREENSHOTS/<TestName>/ (a temporary
// directory when the variable is unset) and numbered in the order taken;
// each path is logged.
//
// Every method fails the test (t.Fatal) when a step fails or times out,
// so a method returns only on success. A Browser is not safe for
// concurrent use; it is closed by the test's cleanup.
package uitest

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
)

// Time limits of one step. A step includes chromium's own waits (for a
// page to load, a selector to appear), hence the generous bounds.
const (
	stepTimeout   = 20 * time.Second
	readTimeout   = 10 * time.Second
	submitTimeout = 15 * time.Second
)

// Browser is one headless chromium tab on the service at a base URL.
type Browser struct {
	t testing.TB
	// tab is the chromedp context of the one tab. chromedp identifies a
	// tab by its context, so the Browser keeps it; it has no deadline,
	// and each step derives its own bounded context from it.
	tab   context.Context
	base  string
	shots string
	n     int
}

// ChromiumPath returns the path of the first of chromium,
// chromium-browser and google-chrome found on $PATH, or "" if none is.
func ChromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// RequireChromium returns ChromiumPath, or, when chromium is missing,
// skips t, unless CLEARANCE_CI=1, which makes the browser tests
// mandatory: then it fails t. A test with costly setup calls it first.
func RequireChromium(t testing.TB) string {
	t.Helper()
	path := ChromiumPath()
	if path == "" {
		if os.Getenv("CLEARANCE_CI") == "1" {
			t.Fatal("chromium not found, and CLEARANCE_CI=1 makes the browser tests mandatory")
		}
		t.Skip("chromium not found; install it (Debian: apt-get install chromium) to run the browser tests")
	}
	return path
}

// New starts chromium for the test t on the service at baseURL (such as
// "http://127.0.0.1:8080", no trailing slash) and opens one blank tab.
// It skips t when chromium is missing, unless CLEARANCE_CI=1 (then it
// fails t; see RequireChromium). Chromium is stopped when t's cleanup runs.
func New(t testing.TB, baseURL string) *Browser {
	t.Helper()
	path := RequireChromium(t)
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
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	// Start chromium on the tab's own context, which has no deadline: a
	// browser started under a step's timeout would die with the step.
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	dir := os.Getenv("CLEARANCE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else {
		dir = filepath.Join(dir, t.Name())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("create screenshot directory: %v", err)
	}
	return &Browser{t: t, tab: tab, base: strings.TrimSuffix(baseURL, "/"), shots: dir}
}

// Context returns the tab's chromedp context, for actions this package
// has no method for; bound each use with a timeout.
func (b *Browser) Context() context.Context { return b.tab }

// ScreenshotDir returns the directory screenshots are written to.
func (b *Browser) ScreenshotDir() string { return b.shots }

// Do runs chromedp steps in the tab within 20 seconds; what names them in
// the failure message.
func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// ClearCookies clears every cookie of the browser, which signs out
// whoever was signed in without asking the service.
func (b *Browser) ClearCookies() {
	b.t.Helper()
	b.Do("clear cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
}

// Open loads the page at path (such as "/cases") and waits until its
// <main> element is ready.
func (b *Browser) Open(path string) {
	b.t.Helper()
	b.Do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// SignIn signs in with an API token through the /login form, as a person
// would, and checks that the service then shows /cases.
func (b *Browser) SignIn(token string) {
	b.t.Helper()
	b.Open("/login")
	b.Do("enter token", chromedp.SendKeys(chromedp.CSS("#token"), token))
	b.Submit("main form button[type=submit]")
	if loc := b.Location(); loc != "/cases" {
		b.t.Fatalf("after signing in the browser is at %s, want /cases; the page reads:\n%s", loc, b.Text("main"))
	}
}

// SignOut clicks the page header's "Sign out" button and checks that the
// service then shows /login.
func (b *Browser) SignOut() {
	b.t.Helper()
	b.Submit(`form[action="/logout"] button[type=submit]`)
	if loc := b.Location(); loc != "/login" {
		b.t.Fatalf("after signing out the browser is at %s, want /login", loc)
	}
}

// Set sets the value of the form field matched by the CSS selector sel.
func (b *Browser) Set(sel, value string) {
	b.t.Helper()
	b.Do("set "+sel, chromedp.SetValue(chromedp.CSS(sel), value))
}

// Submit clicks the button matched by the CSS selector button and waits
// for the next document: it marks the current document and waits for a
// loaded page that has a <main> and lacks the mark. (Waiting for a
// navigation event would race with a fast server.)
func (b *Browser) Submit(button string) {
	b.t.Helper()
	b.Do("mark page", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("window.__clearanceOld = true")(ctx, t)
		return err
	}))
	b.Do("click "+button, chromedp.Click(chromedp.CSS(button)))
	deadline := time.Now().Add(submitTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.tab, 5*time.Second)
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
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

// Text returns the visible text of the first element matched by the CSS
// selector sel, waiting for it to appear.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, readTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s at %s: %v", sel, b.Location(), err)
	}
	return s
}

// Count returns how many elements the CSS selector sel matches now,
// without waiting; 0 is a valid answer.
func (b *Browser) Count(sel string) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, readTimeout)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

// Location returns the address of the current page, less the base URL
// when it is on the service (so "/cases/…" rather than a full URL).
func (b *Browser) Location() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, readTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("location: %v", err)
	}
	return strings.TrimPrefix(loc, b.base)
}

// WantText fails the test unless the text of the element matched by sel
// contains every one of wants; the message quotes the whole text.
func (b *Browser) WantText(sel string, wants ...string) {
	b.t.Helper()
	got := b.Text(sel)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			b.t.Fatalf("%s at %s does not contain %q; it reads:\n%s", sel, b.Location(), w, got)
		}
	}
}

// Screenshot saves a PNG of the whole page as NN-name.png in the
// screenshot directory, NN counting this Browser's screenshots from 01,
// logs its path and returns it.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.n++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("save screenshot: %v", err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}
