package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/google/go-cmp/cmp"
)

// testConformance: fingerprints (sealed bytes kept exactly) and
// conformance checks round-trip every field, list by case and decision,
// unlogged checks are listed oldest first and only when signed, and a
// check's log index is set once (again at the same index is a no-op,
// at another ErrConflict).
func testConformance(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_dev", review.OrgDeveloper)
	mkCase(t, s, "case_c1", "org_dev", review.StateDecided)
	mkCase(t, s, "case_c2", "org_dev", review.StateDecided)
	for _, id := range []string{"dec_c1", "dec_c2"} {
		must(t, "CreateDecision", s.CreateDecision(ctx, review.Decision{ID: id, CaseID: "case_" + id[4:], OfficialID: "usr_o",
			Outcomes: json.RawMessage(`{}`), CreatedAt: at(5)}))
	}
	f1 := review.Fingerprint{ID: "fpr_1", CaseID: "case_c1", Digest: "sha256:aa", Target: "http://127.0.0.1:1/v1", Probes: 310, Requests: 620,
		Sealed: []byte("age-encryption.org/v1\x00\xff sealed"), CreatedBy: "usr_a", CreatedAt: at(2),
		State: review.FingerprintRecorded, RecordedAt: at(2)}
	// f2 is asked for pending, then finished (a job records it).
	f2 := f1
	f2.ID, f2.Digest, f2.CreatedAt, f2.State, f2.RecordedAt, f2.Probes, f2.Requests = "fpr_2", "", at(3), review.FingerprintPending, time.Time{}, 100, 0
	f3 := f1
	f3.ID, f3.CaseID = "fpr_3", "case_c2"
	for _, f := range []review.Fingerprint{f1, f2, f3} {
		must(t, "CreateFingerprint "+f.ID, s.CreateFingerprint(ctx, f))
	}
	wantErr(t, "CreateFingerprint duplicate", s.CreateFingerprint(ctx, f1), review.ErrConflict)
	if got, err := s.GetFingerprint(ctx, "fpr_2"); err != nil || got.State != review.FingerprintPending || !got.RecordedAt.IsZero() {
		t.Errorf("GetFingerprint pending = %+v, %v", got, err)
	}
	f2.State, f2.Digest, f2.Probes, f2.Requests, f2.RecordedAt = review.FingerprintRecorded, "sha256:bb", 310, 620, at(4)
	must(t, "FinishFingerprint", s.FinishFingerprint(ctx, f2))
	wantErr(t, "FinishFingerprint again", s.FinishFingerprint(ctx, f2), review.ErrConflict)
	missing := f2
	missing.ID = "fpr_none"
	wantErr(t, "FinishFingerprint unknown", s.FinishFingerprint(ctx, missing), review.ErrNotFound)
	fs, err := s.ListFingerprints(ctx, "case_c1")
	must(t, "ListFingerprints", err)
	if d := cmp.Diff([]review.Fingerprint{f1, f2}, fs); d != "" {
		t.Errorf("ListFingerprints (-want +got):\n%s", d)
	}

	k1 := review.ConformanceCheck{ID: "cnf_1", DecisionID: "dec_c1", CaseID: "case_c1", FingerprintID: "fpr_2", Target: "http://127.0.0.1:1/v1",
		Same: true, Result: json.RawMessage(`{"same":true}`), Bundle: []byte("bundle 1"), LogIndex: -1, CreatedBy: "usr_d", CreatedAt: at(12)}
	k2 := review.ConformanceCheck{ID: "cnf_2", DecisionID: "dec_c1", CaseID: "case_c1", FingerprintID: "fpr_2", Target: "http://127.0.0.1:2/v1",
		Same: false, Scheduled: true, Result: json.RawMessage(`{"same":false}`), Bundle: []byte("bundle 2"), LogIndex: -1,
		FindingID: "fnd_1", CreatedBy: "system", CreatedAt: at(11)}
	k3 := review.ConformanceCheck{ID: "cnf_3", DecisionID: "dec_c2", CaseID: "case_c2", FingerprintID: "fpr_3", Target: "t",
		Result: json.RawMessage(`{}`), LogIndex: -1, CreatedBy: "usr_d", CreatedAt: at(10)} // unsigned: never logged
	for _, k := range []review.ConformanceCheck{k1, k2, k3} {
		must(t, "CreateConformanceCheck "+k.ID, s.CreateConformanceCheck(ctx, k))
	}
	wantErr(t, "CreateConformanceCheck duplicate", s.CreateConformanceCheck(ctx, k1), review.ErrConflict)
	got, err := s.GetConformanceCheck(ctx, "cnf_2")
	must(t, "GetConformanceCheck", err)
	if d := cmp.Diff(k2, got); d != "" {
		t.Errorf("GetConformanceCheck (-want +got):\n%s", d)
	}
	_, err = s.GetConformanceCheck(ctx, "cnf_none")
	wantErr(t, "GetConformanceCheck missing", err, review.ErrNotFound)
	ks, err := s.ListConformanceChecks(ctx, "case_c1", "", review.Page{})
	must(t, "ListConformanceChecks by case", err)
	if d := cmp.Diff([]review.ConformanceCheck{k1, k2}, ks); d != "" {
		t.Errorf("ListConformanceChecks by case (-want +got):\n%s", d)
	}
	ks, err = s.ListConformanceChecks(ctx, "", "dec_c2", review.Page{})
	must(t, "ListConformanceChecks by decision", err)
	if d := cmp.Diff([]review.ConformanceCheck{k3}, ks); d != "" {
		t.Errorf("ListConformanceChecks by decision (-want +got):\n%s", d)
	}
	un, err := s.ListUnloggedConformanceChecks(ctx, 0)
	must(t, "ListUnloggedConformanceChecks", err)
	if d := cmp.Diff([]review.ConformanceCheck{k2, k1}, un); d != "" {
		t.Errorf("ListUnloggedConformanceChecks, oldest first (-want +got):\n%s", d)
	}
	must(t, "SetConformanceLog", s.SetConformanceLog(ctx, "cnf_2", 7))
	must(t, "SetConformanceLog again", s.SetConformanceLog(ctx, "cnf_2", 7))
	wantErr(t, "SetConformanceLog other index", s.SetConformanceLog(ctx, "cnf_2", 8), review.ErrConflict)
	wantErr(t, "SetConformanceLog missing", s.SetConformanceLog(ctx, "cnf_none", 1), review.ErrNotFound)
	got, err = s.GetConformanceCheck(ctx, "cnf_2")
	must(t, "GetConformanceCheck logged", err)
	if got.LogIndex != 7 {
		t.Errorf("LogIndex = %d, want 7", got.LogIndex)
	}
	un, err = s.ListUnloggedConformanceChecks(ctx, 0)
	must(t, "ListUnloggedConformanceChecks after", err)
	if d := cmp.Diff([]review.ConformanceCheck{k1}, un); d != "" {
		t.Errorf("ListUnloggedConformanceChecks after logging (-want +got):\n%s", d)
	}
}
