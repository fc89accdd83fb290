package ui_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// row returns the table row with the given id attribute from an HTML page.
func row(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr id="` + regexp.QuoteMeta(id) + `">.*?</tr>`).FindString(body)
	if m == "" {
		t.Fatalf("page has no row %q:\n%s", id, body)
	}
	return m
}

// TestMatrixShowsDecision: the case page's regime comparison shows each
// profile's explanation, and once the official decides, the decided
// outcome (with the date, and the computed one beside it where they
// differ) instead of the computed one; the decision page shows the
// explanation next to each outcome.
func TestMatrixShowsDecision(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.submit(t, "devA", "frontier-x")
	off := e.client(t)
	off.signIn(t, "official")

	before := off.get(t, "/cases/"+c.ID)
	r := row(t, before.body, "matrix-eu-gpai")
	for _, want := range []string{"cleared with conditions", "stand-in explanation of eu-gpai"} {
		if !strings.Contains(r, want) {
			t.Errorf("matrix row before the decision lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "decided by the official") {
		t.Errorf("matrix row says decided before any decision:\n%s", r)
	}

	for _, to := range []review.State{review.StateInAssessment, review.StateUnderReview} {
		if _, err := e.svc.Transition(ctx, e.actors["assessor"], c.ID, to, ""); err != nil {
			t.Fatal(err)
		}
	}
	d, err := e.svc.Decide(ctx, e.actors["official"], c.ID, review.DecisionInput{
		Outcomes:  []byte(`{"us-caisi":{"outcome":"cleared_with_conditions","conditions":["publish the model report"]},"eu-gpai":{"outcome":"refused"}}`),
		Rationale: "the jailbreak rate is too high for the EU"})
	if err != nil {
		t.Fatal(err)
	}

	after := off.get(t, "/cases/"+c.ID)
	eu := row(t, after.body, "matrix-eu-gpai")
	for _, want := range []string{
		`outcome-refused">refused<`,
		"decided by the official on 2026-03-02",
		`href="/decisions/` + d.ID + `"`,
		"computed by the policy: cleared with conditions",
		"stand-in explanation of eu-gpai",
	} {
		if !strings.Contains(eu, want) {
			t.Errorf("eu-gpai matrix row after the decision lacks %q:\n%s", want, eu)
		}
	}
	if strings.Contains(eu, `outcome-cleared_with_conditions">`) {
		t.Errorf("eu-gpai matrix row still shows the computed outcome as the outcome:\n%s", eu)
	}
	us := row(t, after.body, "matrix-us-caisi")
	if !strings.Contains(us, `outcome-cleared_with_conditions">cleared with conditions<`) || !strings.Contains(us, "decided by the official on 2026-03-02") {
		t.Errorf("us-caisi matrix row after the decision:\n%s", us)
	}
	if strings.Contains(us, "computed by the policy") {
		t.Errorf("us-caisi row shows a computed outcome although it equals the decided one:\n%s", us)
	}

	dp := off.get(t, "/decisions/"+d.ID)
	eo := row(t, dp.body, "outcome-eu-gpai")
	for _, want := range []string{"refused", "computed by the policy: cleared with conditions", "stand-in explanation of eu-gpai"} {
		if !strings.Contains(eo, want) {
			t.Errorf("decision page row lacks %q:\n%s", want, eo)
		}
	}
	if uo := row(t, dp.body, "outcome-us-caisi"); !strings.Contains(uo, "stand-in explanation of us-caisi") {
		t.Errorf("decision page row for us-caisi lacks its explanation:\n%s", uo)
	}
}
