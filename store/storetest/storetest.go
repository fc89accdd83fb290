// Package storetest is the conformance suite every review.Store passes:
// Run exercises every Store method against a fresh store, including
// transactions that roll back, optimistic concurrency on cases and
// assessments, the audit chain, tenant-scoped queries and pagination.
//
// Beyond review.Store's doc comments, the suite requires that concurrent
// MarkShardDone calls on one assessment are serialised: each returns a
// different count, so exactly one caller sees the last shard finish.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/clearance-dev/clearance/review"
)

// Run runs the suite. open must return a fresh, empty, migrated store;
// it is called once per subtest, and cleanup is open's business
// (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) review.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, review.Store)
	}{
		{"Orgs", testOrgs},
		{"UsersAndTokens", testUsersAndTokens},
		{"UserDisabled", testUserDisabled},
		{"TokenChains", testTokenChains},
		{"ConcurrentTokenRevoke", testConcurrentTokenRevoke},
		{"Cases", testCases},
		{"CaseTenancyAndPagination", testCaseTenancy},
		{"OrgUsage", testOrgUsage},
		{"CasesByAssignee", testCasesByAssignee},
		{"ConcurrentCaseUpdate", testConcurrentUpdate},
		{"FindingsResponsesDecisionsAppeals", testCaseRecords},
		{"TxRollback", testTxRollback},
		{"TxRollbackJobs", testTxRollbackJobs},
		{"DecisionLog", testDecisionLog},
		{"Assessments", testAssessments},
		{"MarkShardDone", testMarkShardDone},
		{"Samples", testSamples},
		{"SamplePageLimits", testSamplePageLimits},
		{"ResponseCache", testResponseCache},
		{"IdempotencyKeys", testIdempotencyKeys},
		{"Webhooks", testWebhooks},
		{"WebhookBreaker", testWebhookBreaker},
		{"Cursors", testCursors},
		{"Anchors", testAnchors},
		{"Audit", testAudit},
		{"ConcurrentAudit", testConcurrentAudit},
		{"TargetLimits", testTargetLimits},
		{"JointReview", testJointReview},
		{"Concurrence", testConcurrence},
		{"Recognitions", testRecognitions},
		{"AssessmentReferences", testAssessmentReferences},
		{"TriageReviews", testTriageReviews},
		{"Campaigns", testCampaigns},
		{"Incidents", testIncidents},
		{"Conformance", testConformance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// base is a fixed instant with microseconds, as stores keep them.
var base = time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC)

func at(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error = %v, want %v", what, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mkOrg(t *testing.T, s review.Store, id string, kind review.OrgKind) review.Org {
	t.Helper()
	o := review.Org{ID: id, Name: "Org " + id, Kind: kind, CreatedAt: at(0)}
	must(t, "CreateOrg", s.CreateOrg(context.Background(), o))
	return o
}

func mkCase(t *testing.T, s review.Store, id, orgID string, state review.State) review.Case {
	t.Helper()
	k, err := review.NewClock(review.ClockSpec{Unit: review.BusinessDays, Length: 10, Holidays: []string{"2026-03-04"}, OnExpiry: "window_expired"}, at(0))
	must(t, "NewClock", err)
	c := review.Case{
		ID: id, OrgID: orgID, ModelDigest: "sha256:" + fmt.Sprintf("%064x", 7), ModelName: "model " + id,
		Dossier: json.RawMessage(`{"model":{"training_compute_flop":1e26},"b":[1,2]}`), TargetURL: "https://api.example/v1",
		Credentials: []byte("age-encryption.org/v1\x00\xff"), Profiles: []string{"us-caisi", "eu-gpai"},
		State: state, Clock: &k, Version: 1, CreatedAt: at(1), UpdatedAt: at(1),
	}
	must(t, "CreateCase", s.CreateCase(context.Background(), c))
	return c
}

func testOrgs(t *testing.T, s review.Store) {
	ctx := context.Background()
	a := mkOrg(t, s, "org_a", review.OrgDeveloper)
	b := mkOrg(t, s, "org_b", review.OrgAgency)
	got, err := s.GetOrg(ctx, "org_a")
	must(t, "GetOrg", err)
	if diff := cmp.Diff(a, got); diff != "" {
		t.Fatalf("GetOrg mismatch (-want +got):\n%s", diff)
	}
	_, err = s.GetOrg(ctx, "org_missing")
	wantErr(t, "GetOrg(missing)", err, review.ErrNotFound)
	wantErr(t, "CreateOrg(duplicate id)", s.CreateOrg(ctx, a), review.ErrConflict)
	dupName := b
	dupName.ID = "org_c"
	wantErr(t, "CreateOrg(duplicate name)", s.CreateOrg(ctx, dupName), review.ErrConflict)
	os, err := s.ListOrgs(ctx, review.Page{})
	must(t, "ListOrgs", err)
	if diff := cmp.Diff([]review.Org{a, b}, os); diff != "" {
		t.Fatalf("ListOrgs mismatch (-want +got):\n%s", diff)
	}
	os, err = s.ListOrgs(ctx, review.Page{After: "org_a", Limit: 1})
	must(t, "ListOrgs(page 2)", err)
	if len(os) != 1 || os[0].ID != "org_b" {
		t.Fatalf("ListOrgs(after org_a) = %v, want [org_b]", os)
	}
}

func testUsersAndTokens(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	mkOrg(t, s, "org_b", review.OrgAgency)
	dev := review.User{ID: "usr_1", OrgID: "org_a", Name: "Dev", Email: "dev@a.example", Roles: []review.Role{review.RoleDeveloper}, CreatedAt: at(2)}
	adm := review.User{ID: "usr_2", OrgID: "org_b", Name: "Admin", Roles: []review.Role{review.RoleAdmin, review.RoleAuditor}, CreatedAt: at(3)}
	off := review.User{ID: "usr_3", OrgID: "org_b", Name: "Off", Roles: []review.Role{review.RoleOfficial}, Disabled: true, CreatedAt: at(4)}
	n, err := s.CountAdmins(ctx)
	must(t, "CountAdmins", err)
	if n != 0 {
		t.Fatalf("CountAdmins(empty) = %d, want 0", n)
	}
	for _, u := range []review.User{dev, adm, off} {
		must(t, "CreateUser", s.CreateUser(ctx, u))
	}
	wantErr(t, "CreateUser(duplicate)", s.CreateUser(ctx, dev), review.ErrConflict)
	wantErr(t, "CreateUser(missing org)", s.CreateUser(ctx, review.User{ID: "usr_9", OrgID: "org_missing", Name: "x", Roles: []review.Role{}, CreatedAt: at(0)}), review.ErrNotFound)
	got, err := s.GetUser(ctx, "usr_2")
	must(t, "GetUser", err)
	if diff := cmp.Diff(adm, got); diff != "" {
		t.Fatalf("GetUser mismatch (-want +got):\n%s", diff)
	}
	_, err = s.GetUser(ctx, "usr_missing")
	wantErr(t, "GetUser(missing)", err, review.ErrNotFound)
	if n, err = s.CountAdmins(ctx); err != nil || n != 1 {
		t.Fatalf("CountAdmins = %d, %v, want 1", n, err)
	}
	us, err := s.ListUsers(ctx, "org_b", review.Page{})
	must(t, "ListUsers", err)
	if diff := cmp.Diff([]review.User{adm, off}, us); diff != "" {
		t.Fatalf("ListUsers(org_b) mismatch (-want +got):\n%s", diff)
	}
	us, err = s.ListUsers(ctx, "", review.Page{Limit: 2})
	must(t, "ListUsers(all)", err)
	if len(us) != 2 || us[0].ID != "usr_1" || us[1].ID != "usr_2" {
		t.Fatalf("ListUsers(all, limit 2) = %v, want usr_1, usr_2", us)
	}

	tok := review.Token{ID: "tok_1", UserID: "usr_1", Name: "ci", Hash: review.HashToken("secret"), CreatedAt: at(5), ExpiresAt: at(60 * 24)}
	must(t, "CreateToken", s.CreateToken(ctx, tok))
	dup := tok
	dup.ID = "tok_2"
	wantErr(t, "CreateToken(duplicate hash)", s.CreateToken(ctx, dup), review.ErrConflict)
	gotT, err := s.TokenByHash(ctx, review.HashToken("secret"))
	must(t, "TokenByHash", err)
	if diff := cmp.Diff(tok, gotT); diff != "" {
		t.Fatalf("TokenByHash mismatch (-want +got):\n%s", diff)
	}
	_, err = s.TokenByHash(ctx, review.HashToken("other"))
	wantErr(t, "TokenByHash(unknown)", err, review.ErrNotFound)
	must(t, "RevokeToken", s.RevokeToken(ctx, "tok_1", at(10)))
	must(t, "RevokeToken(again)", s.RevokeToken(ctx, "tok_1", at(20)))
	gotT, err = s.TokenByHash(ctx, review.HashToken("secret"))
	must(t, "TokenByHash", err)
	if !gotT.RevokedAt.Equal(at(10)) {
		t.Fatalf("RevokedAt = %v, want the first revocation %v", gotT.RevokedAt, at(10))
	}
	wantErr(t, "RevokeToken(missing)", s.RevokeToken(ctx, "tok_missing", at(10)), review.ErrNotFound)
}

func testCases(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	c := mkCase(t, s, "case_1", "org_a", review.StateSubmitted)
	noClock := c
	noClock.ID, noClock.Clock, noClock.Credentials = "case_2", nil, nil
	must(t, "CreateCase(no clock)", s.CreateCase(ctx, noClock))
	for _, want := range []review.Case{c, noClock} {
		got, err := s.GetCase(ctx, want.ID)
		must(t, "GetCase", err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("GetCase(%s) mismatch (-want +got):\n%s", want.ID, diff)
		}
	}
	wantErr(t, "CreateCase(duplicate)", s.CreateCase(ctx, c), review.ErrConflict)
	orphan := c
	orphan.ID, orphan.OrgID = "case_3", "org_missing"
	wantErr(t, "CreateCase(missing org)", s.CreateCase(ctx, orphan), review.ErrNotFound)
	_, err := s.GetCase(ctx, "case_missing")
	wantErr(t, "GetCase(missing)", err, review.ErrNotFound)

	next := c
	next.State = review.StateInformationRequested
	k, err := c.Clock.Stop(at(30))
	must(t, "Stop", err)
	next.Clock, next.UpdatedAt = &k, at(30)
	next.Assignees = []string{"usr_b", "usr_a"}
	updated, err := s.UpdateCase(ctx, next)
	must(t, "UpdateCase", err)
	if updated.Version != 2 {
		t.Fatalf("UpdateCase version = %d, want 2", updated.Version)
	}
	got, err := s.GetCase(ctx, c.ID)
	must(t, "GetCase", err)
	if diff := cmp.Diff(updated, got); diff != "" {
		t.Fatalf("GetCase after update mismatch (-want +got):\n%s", diff)
	}
	_, err = s.UpdateCase(ctx, next) // version 1 is stale now
	wantErr(t, "UpdateCase(stale)", err, review.ErrConflict)
	missing := next
	missing.ID = "case_missing"
	_, err = s.UpdateCase(ctx, missing)
	wantErr(t, "UpdateCase(missing)", err, review.ErrNotFound)
}

func testCaseTenancy(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	mkOrg(t, s, "org_b", review.OrgDeveloper)
	var wantA []string
	for i := range 7 {
		org := "org_a"
		if i%3 == 2 {
			org = "org_b"
		}
		st := review.StateSubmitted
		if i%2 == 1 {
			st = review.StateUnderReview
		}
		id := fmt.Sprintf("case_%02d", i)
		mkCase(t, s, id, org, st)
		if org == "org_a" {
			wantA = append(wantA, id)
		}
	}
	// Page through org_a's cases two at a time.
	var gotA []string
	p := review.Page{Limit: 2}
	for {
		cs, err := s.ListCases(ctx, review.CaseFilter{OrgID: "org_a", Page: p})
		must(t, "ListCases", err)
		if len(cs) > 2 {
			t.Fatalf("ListCases(limit 2) returned %d cases", len(cs))
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			if c.OrgID != "org_a" {
				t.Fatalf("ListCases(org_a) returned %s of %s", c.ID, c.OrgID)
			}
			gotA = append(gotA, c.ID)
		}
		p.After = cs[len(cs)-1].ID
	}
	if diff := cmp.Diff(wantA, gotA); diff != "" {
		t.Fatalf("ListCases(org_a) pages mismatch (-want +got):\n%s", diff)
	}
	cs, err := s.ListCases(ctx, review.CaseFilter{OrgID: "org_b", State: review.StateSubmitted})
	must(t, "ListCases(org_b, submitted)", err)
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	if diff := cmp.Diff([]string{"case_02"}, ids); diff != "" {
		t.Fatalf("ListCases(org_b, submitted) mismatch (-want +got):\n%s", diff)
	}
	all, err := s.ListCases(ctx, review.CaseFilter{})
	must(t, "ListCases(all)", err)
	if len(all) != 7 {
		t.Fatalf("ListCases(all) = %d cases, want 7", len(all))
	}
	byModel, err := s.ListCases(ctx, review.CaseFilter{ModelDigest: "sha256:" + fmt.Sprintf("%064x", 7)})
	must(t, "ListCases(model)", err)
	otherModel, err := s.ListCases(ctx, review.CaseFilter{ModelDigest: "sha256:" + fmt.Sprintf("%064x", 8)})
	must(t, "ListCases(other model)", err)
	if len(byModel) != 7 || len(otherModel) != 0 {
		t.Fatalf("ListCases(model) = %d cases, want 7; other model %d, want 0", len(byModel), len(otherModel))
	}
	none, err := s.ListCases(ctx, review.CaseFilter{OrgID: "org_missing"})
	must(t, "ListCases(org_missing)", err)
	if len(none) != 0 {
		t.Fatalf("ListCases(org_missing) = %d cases, want 0", len(none))
	}
}

// testCasesByAssignee checks CaseFilter.Assignee: exact ids only, with
// LIKE's wildcards (_ and %) in an id matching nothing else.
func testCasesByAssignee(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	assign := map[string][]string{
		"case_0": {"usr_a"},
		"case_1": {"usr_b", "usr_a"},
		"case_2": {"usr_ab"},
		"case_3": {"usrXa"},
		"case_4": nil,
		"case_5": {"usr_%"},
	}
	for _, id := range []string{"case_0", "case_1", "case_2", "case_3", "case_4", "case_5"} {
		c := mkCase(t, s, id, "org_a", review.StateSubmitted)
		c.Assignees = assign[id]
		if _, err := s.UpdateCase(ctx, c); err != nil {
			t.Fatalf("UpdateCase(%s): %v", id, err)
		}
	}
	for _, tc := range []struct {
		assignee string
		want     []string
	}{
		{"usr_a", []string{"case_0", "case_1"}},
		{"usr_b", []string{"case_1"}},
		{"usr_%", []string{"case_5"}},
		{"usr_", nil},
		{"a", nil},
		{"usr_missing", nil},
	} {
		cs, err := s.ListCases(ctx, review.CaseFilter{Assignee: tc.assignee})
		must(t, "ListCases(assignee "+tc.assignee+")", err)
		var got []string
		for _, c := range cs {
			got = append(got, c.ID)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ListCases(assignee %q) mismatch (-want +got):\n%s", tc.assignee, diff)
		}
	}
}

func testConcurrentUpdate(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	c := mkCase(t, s, "case_1", "org_a", review.StateSubmitted)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Tx(ctx, func(tx review.Store) error {
				cur, err := tx.GetCase(ctx, c.ID)
				if err != nil {
					return err
				}
				if cur.State != review.StateSubmitted {
					return fmt.Errorf("state is %s: %w", cur.State, review.ErrInvalidTransition)
				}
				cur.State, cur.UpdatedAt = review.StateInAssessment, at(i)
				if _, err := tx.UpdateCase(ctx, cur); err != nil {
					return err
				}
				_, err = tx.AppendAudit(ctx, review.AuditEntry{Time: at(i), Actor: fmt.Sprint("usr_", i), Action: "case.transition", CaseID: c.ID})
				return err
			})
		}()
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, review.ErrConflict), errors.Is(err, review.ErrInvalidTransition):
		default:
			t.Errorf("transition %d: unexpected error %v", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent transitions won, want exactly 1", wins, n)
	}
	got, err := s.GetCase(ctx, c.ID)
	must(t, "GetCase", err)
	if got.Version != 2 || got.State != review.StateInAssessment {
		t.Fatalf("after the race: version %d state %s, want 2 in_assessment", got.Version, got.State)
	}
	es, err := s.ListAudit(ctx, review.AuditFilter{})
	must(t, "ListAudit", err)
	if len(es) != 1 {
		t.Fatalf("audit has %d entries, want 1 (losers' entries rolled back)", len(es))
	}

	// Without a transaction, two updates from the same version: one wins.
	var wg2 sync.WaitGroup
	errs2 := make([]error, 2)
	for i := range 2 {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			x := got
			x.State = review.StateUnderReview
			_, errs2[i] = s.UpdateCase(ctx, x)
		}()
	}
	wg2.Wait()
	if (errs2[0] == nil) == (errs2[1] == nil) {
		t.Fatalf("two updates from version %d: errors %v, %v; want exactly one nil", got.Version, errs2[0], errs2[1])
	}
	for _, err := range errs2 {
		if err != nil {
			wantErr(t, "losing UpdateCase", err, review.ErrConflict)
		}
	}
}

