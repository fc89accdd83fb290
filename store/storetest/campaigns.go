package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/clearance-dev/clearance/review"
	"github.com/google/go-cmp/cmp"
)

// testCampaigns: attempts round-trip every field (unset times included),
// update under the version check, list by case and page; a case's
// target changes under its version check; model versions list by seq and
// refuse a duplicate seq; a retest is replaced, not duplicated.
func testCampaigns(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_dev", review.OrgDeveloper)
	c := mkCase(t, s, "case_c1", "org_dev", review.StateInAssessment)
	mkCase(t, s, "case_c2", "org_dev", review.StateInAssessment)
	bare := review.Attempt{ID: "atk_1", CaseID: "case_c1", RedTeamer: "usr_r", Title: "first", Transcript: []byte("sealed\x00\xff"),
		Turns: 1, ModelDigest: "sha256:" + fmt.Sprintf("%064x", 1), CreatedAt: at(1), UpdatedAt: at(1)}
	must(t, "CreateAttempt", s.CreateAttempt(ctx, bare))
	wantErr(t, "CreateAttempt duplicate", s.CreateAttempt(ctx, bare), review.ErrConflict)
	other := bare
	other.ID, other.CaseID = "atk_2", "case_c2"
	must(t, "CreateAttempt other", s.CreateAttempt(ctx, other))
	got, err := s.GetAttempt(ctx, "atk_1")
	must(t, "GetAttempt", err)
	bare.Version = 1
	if d := cmp.Diff(bare, got); d != "" {
		t.Errorf("GetAttempt (-want +got):\n%s", d)
	}
	full := got
	full.OrgID, full.Turns, full.Success, full.Category, full.Severity, full.Technique = "", 3, true, "cyber", review.SeverityHigh, "role-play"
	full.Universal, full.Template, full.TransferHits, full.TransferN, full.FindingID = true, "As DAN, {behaviour}", 7, 10, "fnd_1"
	full.UpdatedAt, full.SuccessAt, full.UniversalAt = at(5), at(3), at(4)
	upd, err := s.UpdateAttempt(ctx, full)
	must(t, "UpdateAttempt", err)
	if upd.Version != 2 {
		t.Errorf("UpdateAttempt version = %d, want 2", upd.Version)
	}
	_, err = s.UpdateAttempt(ctx, full)
	wantErr(t, "UpdateAttempt stale", err, review.ErrConflict)
	got, err = s.GetAttempt(ctx, "atk_1")
	must(t, "GetAttempt after update", err)
	if d := cmp.Diff(upd, got); d != "" {
		t.Errorf("GetAttempt after update (-want +got):\n%s", d)
	}
	_, err = s.GetAttempt(ctx, "atk_none")
	wantErr(t, "GetAttempt missing", err, review.ErrNotFound)
	ats, err := s.ListAttempts(ctx, "case_c1", review.Page{})
	must(t, "ListAttempts", err)
	if len(ats) != 1 || ats[0].ID != "atk_1" {
		t.Errorf("ListAttempts(case_c1) = %v, want atk_1 only", ats)
	}

	cur, err := s.GetCase(ctx, c.ID)
	must(t, "GetCase", err)
	cur.ModelDigest, cur.ModelName, cur.TargetURL, cur.Credentials, cur.UpdatedAt = "sha256:"+fmt.Sprintf("%064x", 2), "v2", "https://v2.example/v1", []byte("sealed2"), at(9)
	nc, err := s.SetCaseTarget(ctx, cur)
	must(t, "SetCaseTarget", err)
	_, err = s.SetCaseTarget(ctx, cur)
	wantErr(t, "SetCaseTarget stale", err, review.ErrConflict)
	back, err := s.GetCase(ctx, c.ID)
	must(t, "GetCase after SetCaseTarget", err)
	if back.ModelDigest != cur.ModelDigest || back.ModelName != "v2" || back.TargetURL != cur.TargetURL || string(back.Credentials) != "sealed2" || back.Version != nc.Version {
		t.Errorf("case after SetCaseTarget = %+v, want the new target at version %d", back, nc.Version)
	}

	v2 := review.ModelVersion{ID: "mv_a", CaseID: c.ID, Seq: 2, ModelDigest: cur.ModelDigest, ModelName: "v2", TargetURL: cur.TargetURL,
		Credentials: []byte("sealed2"), Note: "fixed ✓", SubmittedBy: "usr_d", CreatedAt: at(9)}
	v1 := review.ModelVersion{ID: "mv_b", CaseID: c.ID, Seq: 1, ModelDigest: c.ModelDigest, ModelName: c.ModelName, TargetURL: c.TargetURL, CreatedAt: at(0)}
	must(t, "CreateModelVersion v2", s.CreateModelVersion(ctx, v2))
	must(t, "CreateModelVersion v1", s.CreateModelVersion(ctx, v1))
	dup := v1
	dup.ID = "mv_c"
	wantErr(t, "CreateModelVersion duplicate seq", s.CreateModelVersion(ctx, dup), review.ErrConflict)
	vs, err := s.ListModelVersions(ctx, c.ID, review.Page{})
	must(t, "ListModelVersions", err)
	if d := cmp.Diff([]review.ModelVersion{v1, v2}, vs); d != "" {
		t.Errorf("ListModelVersions (-want +got):\n%s", d)
	}
	vs, err = s.ListModelVersions(ctx, c.ID, review.Page{After: "mv_b", Limit: 5})
	must(t, "ListModelVersions page", err)
	if len(vs) != 1 || vs[0].ID != "mv_a" {
		t.Errorf("ListModelVersions after mv_b = %v, want mv_a", vs)
	}

	r := review.Retest{CaseID: c.ID, VersionID: "mv_a", AttemptID: "atk_1", Works: true, Hits: 6, N: 10, CreatedAt: at(10)}
	must(t, "PutRetest", s.PutRetest(ctx, r))
	r.Works, r.Hits, r.Error, r.CreatedAt = false, 0, "the model did not answer", at(11)
	must(t, "PutRetest again", s.PutRetest(ctx, r))
	rs, err := s.ListRetests(ctx, c.ID, "mv_a")
	must(t, "ListRetests", err)
	if d := cmp.Diff([]review.Retest{r}, rs); d != "" {
		t.Errorf("ListRetests (-want +got):\n%s", d)
	}
	rs, err = s.ListRetests(ctx, c.ID, "mv_b")
	must(t, "ListRetests other version", err)
	if len(rs) != 0 {
		t.Errorf("ListRetests(mv_b) = %v, want none", rs)
	}
}
