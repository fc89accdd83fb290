package work

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
)

// shardModel is a model on 127.0.0.1 that knows which shard each prompt
// belongs to and records the most shards it held requests of at once;
// hold, when set, keeps each request until it first returns true or
// release is closed.
type shardModel struct {
	srv     *httptest.Server
	mu      sync.Mutex
	cond    *sync.Cond
	shardOf map[string]int // last user message → shard
	in      map[int]int    // shard → requests in flight
	peak    int            // most shards with a request in flight at once
	unknown int
	hold    func(shardsNow int) bool
	release chan struct{}
}

func newShardModel(t *testing.T, hold func(int) bool) *shardModel {
	m := &shardModel{in: map[int]int{}, hold: hold, release: make(chan struct{})}
	m.cond = sync.NewCond(&m.mu)
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct{ Role, Content string }
		}
		json.NewDecoder(r.Body).Decode(&req)
		last := ""
		for _, msg := range req.Messages {
			if msg.Role == "user" {
				last = msg.Content
			}
		}
		m.mu.Lock()
		shard, ok := m.shardOf[last]
		if !ok {
			m.unknown++
			shard = -1
		}
		m.in[shard]++
		if len(m.in) > m.peak {
			m.peak = len(m.in)
		}
		m.cond.Broadcast()
		for m.hold != nil {
			if m.hold(len(m.in)) {
				m.hold = nil // the rest run freely
				m.cond.Broadcast()
				break
			}
			select {
			case <-m.release:
				m.hold = nil
				continue
			default:
			}
			m.cond.Wait()
		}
		m.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		// Out of the count before the answer leaves: the shard's run
		// ends only once it has every answer.
		m.mu.Lock()
		if m.in[shard]--; m.in[shard] == 0 {
			delete(m.in, shard)
		}
		m.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"choices": []map[string]any{{"message": map[string]string{"role": "assistant", "content": "I can't help with that."}, "finish_reason": "stop"}}})
	}))
	t.Cleanup(m.srv.Close)
	t.Cleanup(m.giveUp)
	return m
}

// giveUp answers every held request from now on.
func (m *shardModel) giveUp() {
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.release:
	default:
		close(m.release)
	}
	m.cond.Broadcast()
}

// learn maps each sample of the assessment's plan to its shard.
func (m *shardModel) learn(t *testing.T, as review.Assessment) {
	spec, err := ParseSpec(as.Spec)
	if err != nil {
		t.Fatal(err)
	}
	plan, _, _, err := spec.plan(&suites{})
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.shardOf = map[string]int{}
	i := 0
	for sm := range plan {
		key := sm.Messages[len(sm.Messages)-1].Content
		if prev, dup := m.shardOf[key]; dup && prev != i/spec.ShardSize {
			t.Fatalf("samples of shards %d and %d share a prompt: the model cannot tell them apart", prev, i/spec.ShardSize)
		}
		m.shardOf[key] = i / spec.ShardSize
		i++
	}
}

func (m *shardModel) peakShards() (peak, unknown int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak, m.unknown
}

// gateScheduler enqueues assessments on a queue opened after the service.
type gateScheduler struct{ q *Queue }

func (g *gateScheduler) ScheduleExpiry(context.Context, string, time.Time) error { return nil }
func (g *gateScheduler) EnqueueAssessment(ctx context.Context, a review.Assessment) error {
	return g.q.EnqueueAssessment(ctx, a)
}

