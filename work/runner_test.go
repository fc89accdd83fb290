package work

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/review/reviewtest"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

type noMissing struct{}

func (noMissing) MissingEvidence(context.Context, review.Case) ([]string, error) { return nil, nil }

// TestRunner runs an assessment's shards against the reference model
// over HTTP with the store-backed cache: a shard run again makes no model
// call, the metrics come from the stored samples, harmful transcripts are
// sealed, and the case moves on when the last shard is in.
func TestRunner(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	planner := &Planner{ShardSize: 4, SkipJudge: true}
	svc, err := review.New(review.Config{Store: db, Sealer: sealer, Evidence: noMissing{}, Planner: planner, Scheduler: nopScheduler{}})
	if err != nil {
		t.Fatal(err)
	}

	// The reference model, told what each prompt of the suite is.
	s, err := suite.Builtin("misuse")
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := suite.Samples([]*suite.Suite{s}, suite.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := target.BuiltinProfile("vulnerable")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := target.NewReference(p, assess.ReferenceOracle(all))
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	h := target.NewReferenceServer(ref, target.ServerOptions{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1); h.ServeHTTP(w, r) }))
	defer srv.Close()

	admin, _, err := svc.Bootstrap(ctx, "Agency", "root", "")
	if err != nil {
		t.Fatal(err)
	}
	dev := actor(t, svc, admin, "Lab", review.OrgDeveloper, review.RoleDeveloper)
	asr := actor(t, svc, admin, "Institute", review.OrgAssessor, review.RoleAssessor)
	c, err := svc.Submit(ctx, dev, review.Submission{Model: review.SubmittedModel{Digest: "sha256:" + strings.Repeat("a", 64), Name: "m"},
		Dossier: json.RawMessage(`{}`), Target: review.SubmittedTarget{URL: srv.URL, Credentials: "sk-test"}, Profiles: []string{"us-2026-draft"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AssignCase(ctx, admin, c.ID, []string{asr.User.ID}); err != nil {
		t.Fatal(err)
	}
	as, err := svc.ScheduleAssessment(ctx, asr, c.ID, review.AssessmentInput{Suites: []string{"misuse"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if as.Shards != 3 {
		t.Fatalf("%d shards, want 3 (10 samples, 4 a shard)", as.Shards)
	}
	// The reference model runs on 127.0.0.1, which the runner reaches
	// only when told to, as a deployment names its own networks.
	r, err := NewRunner(RunnerConfig{Service: svc, Concurrency: 2, Egress: egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
	if err != nil {
		t.Fatal(err)
	}
	run := func(shard int) {
		t.Helper()
		if err := r.RunShard(ctx, ShardArgs{AssessmentID: as.ID, Shard: shard, Shards: 3}); err != nil {
			t.Fatalf("RunShard(%d): %v", shard, err)
		}
	}
	run(0)
	first := calls.Load()
	if first != 4 {
		t.Errorf("shard 0 made %d model calls, want 4", first)
	}
	run(0) // a retried shard: every answer comes from the store's cache
	if got := calls.Load(); got != first {
		t.Errorf("running shard 0 again made %d more model calls, want 0", got-first)
	}
	run(2)
	run(1)
	if got := calls.Load(); got != 10 {
		t.Errorf("%d model calls in all, want 10", got)
	}
	done, err := svc.GetAssessment(ctx, asr, as.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.State != review.AssessmentDone || done.ShardsDone != 3 {
		t.Fatalf("assessment %s with %d shards done", done.State, done.ShardsDone)
	}
	var m assess.Metrics
	if err := json.Unmarshal(done.Metrics, &m); err != nil || m.Samples != 10 || m.Scored != 10 {
		t.Errorf("metrics: %d samples, %d scored (%v)", m.Samples, m.Scored, err)
	}
	got, _ := svc.GetCase(ctx, asr, c.ID)
	if got.State != review.StateUnderReview {
		t.Errorf("case %s, want under_review", got.State)
	}
	stored, err := db.GetSample(ctx, as.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Harmful || json.Valid(stored.Record) {
		t.Errorf("a harmful sample is stored in the clear (harmful %v)", stored.Harmful)
	}
	// The cache answered the retried shard, yet holds no answer in the
	// clear: every response is sealed.
	rows, err := db.SQL().QueryContext(ctx, `SELECT response FROM response_cache`)
	if err != nil {
		t.Fatal(err)
	}
	cached := 0
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		cached++
		if json.Valid(b) || strings.Contains(string(b), target.SimulatedDetail) {
			t.Errorf("a cached response is stored in the clear: %.60q", b)
		}
	}
	rows.Close()
	if cached != 10 {
		t.Errorf("%d cached responses, want 10", cached)
	}
	// A finished assessment's shard is a no-op.
	run(1)
	if got := calls.Load(); got != 10 {
		t.Errorf("a shard of a done assessment made %d model calls", got-10)
	}
	// A shard that does not exist fails for good.
	if err := r.RunShard(ctx, ShardArgs{AssessmentID: "asm_missing", Shard: 0, Shards: 1}); err == nil {
		t.Error("RunShard(unknown assessment) succeeded")
	}
}

type nopScheduler struct{}

func (nopScheduler) ScheduleExpiry(context.Context, string, time.Time) error    { return nil }
func (nopScheduler) EnqueueAssessment(context.Context, review.Assessment) error { return nil }

func actor(t *testing.T, svc *review.Service, admin review.Actor, org string, kind review.OrgKind, role review.Role) review.Actor {
	t.Helper()
	o := reviewtest.Org(t, svc, admin, org, kind)
	a, _ := reviewtest.User(t, svc, admin, o.ID, org+" user", role)
	return a
}
