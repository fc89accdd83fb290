package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/review/reviewtest"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/trust"
	"github.com/clearance-dev/clearance/web"
)

const digest = "sha256:5f2b4c1e9a7d3b8c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"

type noMissing struct{}

func (noMissing) MissingEvidence(context.Context, review.Case) ([]string, error) { return nil, nil }

type fixedClocks struct{}

func (fixedClocks) ClockFor([]string) (*review.ClockSpec, error) {
	return &review.ClockSpec{Unit: review.CalendarDays, Length: 90, OnExpiry: "window_expired"}, nil
}

type fakeSigner struct{}

func (fakeSigner) SignDecision(_ context.Context, c review.Case, d review.Decision) ([]byte, error) {
	return []byte("signed:" + c.ID + ":" + d.ID), nil
}

// env is a Server over a real SQLite store, served by httptest, with an
// admin, two developer organisations and one user per staff role.
type env struct {
	store  *sqlite.DB // nil on PostgreSQL
	rs     review.Store
	svc    *review.Service
	srv    *web.Server
	http   *httptest.Server
	logBuf *syncBuffer
	tokens map[string]string // by user label
	actors map[string]review.Actor
	now    time.Time
	// trustPath is the service's trust file (recognition); absent until
	// a test writes it.
	trustPath string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	return newEnvWith(tb, envOptions{})
}

// envOptions vary an env.
type envOptions struct {
	// postgres runs the env on a fresh schema of CLEARANCE_TEST_POSTGRES
	// (see openPostgres; the test skips without it) instead of SQLite;
	// env.store is then nil and env.rs the store.
	postgres bool
	quota    review.Quota
	tempDir  string
	// redteam is the service's red-team backend (campaign tests).
	redteam review.RedTeam
	// planner and scheduler let the service schedule assessments
	// (budget sweep tests); nil: it runs none.
	planner   review.Planner
	scheduler review.Scheduler
}

func newEnvWith(tb testing.TB, o envOptions) *env {
	tb.Helper()
	ctx := context.Background()
	var db *sqlite.DB
	var rs review.Store
	if o.postgres {
		rs = openPostgres(tb)
	} else {
		var err error
		if db, err = sqlite.Open(ctx, filepath.Join(tb.TempDir(), "c.db")); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		rs = db
	}
	id, err := review.GenerateAgeIdentity()
	if err != nil {
		tb.Fatal(err)
	}
	sealer, err := review.NewAgeSealer(id)
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{store: db, rs: rs, logBuf: &syncBuffer{}, tokens: map[string]string{}, actors: map[string]review.Actor{},
		now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	now := func() time.Time { return e.now }
	e.trustPath = filepath.Join(tb.TempDir(), "trust.json")
	e.svc, err = review.New(review.Config{Store: rs, Sealer: sealer, Evidence: noMissing{}, Clocks: fixedClocks{},
		Signer: fakeSigner{}, Now: now, Quota: o.quota, Authorities: &trust.Authorities{Path: e.trustPath, Now: now}, RedTeam: o.redteam,
		Planner: o.planner, Scheduler: o.scheduler})
	if err != nil {
		tb.Fatal(err)
	}
	admin, secret, err := e.svc.Bootstrap(ctx, "Agency", "Root", "root@agency.example")
	if err != nil {
		tb.Fatal(err)
	}
	e.tokens["admin"], e.actors["admin"] = secret, admin
	orgA := e.org(tb, "Lab A", review.OrgDeveloper)
	orgB := e.org(tb, "Lab B", review.OrgDeveloper)
	inst := e.org(tb, "Institute", review.OrgAssessor)
	e.user(tb, orgA, "devA", review.RoleDeveloper)
	e.user(tb, orgB, "devB", review.RoleDeveloper)
	e.user(tb, inst, "assessor", review.RoleAssessor)
	e.user(tb, admin.Org, "reviewer", review.RoleReviewer)
	e.user(tb, admin.Org, "official", review.RoleOfficial)
	e.user(tb, admin.Org, "auditor", review.RoleAuditor)
	// Staff who are never assigned by submit: they see no case.
	e.user(tb, inst, "assessor2", review.RoleAssessor)
	e.user(tb, admin.Org, "reviewer2", review.RoleReviewer)

	logger := slog.New(slog.NewTextHandler(e.logBuf, nil))
	logHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "log:"+r.URL.Path)
	})
	e.srv, err = web.New(web.Config{Service: e.svc, Logger: logger, LogHandler: logHandler, Now: now, TempDir: o.tempDir})
	if err != nil {
		tb.Fatal(err)
	}
	e.http = httptest.NewServer(e.srv.Handler())
	tb.Cleanup(e.http.Close)
	return e
}

func (e *env) org(tb testing.TB, name string, kind review.OrgKind) review.Org {
	tb.Helper()
	return reviewtest.Org(tb, e.svc, e.actors["admin"], name, kind)
}

