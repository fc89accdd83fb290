package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/clearance-dev/clearance/review"
)

// testConcurrence covers the proposal and positions of a joint review
// and a decision's concurring agencies.
func testConcurrence(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	c := mkCase(t, s, "case_1", "org_a", review.StateUnderReview)
	mkCase(t, s, "case_2", "org_a", review.StateUnderReview)

	_, err := s.GetProposal(ctx, c.ID)
	wantErr(t, "GetProposal(none)", err, review.ErrNotFound)
	ps, err := s.ListPositions(ctx, c.ID)
	must(t, "ListPositions(none)", err)
	if len(ps) != 0 {
		t.Fatalf("ListPositions(none) = %+v", ps)
	}

	p1 := review.Proposal{CaseID: c.ID, Outcomes: json.RawMessage(`{"us-caisi":{"outcome":"cleared"}}`), Rationale: "first",
		ProposedBy: "usr_lead", CreatedAt: at(10), Deadline: at(10 + 14400)}
	must(t, "PutProposal", s.PutProposal(ctx, p1))
	got, err := s.GetProposal(ctx, c.ID)
	must(t, "GetProposal", err)
	if diff := cmp.Diff(p1, got); diff != "" {
		t.Fatalf("GetProposal mismatch (-want +got):\n%s", diff)
	}

	objB := review.Position{CaseID: c.ID, OrgID: "org_b", Position: review.Object, Reason: "cyber uplift", Conditions: []string{},
		UserID: "usr_b", CreatedAt: at(11)}
	concC := review.Position{CaseID: c.ID, OrgID: "org_c", Position: review.ConcurWithConditions, Conditions: []string{"staged release", "report in 30 days"},
		UserID: "usr_c", CreatedAt: at(12)}
	other := review.Position{CaseID: "case_2", OrgID: "org_b", Position: review.Concur, Conditions: []string{}, UserID: "usr_b", CreatedAt: at(12)}
	for _, p := range []review.Position{concC, objB, other} {
		must(t, "PutPosition", s.PutPosition(ctx, p))
	}
	ps, err = s.ListPositions(ctx, c.ID)
	must(t, "ListPositions", err)
	if diff := cmp.Diff([]review.Position{objB, concC}, ps); diff != "" {
		t.Fatalf("ListPositions mismatch (-want +got):\n%s", diff)
	}

	// A new position of the same agency replaces its old one; the
	// answer and the deemed flag are stored.
	answered := objB
	answered.Answer, answered.AnsweredBy = "mitigated by the staged release", "usr_lead"
	must(t, "PutPosition(answer)", s.PutPosition(ctx, answered))
	deemed := review.Position{CaseID: c.ID, OrgID: "org_d", Position: review.Object, Reason: "deemed", Conditions: []string{},
		Deemed: true, Answer: "noted", AnsweredBy: "usr_lead", CreatedAt: at(13)}
	must(t, "PutPosition(deemed)", s.PutPosition(ctx, deemed))
	ps, err = s.ListPositions(ctx, c.ID)
	must(t, "ListPositions", err)
	if diff := cmp.Diff([]review.Position{answered, concC, deemed}, ps); diff != "" {
		t.Fatalf("ListPositions after replace mismatch (-want +got):\n%s", diff)
	}

	// A new proposal replaces the old one and clears the case's
	// positions, not another case's.
	p2 := p1
	p2.Rationale, p2.CreatedAt, p2.Deadline = "second", at(20), at(20+14400)
	must(t, "PutProposal(again)", s.PutProposal(ctx, p2))
	got, err = s.GetProposal(ctx, c.ID)
	must(t, "GetProposal", err)
	if diff := cmp.Diff(p2, got); diff != "" {
		t.Fatalf("GetProposal after replace mismatch (-want +got):\n%s", diff)
	}
	ps, err = s.ListPositions(ctx, c.ID)
	must(t, "ListPositions", err)
	if len(ps) != 0 {
		t.Fatalf("positions after a new proposal = %+v, want none", ps)
	}
	ps, err = s.ListPositions(ctx, "case_2")
	must(t, "ListPositions(case_2)", err)
	if diff := cmp.Diff([]review.Position{other}, ps); diff != "" {
		t.Fatalf("other case's positions mismatch (-want +got):\n%s", diff)
	}

	// Rolled back with the transaction.
	err = s.Tx(ctx, func(tx review.Store) error {
		if err := tx.PutPosition(ctx, concC); err != nil {
			return err
		}
		return review.ErrConflict
	})
	wantErr(t, "Tx", err, review.ErrConflict)
	ps, err = s.ListPositions(ctx, c.ID)
	must(t, "ListPositions", err)
	if len(ps) != 0 {
		t.Fatalf("positions after rollback = %+v, want none", ps)
	}

	// A decision keeps its concurring agencies; one without them has none.
	d := review.Decision{ID: "dec_1", CaseID: c.ID, OfficialID: "usr_lead", Outcomes: p2.Outcomes, Rationale: "r",
		Concurring: []string{"org_b", "org_c"}, LogIndex: -1, CreatedAt: at(30)}
	must(t, "CreateDecision", s.CreateDecision(ctx, d))
	gd, err := s.GetDecision(ctx, d.ID)
	must(t, "GetDecision", err)
	if diff := cmp.Diff(d, gd); diff != "" {
		t.Fatalf("GetDecision mismatch (-want +got):\n%s", diff)
	}
	d2 := review.Decision{ID: "dec_2", CaseID: "case_2", OfficialID: "usr_o", Outcomes: p2.Outcomes, Rationale: "r", LogIndex: -1, CreatedAt: at(31)}
	must(t, "CreateDecision", s.CreateDecision(ctx, d2))
	ds, err := s.ListDecisions(ctx, "", review.Page{})
	must(t, "ListDecisions", err)
	if diff := cmp.Diff([]review.Decision{d, d2}, ds); diff != "" {
		t.Fatalf("ListDecisions mismatch (-want +got):\n%s", diff)
	}
}