func testCaseRecords(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	c := mkCase(t, s, "case_1", "org_a", review.StateUnderReview)
	c2 := mkCase(t, s, "case_2", "org_a", review.StateUnderReview)

	f := review.Finding{ID: "fnd_1", CaseID: c.ID, Severity: review.SeverityHigh, Title: "Jailbreak",
		Description: "multi-turn", SampleIDs: []string{"s1", "s2"}, Deadline: at(60 * 24 * 30),
		Status: review.FindingOpen, CreatedBy: "usr_r", CreatedAt: at(5), UpdatedAt: at(5)}
	f2 := f
	f2.ID, f2.SampleIDs, f2.Severity = "fnd_2", nil, review.SeverityLow
	f3 := f
	f3.ID, f3.CaseID = "fnd_3", c2.ID
	for _, x := range []review.Finding{f, f2, f3} {
		must(t, "CreateFinding", s.CreateFinding(ctx, x))
	}
	wantErr(t, "CreateFinding(duplicate)", s.CreateFinding(ctx, f), review.ErrConflict)
	bad := f
	bad.ID, bad.CaseID = "fnd_9", "case_missing"
	wantErr(t, "CreateFinding(missing case)", s.CreateFinding(ctx, bad), review.ErrNotFound)
	got, err := s.GetFinding(ctx, "fnd_1")
	must(t, "GetFinding", err)
	if diff := cmp.Diff(f, got); diff != "" {
		t.Fatalf("GetFinding mismatch (-want +got):\n%s", diff)
	}
	_, err = s.GetFinding(ctx, "fnd_missing")
	wantErr(t, "GetFinding(missing)", err, review.ErrNotFound)
	f.Status, f.Deadline, f.UpdatedAt = review.FindingResponded, at(60*24*40), at(9)
	must(t, "UpdateFinding", s.UpdateFinding(ctx, f))
	wantErr(t, "UpdateFinding(missing)", s.UpdateFinding(ctx, bad), review.ErrNotFound)
	fs, err := s.ListFindings(ctx, c.ID, review.Page{})
	must(t, "ListFindings", err)
	f2.SampleIDs = []string{}
	if diff := cmp.Diff([]review.Finding{f, f2}, fs); diff != "" {
		t.Fatalf("ListFindings mismatch (-want +got):\n%s", diff)
	}
	fs, err = s.ListFindings(ctx, c.ID, review.Page{After: "fnd_1"})
	must(t, "ListFindings(page)", err)
	if len(fs) != 1 || fs[0].ID != "fnd_2" {
		t.Fatalf("ListFindings(after fnd_1) = %v, want [fnd_2]", fs)
	}

	r1 := review.Response{ID: "rsp_1", CaseID: c.ID, FindingID: "fnd_1", AuthorID: "usr_d", Body: "fixed", CreatedAt: at(10)}
	r2 := review.Response{ID: "rsp_2", CaseID: c.ID, FindingID: "fnd_2", AuthorID: "usr_d", Body: "won't fix", CreatedAt: at(11)}
	must(t, "CreateResponse", s.CreateResponse(ctx, r1))
	must(t, "CreateResponse", s.CreateResponse(ctx, r2))
	wantErr(t, "CreateResponse(missing finding)", s.CreateResponse(ctx, review.Response{ID: "rsp_3", CaseID: c.ID, FindingID: "fnd_missing", CreatedAt: at(0)}), review.ErrNotFound)
	rs, err := s.ListResponses(ctx, c.ID, "", review.Page{})
	must(t, "ListResponses", err)
	if diff := cmp.Diff([]review.Response{r1, r2}, rs); diff != "" {
		t.Fatalf("ListResponses mismatch (-want +got):\n%s", diff)
	}
	rs, err = s.ListResponses(ctx, c.ID, "fnd_2", review.Page{})
	must(t, "ListResponses(finding)", err)
	if diff := cmp.Diff([]review.Response{r2}, rs); diff != "" {
		t.Fatalf("ListResponses(fnd_2) mismatch (-want +got):\n%s", diff)
	}

	// CreateDecision ignores LogIndex and Receipt: a new decision is not logged.
	d1 := review.Decision{ID: "dec_1", CaseID: c.ID, OfficialID: "usr_o", Outcomes: json.RawMessage(`{"eu-gpai":{"outcome":"hold"},"us-caisi":{"outcome":"cleared"}}`),
		Rationale: "r", Missing: []string{"cyber.pass_at_1"}, OverrideReason: "urgent", Bundle: []byte{1, 2, 3},
		LogIndex: 7, Receipt: []byte("ignored"), CreatedAt: at(20)}
	d2 := review.Decision{ID: "dec_2", CaseID: c.ID, OfficialID: "system", Outcomes: json.RawMessage(`{}`), Rationale: "deemed", Deemed: true, CreatedAt: at(21)}
	d3 := review.Decision{ID: "dec_3", CaseID: c2.ID, OfficialID: "usr_o", Outcomes: json.RawMessage(`{}`), Rationale: "other", CreatedAt: at(22)}
	for _, x := range []review.Decision{d1, d2, d3} {
		must(t, "CreateDecision", s.CreateDecision(ctx, x))
	}
	d1.LogIndex, d1.Receipt, d2.LogIndex, d3.LogIndex = -1, nil, -1, -1
	wantErr(t, "CreateDecision(duplicate)", s.CreateDecision(ctx, d1), review.ErrConflict)
	gotD, err := s.GetDecision(ctx, "dec_1")
	must(t, "GetDecision", err)
	if diff := cmp.Diff(d1, gotD); diff != "" {
		t.Fatalf("GetDecision mismatch (-want +got):\n%s", diff)
	}
	_, err = s.GetDecision(ctx, "dec_missing")
	wantErr(t, "GetDecision(missing)", err, review.ErrNotFound)
	ds, err := s.ListDecisions(ctx, c.ID, review.Page{})
	must(t, "ListDecisions", err)
	if diff := cmp.Diff([]review.Decision{d1, d2}, ds); diff != "" {
		t.Fatalf("ListDecisions mismatch (-want +got):\n%s", diff)
	}
	ds, err = s.ListDecisions(ctx, c2.ID, review.Page{})
	must(t, "ListDecisions(other case)", err)
	if diff := cmp.Diff([]review.Decision{d3}, ds); diff != "" {
		t.Fatalf("ListDecisions(case_2) mismatch (-want +got):\n%s", diff)
	}
	ds, err = s.ListDecisions(ctx, "", review.Page{After: "dec_1"})
	must(t, "ListDecisions(all cases)", err)
	if diff := cmp.Diff([]review.Decision{d2, d3}, ds); diff != "" {
		t.Fatalf("ListDecisions(all, after dec_1) mismatch (-want +got):\n%s", diff)
	}

	a := review.Appeal{ID: "apl_1", CaseID: c.ID, DecisionID: "dec_1", FiledBy: "usr_d", Grounds: "wrong", CreatedAt: at(30)}
	must(t, "CreateAppeal", s.CreateAppeal(ctx, a))
	wantErr(t, "CreateAppeal(missing decision)", s.CreateAppeal(ctx, review.Appeal{ID: "apl_2", CaseID: c.ID, DecisionID: "dec_missing", CreatedAt: at(0)}), review.ErrNotFound)
	as, err := s.ListAppeals(ctx, c.ID, review.Page{})
	must(t, "ListAppeals", err)
	if diff := cmp.Diff([]review.Appeal{a}, as); diff != "" {
		t.Fatalf("ListAppeals mismatch (-want +got):\n%s", diff)
	}
}

