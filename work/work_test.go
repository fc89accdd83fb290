package work

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clearance-dev/clearance/review"
)

// backend gives a fresh, empty database per test; every call of the
// returned function names the same database, so that two queues opened
// from it share jobs.
type backend struct {
	name string
	open func(t *testing.T) func() Config
}

func backends(t *testing.T) []backend {
	t.Helper()
	bs := []backend{{name: "sqlite", open: func(t *testing.T) func() Config {
		path := filepath.Join(t.TempDir(), "work.db")
		return func() Config { return Config{SQLitePath: path} }
	}}}
	url := os.Getenv("CLEARANCE_TEST_POSTGRES")
	if url == "" {
		if os.Getenv("CLEARANCE_CI") != "" {
			t.Fatal("CLEARANCE_CI is set but CLEARANCE_TEST_POSTGRES is not: the PostgreSQL variant must run")
		}
		t.Log("CLEARANCE_TEST_POSTGRES unset: skipping the PostgreSQL variant")
		return bs
	}
	return append(bs, backend{name: "postgres", open: func(t *testing.T) func() Config {
		ctx := context.Background()
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatalf("connect to %s: %v", url, err)
		}
		schema := "work_test_" + strings.ToLower(rand.Text()[:12])
		if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			pool.Close()
			t.Fatalf("create schema %s: %v", schema, err)
		}
		t.Cleanup(func() {
			if _, err := pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
			pool.Close()
		})
		return func() Config { return Config{PGPool: pool, Schema: schema} }
	}})
}

// forEachBackend runs f as a subtest on every available database.
func forEachBackend(t *testing.T, f func(t *testing.T, base func() Config)) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b.open(t))
		})
	}
}

type expireCall struct {
	caseID string
	at     time.Time
}

// fakeExpirer records calls and answers with err.
type fakeExpirer struct {
	mu    sync.Mutex
	calls []expireCall
	err   error
}

func (f *fakeExpirer) Expire(_ context.Context, caseID string) (review.Case, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, expireCall{caseID: caseID, at: time.Now()})
	if f.err != nil {
		return review.Case{}, false, f.err
	}
	return review.Case{ID: caseID}, true, nil
}

func (f *fakeExpirer) Calls() []expireCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]expireCall(nil), f.calls...)
}

func noShard(context.Context, ShardArgs) error { return errors.New("no shards expected") }

// workerConfig fills the fields a working queue needs, with test timings.
func workerConfig(cfg Config, e Expirer, run func(context.Context, ShardArgs) error) Config {
	cfg.Workers = 2
	cfg.Expirer = e
	cfg.RunShard = run
	cfg.PollInterval = 50 * time.Millisecond
	cfg.Backoff = func(int) time.Duration { return 10 * time.Millisecond }
	cfg.ShardTimeout = 5 * time.Second
	cfg.RescueMargin = time.Second
	cfg.testOnly = true
	if os.Getenv("WORK_DEBUG") != "" { // River's own logs, to debug a test
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cfg
}

func open(t *testing.T, cfg Config) *Queue {
	t.Helper()
	q, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return q
}

func closeQueue(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// waitJob polls job id until it reaches state, failing after 15s.
func waitJob(t *testing.T, q *Queue, id int64, state string) JobInfo {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		info, err := q.Job(context.Background(), id)
		if err != nil {
			t.Fatalf("Job(%d): %v", id, err)
		}
		if info.State == state {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s after 15s, want %s (%+v)", id, info.State, state, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestExpirySurvivesRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, base func() Config) {
		ctx := context.Background()
		first, second := &fakeExpirer{}, &fakeExpirer{}

		q1 := open(t, workerConfig(base(), first, noShard))
		if err := q1.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		due := time.Now().Add(200 * time.Millisecond)
		job, err := q1.ScheduleExpiry(ctx, "case-1", due)
		if err != nil {
			t.Fatalf("ScheduleExpiry: %v", err)
		}
		closeQueue(t, q1)

		q2 := open(t, workerConfig(base(), second, noShard))
		defer closeQueue(t, q2)
		if err := q2.Start(ctx); err != nil {
			t.Fatalf("Start after restart: %v", err)
		}
		info := waitJob(t, q2, job.ID, StateCompleted)

		calls := append(first.Calls(), second.Calls()...)
		if len(first.Calls()) > 0 {
			t.Logf("the first queue fired the expiry before it stopped")
		}
		if len(calls) != 1 || calls[0].caseID != "case-1" {
			t.Fatalf("Expire calls = %+v, want one for case-1", calls)
		}
		if calls[0].at.Before(due) {
			t.Errorf("Expire called at %v, before the deadline %v", calls[0].at, due)
		}
		if info.Kind != "clock_expiry" || info.Attempt != 1 || len(info.Errors) != 0 {
			t.Errorf("job = %+v, want clock_expiry completed on the first attempt", info)
		}
	})
}

func TestExpiryWaitsForDeadlineOnSkewedClock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, base func() Config) {
		ctx := context.Background()
		e := &fakeExpirer{}
		const skew = 400 * time.Millisecond
		cfg := workerConfig(base(), e, noShard)
		// This process's clock runs behind the database's view of time: the
		// job becomes due for River first and must wait for the service.
		cfg.Now = func() time.Time { return time.Now().Add(-skew) }
		q := open(t, cfg)
		defer closeQueue(t, q)
		// Scheduled before Start, so that River's scheduler sees the job
		// on its first pass rather than five seconds later.
		due := time.Now().Add(100 * time.Millisecond)
		job, err := q.ScheduleExpiry(ctx, "case-skew", due)
		if err != nil {
			t.Fatalf("ScheduleExpiry: %v", err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		waitJob(t, q, job.ID, StateCompleted)
		calls := e.Calls()
		if len(calls) != 1 {
			t.Fatalf("Expire calls = %+v, want 1", calls)
		}
		if calls[0].at.Before(due.Add(skew)) {
			t.Errorf("Expire called at %v, before the skewed deadline %v", calls[0].at, due.Add(skew))
		}
	})
}