func (e *env) user(tb testing.TB, o review.Org, label string, r review.Role) {
	tb.Helper()
	e.actors[label], e.tokens[label] = reviewtest.User(tb, e.svc, e.actors["admin"], o.ID, label, r)
}

const submissionBody = `{"model":{"digest":"` + digest + `","name":"frontier-x"},` +
	`"dossier":{"training_compute_flop":3e26},"target":{"url":"https://api.example/v1","credentials":"sk-secret"},` +
	`"profiles":["us-caisi","eu-gpai"]}`

type result struct {
	code   int
	header http.Header
	body   []byte
}

// do sends a request as the user labelled who ("" for no token) and
// returns the response.
func (e *env) do(tb testing.TB, who, method, path, body string, hdr ...string) result {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[who])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return result{code: resp.StatusCode, header: resp.Header, body: b}
}

// must sends a request and decodes a response of status want into v.
func (e *env) must(tb testing.TB, want int, v any, who, method, path, body string) {
	tb.Helper()
	r := e.do(tb, who, method, path, body)
	if r.code != want {
		tb.Fatalf("%s %s as %s = %d %s, want %d", method, path, who, r.code, r.body, want)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			tb.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
}

type idOnly struct {
	ID    string `json:"id"`
	State string `json:"state"`
}

// submit opens a case as who and has the official assign the assessor
// and the reviewer to it (staff see only their assigned cases), and
// returns its id.
func (e *env) submit(tb testing.TB, who string) string {
	tb.Helper()
	id := e.submitOnly(tb, who)
	e.assign(tb, id, "assessor", "reviewer")
	return id
}

// submitOnly opens a case as who, assigning nobody, and returns its id.
func (e *env) submitOnly(tb testing.TB, who string) string {
	tb.Helper()
	var c idOnly
	e.must(tb, http.StatusCreated, &c, who, "POST", "/api/v1/cases", submissionBody)
	return c.ID
}

// assign has the official set the case's assignees to the users labelled.
func (e *env) assign(tb testing.TB, caseID string, labels ...string) {
	tb.Helper()
	ids := []string{}
	for _, l := range labels {
		ids = append(ids, e.actors[l].User.ID)
	}
	b, _ := json.Marshal(map[string][]string{"user_ids": ids})
	e.must(tb, http.StatusOK, nil, "official", "POST", "/api/v1/cases/"+caseID+"/assignees", string(b))
}

// snapshot captures the store state a request could change: the audit
// head (every change writes one entry in its transaction) and every
// case, finding, response, decision and appeal.
func (e *env) snapshot(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	var sb strings.Builder
	head, err := e.rs.AuditHead(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	sb.WriteString(head.Hash + "\n")
	cs, err := e.rs.ListCases(ctx, review.CaseFilter{Page: review.Page{Limit: review.MaxPageLimit}})
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range cs {
		fs, _ := e.rs.ListFindings(ctx, c.ID, review.Page{Limit: review.MaxPageLimit})
		rs, _ := e.rs.ListResponses(ctx, c.ID, "", review.Page{Limit: review.MaxPageLimit})
		ds, _ := e.rs.ListDecisions(ctx, c.ID, review.Page{Limit: review.MaxPageLimit})
		as, _ := e.rs.ListAppeals(ctx, c.ID, review.Page{Limit: review.MaxPageLimit})
		asm, _ := e.rs.ListAssessments(ctx, c.ID, review.Page{Limit: review.MaxPageLimit})
		rec, _ := e.rs.ListRecognitions(ctx, c.ID, review.Page{Limit: review.MaxPageLimit})
		b, _ := json.Marshal([]any{c.ID, c.State, c.Version, c.Clock, fs, rs, ds, as, asm, rec})
		sb.Write(b)
		sb.WriteByte('\n')
	}
	us, err := e.rs.ListUsers(ctx, "", review.Page{Limit: review.MaxPageLimit})
	if err != nil {
		tb.Fatal(err)
	}
	os, err := e.rs.ListOrgs(ctx, review.Page{Limit: review.MaxPageLimit})
	if err != nil {
		tb.Fatal(err)
	}
	b, _ := json.Marshal([]any{us, os})
	sb.Write(b)
	return sb.String()
}

// problem checks that r is a problem details response of status want.
func checkProblem(tb testing.TB, r result, want int) {
	tb.Helper()
	if r.code != want {
		tb.Errorf("status = %d (%s), want %d", r.code, r.body, want)
		return
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		tb.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p web.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		tb.Errorf("decode problem %s: %v", r.body, err)
		return
	}
	if p.Status != want || p.Title == "" || p.Type == "" || p.Instance == "" {
		tb.Errorf("problem = %+v, want status %d and type, title, instance set", p, want)
	}
}