func testTxRollback(t *testing.T, s review.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Tx(ctx, func(tx review.Store) error {
		must(t, "CreateOrg in tx", tx.CreateOrg(ctx, review.Org{ID: "org_a", Name: "A", Kind: review.OrgDeveloper, CreatedAt: at(0)}))
		if _, err := tx.AppendAudit(ctx, review.AuditEntry{Time: at(0), Actor: "u", Action: "org.create"}); err != nil {
			return err
		}
		// A nested Tx joins the outer transaction.
		if err := tx.Tx(ctx, func(inner review.Store) error {
			_, err := inner.GetOrg(ctx, "org_a")
			return err
		}); err != nil {
			t.Errorf("nested Tx could not see the outer write: %v", err)
		}
		return boom
	})
	wantErr(t, "Tx", err, boom)
	_, err = s.GetOrg(ctx, "org_a")
	wantErr(t, "GetOrg after rollback", err, review.ErrNotFound)
	_, err = s.AuditHead(ctx)
	wantErr(t, "AuditHead after rollback", err, review.ErrNotFound)

	must(t, "Tx commit", s.Tx(ctx, func(tx review.Store) error {
		return tx.CreateOrg(ctx, review.Org{ID: "org_b", Name: "B", Kind: review.OrgAgency, CreatedAt: at(0)})
	}))
	if _, err := s.GetOrg(ctx, "org_b"); err != nil {
		t.Fatalf("GetOrg after commit: %v", err)
	}
}

func testAudit(t *testing.T, s review.Store) {
	ctx := context.Background()
	_, err := s.AuditHead(ctx)
	wantErr(t, "AuditHead(empty)", err, review.ErrNotFound)
	var appended []review.AuditEntry
	for i := range 12 {
		caseID := ""
		if i%3 == 0 {
			caseID = "case_x"
		}
		e, err := s.AppendAudit(ctx, review.AuditEntry{
			Time: at(i).Add(789 * time.Nanosecond), Actor: "usr_1", Action: "case.transition", CaseID: caseID,
			Details: json.RawMessage(fmt.Sprintf(`{"z":%d,"a":"\u00e9"}`, i)),
		})
		must(t, "AppendAudit", err)
		if e.Seq != int64(i+1) {
			t.Fatalf("AppendAudit #%d: seq %d", i, e.Seq)
		}
		appended = append(appended, e)
	}
	head, err := s.AuditHead(ctx)
	must(t, "AuditHead", err)
	if diff := cmp.Diff(appended[11], head); diff != "" {
		t.Fatalf("AuditHead mismatch (-want +got):\n%s", diff)
	}
	all, err := s.ListAudit(ctx, review.AuditFilter{})
	must(t, "ListAudit", err)
	if diff := cmp.Diff(appended, all); diff != "" {
		t.Fatalf("ListAudit mismatch (-want +got):\n%s", diff)
	}
	if err := review.Verify("", all); err != nil {
		t.Fatalf("Verify(stored trail): %v", err)
	}
	if h, err := review.VerifyStore(ctx, s); err != nil || h.Hash != head.Hash {
		t.Fatalf("VerifyStore = %v, %v; want head %s", h.Seq, err, head.Hash)
	}
	page, err := s.ListAudit(ctx, review.AuditFilter{AfterSeq: 4, Limit: 3})
	must(t, "ListAudit(page)", err)
	if len(page) != 3 || page[0].Seq != 5 || page[2].Seq != 7 {
		t.Fatalf("ListAudit(after 4, limit 3) seqs = %v", page)
	}
	if err := review.Verify(all[3].Hash, page); err != nil {
		t.Fatalf("Verify(page after seq 4): %v", err)
	}
	byCase, err := s.ListAudit(ctx, review.AuditFilter{CaseID: "case_x"})
	must(t, "ListAudit(case)", err)
	var seqs []int64
	for _, e := range byCase {
		seqs = append(seqs, e.Seq)
	}
	if diff := cmp.Diff([]int64{1, 4, 7, 10}, seqs); diff != "" {
		t.Fatalf("ListAudit(case_x) seqs mismatch (-want +got):\n%s", diff)
	}
	edited := append([]review.AuditEntry(nil), all...)
	edited[5].Actor = "usr_evil"
	if err := review.Verify("", edited); err == nil {
		t.Fatalf("Verify accepted an edited stored entry")
	}
}

func testConcurrentAudit(t *testing.T, s review.Store) {
	ctx := context.Background()
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.AppendAudit(ctx, review.AuditEntry{Time: at(i), Actor: fmt.Sprint("usr_", i), Action: "x"})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent AppendAudit %d: %v", i, err)
		}
	}
	all, err := s.ListAudit(ctx, review.AuditFilter{})
	must(t, "ListAudit", err)
	if len(all) != n {
		t.Fatalf("ListAudit = %d entries, want %d", len(all), n)
	}
	if err := review.Verify("", all); err != nil {
		t.Fatalf("Verify after concurrent appends: %v", err)
	}
}

func mkUser(t *testing.T, s review.Store, id, orgID string) review.User {
	t.Helper()
	u := review.User{ID: id, OrgID: orgID, Name: "User " + id, Roles: []review.Role{review.RoleDeveloper}, CreatedAt: at(0)}
	must(t, "CreateUser", s.CreateUser(context.Background(), u))
	return u
}

func mkAssessment(t *testing.T, s review.Store, id, caseID string, state review.AssessmentState, created int) review.Assessment {
	t.Helper()
	a := review.Assessment{
		ID: id, CaseID: caseID, Spec: json.RawMessage(`{"suites":["jailbreak@1"],"n":40,"seed":7,"shard_size":10}`),
		Shards: 4, State: state, CreatedBy: "usr_a", Version: 1, CreatedAt: at(created), UpdatedAt: at(created),
	}
	if id == "asm_1" {
		a.JudgeCredentials = []byte("age-sealed judge key") // stored and read back as given
	}
	must(t, "CreateAssessment", s.CreateAssessment(context.Background(), a))
	return a
}

