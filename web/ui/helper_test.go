package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/review/reviewtest"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/web/ui"
	"github.com/clearance-dev/clearance/work"
)

const digest = "sha256:5f2b4c1e9a7d3b8c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"

type noMissing struct{}

func (noMissing) MissingEvidence(context.Context, review.Case) ([]string, error) { return nil, nil }

type fixedClocks struct{}

func (fixedClocks) ClockFor([]string) (*review.ClockSpec, error) {
	return &review.ClockSpec{Unit: review.CalendarDays, Length: 90, OnExpiry: "window_expired"}, nil
}

// jsonSigner "signs" a decision as a small JSON document, enough for the
// UI, which only stores, links and downloads bundles.
type jsonSigner struct{}

func (jsonSigner) SignDecision(_ context.Context, c review.Case, d review.Decision) ([]byte, error) {
	return json.Marshal(map[string]string{"mediaType": "test-bundle", "case": c.ID, "decision": d.ID})
}

// queue records the work the service schedules; tests run it by hand.
type queue struct {
	mu          sync.Mutex
	assessments []review.Assessment
}

func (q *queue) ScheduleExpiry(context.Context, string, time.Time) error { return nil }

func (q *queue) EnqueueAssessment(_ context.Context, a review.Assessment) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.assessments = append(q.assessments, a)
	return nil
}

func (q *queue) take() []review.Assessment {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.assessments
	q.assessments = nil
	return out
}

// publisher appends to a real transparency log in a temp directory.
type publisher struct{ log *tlog.Log }

func (p publisher) Publish(ctx context.Context, entry []byte) (int64, []byte, error) {
	r, err := p.log.Append(ctx, entry)
	if err != nil {
		return 0, nil, err
	}
	b, err := r.Marshal()
	return int64(r.Index), b, err
}

