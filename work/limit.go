package work

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
)

// LimitStore keeps the concurrency limits that workers share per target;
// every review.Store satisfies it.
type LimitStore interface {
	UpdateTargetLimit(ctx context.Context, target string, fn func(*review.TargetLimit) error) (review.TargetLimit, error)
}

// Defaults of TargetLimitsConfig.
const (
	DefaultLimitSync = 100 * time.Millisecond
	DefaultLimitTTL  = 10 * time.Second
	// DefaultShardWait is RunnerConfig.ShardWait's default.
	DefaultShardWait = 30 * time.Second
)

// TargetLimitsConfig configures TargetLimits.
type TargetLimitsConfig struct {
	// Store is the database every worker process shares (required).
	Store LimitStore
	// Start and Max are a new target's limit and every target's ceiling:
	// 0 and 0 mean assess.DefaultStartConcurrency and
	// assess.DefaultMaxConcurrency, as the CLI's adaptive runs; a Max
	// alone (clearance worker --concurrency N) starts at Max, as
	// clearance assess --concurrency N does.
	Start, Max int
	// Holder names this process's leases; empty means a random name.
	Holder string
	// Sync is how often a process with requests to make reports its
	// successes and takes its share of the limit (default
	// DefaultLimitSync); an overload is reported at once.
	Sync time.Duration
	// TTL is how long a lease lives without renewal (default
	// DefaultLimitTTL): a dead process's slots return after it. A process
	// that cannot renew for TTL/2 starts no request until it can, so its
	// lease never lapses under requests it still has in flight.
	TTL    time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// TargetLimits is one worker process's side of the concurrency limits
// that workers share per target through the database: the same AIMD as
// clearance assess (assess.AIMD: +1/limit a success, halved on a 429 or
// overload at most once per assess.OverloadGap, a Retry-After pausing
// every worker), kept in one row per target (review.TargetLimit). Each
// process leases slots of the limit for its shards' requests; the
// leases of all live processes never add up to more than the limit when
// granted, so however many shards and worker processes run, no more
// requests are in flight to a target than its limit (a cut leaves those
// already sent to finish). Contended, a process gets a fair share.
type TargetLimits struct {
	cfg TargetLimitsConfig
	mu  sync.Mutex
	m   map[string]*sharedLimiter
}

// NewTargetLimits returns a process's TargetLimits.
func NewTargetLimits(cfg TargetLimitsConfig) (*TargetLimits, error) {
	switch {
	case cfg.Store == nil:
		return nil, fmt.Errorf("%w: target limits need a Store", ErrConfig)
	case cfg.Start < 0 || cfg.Max < 0 || cfg.Sync < 0 || cfg.TTL < 0:
		return nil, fmt.Errorf("%w: target limits: negative Start, Max, Sync or TTL", ErrConfig)
	}
	switch {
	case cfg.Max == 0 && cfg.Start == 0:
		cfg.Start, cfg.Max = assess.DefaultStartConcurrency, assess.DefaultMaxConcurrency
	case cfg.Max == 0:
		cfg.Max = max(cfg.Start, assess.DefaultMaxConcurrency)
	case cfg.Start == 0 || cfg.Start > cfg.Max:
		cfg.Start = cfg.Max
	}
	if cfg.Holder == "" {
		b := make([]byte, 8)
		rand.Read(b)
		cfg.Holder = "w_" + hex.EncodeToString(b)
	}
	if cfg.Sync == 0 {
		cfg.Sync = DefaultLimitSync
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultLimitTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &TargetLimits{cfg: cfg, m: map[string]*sharedLimiter{}}, nil
}

// For returns the limiter of a target (its key: the endpoint and model,
// see targetKey), shared by every shard of this process.
func (tl *TargetLimits) For(target string) assess.Limiter {
	return tl.limiter(target)
}

func (tl *TargetLimits) limiter(target string) *sharedLimiter {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	l, ok := tl.m[target]
	if !ok {
		l = &sharedLimiter{tl: tl, target: target, kick: make(chan struct{}, 1)}
		l.cond = sync.NewCond(&l.mu)
		tl.m[target] = l
	}
	return l
}

// targetKey names the target whose limit a run shares: its endpoint and
// model when it has them, else its identity.
func targetKey(info assess.TargetInfo) string {
	if info.BaseURL != "" {
		return info.Kind + " " + info.BaseURL + " model=" + info.Model
	}
	return info.Identity
}

// sharedLimiter is one target's assess.Limiter in one process: requests
// take slots of the lease (granted), which a goroutine renews while the
// process has requests to make, reporting successes and overloads.
type sharedLimiter struct {
	tl     *TargetLimits
	target string
	kick   chan struct{}

	mu         sync.Mutex
	cond       *sync.Cond
	granted    int       // slots of this process's lease it may use
	inflight   int       // requests in flight
	waiting    int       // requests waiting for a slot
	shards     int       // shards admitted to send (admit)
	pause      time.Time // Retry-After: no request before
	validUntil time.Time // no request after, until the lease is renewed
	successes  int       // not yet reported
	overloaded bool      // an overload not yet reported, at overAt
	overAt     time.Time
	retryAfter time.Duration
	syncing    bool // the renewing goroutine runs
	limit      float64
}

// Acquire implements assess.Limiter.
func (l *sharedLimiter) Acquire(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := l.tl.cfg.Now()
		if wait := l.pause.Sub(now); wait > 0 {
			l.mu.Unlock()
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
			l.mu.Lock()
			continue
		}
		if l.inflight < l.granted && now.Before(l.validUntil) {
			l.inflight++
			return nil
		}
		l.waiting++
		l.startSync()
		l.cond.Wait()
		l.waiting--
	}
}

// Release implements assess.Limiter.
func (l *sharedLimiter) Release() {
	l.mu.Lock()
	l.inflight--
	l.cond.Broadcast()
	l.mu.Unlock()
}

// Success implements assess.Limiter.
func (l *sharedLimiter) Success() {
	l.mu.Lock()
	l.successes++
	l.mu.Unlock()
}

// Overload implements assess.Limiter: this process stops at once (half
// its slots, the pause) and tells the others at its next renewal, now.
func (l *sharedLimiter) Overload(retryAfter time.Duration) {
	l.mu.Lock()
	now := l.tl.cfg.Now()
	if !l.overloaded {
		l.granted = max(1, l.granted/2)
	}
	l.overloaded, l.overAt = true, now
	l.retryAfter = max(l.retryAfter, retryAfter)
	if until := now.Add(retryAfter); retryAfter > 0 && until.After(l.pause) {
		l.pause = until
	}
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// ErrShardDeferred is returned by Runner.RunShard for a shard that
// waited RunnerConfig.ShardWait without its target's limit letting
// another shard of this process send: the queue snoozes its job (not an
// attempt), so that it waits in the database, where any worker process
// may take it up.
var ErrShardDeferred = errors.New("shard deferred: its target's limit feeds the shards already sending")

// shardsAllowed is how many shards of the target this process lets send
// at once, each with up to pool requests in flight: enough to fill the
// shared limit, plus one to fill the slots that a finishing shard's tail
// leaves, but never more shards than the limit has slots. l.mu is held.
func (l *sharedLimiter) shardsAllowed(pool int) int {
	limit := int(l.limit)
	if l.limit == 0 {
		limit = l.tl.cfg.Start // not synced yet
	}
	limit, pool = max(limit, 1), max(pool, 1)
	return min(limit, (limit+pool-1)/pool+1)
}

// admit waits until this process may start another shard of the target
// that sends up to pool requests at once (shardsAllowed), for at most
// wait: then ErrShardDeferred. A shard that waits holds no slot, no
// database connection and no CPU: it sleeps until a shard of the target
// ends or the limit changes. The returned func ends the shard's turn.
func (l *sharedLimiter) admit(ctx context.Context, pool int, wait time.Duration) (func(), error) {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	stop := context.AfterFunc(wctx, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.shards > 0 && l.shards >= l.shardsAllowed(pool) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if wctx.Err() != nil {
			return nil, ErrShardDeferred
		}
		l.cond.Wait()
	}
	l.shards++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			l.shards--
			l.cond.Broadcast()
			l.mu.Unlock()
		})
	}, nil
}