func testDecisionLog(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	mkCase(t, s, "case_1", "org_a", review.StateDecided)
	mkCase(t, s, "case_2", "org_a", review.StateDecided)
	mk := func(id, caseID string, created int, bundle []byte) review.Decision {
		x := review.Decision{ID: id, CaseID: caseID, OfficialID: "usr_o", Outcomes: json.RawMessage(`{}`),
			Rationale: "r", Bundle: bundle, CreatedAt: at(created)}
		must(t, "CreateDecision", s.CreateDecision(ctx, x))
		x.LogIndex = -1
		return x
	}
	// Oldest first is by creation time, not by id.
	dA := mk("dec_a", "case_1", 22, []byte("bundle a"))
	dB := mk("dec_b", "case_1", 20, []byte("bundle b"))
	mk("dec_c", "case_1", 21, nil) // unsigned: nothing to log
	dD := mk("dec_d", "case_2", 23, []byte("bundle d"))
	unlogged := func(limit int, want ...review.Decision) {
		t.Helper()
		got, err := s.ListUnloggedDecisions(ctx, limit)
		must(t, "ListUnloggedDecisions", err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("ListUnloggedDecisions(%d) mismatch (-want +got):\n%s", limit, diff)
		}
	}
	unlogged(0, dB, dA, dD)
	unlogged(2, dB, dA)

	must(t, "SetDecisionLog", s.SetDecisionLog(ctx, "dec_b", 5, []byte("receipt 1")))
	dB.LogIndex, dB.Receipt = 5, []byte("receipt 1")
	got, err := s.GetDecision(ctx, "dec_b")
	must(t, "GetDecision", err)
	if diff := cmp.Diff(dB, got); diff != "" {
		t.Fatalf("GetDecision after SetDecisionLog mismatch (-want +got):\n%s", diff)
	}
	unlogged(0, dA, dD)

	// The same index again is a retry; another index is a conflict.
	must(t, "SetDecisionLog(same index)", s.SetDecisionLog(ctx, "dec_b", 5, []byte("receipt 2")))
	wantErr(t, "SetDecisionLog(other index)", s.SetDecisionLog(ctx, "dec_b", 6, []byte("receipt 3")), review.ErrConflict)
	got, err = s.GetDecision(ctx, "dec_b")
	must(t, "GetDecision", err)
	if got.LogIndex != 5 || string(got.Receipt) != "receipt 2" {
		t.Fatalf("after a retry and a conflicting SetDecisionLog: index %d receipt %q, want 5 %q", got.LogIndex, got.Receipt, "receipt 2")
	}
	wantErr(t, "SetDecisionLog(missing)", s.SetDecisionLog(ctx, "dec_missing", 1, nil), review.ErrNotFound)

	// Index 0 is logged, not "unset".
	must(t, "SetDecisionLog(index 0)", s.SetDecisionLog(ctx, "dec_a", 0, nil))
	got, err = s.GetDecision(ctx, "dec_a")
	must(t, "GetDecision", err)
	if got.LogIndex != 0 || got.Receipt != nil {
		t.Fatalf("logged at 0 without receipt: index %d receipt %q, want 0 nil", got.LogIndex, got.Receipt)
	}
	wantErr(t, "SetDecisionLog(0 then 1)", s.SetDecisionLog(ctx, "dec_a", 1, nil), review.ErrConflict)
	unlogged(0, dD)
	must(t, "SetDecisionLog", s.SetDecisionLog(ctx, "dec_d", 9, []byte{0, 0xff}))
	unlogged(0)

	all, err := s.ListDecisions(ctx, "", review.Page{})
	must(t, "ListDecisions(all)", err)
	var ids []string
	var idx []int64
	for _, x := range all {
		ids, idx = append(ids, x.ID), append(idx, x.LogIndex)
	}
	if diff := cmp.Diff([]string{"dec_a", "dec_b", "dec_c", "dec_d"}, ids); diff != "" {
		t.Fatalf("ListDecisions(all) ids mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{0, 5, -1, 9}, idx); diff != "" {
		t.Fatalf("ListDecisions(all) log indexes mismatch (-want +got):\n%s", diff)
	}
}

func testAssessments(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	mkCase(t, s, "case_1", "org_a", review.StateInAssessment)
	mkCase(t, s, "case_2", "org_a", review.StateInAssessment)
	a1 := mkAssessment(t, s, "asm_1", "case_1", review.AssessmentQueued, 1)
	a2 := mkAssessment(t, s, "asm_2", "case_2", review.AssessmentRunning, 0)
	a3 := review.Assessment{ID: "asm_3", CaseID: "case_1", Spec: json.RawMessage(`{"imported":true}`), Shards: 1, ShardsDone: 1,
		State: review.AssessmentDone, Metrics: json.RawMessage(`{"jailbreak":{"rate":0.125,"n":40}}`), Imported: true,
		CreatedBy: "usr_b", Version: 1, CreatedAt: at(2), UpdatedAt: at(3)}
	must(t, "CreateAssessment", s.CreateAssessment(ctx, a3))
	a4 := mkAssessment(t, s, "asm_4", "case_1", review.AssessmentFailed, 3)

	for _, want := range []review.Assessment{a1, a3} {
		got, err := s.GetAssessment(ctx, want.ID)
		must(t, "GetAssessment", err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("GetAssessment(%s) mismatch (-want +got):\n%s", want.ID, diff)
		}
	}
	_, err := s.GetAssessment(ctx, "asm_missing")
	wantErr(t, "GetAssessment(missing)", err, review.ErrNotFound)
	wantErr(t, "CreateAssessment(duplicate)", s.CreateAssessment(ctx, a1), review.ErrConflict)
	orphan := a1
	orphan.ID, orphan.CaseID = "asm_9", "case_missing"
	wantErr(t, "CreateAssessment(missing case)", s.CreateAssessment(ctx, orphan), review.ErrNotFound)

	list := []struct {
		name   string
		caseID string
		p      review.Page
		want   []review.Assessment
	}{
		{"case_1", "case_1", review.Page{}, []review.Assessment{a1, a3, a4}},
		{"case_2", "case_2", review.Page{}, []review.Assessment{a2}},
		{"all", "", review.Page{}, []review.Assessment{a1, a2, a3, a4}},
		{"all page", "", review.Page{After: "asm_1", Limit: 2}, []review.Assessment{a2, a3}},
		{"case_1 page", "case_1", review.Page{After: "asm_1", Limit: 1}, []review.Assessment{a3}},
		{"no case", "case_missing", review.Page{}, nil},
	}
	for _, tt := range list {
		got, err := s.ListAssessments(ctx, tt.caseID, tt.p)
		must(t, "ListAssessments("+tt.name+")", err)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Fatalf("ListAssessments(%s) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}

	byState := []struct {
		limit  int
		states []review.AssessmentState
		want   []string
	}{
		{0, []review.AssessmentState{review.AssessmentQueued, review.AssessmentRunning}, []string{"asm_2", "asm_1"}},
		{1, []review.AssessmentState{review.AssessmentQueued, review.AssessmentRunning}, []string{"asm_2"}},
		{0, []review.AssessmentState{review.AssessmentDone}, []string{"asm_3"}},
		{0, []review.AssessmentState{review.AssessmentFailed, review.AssessmentDone, review.AssessmentQueued}, []string{"asm_1", "asm_3", "asm_4"}},
		{0, []review.AssessmentState{"unknown"}, nil},
		{0, nil, nil},
	}
	for _, tt := range byState {
		got, err := s.ListAssessmentsByState(ctx, tt.limit, tt.states...)
		must(t, "ListAssessmentsByState", err)
		var ids []string
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Fatalf("ListAssessmentsByState(%d, %v) mismatch (-want +got):\n%s", tt.limit, tt.states, diff)
		}
	}

	// UpdateAssessment stores State, ShardsDone, Metrics and Error only.
	next := a1
	next.State, next.ShardsDone, next.Error, next.UpdatedAt = review.AssessmentRunning, 2, "shard 3: target timed out", at(10)
	next.Metrics = json.RawMessage(`{"partial":true}`)
	changed := next
	changed.Spec, changed.Shards, changed.CreatedBy, changed.Imported = json.RawMessage(`{"other":1}`), 9, "usr_evil", true
	updated, err := s.UpdateAssessment(ctx, changed)
	must(t, "UpdateAssessment", err)
	if updated.Version != 2 || !updated.UpdatedAt.Equal(at(10)) {
		t.Fatalf("UpdateAssessment returned version %d updated %v, want 2 %v", updated.Version, updated.UpdatedAt, at(10))
	}
	next.Version = 2
	got, err := s.GetAssessment(ctx, a1.ID)
	must(t, "GetAssessment", err)
	if diff := cmp.Diff(next, got); diff != "" {
		t.Fatalf("GetAssessment after update mismatch (-want +got):\n%s", diff)
	}
	_, err = s.UpdateAssessment(ctx, changed) // version 1 is stale now
	wantErr(t, "UpdateAssessment(stale)", err, review.ErrConflict)
	missing := next
	missing.ID = "asm_missing"
	_, err = s.UpdateAssessment(ctx, missing)
	wantErr(t, "UpdateAssessment(missing)", err, review.ErrNotFound)
	// Metrics can be cleared again.
	next.Metrics, next.State = nil, review.AssessmentQueued
	next, err = s.UpdateAssessment(ctx, next)
	must(t, "UpdateAssessment(clear metrics)", err)
	got, err = s.GetAssessment(ctx, a1.ID)
	must(t, "GetAssessment", err)
	if diff := cmp.Diff(next, got); diff != "" {
		t.Fatalf("GetAssessment after clearing metrics mismatch (-want +got):\n%s", diff)
	}
	if got.Version != 3 || got.Metrics != nil {
		t.Fatalf("after two updates: version %d metrics %s, want 3 nil", got.Version, got.Metrics)
	}
}

func testMarkShardDone(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	mkCase(t, s, "case_1", "org_a", review.StateInAssessment)
	mkAssessment(t, s, "asm_1", "case_1", review.AssessmentRunning, 0)
	mkAssessment(t, s, "asm_2", "case_1", review.AssessmentRunning, 0)
	steps := []struct {
		asm   string
		shard int
		want  int
	}{
		{"asm_1", 0, 1},
		{"asm_1", 0, 1}, // again: no-op
		{"asm_1", 2, 2},
		{"asm_2", 0, 1}, // other assessments' shards do not count
		{"asm_1", 1, 3},
		{"asm_1", 2, 3},
		{"asm_1", 3, 4},
	}
	for i, st := range steps {
		n, err := s.MarkShardDone(ctx, st.asm, st.shard)
		must(t, "MarkShardDone", err)
		if n != st.want {
			t.Fatalf("step %d: MarkShardDone(%s, %d) = %d, want %d", i, st.asm, st.shard, n, st.want)
		}
	}
	_, err := s.MarkShardDone(ctx, "asm_missing", 0)
	wantErr(t, "MarkShardDone(missing)", err, review.ErrNotFound)

	// Concurrent finishes are serialised: each sees a different count.
	// Each shard stores its samples and marks itself done in one
	// transaction, as a shard job does.
	mkAssessment(t, s, "asm_3", "case_1", review.AssessmentRunning, 0)
	const n = 8
	samples := sampleFixture("asm_3", 4*n)
	var wg sync.WaitGroup
	counts := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Tx(ctx, func(tx review.Store) error {
				if err := tx.PutSamples(ctx, samples[4*i:4*i+4]); err != nil {
					return err
				}
				var err error
				counts[i], err = tx.MarkShardDone(ctx, "asm_3", i)
				return err
			})
		}()
	}
	wg.Wait()
	seen := make([]bool, n+1)
	for i := range n {
		must(t, fmt.Sprintf("concurrent MarkShardDone %d", i), errs[i])
		if counts[i] < 1 || counts[i] > n || seen[counts[i]] {
			t.Fatalf("concurrent MarkShardDone counts = %v, want each of 1..%d once", counts, n)
		}
		seen[counts[i]] = true
	}
}

// sampleFixture returns n samples of assessment id with varied fields.
func sampleFixture(id string, n int) []review.Sample {
	suites := []string{"jailbreak", "cyber"}
	categories := []string{"bio", "chem", "cyber"}
	transforms := []string{"none", "base64", "roleplay", "crescendo"}
	outcomes := []review.SampleOutcome{review.SamplePassed, review.SampleFlagged, review.SamplePassed, review.SampleError, review.SampleFlagged}
	xs := make([]review.Sample, n)
	for i := range xs {
		xs[i] = review.Sample{
			AssessmentID: id, Seq: i, Shard: i / 4, ID: fmt.Sprintf("%s-%03d", suites[i%2], i),
			Suite: suites[i%2], Category: categories[i%3], Transform: transforms[i%4], Kind: "single-turn",
			Outcome: outcomes[i%5], Harmful: i%5 == 1,
			Record: []byte(fmt.Sprintf("{\"seq\":%d,\"raw\":\"\x00\xff\"}", i)),
		}
	}
	return xs
}

