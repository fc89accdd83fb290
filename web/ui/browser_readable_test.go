package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/web/ui/uitest"
)

// TestBrowserReadablePages checks in Chromium what a newcomer reads: the
// case list names developers and colours outcomes apart (a refused model
// is red, not green); the transcript browser calls a correct
// multiple-choice answer "correct" and pages forward and back; and the
// public transparency page explains audit anchors, keeps dates on one
// line and links to the guide to verifying a decision.
func TestBrowserReadablePages(t *testing.T) {
	e := newEnv(t)
	b := uitest.New(t, e.http.URL)
	good := e.submit(t, "devA", "good-model")
	bad := e.submit(t, "devB", "bad-model")
	if _, err := e.svc.ScheduleAssessment(context.Background(), e.actors["assessor"], good.ID,
		review.AssessmentInput{Suites: []string{"cyber-compliance"}, Limit: 60}); err != nil {
		t.Fatal(err)
	}
	e.runAssessments(t)
	decideAs(t, e, bad, `{"us-caisi":{"outcome":"refused"},"eu-gpai":{"outcome":"hold"}}`)

	as(t, b, e, "reviewer")
	b.Open("/cases")
	b.WantText("table.cases", "Lab A", "Lab B", "refused")
	if n := b.Count("table.cases .badge-refused"); n != 1 {
		t.Fatalf("case list has %d refused badges, want 1", n)
	}
	if n := b.Count("table.cases .badge-cleared"); n != 0 {
		t.Fatalf("case list has %d cleared badges, want none", n)
	}
	refused := eval(t, b, `getComputedStyle(document.querySelector("table.cases .badge-refused")).color`)
	decided := eval(t, b, `getComputedStyle(document.querySelector("table.cases .state-decided")).color`)
	if refused != "rgb(166, 27, 27)" || decided == "rgb(31, 107, 58)" {
		t.Errorf("refused badge colour %s (want red rgb(166, 27, 27)); decided state colour %s (want not green)", refused, decided)
	}
	b.Screenshot("case-list-outcomes")

	b.Open("/cases/" + good.ID + "/samples?suite=cyber-compliance&outcome=flagged")
	b.WantText("main", "correct")
	if n := b.Count(".sample.tone-info .verdict-info"); n == 0 {
		t.Fatal("no correct multiple-choice answer shown as a capability (tone info)")
	}
	b.Open("/cases/" + good.ID + "/samples?suite=cyber-compliance")
	b.Submit(`a[rel="next"]`)
	b.Submit(`a[rel="next"]`)
	third := b.Location()
	b.Submit(`a[rel="prev"]`)
	if b.Location() == third || !strings.Contains(b.Location(), "after=") {
		t.Fatalf("previous page from %s went to %s", third, b.Location())
	}
	b.WantText(".pager", "First page", "Previous page", "Next page")
	b.Screenshot("transcripts-paging")

	as(t, b, e, "")
	b.Open("/transparency")
	b.WantText("main", "audit anchors", "How to verify a decision yourself")
	if ws := eval(t, b, `getComputedStyle(document.querySelector("table.public td.date")).whiteSpace`); ws != "nowrap" {
		t.Errorf("date cell white-space %q, want nowrap", ws)
	}
	b.Screenshot("transparency-anchors")
	b.Submit(`a[href="/transparency/verify"]`)
	b.WantText("h1", "How to verify a decision")
	b.WantText("main", "clearance verify --bundle", "clearance log proof --url", "decider.pub", "log.pub")
	b.Screenshot("verify-guide")
}

// eval evaluates a JavaScript expression in the browser's page and
// returns its string value.
func eval(t *testing.T, b *uitest.Browser, expr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}
