package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/clearance-dev/clearance/review"
	"github.com/google/go-cmp/cmp"
)

// testAssessmentReferences: a reference round-trips every field (empty
// credentials read back as nil), lists by case, a missing one is
// ErrNotFound, a second row for one assessment is ErrConflict.
func testAssessmentReferences(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_dev", review.OrgDeveloper)
	mkCase(t, s, "case_ref", "org_dev", review.StateInAssessment)
	mkAssessment(t, s, "asm_ref1", "case_ref", review.AssessmentQueued, 1)
	mkAssessment(t, s, "asm_ref2", "case_ref", review.AssessmentDone, 2)
	mkAssessment(t, s, "asm_model", "case_ref", review.AssessmentDone, 3)
	run := review.AssessmentReference{AssessmentID: "asm_ref1", CaseID: "case_ref", Name: "previous", URL: "https://prev.example/v1",
		Model: "prev-1", Digest: "sha256:" + fmt.Sprintf("%064x", 9), Credentials: []byte("age-sealed\x00\xff"), CreatedAt: at(1)}
	imported := review.AssessmentReference{AssessmentID: "asm_ref2", CaseID: "case_ref", Name: "open-baseline", CreatedAt: at(2)}
	must(t, "CreateAssessmentReference", s.CreateAssessmentReference(ctx, run))
	must(t, "CreateAssessmentReference imported", s.CreateAssessmentReference(ctx, imported))
	wantErr(t, "CreateAssessmentReference duplicate", s.CreateAssessmentReference(ctx, run), review.ErrConflict)
	got, err := s.GetAssessmentReference(ctx, "asm_ref1")
	must(t, "GetAssessmentReference", err)
	if d := cmp.Diff(run, got); d != "" {
		t.Errorf("GetAssessmentReference (-want +got):\n%s", d)
	}
	_, err = s.GetAssessmentReference(ctx, "asm_model")
	wantErr(t, "GetAssessmentReference of an ordinary assessment", err, review.ErrNotFound)
	all, err := s.ListAssessmentReferences(ctx, "case_ref")
	must(t, "ListAssessmentReferences", err)
	if d := cmp.Diff([]review.AssessmentReference{run, imported}, all); d != "" {
		t.Errorf("ListAssessmentReferences (-want +got):\n%s", d)
	}
	if none, err := s.ListAssessmentReferences(ctx, "case_none"); err != nil || len(none) != 0 {
		t.Errorf("ListAssessmentReferences of another case = %v, %v", none, err)
	}
}