func testSamples(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	mkCase(t, s, "case_1", "org_a", review.StateInAssessment)
	mkAssessment(t, s, "asm_1", "case_1", review.AssessmentRunning, 0)
	mkAssessment(t, s, "asm_2", "case_1", review.AssessmentRunning, 0)
	stored := sampleFixture("asm_1", 20)
	must(t, "PutSamples", s.PutSamples(ctx, stored[:12]))
	must(t, "PutSamples", s.PutSamples(ctx, stored[12:]))
	must(t, "PutSamples(other assessment)", s.PutSamples(ctx, sampleFixture("asm_2", 3)))
	must(t, "PutSamples(none)", s.PutSamples(ctx, nil))

	count := func(id string, want int) {
		t.Helper()
		n, err := s.CountSamples(ctx, id)
		must(t, "CountSamples", err)
		if n != want {
			t.Fatalf("CountSamples(%s) = %d, want %d", id, n, want)
		}
	}
	count("asm_1", 20)
	count("asm_2", 3)
	count("asm_missing", 0)
	got, err := s.GetSample(ctx, "asm_1", 7)
	must(t, "GetSample", err)
	if diff := cmp.Diff(stored[7], got); diff != "" {
		t.Fatalf("GetSample mismatch (-want +got):\n%s", diff)
	}
	_, err = s.GetSample(ctx, "asm_1", 20)
	wantErr(t, "GetSample(missing seq)", err, review.ErrNotFound)
	_, err = s.GetSample(ctx, "asm_2", 7)
	wantErr(t, "GetSample(seq of another assessment)", err, review.ErrNotFound)

	// Storing at a stored Seq replaces the sample; within one call the
	// last wins.
	re := stored[7]
	re.Shard, re.ID, re.Suite, re.Category, re.Transform, re.Kind = 9, "retried", "cyber", "chem", "base64", "multi-turn"
	re.Outcome, re.Harmful, re.Record = review.SampleError, false, []byte(`{"error":"timeout"}`)
	first := re
	first.Record = []byte(`{"superseded":true}`)
	must(t, "PutSamples(replace)", s.PutSamples(ctx, []review.Sample{first, re}))
	stored[7] = re
	count("asm_1", 20)
	got, err = s.GetSample(ctx, "asm_1", 7)
	must(t, "GetSample", err)
	if diff := cmp.Diff(re, got); diff != "" {
		t.Fatalf("GetSample after replace mismatch (-want +got):\n%s", diff)
	}

	// A batch with a bad sample stores none of it.
	orphan := stored[0]
	orphan.AssessmentID, orphan.Seq = "asm_missing", 0
	extra := stored[0]
	extra.Seq = 20
	wantErr(t, "PutSamples(missing assessment)", s.PutSamples(ctx, []review.Sample{extra, orphan}), review.ErrNotFound)
	count("asm_1", 20)
	neg := stored[0]
	neg.Seq = -1
	if err := s.PutSamples(ctx, []review.Sample{neg}); err == nil {
		t.Fatalf("PutSamples(seq -1) succeeded, want an error")
	}

	filters := []review.SampleFilter{
		{AfterSeq: -1},
		{AfterSeq: -7},
		{AfterSeq: 0},
		{AfterSeq: 18},
		{AfterSeq: 19},
		{AfterSeq: -1, Suite: "cyber"},
		{AfterSeq: -1, Category: "chem"},
		{AfterSeq: -1, Transform: "base64"},
		{AfterSeq: -1, Outcome: review.SampleFlagged},
		{AfterSeq: 4, Suite: "jailbreak", Outcome: review.SamplePassed},
		{AfterSeq: -1, Suite: "cyber", Category: "chem", Transform: "base64", Outcome: review.SampleError},
		{AfterSeq: -1, Suite: "none"},
		{AfterSeq: -1, Limit: 3},
		{AfterSeq: 2, Outcome: review.SampleFlagged, Limit: 2},
	}
	for _, f := range filters {
		f.AssessmentID = "asm_1"
		var want []review.Sample
		for _, x := range stored {
			if x.Seq > f.AfterSeq && (f.Suite == "" || x.Suite == f.Suite) && (f.Category == "" || x.Category == f.Category) &&
				(f.Transform == "" || x.Transform == f.Transform) && (f.Outcome == "" || x.Outcome == f.Outcome) &&
				(f.Limit == 0 || len(want) < f.Limit) {
				want = append(want, x)
			}
		}
		got, err := s.ListSamples(ctx, f)
		must(t, "ListSamples", err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("ListSamples(%+v) mismatch (-want +got):\n%s", f, diff)
		}
	}
	none, err := s.ListSamples(ctx, review.SampleFilter{AssessmentID: "asm_missing", AfterSeq: -1})
	must(t, "ListSamples(missing assessment)", err)
	if len(none) != 0 {
		t.Fatalf("ListSamples(missing assessment) = %d samples, want 0", len(none))
	}

	// Page through the flagged samples three at a time.
	var paged []review.Sample
	f := review.SampleFilter{AssessmentID: "asm_1", Outcome: review.SampleFlagged, AfterSeq: -1, Limit: 3}
	for {
		xs, err := s.ListSamples(ctx, f)
		must(t, "ListSamples(page)", err)
		if len(xs) == 0 {
			break
		}
		paged = append(paged, xs...)
		f.AfterSeq = xs[len(xs)-1].Seq
	}
	var flagged []review.Sample
	for _, x := range stored {
		if x.Outcome == review.SampleFlagged {
			flagged = append(flagged, x)
		}
	}
	if diff := cmp.Diff(flagged, paged); diff != "" {
		t.Fatalf("paged flagged samples mismatch (-want +got):\n%s", diff)
	}
}

func testSamplePageLimits(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	mkCase(t, s, "case_1", "org_a", review.StateInAssessment)
	mkAssessment(t, s, "asm_1", "case_1", review.AssessmentRunning, 0)
	must(t, "PutSamples", s.PutSamples(ctx, sampleFixture("asm_1", review.MaxPageLimit+1)))
	for _, tt := range []struct{ limit, want int }{
		{0, review.DefaultPageLimit},
		{-1, review.DefaultPageLimit},
		{7, 7},
		{review.MaxPageLimit + 1, review.MaxPageLimit},
	} {
		xs, err := s.ListSamples(ctx, review.SampleFilter{AssessmentID: "asm_1", AfterSeq: -1, Limit: tt.limit})
		must(t, "ListSamples", err)
		if len(xs) != tt.want || xs[0].Seq != 0 || xs[len(xs)-1].Seq != tt.want-1 {
			t.Fatalf("ListSamples(limit %d) = %d samples, want seqs 0..%d", tt.limit, len(xs), tt.want-1)
		}
	}
}

func testResponseCache(t *testing.T, s review.Store) {
	ctx := context.Background()
	_, err := s.CachedResponse(ctx, "k1")
	wantErr(t, "CachedResponse(missing)", err, review.ErrNotFound)
	first := []byte("{\"choices\":[]}\x00\xff")
	must(t, "PutCachedResponse", s.PutCachedResponse(ctx, "k1", first))
	must(t, "PutCachedResponse(again)", s.PutCachedResponse(ctx, "k1", []byte("second")))
	must(t, "PutCachedResponse(other key)", s.PutCachedResponse(ctx, "k2", []byte("other")))
	for _, tt := range []struct {
		key  string
		want []byte
	}{{"k1", first}, {"k2", []byte("other")}} {
		got, err := s.CachedResponse(ctx, tt.key)
		must(t, "CachedResponse", err)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Fatalf("CachedResponse(%s) mismatch (-want +got):\n%s", tt.key, diff)
		}
	}
}

func testIdempotencyKeys(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	mkUser(t, s, "usr_1", "org_a")
	mkUser(t, s, "usr_2", "org_a")
	mkCase(t, s, "case_1", "org_a", review.StateSubmitted)
	_, err := s.GetIdempotencyKey(ctx, "usr_1", "key-1")
	wantErr(t, "GetIdempotencyKey(missing)", err, review.ErrNotFound)
	k := review.IdempotencyKey{UserID: "usr_1", Key: "key-1", RequestHash: review.HashToken("body"), CaseID: "case_1", CreatedAt: at(3)}
	must(t, "CreateIdempotencyKey", s.CreateIdempotencyKey(ctx, k))
	other := k
	other.RequestHash, other.CreatedAt = review.HashToken("another body"), at(4)
	wantErr(t, "CreateIdempotencyKey(taken)", s.CreateIdempotencyKey(ctx, other), review.ErrConflict)
	otherUser := other
	otherUser.UserID = "usr_2"
	must(t, "CreateIdempotencyKey(same key, other user)", s.CreateIdempotencyKey(ctx, otherUser))
	otherKey := other
	otherKey.Key = "key-2"
	must(t, "CreateIdempotencyKey(other key)", s.CreateIdempotencyKey(ctx, otherKey))
	for _, want := range []review.IdempotencyKey{k, otherUser, otherKey} {
		got, err := s.GetIdempotencyKey(ctx, want.UserID, want.Key)
		must(t, "GetIdempotencyKey", err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("GetIdempotencyKey(%s, %s) mismatch (-want +got):\n%s", want.UserID, want.Key, diff)
		}
	}
	_, err = s.GetIdempotencyKey(ctx, "usr_2", "key-2")
	wantErr(t, "GetIdempotencyKey(other user's key)", err, review.ErrNotFound)
}

func testWebhooks(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	mkOrg(t, s, "org_b", review.OrgDeveloper)
	w1 := review.Webhook{ID: "whk_1", OrgID: "org_a", URL: "https://hooks.a.example/clearance", Secret: []byte("age\x00\xffsealed"),
		Events: []string{"case.transition", "case.decided"}, CreatedBy: "usr_1", CreatedAt: at(1)}
	w2 := review.Webhook{ID: "whk_2", OrgID: "org_b", URL: "https://b.example/h", Secret: []byte("s2"), CreatedBy: "usr_2", CreatedAt: at(2)}
	w3 := review.Webhook{ID: "whk_3", OrgID: "org_a", URL: "https://a.example/old", Secret: []byte("s3"), Events: []string{"case.decided"},
		CreatedBy: "usr_1", Disabled: true, CreatedAt: at(3)}
	for _, w := range []review.Webhook{w1, w2, w3} {
		must(t, "CreateWebhook", s.CreateWebhook(ctx, w))
	}
	wantErr(t, "CreateWebhook(duplicate)", s.CreateWebhook(ctx, w1), review.ErrConflict)
	orphan := w2
	orphan.ID, orphan.OrgID = "whk_9", "org_missing"
	wantErr(t, "CreateWebhook(missing org)", s.CreateWebhook(ctx, orphan), review.ErrNotFound)
	for _, want := range []review.Webhook{w1, w2, w3} {
		got, err := s.GetWebhook(ctx, want.ID)
		must(t, "GetWebhook", err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("GetWebhook(%s) mismatch (-want +got):\n%s", want.ID, diff)
		}
	}
	_, err := s.GetWebhook(ctx, "whk_missing")
	wantErr(t, "GetWebhook(missing)", err, review.ErrNotFound)

	must(t, "DisableWebhook", s.DisableWebhook(ctx, "whk_1"))
	must(t, "DisableWebhook(again)", s.DisableWebhook(ctx, "whk_1"))
	wantErr(t, "DisableWebhook(missing)", s.DisableWebhook(ctx, "whk_missing"), review.ErrNotFound)
	w1.Disabled = true
	for _, tt := range []struct {
		org  string
		p    review.Page
		want []review.Webhook
	}{
		{"org_a", review.Page{}, []review.Webhook{w1, w3}},
		{"org_b", review.Page{}, []review.Webhook{w2}},
		{"", review.Page{}, []review.Webhook{w1, w2, w3}},
		{"", review.Page{After: "whk_1", Limit: 1}, []review.Webhook{w2}},
		{"org_a", review.Page{After: "whk_1"}, []review.Webhook{w3}},
		{"org_missing", review.Page{}, nil},
	} {
		got, err := s.ListWebhooks(ctx, tt.org, tt.p)
		must(t, "ListWebhooks", err)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Fatalf("ListWebhooks(%q, %+v) mismatch (-want +got):\n%s", tt.org, tt.p, diff)
		}
	}
}

