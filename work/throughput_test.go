package work

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/postgres"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// TestThroughputServiceVsCLI is the benchmark of docs/benchmarks.md
// ("Assessments through the service"), not a timed test: it runs only
// with CLEARANCE_BENCH=1 and PostgreSQL, and logs wall times. The same
// 2,000-sample plan runs against a model on 127.0.0.1 that answers in
// 500 ms: (a) assess.Run with Concurrency 64 (clearance assess
// --concurrency 64), (b) the service with one worker, (c) with four
// workers, each worker a River client with its own Runner and
// TargetLimits (as a worker process has) on one PostgreSQL database,
// the limit capped at 64 (--concurrency 64).
func TestThroughputServiceVsCLI(t *testing.T) {
	base := os.Getenv("CLEARANCE_TEST_POSTGRES")
	if os.Getenv("CLEARANCE_BENCH") == "" || base == "" {
		t.Skip("set CLEARANCE_BENCH=1 and CLEARANCE_TEST_POSTGRES to run the throughput benchmark")
	}
	const samples, latency, conc = 2000, 500 * time.Millisecond, 64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"choices": []map[string]any{{"message": map[string]string{"role": "assistant", "content": "I can't help with that."}, "finish_reason": "stop"}}})
	}))
	defer srv.Close()
	ctx := context.Background()

	// (a) the CLI's runner.
	s, err := suite.Builtin("jailbreak")
	if err != nil {
		t.Fatal(err)
	}
	plan, n, err := suite.Samples([]*suite.Suite{s}, suite.PlanOptions{Limit: samples, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: srv.URL + "/v1", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	scorers, err := scorersFor(plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	res, err := assess.Run(ctx, assess.Config{Target: tg, Plan: plan, Total: n, Scorers: scorers, Records: io.Discard, Concurrency: conc})
	if err != nil || res.Metrics.Samples != n {
		t.Fatalf("assess.Run: %v (%d samples)", err, res.Metrics.Samples)
	}
	cli := time.Since(began)
	t.Logf("(a) assess.Run --concurrency %d: %d samples in %.1fs", conc, n, cli.Seconds())

	for _, workers := range []int{1, 4} {
		wall := serviceRun(t, base, srv.URL, workers, conc, samples)
		t.Logf("(%c) service, %d worker(s): %d samples in %.1fs (%.2f× the CLI)", map[int]rune{1: 'b', 4: 'c'}[workers], workers, n, wall.Seconds(), wall.Seconds()/cli.Seconds())
	}
}

type benchScheduler struct{ q *Queue }

func (b *benchScheduler) ScheduleExpiry(context.Context, string, time.Time) error { return nil }
func (b *benchScheduler) EnqueueAssessment(ctx context.Context, a review.Assessment) error {
	return b.q.EnqueueAssessment(ctx, a)
}

// serviceRun runs the plan through the service on a fresh schema (an
// empty response cache) with the given number of workers and returns
// the time from scheduling to the assessment's completion.
func serviceRun(t *testing.T, base, model string, workers, conc, samples int) time.Duration {
	ctx := context.Background()
	var b [8]byte
	rand.Read(b[:])
	schema := "work_bench_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	defer func() {
		admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	}()
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	sched := &benchScheduler{}
	svc, err := review.New(review.Config{Store: db, Sealer: sealer, Evidence: noMissing{}, Planner: &Planner{ShardSize: DefaultShardSize, SkipJudge: true}, Scheduler: sched})
	if err != nil {
		t.Fatal(err)
	}
	var queues []*Queue
	for range workers {
		tl, err := NewTargetLimits(TargetLimitsConfig{Store: db, Max: conc})
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewRunner(RunnerConfig{Service: svc, Limits: tl, Concurrency: conc, Calibration: -1,
			Egress: egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
		if err != nil {
			t.Fatal(err)
		}
		// clearance worker's default: AutoWorkers shards taken at once,
		// as many sending as the shared limit feeds.
		qq, err := Open(ctx, Config{PGPool: db.Pool(), Schema: schema, Workers: AutoWorkers, Expirer: svc, RunShard: r.RunShard, PollInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		queues = append(queues, qq)
	}
	sched.q = queues[0]
	for _, qq := range queues {
		if err := qq.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer qq.Close(context.Background())
	}
	adm, _, err := svc.Bootstrap(ctx, "Agency", "root", "")
	if err != nil {
		t.Fatal(err)
	}
	dev := actor(t, svc, adm, "Lab", review.OrgDeveloper, review.RoleDeveloper)
	asr := actor(t, svc, adm, "Institute", review.OrgAssessor, review.RoleAssessor)
	c, err := svc.Submit(ctx, dev, review.Submission{Model: review.SubmittedModel{Digest: "sha256:" + strings.Repeat("a", 64), Name: "m"},
		Dossier: json.RawMessage(`{}`), Target: review.SubmittedTarget{URL: model, Credentials: "sk-test"}, Profiles: []string{"us-2026-draft"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AssignCase(ctx, adm, c.ID, []string{asr.User.ID}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	as, err := svc.ScheduleAssessment(ctx, asr, c.ID, review.AssessmentInput{Suites: []string{"jailbreak"}, Limit: samples, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for {
		got, err := svc.GetAssessment(ctx, asr, as.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == review.AssessmentDone {
			return time.Since(began)
		}
		if got.State == review.AssessmentFailed {
			t.Fatalf("assessment failed: %+v", got)
		}
		if time.Since(began) > 5*time.Minute {
			t.Fatalf("assessment not done after 5 minutes: %d of %d shards", got.ShardsDone, got.Shards)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