func TestExpiryOfUnknownCaseIsCancelled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, base func() Config) {
		ctx := context.Background()
		e := &fakeExpirer{err: fmt.Errorf("case x: %w", review.ErrNotFound)}
		q := open(t, workerConfig(base(), e, noShard))
		defer closeQueue(t, q)
		if err := q.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		job, err := q.ScheduleExpiry(ctx, "gone", time.Now())
		if err != nil {
			t.Fatalf("ScheduleExpiry: %v", err)
		}
		info := waitJob(t, q, job.ID, StateCancelled)
		if len(e.Calls()) != 1 || info.Attempt != 1 {
			t.Errorf("calls = %d, job = %+v; want one call and a cancelled first attempt", len(e.Calls()), info)
		}
	})
}

func TestScheduleExpiryIsIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, base func() Config) {
		ctx := context.Background()
		q := open(t, base()) // insert-only
		defer closeQueue(t, q)
		due := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		a, err := q.ScheduleExpiry(ctx, "case-1", due)
		if err != nil {
			t.Fatalf("ScheduleExpiry: %v", err)
		}
		b, err := q.ScheduleExpiry(ctx, "case-1", due.In(time.FixedZone("x", 3600)))
		if err != nil {
			t.Fatalf("ScheduleExpiry again: %v", err)
		}
		if diff := cmp.Diff(Enqueued{ID: a.ID, Duplicate: true}, b); diff != "" || a.Duplicate {
			t.Errorf("second ScheduleExpiry (-want +got):\n%s (first: %+v)", diff, a)
		}
		c, err := q.ScheduleExpiry(ctx, "case-1", due.Add(time.Hour))
		if err != nil {
			t.Fatalf("ScheduleExpiry extended: %v", err)
		}
		if c.Duplicate || c.ID == a.ID {
			t.Errorf("extended deadline = %+v, want a new job (first %d)", c, a.ID)
		}
		info, err := q.Job(ctx, a.ID)
		if err != nil {
			t.Fatalf("Job: %v", err)
		}
		want := JobInfo{ID: a.ID, Kind: "clock_expiry", State: StateScheduled, ScheduledAt: due}
		if diff := cmp.Diff(want, info); diff != "" {
			t.Errorf("Job (-want +got):\n%s", diff)
		}
		if _, err := q.Job(ctx, 1<<40); !errors.Is(err, ErrNotFound) {
			t.Errorf("Job(unknown) error = %v, want ErrNotFound", err)
		}
	})
}

func TestShardRetriedAfterFailure(t *testing.T) {
	forEachBackend(t, func(t *testing.T, base func() Config) {
		ctx := context.Background()
		var mu sync.Mutex
		var got []ShardArgs
		run := func(_ context.Context, s ShardArgs) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, s)
			if len(got) == 1 {
				return errors.New("boom")
			}
			return nil
		}
		q := open(t, workerConfig(base(), &fakeExpirer{}, run))
		defer closeQueue(t, q)
		if err := q.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		shard := ShardArgs{AssessmentID: "asm_a", Shard: 1, Shards: 4}
		job, err := q.EnqueueShard(ctx, shard)
		if err != nil {
			t.Fatalf("EnqueueShard: %v", err)
		}
		info := waitJob(t, q, job.ID, StateCompleted)
		if info.Attempt != 2 || len(info.Errors) != 1 || !strings.Contains(info.Errors[0], "boom") {
			t.Errorf("job = %+v, want completed on attempt 2 after one boom", info)
		}
		mu.Lock()
		defer mu.Unlock()
		if diff := cmp.Diff([]ShardArgs{shard, shard}, got); diff != "" {
			t.Errorf("RunShard calls (-want +got):\n%s", diff)
		}
	})
}

