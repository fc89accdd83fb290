// Package storetest is the conformance suite every review.Store passes:
// Run exercises every Store method against a fresh store, including
// transactions that roll back, optimistic concurrency on cases, the audit
// chain, tenant-scoped queries and pagination.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
		{"Cases", testCases},
		{"CaseTenancyAndPagination", testCaseTenancy},
		{"ConcurrentCaseUpdate", testConcurrentUpdate},
		{"FindingsResponsesDecisionsAppeals", testCaseRecords},
		{"TxRollback", testTxRollback},
		{"Audit", testAudit},
		{"ConcurrentAudit", testConcurrentAudit},
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
	none, err := s.ListCases(ctx, review.CaseFilter{OrgID: "org_missing"})
	must(t, "ListCases(org_missing)", err)
	if len(none) != 0 {
		t.Fatalf("ListCases(org_missing) = %d cases, want 0", len(none))
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

	d1 := review.Decision{ID: "dec_1", CaseID: c.ID, OfficialID: "usr_o", Outcomes: json.RawMessage(`{"eu-gpai":{"outcome":"hold"},"us-caisi":{"outcome":"cleared"}}`),
		Rationale: "r", Missing: []string{"cyber.pass_at_1"}, OverrideReason: "urgent", Bundle: []byte{1, 2, 3}, CreatedAt: at(20)}
	d2 := review.Decision{ID: "dec_2", CaseID: c.ID, OfficialID: "system", Outcomes: json.RawMessage(`{}`), Rationale: "deemed", Deemed: true, CreatedAt: at(21)}
	must(t, "CreateDecision", s.CreateDecision(ctx, d1))
	must(t, "CreateDecision", s.CreateDecision(ctx, d2))
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
	if len(ds) != 0 {
		t.Fatalf("ListDecisions(case_2) = %v, want none", ds)
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
