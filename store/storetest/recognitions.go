package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/google/go-cmp/cmp"
)

// testRecognitions: a recognition round-trips every field (a zero expiry
// and no receipt, read back as nil, included), lists by case and page, and a duplicate
// id is ErrConflict.
func testRecognitions(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_dev", review.OrgDeveloper)
	mkCase(t, s, "case_r1", "org_dev", review.StateUnderReview)
	mkCase(t, s, "case_r2", "org_dev", review.StateUnderReview)
	full := review.Recognition{ID: "rec_1", CaseID: "case_r1", OrgID: "org_agency", Authority: "uk-aisi",
		ForeignEvidence: review.ForeignEvidence{Kind: "decision", SignerKey: "abcd1234", LogOrigin: "log.aisi.example/decisions", LogIndex: 41,
			DecisionID: "dec_9", Verifier: "urn:aisi", ModelDigest: "sha256:" + fmt.Sprintf("%064x", 7),
			DecidedAt: at(2).Truncate(time.Second), ExpiresAt: at(600).Truncate(time.Second), Outcome: "cleared",
			Profiles: []review.ForeignOutcome{{Profile: "us-caisi", Outcome: "cleared"}, {Profile: "eu-gpai", Outcome: "hold"}}},
		Bundle: []byte("{\"bundle\":1}\x00\xff"), Receipt: []byte(`{"origin":"x"}`), Note: "mutual recognition ✓", ImportedBy: "usr_1", CreatedAt: at(3)}
	bare := review.Recognition{ID: "rec_2", CaseID: "case_r1", Authority: "lab", ForeignEvidence: review.ForeignEvidence{Kind: "decision", LogIndex: -1,
		DecidedAt: at(4), Outcome: "hold", Profiles: []review.ForeignOutcome{}}, Bundle: []byte("b"), Receipt: nil, ImportedBy: "usr_2", CreatedAt: at(5)}
	other := bare
	other.ID, other.CaseID = "rec_3", "case_r2"
	for _, r := range []review.Recognition{full, bare, other} {
		must(t, "CreateRecognition "+r.ID, s.CreateRecognition(ctx, r))
	}
	wantErr(t, "CreateRecognition duplicate", s.CreateRecognition(ctx, full), review.ErrConflict)
	got, err := s.ListRecognitions(ctx, "case_r1", review.Page{})
	must(t, "ListRecognitions", err)
	if d := cmp.Diff([]review.Recognition{full, bare}, got); d != "" {
		t.Errorf("ListRecognitions (-want +got):\n%s", d)
	}
	got, err = s.ListRecognitions(ctx, "case_r1", review.Page{After: "rec_1", Limit: 1})
	must(t, "ListRecognitions page", err)
	if len(got) != 1 || got[0].ID != "rec_2" {
		t.Errorf("ListRecognitions after rec_1 = %v, want rec_2", got)
	}
	got, err = s.ListRecognitions(ctx, "case_none", review.Page{})
	must(t, "ListRecognitions none", err)
	if len(got) != 0 {
		t.Errorf("ListRecognitions of another case = %d rows, want 0", len(got))
	}
	// A recognition of a missing case is refused by the foreign key.
	bad := bare
	bad.ID, bad.CaseID = "rec_4", "case_missing"
	if err := s.CreateRecognition(ctx, bad); err == nil {
		t.Error("CreateRecognition for a missing case: no error")
	}
}
