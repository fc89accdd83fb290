package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// The case page says which variant of the model each assessment tested,
// with the scaffold's version.
func TestCasePageVariant(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-plan")
	for _, in := range []review.AssessmentInput{
		{Suites: []string{"misuse"}, Limit: 5},
		{Suites: []string{"misuse"}, Limit: 5, Variant: review.VariantHelpfulOnly, Scaffold: "agent <v2>"},
	} {
		if _, err := e.svc.ScheduleAssessment(context.Background(), e.actors["assessor"], c.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	cl := e.client(t)
	cl.signIn(t, "reviewer")
	p := cl.get(t, "/cases/"+c.ID)
	if p.code != 200 {
		t.Fatalf("GET case = %d", p.code)
	}
	for _, want := range []string{
		"Variant tested: <strong>production</strong>",
		"Variant tested: <strong>helpful-only (scaffold agent &lt;v2&gt;)</strong>",
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
}