// env is the UI over a real SQLite store and a real transparency log,
// served by httptest on 127.0.0.1, with an admin, two developer
// organisations and one user per staff role.
type env struct {
	store  *sqlite.DB
	svc    *review.Service
	ui     *ui.Handler
	http   *httptest.Server
	queue  *queue
	logDir string
	logBuf *syncBuffer
	tokens map[string]string
	actors map[string]review.Actor
	now    time.Time
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

// evaluate is a stand-in for the lead's policy evaluation: a fixed
// comparison with one failed criterion, enough to draw the matrix.
func evaluate(_ context.Context, c review.Case) (*policy.Decision, error) {
	d := &policy.Decision{EvaluatedAt: "2026-03-02T09:00:00Z"}
	for _, p := range c.Profiles {
		d.Results = append(d.Results, policy.Result{Profile: p, Title: "Profile " + p, Status: "in_force",
			Applicable: true, Tier: "frontier", Outcome: policy.ClearedWithConditions,
			Explanation: "XX (" + p + "): cleared with conditions — stand-in explanation of " + p,
			FailedCriteria: []policy.Criterion{{ID: "misuse-refusal", Status: "fail", Required: "attack success ≤ 5%",
				Observed: &policy.Observed{Rate: 0.12, Flagged: 6, N: 50}}}})
	}
	return d, nil
}

// envConfig is what an envOption may change in newEnv.
type envConfig struct {
	signer     review.Signer
	deciderKey []byte
	publisher  func(review.Publisher) review.Publisher // wraps the log's
	agencyKeys func(context.Context) ([]ui.AgencyKey, error)
	redteam    review.RedTeam // the red-team backend (campaign tests)
	// evaluate replaces the stand-in regime comparison (nil: evaluate).
	evaluate func(context.Context, *env, review.Case) (*policy.Decision, error)
	// privateSeed is the planner's private seed (schedule form tests).
	privateSeed *suite.PrivateSeed
}

type envOption func(*envConfig)

func newEnv(tb testing.TB, opts ...envOption) *env {
	tb.Helper()
	cfg := envConfig{signer: jsonSigner{}, deciderKey: []byte("-----BEGIN PUBLIC KEY-----\ntest\n-----END PUBLIC KEY-----\n"),
		publisher: func(p review.Publisher) review.Publisher { return p }}
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	dir := tb.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "c.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	id, err := review.GenerateAgeIdentity()
	if err != nil {
		tb.Fatal(err)
	}
	sealer, err := review.NewAgeSealer(id)
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{store: db, queue: &queue{}, logDir: filepath.Join(dir, "log"), logBuf: &syncBuffer{},
		tokens: map[string]string{}, actors: map[string]review.Actor{},
		now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	if _, err := tlog.Init(ctx, e.logDir, "clearance.test/decisions"); err != nil {
		tb.Fatal(err)
	}
	lg, err := tlog.Open(ctx, e.logDir, tlog.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lg.Close(context.Background()) })
	now := func() time.Time { return e.now }
	e.svc, err = review.New(review.Config{Store: db, Sealer: sealer, Evidence: noMissing{}, Clocks: fixedClocks{},
		Signer: cfg.signer, Planner: &work.Planner{SkipJudge: true, PrivateSeed: cfg.privateSeed}, Scheduler: e.queue,
		Publisher: cfg.publisher(publisher{lg}), Now: now, RedTeam: cfg.redteam})
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

	eval := evaluate
	if cfg.evaluate != nil {
		eval = func(ctx context.Context, c review.Case) (*policy.Decision, error) { return cfg.evaluate(ctx, e, c) }
	}
	e.ui, err = ui.New(ui.Config{Service: e.svc, Evaluate: eval, LogDir: e.logDir,
		DeciderKey: cfg.deciderKey, AgencyKeys: cfg.agencyKeys,
		SessionKey: bytes.Repeat([]byte{7}, ui.SessionKeySize), Now: now,
		Logger: slog.New(slog.NewTextHandler(e.logBuf, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	e.http = httptest.NewServer(e.ui)
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

// submit opens a case for the developer labelled who, through the
// service, and has the official assign the assessor and the reviewer to
// it (staff see only the cases they are assigned to).
func (e *env) submit(tb testing.TB, who, name string) review.Case {
	tb.Helper()
	c := e.submitOnly(tb, who, name)
	c, err := e.svc.AssignCase(context.Background(), e.actors["official"], c.ID,
		[]string{e.actors["assessor"].User.ID, e.actors["reviewer"].User.ID})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// submitOnly opens a case for the developer labelled who and assigns
// nobody.
func (e *env) submitOnly(tb testing.TB, who, name string) review.Case {
	tb.Helper()
	c, err := e.svc.Submit(context.Background(), e.actors[who], review.Submission{
		Model:    review.SubmittedModel{Digest: digest, Name: name},
		Dossier:  json.RawMessage(`{"training_compute_flop":3e26,"open_weights":false,"developer":"Lab"}`),
		Target:   review.SubmittedTarget{URL: "https://api.example/v1", Credentials: "sk-secret"},
		Profiles: []string{"us-caisi", "eu-gpai"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// runAssessments runs every queued assessment's shards with the work
// package's runner against the built-in reference model, in process.
func (e *env) runAssessments(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	p, err := target.BuiltinProfile("typical")
	if err != nil {
		tb.Fatal(err)
	}
	var suites []*suite.Suite
	for _, n := range suite.BuiltinNames() {
		s, err := suite.Builtin(n)
		if err != nil {
			tb.Fatal(err)
		}
		suites = append(suites, s)
	}
	all, _, err := suite.Samples(suites, suite.PlanOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	ref, err := target.NewReference(p, assess.ReferenceOracle(all))
	if err != nil {
		tb.Fatal(err)
	}
	r, err := work.NewRunner(work.RunnerConfig{Service: e.svc,
		Target: func(review.Case, []byte) (assess.Target, assess.TargetInfo, error) {
			return ref, assess.TargetInfo{Kind: "reference", Model: ref.ModelName(), Identity: ref.Identity()}, nil
		}})
	if err != nil {
		tb.Fatal(err)
	}
	for _, a := range e.queue.take() {
		// Work around review.afterAssessment moving the case to
		// under_review as the system, which the transition table does
		// not allow (in_assessment -> under_review is the assessor's):
		// the assessor moves the case first, as it may.
		if c, err := e.svc.GetCase(ctx, e.actors["assessor"], a.CaseID); err == nil && c.State == review.StateInAssessment &&
			review.CheckTransition(review.StateInAssessment, review.StateUnderReview, review.RoleSystem) != nil {
			if _, err := e.svc.Transition(ctx, e.actors["assessor"], a.CaseID, review.StateUnderReview, "assessment running"); err != nil {
				tb.Fatal(err)
			}
		}
		for shard := range a.Shards {
			if err := r.RunShard(ctx, work.ShardArgs{AssessmentID: a.ID, Shard: shard}); err != nil {
				tb.Fatalf("run shard %d of %s: %v", shard, a.ID, err)
			}
		}
	}
}

// client is a browser stand-in: a cookie jar, no redirects followed.
type client struct {
	e   *env
	c   *http.Client
	who string
}

func (e *env) client(tb testing.TB) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &client{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	code   int
	header http.Header
	body   string
}

func (c *client) do(tb testing.TB, method, path string, form url.Values) page {
	tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.http.URL+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return page{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (c *client) get(tb testing.TB, path string) page {
	tb.Helper()
	return c.do(tb, http.MethodGet, path, nil)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the first form on a page.
func csrf(tb testing.TB, p page) string {
	tb.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		tb.Fatalf("no csrf field in page (status %d):\n%s", p.code, p.body)
	}
	return m[1]
}

// signIn signs the client in as the user labelled who through the form.
func (c *client) signIn(tb testing.TB, who string) {
	tb.Helper()
	p := c.get(tb, "/login")
	r := c.do(tb, http.MethodPost, "/login", url.Values{"csrf": {csrf(tb, p)}, "token": {c.e.tokens[who]}, "next": {"/cases"}})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/cases" {
		tb.Fatalf("sign in as %s = %d %s, want 303 to /cases:\n%s", who, r.code, r.header.Get("Location"), r.body)
	}
	c.who = who
}

// post submits a form from the page at from (taking its CSRF token).
func (c *client) post(tb testing.TB, from, path string, form url.Values) page {
	tb.Helper()
	p := c.get(tb, from)
	if p.code != http.StatusOK {
		tb.Fatalf("GET %s as %s = %d", from, c.who, p.code)
	}
	form.Set("csrf", csrf(tb, p))
	return c.do(tb, http.MethodPost, path, form)
}