// startSync starts the renewing goroutine unless it runs; l.mu is held.
func (l *sharedLimiter) startSync() {
	if l.syncing {
		return
	}
	l.syncing = true
	go l.syncLoop()
}

func (l *sharedLimiter) syncLoop() {
	for {
		l.sync()
		l.mu.Lock()
		if l.inflight == 0 && l.waiting == 0 && l.granted == 0 && l.successes == 0 && !l.overloaded {
			l.syncing = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		t := time.NewTimer(l.tl.cfg.Sync)
		select {
		case <-t.C:
		case <-l.kick:
			t.Stop()
		}
	}
}

// sync reports this process's successes, overload and demand, and takes
// its lease: the slots it still uses, and more as the limit allows.
func (l *sharedLimiter) sync() {
	cfg := &l.tl.cfg
	l.mu.Lock()
	// Slots beyond what the shards now want go back; those in use stay
	// held whatever the limit became.
	want := min(l.inflight+l.waiting, cfg.Max)
	hold := max(l.inflight, min(l.granted, want))
	l.granted = hold
	succ, over, overAt, ra := l.successes, l.overloaded, l.overAt, l.retryAfter
	l.successes, l.overloaded, l.retryAfter = 0, false, 0
	l.mu.Unlock()

	now := cfg.Now()
	var grant int
	ctx, cancel := context.WithTimeout(context.Background(), cfg.TTL/2)
	res, err := cfg.Store.UpdateTargetLimit(ctx, l.target, func(t *review.TargetLimit) error {
		if t.Limit == 0 {
			t.Limit = float64(cfg.Start)
		}
		t.Max = cfg.Max
		a := assess.AIMD{Limit: min(t.Limit, float64(cfg.Max)), Max: float64(cfg.Max), Pause: t.PauseUntil, LastCut: t.LastCut}
		a.Success(succ)
		if over {
			a.Overload(overAt, ra)
		}
		t.Limit, t.PauseUntil, t.LastCut = a.Limit, a.Pause, a.LastCut
		others, wanting, contended := 0, 0, false
		kept := t.Leases[:0]
		for _, ls := range t.Leases {
			if ls.Holder == cfg.Holder || !ls.Expires.After(now) {
				continue
			}
			kept = append(kept, ls)
			others += ls.Slots
			if ls.Want > 0 {
				wanting++
			}
			if ls.Want > ls.Slots {
				contended = true
			}
		}
		limit := int(a.Limit)
		ideal := want
		if contended {
			ideal = min(want, max(1, (limit+wanting)/(wanting+1)))
		}
		grant = min(ideal, max(0, limit-others))
		if stored := max(grant, hold); stored > 0 || want > 0 {
			kept = append(kept, review.TargetLease{Holder: cfg.Holder, Slots: stored, Want: want, Expires: now.Add(cfg.TTL)})
		}
		t.Leases = kept
		return nil
	})
	cancel()

	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.cond.Broadcast()
	if err != nil {
		cfg.Logger.Warn("renew target limit lease", "target", l.target, "err", err)
		l.successes += succ
		if over {
			l.overloaded, l.overAt, l.retryAfter = true, overAt, max(l.retryAfter, ra)
		}
		return
	}
	l.granted = grant
	l.limit = res.Limit
	l.validUntil = now.Add(cfg.TTL / 2)
	if res.PauseUntil.After(l.pause) {
		l.pause = res.PauseUntil
	}
}
