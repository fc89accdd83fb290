package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/web/ui/uitest"
)

// The browser tests drive Debian's chromium headless through the UI served
// on 127.0.0.1, with the uitest package (which skips them when chromium is
// missing, unless CLEARANCE_CI=1, and saves screenshots of every page).

// as switches the browser's one tab to the person labelled who: it clears
// every cookie and, unless who is "", signs in with who's token.
func as(t *testing.T, b *uitest.Browser, e *env, who string) {
	t.Helper()
	b.ClearCookies()
	if who != "" {
		b.SignIn(e.tokens[who])
	}
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
	b := uitest.New(t, e.http.URL)
	ctx := context.Background()
	c := e.submit(t, "devA", "frontier-x")
	casePath := "/cases/" + c.ID

	as(t, b, e, "")
	b.Open("/login")
	b.Screenshot("sign-in")

	as(t, b, e, "devA")
	b.WantText("table.cases", "frontier-x", "submitted", "90 days left")
	b.Screenshot("developer-case-list")

	as(t, b, e, "assessor")
	b.Open(casePath)
	b.Set("#schedule-suites", "misuse, over-refusal")
	b.Set("#schedule-limit", "20")
	b.Set("#schedule-seed", "7")
	b.Screenshot("assessor-schedules")
	b.Submit("#schedule button[type=submit]")
	b.WantText("#assessments", "queued")
	b.WantText("h1", "in assessment")

	e.runAssessments(t)

	as(t, b, e, "reviewer")
	b.Open(casePath)
	b.WantText("h1", "under review")
	b.WantText("#assessments", "done", "40 samples")
	if n := b.Count("#assessments figure.chart svg"); n < 5 {
		t.Fatalf("case page has %d charts, want the overall chart and per-category and per-transform charts", n)
	}
	b.WantText("#matrix", "us-caisi", "eu-gpai", "cleared with conditions", "misuse-refusal")
	b.Screenshot("case-with-assessment")

	b.Open(casePath + "/samples?outcome=passed&suite=misuse")
	if n := b.Count(".hidden-transcript button"); n == 0 {
		t.Fatal("reviewer sees no reveal button on hidden harmful transcripts")
	}
	if n := b.Count(".sample .messages"); n != 0 {
		t.Fatalf("%d harmful transcripts shown without a reveal", n)
	}
	b.Screenshot("transcripts-hidden")
	b.Submit(".hidden-transcript button[type=submit]")
	b.WantText("#revealed", "Revealed harmful transcript", "Verdict:", "recorded in the case's audit trail")
	b.Screenshot("transcript-revealed")
	audit, err := e.svc.CaseAudit(ctx, e.actors["official"], c.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if last := audit[len(audit)-1]; last.Action != "sample.revealed" || last.Actor != e.actors["reviewer"].User.ID {
		t.Fatalf("last audit entry = %s by %s, want sample.revealed by the reviewer", last.Action, last.Actor)
	}

	b.Open(casePath)
	b.Do("choose severity", chromedp.SetValue(chromedp.CSS("#finding-severity"), "high"))
	b.Set("#finding-title", "Refusal of misuse requests below threshold")
	b.Set("#finding-description", "Role-play attacks succeed in 12% of misuse samples.")
	b.Submit("#new-finding button[type=submit]")
	b.WantText("#findings", "Refusal of misuse requests below threshold", "open", "30 days left")
	b.Screenshot("finding-recorded")

	fs, err := e.svc.Findings(ctx, e.actors["reviewer"], c.ID, review.Page{})
	if err != nil || len(fs) != 1 {
		t.Fatalf("findings = %d, %v", len(fs), err)
	}
	as(t, b, e, "devA")
	b.Open(casePath)
	b.Set("#respond-"+fs[0].ID, "Fixed in the next checkpoint; safety classifier retrained.")
	b.Submit("#finding-" + fs[0].ID + " form button[type=submit]")
	b.WantText("#finding-"+fs[0].ID, "Fixed in the next checkpoint", "responded")
	if n := b.Count("#decide"); n != 0 {
		t.Fatal("developer is shown the decision form")
	}
	b.Screenshot("developer-responded")

	as(t, b, e, "official")
	b.Open(casePath)
	for _, p := range c.Profiles {
		b.Set("#conditions-"+p, "Publish the model card before release")
	}
	b.Set("#decide-rationale", "Cleared on condition that the model card is published.")
	b.Screenshot("official-decides")
	b.Submit("#decide button[type=submit]")
	loc := b.Location()
	if !strings.HasPrefix(loc, "/decisions/dec_") {
		t.Fatalf("after deciding the browser is at %s, want the decision page", loc)
	}
	decID := strings.TrimPrefix(loc, "/decisions/")
	b.WantText("main", "cleared with conditions", "Publish the model card before release", "index 0",
		"clearance verify --bundle "+decID+".bundle", "cosign verify-blob-attestation")
	b.Screenshot("decision")

	as(t, b, e, "")
	b.Open("/transparency")
	b.WantText("main", "frontier-x", decID, "cleared with conditions", "clearance.test/decisions")
	if n := b.Count(`a[href="/transparency/decisions/` + decID + `.json"]`); n != 1 {
		t.Fatalf("public page has %d download links for the decision, want 1", n)
	}
	if n := b.Count(`a[href="/transparency/` + decID + `"]`); n != 1 {
		t.Fatalf("public page has %d links to the decision's page, want 1", n)
	}
	b.Screenshot("public-transparency")
}

// TestBrowserDenials checks in Chromium that a developer of another
// organisation gets the not-found page for organisation A's case and
// does not see it listed, and that a developer and an auditor see
// harmful transcripts neither in the page nor behind a reveal button.
func TestBrowserDenials(t *testing.T) {
	e := newEnv(t)
	b := uitest.New(t, e.http.URL)
	ctx := context.Background()
	c := e.submit(t, "devA", "frontier-x")
	if _, err := e.svc.ScheduleAssessment(ctx, e.actors["assessor"], c.ID, review.AssessmentInput{Suites: []string{"misuse"}, Limit: 10, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	e.runAssessments(t)

	as(t, b, e, "devB")
	if n := b.Count("a[href='/cases/" + c.ID + "']"); n != 0 {
		t.Fatal("devB's case list links to organisation A's case")
	}
	for _, path := range []string{"/cases/" + c.ID, "/cases/" + c.ID + "/samples"} {
		b.Open(path)
		b.WantText("h1", "Not found")
		if strings.Contains(b.Text("main"), "frontier-x") {
			t.Fatalf("%s shows organisation A's model to devB", path)
		}
	}
	b.Screenshot("other-org-denied")

	for _, who := range []string{"devA", "auditor"} {
		as(t, b, e, who)
		b.Open("/cases/" + c.ID + "/samples")
		if n := b.Count(".hidden-transcript"); n == 0 {
			t.Fatalf("%s: no hidden harmful transcript on the page", who)
		}
		if n := b.Count(".hidden-transcript form, .hidden-transcript button"); n != 0 {
			t.Fatalf("%s is offered %d reveal buttons", who, n)
		}
		if n := b.Count(".sample .messages"); n != 0 {
			t.Fatalf("%s sees %d harmful transcripts", who, n)
		}
		b.WantText("main", "Your roles do not allow viewing harmful transcripts")
		b.Screenshot(who + "-transcripts-denied")
	}
}