// testWebhookBreaker checks the circuit breaker's state: failures
// count up (concurrently too), a success clears them, a pause is stored,
// exactly one of concurrent callers claims the probe after a pause, and
// enabling clears everything but the record of the last error.
func testWebhookBreaker(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	w := review.Webhook{ID: "whk_1", OrgID: "org_a", URL: "https://a.example/h", Secret: []byte("s"), CreatedBy: "usr_1", CreatedAt: at(1)}
	must(t, "CreateWebhook", s.CreateWebhook(ctx, w))
	get := func() review.Webhook {
		t.Helper()
		got, err := s.GetWebhook(ctx, "whk_1")
		must(t, "GetWebhook", err)
		return got
	}
	n, err := s.RecordWebhookFailure(ctx, "whk_1", "status 503", at(2))
	must(t, "RecordWebhookFailure", err)
	if n != 1 {
		t.Fatalf("RecordWebhookFailure = %d, want 1", n)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.RecordWebhookFailure(ctx, "whk_1", "timeout", at(3))
			if err != nil {
				t.Errorf("RecordWebhookFailure: %v", err)
			}
		}()
	}
	wg.Wait()
	_, err = s.RecordWebhookFailure(ctx, "whk_missing", "timeout", at(3))
	wantErr(t, "RecordWebhookFailure(missing)", err, review.ErrNotFound)
	must(t, "PauseWebhook", s.PauseWebhook(ctx, "whk_1", at(10)))
	wantErr(t, "PauseWebhook(missing)", s.PauseWebhook(ctx, "whk_missing", at(10)), review.ErrNotFound)
	want := w
	want.Failures, want.LastError, want.LastFailureAt, want.PausedUntil = 9, "timeout", at(3), at(10)
	if diff := cmp.Diff(want, get()); diff != "" {
		t.Fatalf("after 9 failures and a pause (-want +got):\n%s", diff)
	}

	if ok, err := s.ClaimWebhookProbe(ctx, "whk_1", at(9), at(20)); err != nil || ok {
		t.Fatalf("ClaimWebhookProbe before the pause ends = %v, %v; want false", ok, err)
	}
	var claimed atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.ClaimWebhookProbe(ctx, "whk_1", at(10), at(20))
			if err != nil {
				t.Errorf("ClaimWebhookProbe: %v", err)
			}
			if ok {
				claimed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := claimed.Load(); n != 1 {
		t.Fatalf("%d concurrent ClaimWebhookProbe calls won, want 1", n)
	}
	if got := get().PausedUntil; !got.Equal(at(20)) {
		t.Fatalf("PausedUntil after the claim = %v, want %v", got, at(20))
	}

	must(t, "RecordWebhookSuccess", s.RecordWebhookSuccess(ctx, "whk_1"))
	want.Failures, want.PausedUntil = 0, time.Time{}
	if diff := cmp.Diff(want, get()); diff != "" {
		t.Fatalf("after a success (-want +got):\n%s", diff)
	}
	if ok, err := s.ClaimWebhookProbe(ctx, "whk_1", at(30), at(40)); err != nil || ok {
		t.Fatalf("ClaimWebhookProbe of a webhook not paused = %v, %v; want false", ok, err)
	}

	must(t, "DisableWebhook", s.DisableWebhook(ctx, "whk_1"))
	_, err = s.RecordWebhookFailure(ctx, "whk_1", "connection", at(4))
	must(t, "RecordWebhookFailure", err)
	must(t, "PauseWebhook", s.PauseWebhook(ctx, "whk_1", at(50)))
	must(t, "EnableWebhook", s.EnableWebhook(ctx, "whk_1"))
	wantErr(t, "EnableWebhook(missing)", s.EnableWebhook(ctx, "whk_missing"), review.ErrNotFound)
	want.LastError, want.LastFailureAt = "connection", at(4)
	if diff := cmp.Diff(want, get()); diff != "" {
		t.Fatalf("after EnableWebhook (-want +got):\n%s", diff)
	}
}

func testCursors(t *testing.T, s review.Store) {
	ctx := context.Background()
	steps := []struct {
		set  bool
		name string
		v    int64
	}{
		{false, "webhooks", 0}, // never set
		{true, "webhooks", 5},
		{false, "webhooks", 5},
		{false, "anchors", 0},
		{true, "webhooks", 3}, // set, not max
		{false, "webhooks", 3},
		{true, "anchors", 1 << 62},
		{false, "anchors", 1 << 62},
		{false, "webhooks", 3},
	}
	for i, st := range steps {
		if st.set {
			must(t, "SetCursor", s.SetCursor(ctx, st.name, st.v))
			continue
		}
		v, err := s.Cursor(ctx, st.name)
		must(t, "Cursor", err)
		if v != st.v {
			t.Fatalf("step %d: Cursor(%s) = %d, want %d", i, st.name, v, st.v)
		}
	}
}

func testAnchors(t *testing.T, s review.Store) {
	ctx := context.Background()
	_, err := s.LastAnchor(ctx)
	wantErr(t, "LastAnchor(empty)", err, review.ErrNotFound)
	var es []review.AuditEntry
	for i := range 3 {
		e, err := s.AppendAudit(ctx, review.AuditEntry{Time: at(i), Actor: "usr_1", Action: "case.transition"})
		must(t, "AppendAudit", err)
		es = append(es, e)
	}
	a2 := review.Anchor{Seq: es[1].Seq, Hash: es[1].Hash, LogIndex: 0, CreatedAt: at(10)}
	a3 := review.Anchor{Seq: es[2].Seq, Hash: es[2].Hash, LogIndex: 4, CreatedAt: at(11)}
	a1 := review.Anchor{Seq: es[0].Seq, Hash: es[0].Hash, LogIndex: 9, CreatedAt: at(12)} // anchored last, but oldest
	for i, tt := range []struct {
		create review.Anchor
		last   review.Anchor
	}{{a2, a2}, {a3, a3}, {a1, a3}} {
		must(t, "CreateAnchor", s.CreateAnchor(ctx, tt.create))
		got, err := s.LastAnchor(ctx)
		must(t, "LastAnchor", err)
		if diff := cmp.Diff(tt.last, got); diff != "" {
			t.Fatalf("step %d: LastAnchor mismatch (-want +got):\n%s", i, diff)
		}
	}
	wantErr(t, "CreateAnchor(duplicate seq)", s.CreateAnchor(ctx, a3), review.ErrConflict)
}

// testTxRollbackJobs checks that a rolled-back transaction leaves no
// trace in the tables added for jobs, samples and the service's records.
func testTxRollbackJobs(t *testing.T, s review.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	mkUser(t, s, "usr_1", "org_a")
	mkCase(t, s, "case_1", "org_a", review.StateInAssessment)
	a := mkAssessment(t, s, "asm_1", "case_1", review.AssessmentQueued, 0)
	d := review.Decision{ID: "dec_1", CaseID: "case_1", OfficialID: "usr_o", Outcomes: json.RawMessage(`{}`), Bundle: []byte("b"), CreatedAt: at(1)}
	must(t, "CreateDecision", s.CreateDecision(ctx, d))
	err := s.Tx(ctx, func(tx review.Store) error {
		must(t, "CreateAssessment in tx", tx.CreateAssessment(ctx, review.Assessment{ID: "asm_2", CaseID: "case_1",
			Spec: json.RawMessage(`{}`), Shards: 1, State: review.AssessmentQueued, Version: 1, CreatedAt: at(0), UpdatedAt: at(0)}))
		up := a
		up.State, up.UpdatedAt = review.AssessmentRunning, at(5)
		if _, err := tx.UpdateAssessment(ctx, up); err != nil {
			t.Errorf("UpdateAssessment in tx: %v", err)
		}
		if n, err := tx.MarkShardDone(ctx, "asm_1", 0); err != nil || n != 1 {
			t.Errorf("MarkShardDone in tx = %d, %v; want 1", n, err)
		}
		must(t, "PutSamples in tx", tx.PutSamples(ctx, sampleFixture("asm_1", 5)))
		if n, err := tx.CountSamples(ctx, "asm_1"); err != nil || n != 5 {
			t.Errorf("CountSamples in tx = %d, %v; want 5", n, err)
		}
		must(t, "SetDecisionLog in tx", tx.SetDecisionLog(ctx, "dec_1", 3, []byte("r")))
		must(t, "PutCachedResponse in tx", tx.PutCachedResponse(ctx, "k", []byte("v")))
		must(t, "CreateIdempotencyKey in tx", tx.CreateIdempotencyKey(ctx, review.IdempotencyKey{UserID: "usr_1", Key: "k",
			CaseID: "case_1", CreatedAt: at(0)}))
		must(t, "CreateWebhook in tx", tx.CreateWebhook(ctx, review.Webhook{ID: "whk_1", OrgID: "org_a", URL: "https://a.example",
			Secret: []byte("s"), CreatedAt: at(0)}))
		must(t, "SetCursor in tx", tx.SetCursor(ctx, "webhooks", 7))
		e, err := tx.AppendAudit(ctx, review.AuditEntry{Time: at(0), Actor: "u", Action: "x"})
		must(t, "AppendAudit in tx", err)
		must(t, "CreateAnchor in tx", tx.CreateAnchor(ctx, review.Anchor{Seq: e.Seq, Hash: e.Hash, LogIndex: 1, CreatedAt: at(0)}))
		if v, err := tx.Cursor(ctx, "webhooks"); err != nil || v != 7 {
			t.Errorf("Cursor in tx = %d, %v; want 7", v, err)
		}
		return boom
	})
	wantErr(t, "Tx", err, boom)

	_, err = s.GetAssessment(ctx, "asm_2")
	wantErr(t, "GetAssessment(created in rolled-back tx)", err, review.ErrNotFound)
	got, err := s.GetAssessment(ctx, "asm_1")
	must(t, "GetAssessment", err)
	if diff := cmp.Diff(a, got); diff != "" {
		t.Fatalf("assessment updated in a rolled-back tx changed (-want +got):\n%s", diff)
	}
	if n, err := s.MarkShardDone(ctx, "asm_1", 1); err != nil || n != 1 {
		t.Fatalf("MarkShardDone after rollback = %d, %v; want 1 (shard 0 rolled back)", n, err)
	}
	if n, err := s.CountSamples(ctx, "asm_1"); err != nil || n != 0 {
		t.Fatalf("CountSamples after rollback = %d, %v; want 0", n, err)
	}
	gotD, err := s.GetDecision(ctx, "dec_1")
	must(t, "GetDecision", err)
	if gotD.LogIndex != -1 || gotD.Receipt != nil {
		t.Fatalf("decision logged in a rolled-back tx: index %d receipt %q", gotD.LogIndex, gotD.Receipt)
	}
	_, err = s.CachedResponse(ctx, "k")
	wantErr(t, "CachedResponse after rollback", err, review.ErrNotFound)
	_, err = s.GetIdempotencyKey(ctx, "usr_1", "k")
	wantErr(t, "GetIdempotencyKey after rollback", err, review.ErrNotFound)
	_, err = s.GetWebhook(ctx, "whk_1")
	wantErr(t, "GetWebhook after rollback", err, review.ErrNotFound)
	if v, err := s.Cursor(ctx, "webhooks"); err != nil || v != 0 {
		t.Fatalf("Cursor after rollback = %d, %v; want 0", v, err)
	}
	_, err = s.LastAnchor(ctx)
	wantErr(t, "LastAnchor after rollback", err, review.ErrNotFound)
}

