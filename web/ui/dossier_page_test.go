package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// The case page shows the dossier for people (quantities with units) and
// each assessment's plan as a table of suites with their sizes.
func TestCasePageDossierAndPlan(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-plan")
	if _, err := e.svc.ScheduleAssessment(context.Background(), e.actors["assessor"], c.ID,
		review.AssessmentInput{Suites: []string{"misuse"}, Limit: 12, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	cl := e.client(t)
	cl.signIn(t, "reviewer")
	p := cl.get(t, "/cases/"+c.ID)
	if p.code != 200 {
		t.Fatalf("GET case = %d", p.code)
	}
	for _, want := range []string{
		"3 × 10²⁶ FLOP",        // training_compute_flop 3e26
		"<td>no <span",         // open_weights false
		`<table class="plan">`, // the plan as a table
		"<td>misuse</td>",      // its suite
		"<td>12</td>",          // and size
		"seed 4",               //
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
}