func TestEnqueueShardRejectsBadShards(t *testing.T) {
	q := open(t, Config{SQLitePath: filepath.Join(t.TempDir(), "w.db")})
	defer closeQueue(t, q)
	good := ShardArgs{AssessmentID: "asm_d", Shard: 0, Shards: 1}
	tests := []struct {
		name string
		mod  func(*ShardArgs)
		want string
	}{
		{"no assessment", func(s *ShardArgs) { s.AssessmentID = "" }, "empty assessment id"},
		{"zero shards", func(s *ShardArgs) { s.Shards = 0 }, "shard count 0"},
		{"index too big", func(s *ShardArgs) { s.Shard = 1 }, "shard index 1 is outside [0, 1)"},
		{"negative index", func(s *ShardArgs) { s.Shard = -1 }, "shard index -1"},
	}
	for _, tt := range tests {
		s := good
		tt.mod(&s)
		_, err := q.EnqueueShard(context.Background(), s)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: EnqueueShard error = %v, want ErrConfig mentioning %q", tt.name, err, tt.want)
		}
	}
	if _, err := q.EnqueueShard(context.Background(), good); err != nil {
		t.Errorf("EnqueueShard(good) = %v", err)
	}
	if _, err := q.ScheduleExpiry(context.Background(), "", time.Now()); !errors.Is(err, ErrConfig) {
		t.Errorf("ScheduleExpiry(empty id) error = %v, want ErrConfig", err)
	}
	if _, err := q.ScheduleExpiry(context.Background(), "c", time.Time{}); !errors.Is(err, ErrConfig) {
		t.Errorf("ScheduleExpiry(zero due) error = %v, want ErrConfig", err)
	}
	if err := q.Start(context.Background()); !errors.Is(err, ErrConfig) {
		t.Errorf("Start on an insert-only queue = %v, want ErrConfig", err)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	run := func(context.Context, ShardArgs) error { return nil }
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no database", Config{}, "exactly one of"},
		{"two databases", Config{SQLitePath: path, PGPool: &pgxpool.Pool{}}, "got 2"},
		{"negative workers", Config{SQLitePath: path, Workers: -1}, "negative"},
		{"no expirer", Config{SQLitePath: path, Workers: 1, RunShard: run}, "needs an Expirer"},
		{"no shard runner", Config{SQLitePath: path, Workers: 1, Expirer: &fakeExpirer{}}, "needs RunShard"},
		{"negative timeout", Config{SQLitePath: path, ShardTimeout: -time.Second}, "negative duration"},
		{"negative attempts", Config{SQLitePath: path, MaxAttempts: -1}, "MaxAttempts"},
		{"exclusive on PostgreSQL", Config{PGPool: &pgxpool.Pool{}, Exclusive: true}, "Exclusive is for SQLite"},
	}
	for _, tt := range tests {
		q, err := Open(context.Background(), tt.cfg)
		if q != nil {
			closeQueue(t, q)
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Open error = %v, want ErrConfig mentioning %q", tt.name, err, tt.want)
		}
	}
}

func TestOpenMigratesOnce(t *testing.T) {
	// Opening twice on the same file must find the schema in place.
	path := filepath.Join(t.TempDir(), "w.db")
	for i := range 2 {
		q, err := Open(context.Background(), Config{SQLitePath: path})
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		closeQueue(t, q)
	}
	if _, err := Open(context.Background(), Config{SQLitePath: filepath.Join(t.TempDir(), "missing", "w.db")}); err == nil {
		t.Errorf("Open in a missing directory succeeded")
	}
}

func TestOpenOnCallerDB(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "w.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	q := open(t, Config{DB: db})
	job, err := q.ScheduleExpiry(ctx, "case-db", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatalf("ScheduleExpiry: %v", err)
	}
	closeQueue(t, q)
	// The caller's database stays open and holds the job.
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE id = ? AND kind = 'clock_expiry'", job.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("count jobs after Close = %d, %v; want 1, nil", n, err)
	}
}
