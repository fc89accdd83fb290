package ui_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// TestConcurrenceSection: the case page of a joint review shows the
// concurrence rule, the proposal and each agency's position with its
// reason and the lead's answer; a case that is not joint has no section.
func TestConcurrenceSection(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	orgB := e.org(t, "Agency B", review.OrgAgency)
	e.user(t, orgB, "officialB", review.RoleOfficial)
	c := e.submitOnly(t, "devA", "frontier-x")
	lead := e.client(t)
	lead.signIn(t, "official")
	if p := lead.get(t, "/cases/"+c.ID); p.code != 200 || strings.Contains(p.body, `id="concurrence"`) {
		t.Fatalf("case page of a case that is not joint (%d) has a concurrence section", p.code)
	}
	if _, err := e.svc.AssignCase(ctx, e.actors["official"], c.ID, []string{e.actors["assessor"].User.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddAgency(ctx, e.actors["official"], c.ID, orgB.ID, []string{"cyber"}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []review.State{review.StateInAssessment, review.StateUnderReview} {
		if _, err := e.svc.Transition(ctx, e.actors["assessor"], c.ID, st, ""); err != nil {
			t.Fatal(err)
		}
	}
	if p := lead.get(t, "/cases/"+c.ID); !strings.Contains(p.body, `id="concurrence"`) || !strings.Contains(p.body, "No decision proposed yet") {
		t.Fatalf("joint case page before a proposal lacks the section:\n%s", p.body)
	}
	out := json.RawMessage(`{"us-caisi":{"outcome":"cleared"},"eu-gpai":{"outcome":"cleared"}}`)
	if _, err := e.svc.ProposeDecision(ctx, e.actors["official"], c.ID, review.DecisionInput{Outcomes: out, Rationale: "Proposed rationale"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecordPosition(ctx, e.actors["officialB"], c.ID, review.PositionInput{Position: review.Object, Reason: "Cyber uplift unmitigated"}); err != nil {
		t.Fatal(err)
	}
	p := lead.get(t, "/cases/"+c.ID)
	for _, want := range []string{"Proposed rationale", "Agency B", "Cyber uplift unmitigated", "unanswered", "The lead may not decide yet"} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("case page lacks %q:\n%s", want, p.body)
		}
	}
	if _, err := e.svc.AnswerObjection(ctx, e.actors["official"], c.ID, orgB.ID, "Answered by the lead"); err != nil {
		t.Fatal(err)
	}
	other := e.client(t)
	other.signIn(t, "officialB")
	p = other.get(t, "/cases/"+c.ID)
	for _, want := range []string{"Answered by the lead", "The rule is met"} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("B's case page lacks %q:\n%s", want, p.body)
		}
	}
}
