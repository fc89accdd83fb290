package tlog

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond for up to a minute: a bound on a wait, not a timing
// check.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestIdleClose: an idle log stops its appender (no background polling)
// and starts one again for the next append; entries appended across
// those restarts, concurrently, all get verified receipts and distinct
// indices.
func TestIdleClose(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	vkey, err := Init(ctx, dir, "example.org/idle")
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(ctx, dir, Options{IdleClose: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	waitFor(t, "the appender to stop after Open", func() bool { return !l.running() })

	seen := map[uint64]bool{}
	var mu sync.Mutex
	for round := range 5 {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				entry := fmt.Appendf(nil, "round %d entry %d", round, i)
				r, err := l.Append(ctx, entry)
				if err != nil {
					t.Errorf("append %q: %v", entry, err)
					return
				}
				if _, err := VerifyReceipt(entry, r, vkey); err != nil {
					t.Errorf("receipt of %q: %v", entry, err)
				}
				mu.Lock()
				defer mu.Unlock()
				if seen[r.Index] {
					t.Errorf("index %d handed out twice", r.Index)
				}
				seen[r.Index] = true
			})
		}
		wg.Wait()
		waitFor(t, "the appender to stop when idle", func() bool { return !l.running() })
	}
	if len(seen) != 40 {
		t.Errorf("%d distinct indices, want 40", len(seen))
	}
	rep, err := Monitor(ctx, mustSource(t, dir), vkey, MonitorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checkpoint.Size != 40 {
		t.Errorf("log size %d, want 40", rep.Checkpoint.Size)
	}
}

// TestIdleCloseDisabled: a negative IdleClose keeps the appender until
// Close, and Append after Close fails cleanly.
func TestIdleCloseDisabled(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Init(ctx, dir, "example.org/busy"); err != nil {
		t.Fatal(err)
	}
	l, err := Open(ctx, dir, Options{IdleClose: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, []byte("one")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if !l.running() {
		t.Error("appender stopped with IdleClose < 0")
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if l.running() {
		t.Error("appender still running after Close")
	}
	if _, err := l.Append(ctx, []byte("two")); err == nil {
		t.Error("Append after Close succeeded")
	}
}

func mustSource(t *testing.T, loc string) Source {
	t.Helper()
	src, err := OpenSource(loc, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}
