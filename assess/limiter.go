package assess

import (
	"context"
	"sync"
	"time"
)

// OverloadGap is the shortest time between two cuts of an AIMD limit: a
// burst of overload answers from one overload counts once.
const OverloadGap = 250 * time.Millisecond

// AIMD is an adaptive concurrency limit's state, additive-increase,
// multiplicative-decrease: each success raises Limit by 1/Limit (about
// one slot per window of successes), each overload signal halves it (at
// most once per OverloadGap), and a Retry-After pauses new requests
// until Pause. The run's own limiter keeps one; the review service's
// workers keep one per target in the database (work.TargetLimits), so
// both treat a 429 alike.
type AIMD struct {
	Limit   float64
	Max     float64
	Pause   time.Time // no new request before this time
	LastCut time.Time
}

// Success records n requests the target served.
func (a *AIMD) Success(n int) {
	for range n {
		if a.Limit >= a.Max {
			break
		}
		a.Limit = min(a.Limit+1/a.Limit, a.Max)
	}
}

// Overload records a 429 or overload answer at now; retryAfter, when
// positive, pauses new requests for that long.
func (a *AIMD) Overload(now time.Time, retryAfter time.Duration) {
	if now.Sub(a.LastCut) >= OverloadGap {
		a.Limit = max(a.Limit/2, 1)
		a.LastCut = now
	}
	if retryAfter > 0 {
		if until := now.Add(retryAfter); until.After(a.Pause) {
			a.Pause = until
		}
	}
}

// Limiter bounds the requests a run has in flight to its target
// (Config.Limiter): Acquire takes a slot (blocking until one is free and
// no pause is in force, or ctx ends), Release frees it, and each request
// that took one reports Success or Overload (with the Retry-After, if
// any, of a 429 or overload answer).
type Limiter interface {
	Acquire(ctx context.Context) error
	Release()
	Success()
	Overload(retryAfter time.Duration)
}

// limiter is a run's own Limiter: AIMD over the run's requests.
type limiter struct {
	mu       sync.Mutex
	cond     *sync.Cond
	aimd     AIMD
	inflight int
	peak     int
	now      func() time.Time
}

func newLimiter(start, max int, now func() time.Time) *limiter {
	if max < 1 {
		max = 1
	}
	if start < 1 || start > max {
		start = max
	}
	l := &limiter{aimd: AIMD{Limit: float64(start), Max: float64(max)}, now: now}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// Acquire blocks until a slot is free and no pause is in force, or ctx ends.
func (l *limiter) Acquire(ctx context.Context) error {
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
		if wait := l.aimd.Pause.Sub(l.now()); wait > 0 {
			// Sleep outside the lock; wake everyone when the pause ends.
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
		if float64(l.inflight) < l.aimd.Limit {
			l.inflight++
			if l.inflight > l.peak {
				l.peak = l.inflight
			}
			return nil
		}
		l.cond.Wait()
	}
}

// Release frees a slot after a request ends.
func (l *limiter) Release() {
	l.mu.Lock()
	l.inflight--
	l.cond.Broadcast()
	l.mu.Unlock()
}

// Success records a request the target served.
func (l *limiter) Success() {
	l.mu.Lock()
	if l.aimd.Limit < l.aimd.Max {
		l.aimd.Success(1)
		l.cond.Broadcast()
	}
	l.mu.Unlock()
}

// Overload records a 429 or overload answer; retryAfter, when positive,
// pauses all new requests for that long.
func (l *limiter) Overload(retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.aimd.Overload(l.now(), retryAfter)
}

// current returns the limit and the peak in-flight count seen so far.
func (l *limiter) current() (limit float64, peak int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.aimd.Limit, l.peak
}
