package work

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/postgres"
	"github.com/clearance-dev/clearance/store/sqlite"
)

// limitStores returns a fresh review store of each available database:
// SQLite, and PostgreSQL when CLEARANCE_TEST_POSTGRES names one.
func limitStores(t *testing.T) map[string]func(t *testing.T) review.Store {
	out := map[string]func(t *testing.T) review.Store{
		"sqlite": func(t *testing.T) review.Store {
			db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
	base := os.Getenv("CLEARANCE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CLEARANCE_CI") != "" {
			t.Fatal("CLEARANCE_CI is set but CLEARANCE_TEST_POSTGRES is not: the PostgreSQL variant must run")
		}
		t.Log("CLEARANCE_TEST_POSTGRES unset: skipping the PostgreSQL variant")
		return out
	}
	out["postgres"] = func(t *testing.T) review.Store {
		ctx := context.Background()
		var b [8]byte
		rand.Read(b[:])
		schema := "work_limit_" + hex.EncodeToString(b[:])
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			admin.Close(context.Background())
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db, err := postgres.Open(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	return out
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func storedLimit(t *testing.T, st LimitStore, target string) review.TargetLimit {
	t.Helper()
	l, err := st.UpdateTargetLimit(context.Background(), target, func(*review.TargetLimit) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSharedLimitHalvesAndGrows: two processes' limiters (two
// TargetLimits on one database) share one limit per target: a 429 seen
// by one halves it for both, and the successes of both grow it back to
// its ceiling, as clearance assess's limiter does.
func TestSharedLimitHalvesAndGrows(t *testing.T) {
	for name, open := range limitStores(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			ctx := context.Background()
			mk := func(holder string) *sharedLimiter {
				tl, err := NewTargetLimits(TargetLimitsConfig{Store: st, Max: 8, Holder: holder, Sync: 5 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				return tl.limiter("model")
			}
			a, b := mk("a"), mk("b")
			call := func(l *sharedLimiter, ok bool) {
				t.Helper()
				if err := l.Acquire(ctx); err != nil {
					t.Fatal(err)
				}
				if ok {
					l.Success()
				} else {
					l.Overload(0)
				}
				l.Release()
			}
			call(a, true)
			call(b, true)
			if l := storedLimit(t, st, "model"); l.Limit != 8 || l.Max != 8 {
				t.Fatalf("limit %v of %d, want 8 of 8 (Max alone starts at Max)", l.Limit, l.Max)
			}
			call(a, false) // a 429 to process a
			// Halved to 4, plus 1/4 for a success of b reported after.
			waitFor(t, "the 429 to halve the shared limit", func() bool { return storedLimit(t, st, "model").Limit < 5 })
			// Process b now gets at most the halved limit.
			waitFor(t, "b to see the halved limit", func() bool {
				call(b, true)
				b.mu.Lock()
				defer b.mu.Unlock()
				return b.limit < 8
			})
			b.mu.Lock()
			if b.granted > 4 {
				t.Errorf("b holds %d slots of a halved limit of about 4", b.granted)
			}
			b.mu.Unlock()
			// Successes of both grow it back: +1/limit each.
			for i := 0; storedLimit(t, st, "model").Limit < 8; i++ {
				if i > 10000 {
					t.Fatal("the shared limit does not grow back")
				}
				call(a, true)
				call(b, true)
			}
		})
	}
}

// TestSharedLimitAcrossRunners runs one assessment's shards on two
// Runners, each with its own TargetLimits as two worker processes have,
// on one database, against a model on 127.0.0.1 that counts the
// requests it holds at once: however many shards run, never more than
// the shared limit are in flight. The model answers 429 with
// Retry-After to every tenth request, which the runners retry.
func TestSharedLimitAcrossRunners(t *testing.T) {
	for name, open := range limitStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			id, _ := review.GenerateAgeIdentity()
			sealer, _ := review.NewAgeSealer(id)
			svc, err := review.New(review.Config{Store: st, Sealer: sealer, Evidence: noMissing{}, Planner: &Planner{ShardSize: 10, SkipJudge: true}, Scheduler: nopScheduler{}})
			if err != nil {
				t.Fatal(err)
			}
			var inflight, peak, n, limited atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				cur := inflight.Add(1)
				defer inflight.Add(-1)
				for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
				}
				if n.Add(1)%10 == 0 {
					limited.Add(1)
					w.Header().Set("Retry-After", "0")
					http.Error(w, "slow down", http.StatusTooManyRequests)
					return
				}
				time.Sleep(10 * time.Millisecond)
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"choices": []map[string]any{{"message": map[string]string{"role": "assistant", "content": "I can't help with that."}, "finish_reason": "stop"}}})
			}))
			defer srv.Close()

			asr, caseID := openCase(t, svc, srv.URL)
			as, err := svc.ScheduleAssessment(ctx, asr, caseID, review.AssessmentInput{Suites: []string{"misuse"}, Limit: 80})
			if err != nil {
				t.Fatal(err)
			}
			const limit = 6
			runners := make([]*Runner, 2)
			for i := range runners {
				tl, err := NewTargetLimits(TargetLimitsConfig{Store: st, Max: limit, Sync: 5 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				// Each shard may send up to 16 at once: only the shared
				// limit holds them to 6.
				runners[i], err = NewRunner(RunnerConfig{Service: svc, Limits: tl, Concurrency: 16, Calibration: -1,
					Egress: egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
				if err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			for shard := range as.Shards {
				wg.Go(func() {
					if err := runners[shard%2].RunShard(ctx, ShardArgs{AssessmentID: as.ID, Shard: shard, Shards: as.Shards}); err != nil {
						t.Errorf("RunShard(%d): %v", shard, err)
					}
				})
			}
			wg.Wait()
			done, err := svc.GetAssessment(ctx, asr, as.ID)
			if err != nil {
				t.Fatal(err)
			}
			if done.State != review.AssessmentDone {
				t.Fatalf("assessment %s, want done", done.State)
			}
			if p := peak.Load(); p > limit {
				t.Errorf("%d requests in flight at once across two runners, want at most the shared limit %d", p, limit)
			}
			if limited.Load() == 0 {
				t.Error("the model limited no request")
			}
			t.Logf("%d shards, %d requests (%d answered 429), peak %d in flight", as.Shards, n.Load(), limited.Load(), peak.Load())
		})
	}
}
