package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"
)

// idempotency remembers the responses to submissions made with an
// Idempotency-Key, per user, for a TTL: the same key with the same body
// replays the first response; with another body it is errIdempotency.
// A request that fails is forgotten, so it may be retried.
//
// Limitation: the keys live in memory. A restart forgets them, and
// several server processes do not share them, so a retry that reaches
// another process (or comes after a crash between commit and response)
// submits again. Crash-safe keys need a table in review.Store, written in
// the submission's transaction; review has none yet.
type idempotency struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[idemKey]*idemEntry
	inserts int
}

type idemKey struct{ user, key string }

type idemEntry struct {
	hash    [32]byte
	done    chan struct{} // closed when the first request finished
	ok      bool          // the first request succeeded; code and body are set
	code    int
	body    []byte
	expires time.Time
}

func newIdempotency(ttl time.Duration, now func() time.Time) *idempotency {
	return &idempotency{ttl: ttl, now: now, entries: make(map[idemKey]*idemEntry)}
}

// do runs fn once per (user, key) and body, returning its response, or
// the remembered response with replayed true.
func (m *idempotency) do(ctx context.Context, user, key string, body []byte, fn func() (int, []byte, error)) (code int, resp []byte, replayed bool, err error) {
	k := idemKey{user, key}
	h := sha256.Sum256(body)
	for {
		m.mu.Lock()
		e, found := m.entries[k]
		if found && !m.now().Before(e.expires) {
			select {
			case <-e.done:
				delete(m.entries, k)
				found = false
			default:
			}
		}
		if !found {
			e = &idemEntry{hash: h, done: make(chan struct{}), expires: m.now().Add(m.ttl)}
			m.entries[k] = e
			m.sweepLocked()
			m.mu.Unlock()
			return m.run(k, e, fn)
		}
		m.mu.Unlock()
		if e.hash != h {
			return 0, nil, false, fmt.Errorf("idempotency key %q: %w", key, errIdempotency)
		}
		select {
		case <-e.done:
		case <-ctx.Done():
			return 0, nil, false, fmt.Errorf("idempotency key %q: %w", key, errIdempotencyBusy)
		}
		if e.ok {
			return e.code, e.body, true, nil
		}
		// The first request failed and was forgotten: try again.
	}
}

func (m *idempotency) run(k idemKey, e *idemEntry, fn func() (int, []byte, error)) (int, []byte, bool, error) {
	code, body, err := fn()
	m.mu.Lock()
	if err != nil {
		delete(m.entries, k)
	} else {
		e.ok, e.code, e.body = true, code, body
	}
	m.mu.Unlock()
	close(e.done)
	return code, body, false, err
}

// sweepLocked drops expired, finished entries every 1024 inserts, so the
// map holds roughly one TTL's worth of keys.
func (m *idempotency) sweepLocked() {
	m.inserts++
	if m.inserts%1024 != 0 {
		return
	}
	now := m.now()
	for k, e := range m.entries {
		select {
		case <-e.done:
			if !now.Before(e.expires) {
				delete(m.entries, k)
			}
		default:
		}
	}
}