// runGated runs an assessment of samples misuse samples in shards of
// shardSize through a queue taking AutoWorkers shards at once, its Runner
// sending at most pool requests per shard under a shared limit of max,
// against m; it returns the finished assessment.
func runGated(t *testing.T, st review.Store, m *shardModel, samples, shardSize, pool, maxLimit int, shardWait time.Duration) review.Assessment {
	t.Helper()
	ctx := context.Background()
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	sched := &gateScheduler{}
	svc, err := review.New(review.Config{Store: st, Sealer: sealer, Evidence: noMissing{}, Planner: &Planner{ShardSize: shardSize, SkipJudge: true}, Scheduler: sched})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := NewTargetLimits(TargetLimitsConfig{Store: st, Max: maxLimit, Sync: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(RunnerConfig{Service: svc, Limits: tl, Concurrency: pool, Calibration: -1, ShardWait: shardWait,
		Egress: egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := workerConfig(Config{SQLitePath: filepath.Join(t.TempDir(), "jobs.db")}, &fakeExpirer{}, r.RunShard)
	cfg.Workers, cfg.ShardTimeout = AutoWorkers, time.Minute
	q := open(t, cfg)
	sched.q = q
	asr, caseID := openCase(t, svc, m.srv.URL)
	as, err := svc.ScheduleAssessment(ctx, asr, caseID, review.AssessmentInput{Suites: []string{"misuse"}, Limit: samples})
	if err != nil {
		t.Fatal(err)
	}
	if as.Shards <= 4 {
		t.Fatalf("%d shards: the test needs more than the old 4 shards at once", as.Shards)
	}
	m.learn(t, as)
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var got review.Assessment
	waitFor(t, "the assessment to finish", func() bool {
		if got, err = svc.GetAssessment(ctx, asr, as.ID); err != nil {
			t.Fatal(err)
		}
		return got.State == review.AssessmentDone || got.State == review.AssessmentFailed
	})
	if got.State != review.AssessmentDone {
		t.Fatalf("assessment %s (%s), want done", got.State, got.Error)
	}
	return got
}

// TestShardsFollowTargetLimit: a worker takes AutoWorkers shards at
// once, but how many of a target's shards send is its shared limit's to
// say. With a limit of 6 and shards that each send up to 6 requests at
// once, two shards send (one to fill the limit, one for the first's
// tail), never more, however many the queue handed out; with a limit of
// 64 and shards of 2 requests each, more shards send at once than the
// 4 a worker used to run.
func TestShardsFollowTargetLimit(t *testing.T) {
	for name, open := range limitStores(t) {
		t.Run(name+"/small limit", func(t *testing.T) {
			m := newShardModel(t, nil)
			// A short ShardWait: shards beyond the two go back to the
			// queue (a snooze, not a failed attempt) and come again.
			runGated(t, open(t), m, 36, 6, 6, 6, 200*time.Millisecond)
			peak, unknown := m.peakShards()
			if unknown > 0 {
				t.Fatalf("%d requests the model could not place in a shard", unknown)
			}
			if peak > 2 {
				t.Errorf("requests of %d shards in flight at once under a limit of 6 with 6 per shard, want at most 2", peak)
			}
			t.Logf("at most %d shards sending at once", peak)
		})
		t.Run(name+"/large limit", func(t *testing.T) {
			// The model holds every request until it holds requests of 5
			// shards at once (or the wait for the assessment gives up).
			const want = 5
			m := newShardModel(t, func(shards int) bool { return shards >= want })
			runGated(t, open(t), m, 24, 2, 2, 64, DefaultShardWait)
			peak, unknown := m.peakShards()
			if unknown > 0 {
				t.Fatalf("%d requests the model could not place in a shard", unknown)
			}
			if peak < want {
				t.Errorf("requests of at most %d shards in flight at once under a limit of 64 with 2 per shard, want %d or more", peak, want)
			}
		})
	}
}

// TestShardDeferredWhileLimitIsFed: a shard whose target's limit is fed
// by the shards already sending waits at most ShardWait, then RunShard
// returns ErrShardDeferred (which the queue turns into a snooze), and
// runs once the limit has room.
func TestShardDeferredWhileLimitIsFed(t *testing.T) {
	st := limitStores(t)["sqlite"](t)
	ctx := context.Background()
	m := newShardModel(t, func(int) bool { return false }) // held until giveUp
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	svc, err := review.New(review.Config{Store: st, Sealer: sealer, Evidence: noMissing{}, Planner: &Planner{ShardSize: 3, SkipJudge: true}, Scheduler: nopScheduler{}})
	if err != nil {
		t.Fatal(err)
	}
	// A limit of 1: one shard sends at a time.
	tl, err := NewTargetLimits(TargetLimitsConfig{Store: st, Max: 1, Sync: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(RunnerConfig{Service: svc, Limits: tl, Concurrency: 3, Calibration: -1, ShardWait: 20 * time.Millisecond,
		Egress: egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
	if err != nil {
		t.Fatal(err)
	}
	asr, caseID := openCase(t, svc, m.srv.URL)
	as, err := svc.ScheduleAssessment(ctx, asr, caseID, review.AssessmentInput{Suites: []string{"misuse"}, Limit: 6})
	if err != nil {
		t.Fatal(err)
	}
	m.learn(t, as)
	first := make(chan error, 1)
	go func() { first <- r.RunShard(ctx, ShardArgs{AssessmentID: as.ID, Shard: 0, Shards: as.Shards}) }()
	waitFor(t, "shard 0 to send", func() bool { p, _ := m.peakShards(); return p == 1 })
	if err := r.RunShard(ctx, ShardArgs{AssessmentID: as.ID, Shard: 1, Shards: as.Shards}); !errors.Is(err, ErrShardDeferred) {
		t.Fatalf("RunShard of shard 1 while shard 0 holds the limit = %v, want ErrShardDeferred", err)
	}
	m.giveUp()
	if err := <-first; err != nil {
		t.Fatalf("RunShard of shard 0: %v", err)
	}
	if err := r.RunShard(ctx, ShardArgs{AssessmentID: as.ID, Shard: 1, Shards: as.Shards}); err != nil {
		t.Fatalf("RunShard of shard 1 once shard 0 is done: %v", err)
	}
	if got, _ := svc.GetAssessment(ctx, asr, as.ID); got.State != review.AssessmentDone {
		t.Errorf("assessment %s, want done", got.State)
	}
}
