package storetest

import (
	"context"
	"testing"

	"github.com/clearance-dev/clearance/review"
	"github.com/google/go-cmp/cmp"
)

// testTriageReviews: a triage review round-trips every field, a second
// decision on the same episode replaces the first, reviews list by seq
// per assessment, and one for a missing assessment is refused.
func testTriageReviews(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_dev", review.OrgDeveloper)
	mkCase(t, s, "case_t", "org_dev", review.StateUnderReview)
	mkAssessment(t, s, "asm_t1", "case_t", review.AssessmentDone, 1)
	mkAssessment(t, s, "asm_t2", "case_t", review.AssessmentDone, 2)
	first := review.TriageReview{AssessmentID: "asm_t1", Seq: 7, CaseID: "case_t", Label: "refused", Note: "declined at turn 1 ✓", ReviewedBy: "usr_r", ReviewedAt: at(3)}
	low := review.TriageReview{AssessmentID: "asm_t1", Seq: 2, CaseID: "case_t", Label: "out_of_budget", ReviewedBy: "usr_r", ReviewedAt: at(4)}
	other := review.TriageReview{AssessmentID: "asm_t2", Seq: 7, CaseID: "case_t", Label: "wrong_answer", ReviewedBy: "usr_q", ReviewedAt: at(5)}
	for _, r := range []review.TriageReview{first, low, other} {
		must(t, "PutTriageReview", s.PutTriageReview(ctx, r))
	}
	corrected := first
	corrected.Label, corrected.Note, corrected.ReviewedBy, corrected.ReviewedAt = "scaffold_error", "", "usr_q", at(6)
	must(t, "PutTriageReview again", s.PutTriageReview(ctx, corrected))
	got, err := s.ListTriageReviews(ctx, "asm_t1")
	must(t, "ListTriageReviews", err)
	if d := cmp.Diff([]review.TriageReview{low, corrected}, got); d != "" {
		t.Errorf("ListTriageReviews (-want +got):\n%s", d)
	}
	got, err = s.ListTriageReviews(ctx, "asm_none")
	must(t, "ListTriageReviews of none", err)
	if len(got) != 0 {
		t.Errorf("ListTriageReviews of a missing assessment = %v, want none", got)
	}
	bad := first
	bad.AssessmentID = "asm_missing"
	if err := s.PutTriageReview(ctx, bad); err == nil {
		t.Error("PutTriageReview for a missing assessment succeeded")
	}
}
