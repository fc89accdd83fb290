package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// TestJointReviewAccess: the case page of a joint review names its
// agencies and marks each finding shared or internal; another agency's
// unshared finding is not on the page, and an agency outside the review
// gets the page of a missing case.
func TestJointReviewAccess(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	orgB := e.org(t, "Agency B", review.OrgAgency)
	orgC := e.org(t, "Agency C", review.OrgAgency)
	e.user(t, orgB, "officialB", review.RoleOfficial)
	e.user(t, orgB, "reviewerB", review.RoleReviewer)
	e.user(t, orgC, "officialC", review.RoleOfficial)
	c := e.submitOnly(t, "devA", "frontier-x")
	_, err := e.svc.AssignCase(ctx, e.actors["official"], c.ID, []string{e.actors["assessor"].User.ID, e.actors["reviewer"].User.ID, e.actors["reviewerB"].User.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddAgency(ctx, e.actors["official"], c.ID, orgB.ID, []string{"cyber", "chem-bio"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Transition(ctx, e.actors["assessor"], c.ID, review.StateInAssessment, ""); err != nil {
		t.Fatal(err)
	}
	fB, err := e.svc.RecordFinding(ctx, e.actors["reviewerB"], c.ID, review.FindingInput{Severity: review.SeverityLow, Title: "Internal to B"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecordFinding(ctx, e.actors["reviewer"], c.ID, review.FindingInput{Severity: review.SeverityHigh, Title: "Lead finding"}); err != nil {
		t.Fatal(err)
	}

	lead := e.client(t)
	lead.signIn(t, "official")
	p := lead.get(t, "/cases/"+c.ID)
	if p.code != 200 || !strings.Contains(p.body, `id="agencies"`) || !strings.Contains(p.body, "Agency B") ||
		!strings.Contains(p.body, "chem-bio, cyber") || !strings.Contains(p.body, "internal to Agency") {
		t.Fatalf("lead's case page (%d) lacks the agencies or badges:\n%s", p.code, p.body)
	}
	if strings.Contains(p.body, "Internal to B") {
		t.Fatal("lead's case page shows B's unshared finding")
	}
	if _, err := e.svc.ShareFinding(ctx, e.actors["reviewerB"], fB.ID, true); err != nil {
		t.Fatal(err)
	}
	if p := lead.get(t, "/cases/"+c.ID); !strings.Contains(p.body, "Internal to B") || !strings.Contains(p.body, ">shared<") {
		t.Fatalf("lead's case page after sharing lacks B's finding:\n%s", p.body)
	}
	dev := e.client(t)
	dev.signIn(t, "devA")
	if p := dev.get(t, "/cases/"+c.ID); p.code != 200 || strings.Contains(p.body, "Lead finding") || !strings.Contains(p.body, "Internal to B") {
		t.Fatalf("developer's case page (%d) shows the wrong findings", p.code)
	}
	outsider := e.client(t)
	outsider.signIn(t, "officialC")
	missing := outsider.get(t, "/cases/case_0")
	if p := outsider.get(t, "/cases/"+c.ID); p.code != missing.code || p.code != 404 {
		t.Fatalf("outside agency's case page = %d, missing case's = %d", p.code, missing.code)
	}
}
