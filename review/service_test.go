package review_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/review/reviewtest"
	"github.com/clearance-dev/clearance/store/sqlite"
)

const digest = "sha256:5f2b4c1e9a7d3b8c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"

type fakeEvidence struct {
	mu      sync.Mutex
	missing []string
}

func (f *fakeEvidence) MissingEvidence(context.Context, review.Case) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.missing), nil
}

type fixedClocks struct{ spec *review.ClockSpec }

func (c fixedClocks) ClockFor([]string) (*review.ClockSpec, error) { return c.spec, nil }

type fakeSigner struct{}

func (fakeSigner) SignDecision(_ context.Context, c review.Case, d review.Decision) ([]byte, error) {
	return []byte("signed:" + c.ID + ":" + d.ID), nil
}

// world is a service on a real SQLite store with two developer orgs, an
// agency and one user per role.
type world struct {
	svc      *review.Service
	store    *sqlite.DB
	now      time.Time
	evidence *fakeEvidence
	admin    review.Actor
	devA     review.Actor
	devB     review.Actor
	assessor review.Actor
	reviewer review.Actor
	official review.Actor
	auditor  review.Actor
	tokens   map[string]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	id, err := review.GenerateAgeIdentity()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := review.NewAgeSealer(id)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{store: db, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), evidence: &fakeEvidence{}, tokens: map[string]string{}}
	w.svc, err = review.New(review.Config{
		Store: db, Sealer: sealer, Evidence: w.evidence, Signer: fakeSigner{},
		Clocks: fixedClocks{&review.ClockSpec{Unit: review.BusinessDays, Length: 20, OnExpiry: "window_expired"}},
		Now:    func() time.Time { return w.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	var secret string
	w.admin, secret, err = w.svc.Bootstrap(ctx, "Agency", "Root", "root@agency.example")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := w.svc.Authenticate(ctx, secret); err != nil || got.User.ID != w.admin.User.ID {
		t.Fatalf("Authenticate(bootstrap token) = %v, %v", got.User.ID, err)
	}
	orgA := w.org(t, "Lab A", review.OrgDeveloper)
	orgB := w.org(t, "Lab B", review.OrgDeveloper)
	inst := w.org(t, "Institute", review.OrgAssessor)
	w.devA = w.user(t, orgA, "dev a", review.RoleDeveloper)
	w.devB = w.user(t, orgB, "dev b", review.RoleDeveloper)
	w.assessor = w.user(t, inst, "assessor", review.RoleAssessor)
	w.reviewer = w.user(t, w.admin.Org, "reviewer", review.RoleReviewer)
	w.official = w.user(t, w.admin.Org, "official", review.RoleOfficial)
	w.auditor = w.user(t, w.admin.Org, "auditor", review.RoleAuditor)
	return w
}

func (w *world) org(t *testing.T, name string, kind review.OrgKind) review.Org {
	t.Helper()
	return reviewtest.Org(t, w.svc, w.admin, name, kind)
}

// user creates a user, issues it a token and authenticates with it.
func (w *world) user(t *testing.T, o review.Org, name string, r review.Role) review.Actor {
	t.Helper()
	a, secret := reviewtest.User(t, w.svc, w.admin, o.ID, name, r)
	w.tokens[name] = secret
	return a
}

func (w *world) submit(t *testing.T, a review.Actor) review.Case {
	t.Helper()
	c, err := w.svc.Submit(context.Background(), a, review.Submission{
		Model:    review.SubmittedModel{Digest: digest, Name: "frontier-x"},
		Dossier:  json.RawMessage(`{ "model": {"training_compute_flop": 3e26} }`),
		Target:   review.SubmittedTarget{URL: "https://api.example/v1", Credentials: "sk-secret"},
		Profiles: []string{"us-caisi", "eu-gpai"},
	})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return w.assign(t, c)
}

// submitOnly opens a case as a and assigns nobody.
func (w *world) submitOnly(t *testing.T, a review.Actor) review.Case {
	t.Helper()
	c, err := w.svc.Submit(context.Background(), a, review.Submission{
		Model:    review.SubmittedModel{Digest: digest, Name: "frontier-x"},
		Dossier:  json.RawMessage(`{ "model": {"training_compute_flop": 3e26} }`),
		Target:   review.SubmittedTarget{URL: "https://api.example/v1", Credentials: "sk-secret"},
		Profiles: []string{"us-caisi", "eu-gpai"},
	})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return c
}

// assign has the official assign the world's assessor and reviewer to c,
// as every case's staff must be before they may see it.
func (w *world) assign(t *testing.T, c review.Case) review.Case {
	t.Helper()
	c, err := w.svc.AssignCase(context.Background(), w.official, c.ID, []string{w.assessor.User.ID, w.reviewer.User.ID})
	if err != nil {
		t.Fatalf("AssignCase: %v", err)
	}
	return c
}

func check(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: error = %v, want %v", what, err, want)
	}
}

func TestReviewFlow(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.submit(t, w.devA)
	if c.State != review.StateSubmitted || c.Clock == nil || c.Credentials != nil || string(c.Dossier) != `{"model":{"training_compute_flop":3e26}}` {
		t.Fatalf("Submit returned %+v", c)
	}
	stored, _ := w.store.GetCase(ctx, c.ID)
	if len(stored.Credentials) == 0 || string(stored.Credentials) == "sk-secret" {
		t.Fatalf("credentials not sealed at rest: %q", stored.Credentials)
	}
	creds, err := w.svc.TargetCredentials(ctx, w.assessor, c.ID)
	if err != nil || string(creds) != "sk-secret" {
		t.Fatalf("TargetCredentials(assessor) = %q, %v", creds, err)
	}
	_, err = w.svc.TargetCredentials(ctx, w.reviewer, c.ID)
	check(t, "TargetCredentials(reviewer)", err, review.ErrForbidden)

	step := func(a review.Actor, to review.State, want error) {
		t.Helper()
		w.now = w.now.Add(time.Hour)
		_, err := w.svc.Transition(ctx, a, c.ID, to, "note")
		check(t, "Transition to "+string(to)+" by "+a.User.Name, err, want)
	}
	step(w.devA, review.StateInAssessment, review.ErrInvalidTransition)
	step(w.auditor, review.StateInAssessment, review.ErrInvalidTransition)
	step(w.assessor, review.StateInAssessment, nil)
	step(w.assessor, review.StateUnderReview, nil)

	f, err := w.svc.RecordFinding(ctx, w.reviewer, c.ID, review.FindingInput{
		Severity: review.SeverityHigh, Title: "Jailbreak via role-play", SampleIDs: []string{"smp_1"}})
	check(t, "RecordFinding", err, nil)
	if want := review.AuditTime(w.now.AddDate(0, 0, 30)); !f.Deadline.Equal(want) || f.Status != review.FindingOpen {
		t.Fatalf("finding deadline %s status %s, want %s open", f.Deadline, f.Status, want)
	}
	_, err = w.svc.RecordFinding(ctx, w.devA, c.ID, review.FindingInput{Severity: review.SeverityLow, Title: "x"})
	check(t, "RecordFinding(developer)", err, review.ErrForbidden)

	step(w.reviewer, review.StateInformationRequested, nil)
	before, _ := w.svc.GetCase(ctx, w.devA, c.ID)
	if before.Clock.Running() {
		t.Fatalf("clock still running while information is requested")
	}
	deadline0 := before.Clock.Deadline(before.Clock.StoppedAt)
	w.now = w.now.Add(72 * time.Hour)
	if _, err := w.svc.Respond(ctx, w.devA, f.ID, "We added a classifier."); err != nil {
		t.Fatalf("Respond: %v", err)
	}
	step(w.devA, review.StateUnderReview, nil)
	after, _ := w.svc.GetCase(ctx, w.devA, c.ID)
	if got, want := after.Clock.Deadline(w.now), deadline0.Add(73*time.Hour); !after.Clock.Running() || !got.Equal(want) {
		t.Fatalf("after resume: running %v deadline %s, want %s", after.Clock.Running(), got, want)
	}
	fs, _ := w.svc.Findings(ctx, w.devA, c.ID, review.Page{})
	if len(fs) != 1 || fs[0].Status != review.FindingResponded {
		t.Fatalf("finding after response: %+v", fs)
	}
	_, err = w.svc.SetFindingStatus(ctx, w.reviewer, f.ID, review.FindingAcceptedRisk, "ok")
	check(t, "accept risk (reviewer)", err, review.ErrForbidden)
	_, err = w.svc.SetFindingStatus(ctx, w.reviewer, f.ID, review.FindingResolved, "verified")
	check(t, "resolve (reviewer)", err, nil)

	outcomes := json.RawMessage(`{"us-caisi":{"outcome":"cleared"},"eu-gpai":{"outcome":"cleared_with_conditions"}}`)
	w.evidence.missing = []string{"cyber.pass_at_1"}
	_, err = w.svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Outcomes: outcomes, Rationale: "ok"})
	check(t, "Decide without override", err, review.ErrInvalidInput)
	_, err = w.svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Outcomes: json.RawMessage(`{"us-caisi":{}}`), Rationale: "ok", OverrideReason: "r"})
	check(t, "Decide with a profile missing", err, review.ErrInvalidInput)
	_, err = w.svc.Decide(ctx, w.reviewer, c.ID, review.DecisionInput{Outcomes: outcomes, Rationale: "ok", OverrideReason: "r"})
	check(t, "Decide(reviewer)", err, review.ErrForbidden)
	d, err := w.svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Outcomes: outcomes, Rationale: "ok", OverrideReason: "evaluation infrastructure down; risk accepted"})
	check(t, "Decide with override", err, nil)
	if d.OverrideReason == "" || !slices.Equal(d.Missing, []string{"cyber.pass_at_1"}) || string(d.Bundle) != "signed:"+c.ID+":"+d.ID {
		t.Fatalf("decision %+v", d)
	}
	_, err = w.svc.RecordFinding(ctx, w.reviewer, c.ID, review.FindingInput{Severity: review.SeverityLow, Title: "late"})
	check(t, "RecordFinding on decided case", err, review.ErrConflict)

	_, err = w.svc.Appeal(ctx, w.devB, c.ID, "unfair")
	check(t, "Appeal by another org", err, review.ErrNotFound)
	ap, err := w.svc.Appeal(ctx, w.devA, c.ID, "conditions too strict")
	check(t, "Appeal", err, nil)
	if ap.DecisionID != d.ID {
		t.Fatalf("appeal links decision %s, want %s", ap.DecisionID, d.ID)
	}
	step(w.official, review.StateUnderReview, nil)
	w.evidence.missing = nil
	d2, err := w.svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Outcomes: outcomes, Rationale: "re-reviewed", OverrideReason: "ignored"})
	check(t, "second Decide", err, nil)
	if d2.OverrideReason != "" || d2.Missing != nil {
		t.Fatalf("decision without missing evidence recorded override %q missing %v", d2.OverrideReason, d2.Missing)
	}

	// Every change is in the audit trail, which verifies.
	es, err := w.svc.CaseAudit(ctx, w.devA, c.ID, 0, 0)
	check(t, "CaseAudit", err, nil)
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	want := []string{"case.submit", "case.assign", "case.credentials_read", "case.transition", "case.transition", "finding.create",
		"case.transition", "finding.respond", "case.transition", "finding.status", "case.transition",
		"case.transition", "case.transition", "case.transition"}
	if !slices.Equal(actions, want) {
		t.Fatalf("case audit actions:\n got %v\nwant %v", actions, want)
	}
	vc, err := w.svc.VerifyAudit(ctx, w.auditor)
	check(t, "VerifyAudit", err, nil)
	if vc.Head.Seq < int64(len(want)) {
		t.Fatalf("audit head seq %d", vc.Head.Seq)
	}
	_, err = w.svc.VerifyAudit(ctx, w.devA)
	check(t, "VerifyAudit(developer)", err, review.ErrForbidden)
}