func testUserDisabled(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	u := review.User{ID: "usr_1", OrgID: "org_a", Name: "Dev", Roles: []review.Role{review.RoleDeveloper}, CreatedAt: at(1)}
	must(t, "CreateUser", s.CreateUser(ctx, u))
	for _, disabled := range []bool{true, true, false} {
		must(t, "SetUserDisabled", s.SetUserDisabled(ctx, "usr_1", disabled))
		got, err := s.GetUser(ctx, "usr_1")
		must(t, "GetUser", err)
		if got.Disabled != disabled {
			t.Fatalf("after SetUserDisabled(%v) Disabled = %v", disabled, got.Disabled)
		}
	}
	wantErr(t, "SetUserDisabled(missing)", s.SetUserDisabled(ctx, "usr_missing", true), review.ErrNotFound)
}

// testTokenChains checks ParentID round trips, listing by user, and that
// revocation cascades to every descendant (and only to them), also below
// an already revoked token, keeping first revocation times.
func testTokenChains(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	for _, id := range []string{"usr_1", "usr_2"} {
		must(t, "CreateUser", s.CreateUser(ctx, review.User{ID: id, OrgID: "org_a", Name: id, Roles: []review.Role{review.RoleDeveloper}, CreatedAt: at(1)}))
	}
	mk := func(id, user, parent string) review.Token {
		t.Helper()
		tok := review.Token{ID: id, UserID: user, Name: "n " + id, Hash: review.HashToken(id), CreatedAt: at(2), ParentID: parent}
		must(t, "CreateToken "+id, s.CreateToken(ctx, tok))
		return tok
	}
	// root ─┬─ a ─── a1 ─── a11
	//       └─ b (usr_2)
	// other ── o
	root := mk("tok_0root", "usr_1", "")
	a := mk("tok_1a", "usr_1", "tok_0root")
	mk("tok_2a1", "usr_1", "tok_1a")
	mk("tok_3a11", "usr_1", "tok_2a1")
	mk("tok_4b", "usr_2", "tok_0root")
	mk("tok_5other", "usr_1", "")
	mk("tok_6o", "usr_1", "tok_5other")
	got, err := s.GetToken(ctx, "tok_1a")
	must(t, "GetToken", err)
	if diff := cmp.Diff(a, got); diff != "" {
		t.Fatalf("GetToken mismatch (-want +got):\n%s", diff)
	}
	_, err = s.GetToken(ctx, "tok_missing")
	wantErr(t, "GetToken(missing)", err, review.ErrNotFound)
	wantErr(t, "CreateToken(missing parent)", s.CreateToken(ctx, review.Token{ID: "tok_x", UserID: "usr_1", Name: "x",
		Hash: review.HashToken("x"), CreatedAt: at(2), ParentID: "tok_missing"}), review.ErrNotFound)

	ts, err := s.ListTokens(ctx, "usr_1", review.Page{})
	must(t, "ListTokens", err)
	var ids []string
	for _, x := range ts {
		ids = append(ids, x.ID)
	}
	if diff := cmp.Diff([]string{"tok_0root", "tok_1a", "tok_2a1", "tok_3a11", "tok_5other", "tok_6o"}, ids); diff != "" {
		t.Fatalf("ListTokens(usr_1) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(root, ts[0]); diff != "" {
		t.Fatalf("ListTokens(usr_1)[0] mismatch (-want +got):\n%s", diff)
	}
	ts, err = s.ListTokens(ctx, "usr_1", review.Page{After: "tok_2a1", Limit: 2})
	must(t, "ListTokens(page)", err)
	if len(ts) != 2 || ts[0].ID != "tok_3a11" || ts[1].ID != "tok_5other" {
		t.Fatalf("ListTokens(after tok_2a1, limit 2) = %v", ts)
	}

	// Revoking a1 first, then the root: a11 keeps a1's time.
	must(t, "RevokeToken(a1)", s.RevokeToken(ctx, "tok_2a1", at(10)))
	must(t, "RevokeToken(root)", s.RevokeToken(ctx, "tok_0root", at(20)))
	want := map[string]time.Time{"tok_0root": at(20), "tok_1a": at(20), "tok_2a1": at(10), "tok_3a11": at(10),
		"tok_4b": at(20), "tok_5other": {}, "tok_6o": {}}
	for id, w := range want {
		got, err := s.GetToken(ctx, id)
		must(t, "GetToken "+id, err)
		if !got.RevokedAt.Equal(w) {
			t.Errorf("%s RevokedAt = %v, want %v", id, got.RevokedAt, w)
		}
	}
	wantErr(t, "CreateToken(revoked parent)", s.CreateToken(ctx, review.Token{ID: "tok_y", UserID: "usr_1", Name: "y",
		Hash: review.HashToken("y"), CreatedAt: at(30), ParentID: "tok_1a"}), review.ErrConflict)
	if _, err := s.GetToken(ctx, "tok_y"); !errors.Is(err, review.ErrNotFound) {
		t.Fatalf("a child of a revoked token was stored (GetToken = %v)", err)
	}
	// In a transaction that rolls back, the cascade is undone too.
	errRollback := errors.New("roll back")
	err = s.Tx(ctx, func(tx review.Store) error {
		must(t, "RevokeToken(other) in Tx", tx.RevokeToken(ctx, "tok_5other", at(40)))
		return errRollback
	})
	wantErr(t, "Tx", err, errRollback)
	if got, _ := s.GetToken(ctx, "tok_6o"); !got.RevokedAt.IsZero() {
		t.Fatalf("rolled-back cascade left tok_6o revoked at %v", got.RevokedAt)
	}
}

// testConcurrentTokenRevoke races minting children of a token against
// its revocation: afterwards every child that was stored is revoked.
func testConcurrentTokenRevoke(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	must(t, "CreateUser", s.CreateUser(ctx, review.User{ID: "usr_1", OrgID: "org_a", Name: "u", Roles: []review.Role{review.RoleDeveloper}, CreatedAt: at(1)}))
	must(t, "CreateToken", s.CreateToken(ctx, review.Token{ID: "tok_0", UserID: "usr_1", Name: "p", Hash: review.HashToken("p"), CreatedAt: at(1)}))
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Chains two deep, so the cascade has to reach grandchildren.
			parent := "tok_0"
			for depth := range 2 {
				id := fmt.Sprintf("tok_%d_%d", i+1, depth)
				err := s.Tx(ctx, func(tx review.Store) error {
					return tx.CreateToken(ctx, review.Token{ID: id, UserID: "usr_1", Name: "c", Hash: review.HashToken(id), CreatedAt: at(2), ParentID: parent})
				})
				if err != nil {
					if !errors.Is(err, review.ErrConflict) {
						t.Errorf("CreateToken %s: %v, want nil or ErrConflict", id, err)
					}
					return
				}
				parent = id
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.Tx(ctx, func(tx review.Store) error { return tx.RevokeToken(ctx, "tok_0", at(5)) }); err != nil {
			t.Errorf("RevokeToken: %v", err)
		}
	}()
	wg.Wait()
	ts, err := s.ListTokens(ctx, "usr_1", review.Page{Limit: review.MaxPageLimit})
	must(t, "ListTokens", err)
	for _, x := range ts {
		if x.RevokedAt.IsZero() {
			t.Errorf("token %s (parent %s) survived its ancestor's revocation", x.ID, x.ParentID)
		}
	}
}

// testOrgUsage checks OrgUsage's counts (and that ListCases leaves the
// dossiers it counts out), and that within a Tx it holds
// the organisation: of concurrent transactions that each create a case
// while the count is under a limit, exactly the limit's worth succeed.
func testOrgUsage(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	mkOrg(t, s, "org_b", review.OrgDeveloper)
	var size int64
	for i, st := range []review.State{review.StateSubmitted, review.StateDecided, review.StateWithdrawn, review.StateUnderReview} {
		c := mkCase(t, s, fmt.Sprintf("case_a%d", i), "org_a", st)
		size = int64(len(c.Dossier))
	}
	mkCase(t, s, "case_b0", "org_b", review.StateSubmitted)
	u, err := s.OrgUsage(ctx, "org_a")
	must(t, "OrgUsage(org_a)", err)
	if want := (review.Usage{OpenCases: 2, Bytes: 4 * size}); u != want {
		t.Fatalf("OrgUsage(org_a) = %+v, want %+v", u, want)
	}
	// Lists leave the dossiers out (GetCase has them).
	cs, err := s.ListCases(ctx, review.CaseFilter{OrgID: "org_a"})
	must(t, "ListCases(org_a)", err)
	for _, c := range cs {
		if c.Dossier != nil {
			t.Fatalf("ListCases returned case %s with its dossier %q", c.ID, c.Dossier)
		}
	}
	if c, err := s.GetCase(ctx, "case_a0"); err != nil || int64(len(c.Dossier)) != size {
		t.Fatalf("GetCase(case_a0) dossier %q, %v; want %d bytes", c.Dossier, err, size)
	}
	// The usage follows each case between open and closed, and only then:
	// a move within the open states, or an assignment, changes nothing.
	for _, step := range []struct {
		id    string
		state review.State
		open  int
	}{
		{"case_a0", review.StateUnderReview, 2}, // open → open
		{"case_a0", review.StateDecided, 1},     // open → closed
		{"case_a1", review.StateAppealed, 2},    // closed → open
		{"case_a2", review.StateWithdrawn, 2},   // closed → closed
		{"case_a3", review.StateWithdrawn, 1},   // open → closed
	} {
		c, err := s.GetCase(ctx, step.id)
		must(t, "GetCase", err)
		c.State, c.Assignees = step.state, []string{"user_x"}
		_, err = s.UpdateCase(ctx, c)
		must(t, "UpdateCase("+step.id+")", err)
		u, err := s.OrgUsage(ctx, "org_a")
		must(t, "OrgUsage(org_a)", err)
		if want := (review.Usage{OpenCases: step.open, Bytes: 4 * size}); u != want {
			t.Fatalf("after %s → %s: OrgUsage(org_a) = %+v, want %+v", step.id, step.state, u, want)
		}
	}
	if u, err := s.OrgUsage(ctx, "org_b"); err != nil || u.OpenCases != 1 {
		t.Fatalf("OrgUsage(org_b) = %+v, %v; want 1 open case, untouched by org_a's", u, err)
	}
	u, err = s.OrgUsage(ctx, "org_missing")
	must(t, "OrgUsage(org_missing)", err)
	if u != (review.Usage{}) {
		t.Fatalf("OrgUsage(org_missing) = %+v, want zero", u)
	}

	mkOrg(t, s, "org_c", review.OrgDeveloper)
	const limit, tries = 3, 8
	var wg sync.WaitGroup
	errs := make(chan error, tries)
	for i := range tries {
		wg.Go(func() {
			errs <- s.Tx(ctx, func(tx review.Store) error {
				u, err := tx.OrgUsage(ctx, "org_c")
				if err != nil || u.OpenCases >= limit {
					return err
				}
				c := review.Case{ID: fmt.Sprintf("case_c%d", i), OrgID: "org_c", ModelDigest: "sha256:" + fmt.Sprintf("%064x", 7),
					ModelName: "m", Dossier: json.RawMessage(`{}`), TargetURL: "https://api.example/v1", Profiles: []string{"p"},
					State: review.StateSubmitted, Version: 1, CreatedAt: at(0), UpdatedAt: at(0)}
				return tx.CreateCase(ctx, c)
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "Tx(OrgUsage, CreateCase)", err)
	}
	u, err = s.OrgUsage(ctx, "org_c")
	must(t, "OrgUsage(org_c)", err)
	if u.OpenCases != limit || u.Bytes != 2*limit {
		t.Fatalf("after %d racing transactions under a limit of %d: OrgUsage = %+v", tries, limit, u)
	}
}

// testTargetLimits checks UpdateTargetLimit: a new target starts at the
// zero value, what fn leaves is stored (times to the microsecond, UTC),
// an error from fn or an invalid limit stores nothing, targets are
// independent, and concurrent updates of one target are serialised.
func testTargetLimits(t *testing.T, s review.Store) {
	ctx := context.Background()
	_, err := s.UpdateTargetLimit(ctx, "", func(*review.TargetLimit) error { return nil })
	wantErr(t, "UpdateTargetLimit(empty target)", err, review.ErrInvalidInput)

	var seen review.TargetLimit
	exp := base.Add(1500 * time.Nanosecond).In(time.FixedZone("x", 3600))
	got, err := s.UpdateTargetLimit(ctx, "openai:m@https://a/v1", func(l *review.TargetLimit) error {
		seen = *l
		l.Limit, l.Max = 20.5, 64
		l.PauseUntil, l.LastCut = exp, at(1)
		l.Leases = []review.TargetLease{{Holder: "w1", Slots: 5, Want: 8, Expires: exp}}
		return nil
	})
	must(t, "UpdateTargetLimit", err)
	if seen.Target != "openai:m@https://a/v1" || seen.Limit != 0 || seen.Max != 0 || len(seen.Leases) != 0 || !seen.PauseUntil.IsZero() {
		t.Errorf("a new target's limit = %+v, want the zero value with its Target", seen)
	}
	us := base.Add(time.Microsecond) // exp, truncated
	want := review.TargetLimit{Target: "openai:m@https://a/v1", Limit: 20.5, Max: 64, PauseUntil: us, LastCut: at(1),
		Leases: []review.TargetLease{{Holder: "w1", Slots: 5, Want: 8, Expires: us}}}
	ignore := cmpopts.IgnoreFields(review.TargetLimit{}, "UpdatedAt")
	if d := cmp.Diff(want, got, ignore); d != "" {
		t.Errorf("UpdateTargetLimit returned (-want +got):\n%s", d)
	}
	_, err = s.UpdateTargetLimit(ctx, "openai:m@https://a/v1", func(l *review.TargetLimit) error {
		seen = *l
		l.Limit = 1
		return errors.New("boom")
	})
	if err == nil || err.Error() != "boom" {
		t.Errorf("UpdateTargetLimit with failing fn: error %v, want fn's", err)
	}
	if d := cmp.Diff(want, seen, ignore); d != "" {
		t.Errorf("stored limit (-want +got):\n%s", d)
	}
	if seen.UpdatedAt.IsZero() || seen.UpdatedAt.Location() != time.UTC {
		t.Errorf("UpdatedAt = %v, want a UTC time", seen.UpdatedAt)
	}
	_, err = s.UpdateTargetLimit(ctx, "openai:m@https://a/v1", func(l *review.TargetLimit) error { l.Limit = -1; return nil })
	wantErr(t, "UpdateTargetLimit(negative limit)", err, review.ErrInvalidInput)
	_, err = s.UpdateTargetLimit(ctx, "openai:m@https://a/v1", func(l *review.TargetLimit) error { seen = *l; return nil })
	must(t, "UpdateTargetLimit(read)", err)
	if seen.Limit != 20.5 {
		t.Errorf("after a refused update the limit is %v, want 20.5", seen.Limit)
	}

	// Concurrent updates of one target each see the previous one's
	// result; another target is apart.
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.UpdateTargetLimit(ctx, "t2", func(l *review.TargetLimit) error {
				l.Limit++
				l.Leases = append(l.Leases, review.TargetLease{Holder: fmt.Sprintf("w%d", i), Slots: 1})
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "concurrent UpdateTargetLimit", err)
	}
	got, err = s.UpdateTargetLimit(ctx, "t2", func(*review.TargetLimit) error { return nil })
	must(t, "UpdateTargetLimit(t2)", err)
	if got.Limit != n || len(got.Leases) != n {
		t.Errorf("after %d concurrent increments: limit %v with %d leases, want %d and %d", n, got.Limit, len(got.Leases), n, n)
	}
	got, err = s.UpdateTargetLimit(ctx, "openai:m@https://a/v1", func(*review.TargetLimit) error { return nil })
	must(t, "UpdateTargetLimit(first target)", err)
	if got.Limit != 20.5 {
		t.Errorf("another target's updates changed this one's limit to %v", got.Limit)
	}
}

// testJointReview: a case's agencies, and the compartment (OrgID,
// Shared) of its assessments and findings, round-trip through create,
// update, get and list; a case or record made without them reads back
// as one that is not joint.
func testJointReview(t *testing.T, s review.Store) {
	ctx := context.Background()
	mkOrg(t, s, "org_a", review.OrgDeveloper)
	c := mkCase(t, s, "case_1", "org_a", review.StateInAssessment)
	got, err := s.GetCase(ctx, c.ID)
	must(t, "GetCase", err)
	if got.Agencies != nil {
		t.Fatalf("new case agencies = %+v, want none", got.Agencies)
	}
	next := got
	next.Agencies = []review.CaseAgency{
		{OrgID: "org_lead", Lead: true, Domains: []string{"autonomy", "chem-bio", "cyber", "safeguards"}, AddedBy: "usr_o", AddedAt: at(5)},
		{OrgID: "org_b", Domains: []string{"cyber"}, AddedBy: "usr_o", AddedAt: at(6)},
	}
	next.UpdatedAt = at(6)
	updated, err := s.UpdateCase(ctx, next)
	must(t, "UpdateCase(agencies)", err)
	got, err = s.GetCase(ctx, c.ID)
	must(t, "GetCase", err)
	if diff := cmp.Diff(updated, got); diff != "" {
		t.Fatalf("GetCase after agencies mismatch (-want +got):\n%s", diff)
	}
	cs, err := s.ListCases(ctx, review.CaseFilter{})
	must(t, "ListCases", err)
	if len(cs) != 1 || !cmp.Equal(cs[0].Agencies, next.Agencies) {
		t.Fatalf("ListCases agencies = %+v", cs)
	}
	// A later update that keeps the agencies keeps them.
	got.State, got.UpdatedAt = review.StateUnderReview, at(7)
	_, err = s.UpdateCase(ctx, got)
	must(t, "UpdateCase(state)", err)
	if again, _ := s.GetCase(ctx, c.ID); !cmp.Equal(again.Agencies, next.Agencies) {
		t.Fatalf("agencies after a state change = %+v", again.Agencies)
	}

	plain := mkAssessment(t, s, "asm_plain", c.ID, review.AssessmentQueued, 2)
	as := plain
	as.ID, as.OrgID, as.Shared = "asm_b", "org_b", true
	must(t, "CreateAssessment(joint)", s.CreateAssessment(ctx, as))
	for _, want := range []review.Assessment{plain, as} {
		got, err := s.GetAssessment(ctx, want.ID)
		must(t, "GetAssessment", err)
		if got.OrgID != want.OrgID || got.Shared != want.Shared {
			t.Fatalf("GetAssessment(%s) compartment %q %v, want %q %v", want.ID, got.OrgID, got.Shared, want.OrgID, want.Shared)
		}
	}
	as.Shared, as.UpdatedAt = false, at(8)
	as, err = s.UpdateAssessment(ctx, as)
	must(t, "UpdateAssessment(unshare)", err)
	list, err := s.ListAssessments(ctx, c.ID, review.Page{})
	must(t, "ListAssessments", err)
	if len(list) != 2 || list[0].ID != "asm_b" || list[0].OrgID != "org_b" || list[0].Shared || list[1].OrgID != "" {
		t.Fatalf("ListAssessments = %+v", list)
	}

	f := review.Finding{ID: "fnd_b", CaseID: c.ID, Severity: review.SeverityLow, Title: "t", Deadline: at(100),
		Status: review.FindingOpen, CreatedBy: "usr_r", OrgID: "org_b", CreatedAt: at(9), UpdatedAt: at(9)}
	must(t, "CreateFinding", s.CreateFinding(ctx, f))
	f.Shared, f.UpdatedAt = true, at(10)
	must(t, "UpdateFinding(share)", s.UpdateFinding(ctx, f))
	gotF, err := s.GetFinding(ctx, f.ID)
	must(t, "GetFinding", err)
	if gotF.OrgID != "org_b" || !gotF.Shared {
		t.Fatalf("GetFinding compartment %q %v", gotF.OrgID, gotF.Shared)
	}
	fs, err := s.ListFindings(ctx, c.ID, review.Page{})
	must(t, "ListFindings", err)
	if len(fs) != 1 || fs[0].OrgID != "org_b" || !fs[0].Shared {
		t.Fatalf("ListFindings = %+v", fs)
	}
}
