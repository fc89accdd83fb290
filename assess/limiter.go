package assess

import (
	"context"
	"sync"
	"time"
)

// limiter bounds in-flight requests to one target with additive-increase,
// multiplicative-decrease (AIMD): each success raises the limit by 1/limit
// (about one slot per window of successes), each overload signal halves it,
// at most once per window so a burst of 429s from one overload counts once.
// A Retry-After pauses new dispatches until that time.
type limiter struct {
	mu       sync.Mutex
	cond     *sync.Cond
	limit    float64
	max      float64
	inflight int
	peak     int
	pause    time.Time // no new slot before this time
	lastCut  time.Time
	cutGap   time.Duration
	now      func() time.Time
}

func newLimiter(start, max int, now func() time.Time) *limiter {
	if max < 1 {
		max = 1
	}
	if start < 1 || start > max {
		start = max
	}
	l := &limiter{limit: float64(start), max: float64(max), now: now, cutGap: 250 * time.Millisecond}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// acquire blocks until a slot is free and no pause is in force, or ctx ends.
func (l *limiter) acquire(ctx context.Context) error {
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
		if wait := l.pause.Sub(l.now()); wait > 0 {
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
		if float64(l.inflight) < l.limit {
			l.inflight++
			if l.inflight > l.peak {
				l.peak = l.inflight
			}
			return nil
		}
		l.cond.Wait()
	}
}

// release frees a slot after a request ends.
func (l *limiter) release() {
	l.mu.Lock()
	l.inflight--
	l.cond.Broadcast()
	l.mu.Unlock()
}

// success records a request the target served.
func (l *limiter) success() {
	l.mu.Lock()
	if l.limit < l.max {
		l.limit += 1 / l.limit
		if l.limit > l.max {
			l.limit = l.max
		}
		l.cond.Broadcast()
	}
	l.mu.Unlock()
}

// overload records a 429 or overload answer; retryAfter, when positive,
// pauses all new requests for that long.
func (l *limiter) overload(retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.lastCut) >= l.cutGap {
		l.limit /= 2
		if l.limit < 1 {
			l.limit = 1
		}
		l.lastCut = now
	}
	if retryAfter > 0 {
		if until := now.Add(retryAfter); until.After(l.pause) {
			l.pause = until
		}
	}
}

// current returns the limit and the peak in-flight count seen so far.
func (l *limiter) current() (limit float64, peak int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit, l.peak
}