// TestTenantIsolation: a developer of another organisation can neither
// read nor change anything of a case, and sees it as not found.
func TestTenantIsolation(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.submit(t, w.devA)
	w.svc.Transition(ctx, w.assessor, c.ID, review.StateInAssessment, "")
	w.svc.Transition(ctx, w.assessor, c.ID, review.StateUnderReview, "")
	f, err := w.svc.RecordFinding(ctx, w.reviewer, c.ID, review.FindingInput{Severity: review.SeverityLow, Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	b := w.devB
	ops := []struct {
		name string
		op   func() error
	}{
		{"GetCase", func() error { _, err := w.svc.GetCase(ctx, b, c.ID); return err }},
		{"Transition", func() error { _, err := w.svc.Transition(ctx, b, c.ID, review.StateWithdrawn, ""); return err }},
		{"Findings", func() error { _, err := w.svc.Findings(ctx, b, c.ID, review.Page{}); return err }},
		{"Responses", func() error { _, err := w.svc.Responses(ctx, b, c.ID, "", review.Page{}); return err }},
		{"Respond", func() error { _, err := w.svc.Respond(ctx, b, f.ID, "x"); return err }},
		{"SetFindingStatus", func() error { _, err := w.svc.SetFindingStatus(ctx, b, f.ID, review.FindingResolved, ""); return err }},
		{"Decisions", func() error { _, err := w.svc.Decisions(ctx, b, c.ID, review.Page{}); return err }},
		{"Appeals", func() error { _, err := w.svc.Appeals(ctx, b, c.ID, review.Page{}); return err }},
		{"Appeal", func() error { _, err := w.svc.Appeal(ctx, b, c.ID, "x"); return err }},
		{"Decide", func() error {
			_, err := w.svc.Decide(ctx, b, c.ID, review.DecisionInput{Outcomes: json.RawMessage(`{}`), Rationale: "x"})
			return err
		}},
		{"Extend", func() error { _, err := w.svc.Extend(ctx, b, c.ID, 1, "x"); return err }},
		{"CaseAudit", func() error { _, err := w.svc.CaseAudit(ctx, b, c.ID, 0, 0); return err }},
		{"TargetCredentials", func() error { _, err := w.svc.TargetCredentials(ctx, b, c.ID); return err }},
		{"RecordFinding", func() error {
			_, err := w.svc.RecordFinding(ctx, b, c.ID, review.FindingInput{Severity: review.SeverityLow, Title: "t"})
			return err
		}},
	}
	headBefore, _ := w.store.AuditHead(ctx)
	for _, tt := range ops {
		if err := tt.op(); !errors.Is(err, review.ErrNotFound) {
			t.Errorf("%s by another org's developer: error = %v, want ErrNotFound", tt.name, err)
		}
	}
	headAfter, _ := w.store.AuditHead(ctx)
	if headAfter.Seq != headBefore.Seq {
		t.Fatalf("refused operations wrote %d audit entries", headAfter.Seq-headBefore.Seq)
	}
	got, _ := w.svc.GetCase(ctx, w.devA, c.ID)
	if got.State != review.StateUnderReview {
		t.Fatalf("case changed to %s", got.State)
	}
	cs, err := w.svc.ListCases(ctx, b, review.CaseFilter{OrgID: w.devA.Org.ID})
	if err != nil || len(cs) != 0 {
		t.Fatalf("ListCases(other org's filter) = %d cases, %v; want 0", len(cs), err)
	}
	cs, _ = w.svc.ListCases(ctx, w.devA, review.CaseFilter{})
	if len(cs) != 1 || cs[0].Credentials != nil {
		t.Fatalf("ListCases(own) = %+v", cs)
	}
	cs, _ = w.svc.ListCases(ctx, w.auditor, review.CaseFilter{})
	if len(cs) != 1 {
		t.Fatalf("ListCases(auditor) = %d cases, want 1", len(cs))
	}
}

func TestRolesAndAdmin(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	_, err := w.svc.CreateOrg(ctx, w.official, "X", review.OrgDeveloper)
	check(t, "CreateOrg(official)", err, review.ErrForbidden)
	_, err = w.svc.CreateOrg(ctx, w.admin, "Lab A", review.OrgDeveloper)
	check(t, "CreateOrg(duplicate name)", err, review.ErrConflict)
	_, err = w.svc.CreateOrg(ctx, w.admin, "Y", "bank")
	check(t, "CreateOrg(bad kind)", err, review.ErrInvalidInput)
	_, err = w.svc.CreateUser(ctx, w.admin, review.UserInput{OrgID: w.devA.Org.ID, Name: "x", Roles: []review.Role{review.RoleOfficial}})
	check(t, "official in a developer org", err, review.ErrInvalidInput)
	_, err = w.svc.CreateUser(ctx, w.admin, review.UserInput{OrgID: w.admin.Org.ID, Name: "x", Roles: []review.Role{review.RoleDeveloper}})
	check(t, "developer in an agency", err, review.ErrInvalidInput)
	_, err = w.svc.CreateUser(ctx, w.admin, review.UserInput{OrgID: "org_missing", Name: "x", Roles: []review.Role{review.RoleAuditor}})
	check(t, "user in a missing org", err, review.ErrNotFound)
	_, _, err = w.svc.Bootstrap(ctx, "Other", "Root2", "")
	check(t, "second Bootstrap", err, review.ErrConflict)
	_, err = w.svc.Submit(ctx, w.official, review.Submission{})
	check(t, "Submit(official)", err, review.ErrForbidden)

	// Tokens: unknown, revoked and expired tokens do not authenticate.
	_, err = w.svc.Authenticate(ctx, "clr_nope")
	check(t, "Authenticate(unknown)", err, review.ErrUnauthenticated)
	_, err = w.svc.Authenticate(ctx, "")
	check(t, "Authenticate(empty)", err, review.ErrUnauthenticated)
	tok, secret, err := w.svc.IssueToken(ctx, w.devA, w.devA.User.ID, "own", w.now.Add(time.Hour))
	check(t, "IssueToken(self)", err, nil)
	_, _, err = w.svc.IssueToken(ctx, w.devA, w.devB.User.ID, "other", time.Time{})
	check(t, "IssueToken(for another)", err, review.ErrForbidden)
	if _, err := w.svc.Authenticate(ctx, secret); err != nil {
		t.Fatalf("Authenticate(fresh) = %v", err)
	}
	w.now = w.now.Add(time.Hour)
	_, err = w.svc.Authenticate(ctx, secret)
	check(t, "Authenticate(expired)", err, review.ErrUnauthenticated)
	check(t, "RevokeToken(another developer's)", w.svc.RevokeToken(ctx, w.devB, tok.ID), review.ErrNotFound)
	check(t, "RevokeToken(own)", w.svc.RevokeToken(ctx, w.devA, tok.ID), nil)
	check(t, "RevokeToken(admin)", w.svc.RevokeToken(ctx, w.admin, tok.ID), nil)
	_, err = w.svc.Authenticate(ctx, w.tokens["dev b"])
	check(t, "Authenticate(other token still valid)", err, nil)
}

func TestExpireDeemsOutcome(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.submit(t, w.devA)
	w.svc.Transition(ctx, w.assessor, c.ID, review.StateInAssessment, "")
	w.svc.Transition(ctx, w.assessor, c.ID, review.StateUnderReview, "")
	got, done, err := w.svc.Expire(ctx, c.ID)
	if err != nil || done || got.State != review.StateUnderReview {
		t.Fatalf("Expire before the deadline = %s, %v, %v", got.State, done, err)
	}
	if _, err := w.svc.Extend(ctx, w.official, c.ID, 5, "complex model"); err != nil {
		t.Fatal(err)
	}
	// 20 + 5 business days from Monday 2026-03-02 09:00 is Monday
	// 2026-04-06 09:00.
	w.now = time.Date(2026, 4, 6, 8, 59, 0, 0, time.UTC)
	if _, done, _ := w.svc.Expire(ctx, c.ID); done {
		t.Fatalf("Expire a minute before the extended deadline deemed an outcome")
	}
	w.now = time.Date(2026, 4, 6, 9, 0, 0, 0, time.UTC)
	got, done, err = w.svc.Expire(ctx, c.ID)
	if err != nil || !done || got.State != review.StateDecided {
		t.Fatalf("Expire at the deadline = %s, %v, %v", got.State, done, err)
	}
	ds, _ := w.svc.Decisions(ctx, w.devA, c.ID, review.Page{})
	if len(ds) != 1 || !ds[0].Deemed || string(ds[0].Outcomes) != `{"eu-gpai":{"deemed":true,"outcome":"window_expired"},"us-caisi":{"deemed":true,"outcome":"window_expired"}}` {
		t.Fatalf("deemed decision = %+v", ds)
	}
	if _, done, err := w.svc.Expire(ctx, c.ID); done || err != nil {
		t.Fatalf("second Expire = %v, %v; want no change", done, err)
	}
}

func TestConcurrentTransitionsOneWins(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.submit(t, w.devA)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.svc.Transition(ctx, w.assessor, c.ID, review.StateInAssessment, "")
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if !errors.Is(err, review.ErrInvalidTransition) && !errors.Is(err, review.ErrConflict) {
			t.Fatalf("unexpected error %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d transitions won, want 1", wins)
	}
}
