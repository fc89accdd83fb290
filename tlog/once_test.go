package tlog

import (
	"context"
	"testing"
)

// TestAppendOnce checks that an entry already in the log, written by an
// earlier process, is not appended again, and that new entries are.
func TestAppendOnce(t *testing.T) {
	ctx := context.Background()
	dir, vkey, _ := newLog(t, 300) // more than one entry bundle
	l, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)

	for _, i := range []int{0, 257, 299} {
		r, err := l.AppendOnce(ctx, entry(i))
		if err != nil {
			t.Fatalf("AppendOnce(existing %d): %v", i, err)
		}
		if _, err := VerifyReceipt(entry(i), r, vkey); err != nil {
			t.Fatalf("receipt of existing %d: %v", i, err)
		}
		if sizeOf(t, r, vkey) != 300 {
			t.Errorf("existing %d: log grew to %d, want 300", i, sizeOf(t, r, vkey))
		}
	}
	fresh := []byte("a new decision")
	r1, err := l.AppendOnce(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Index != 300 {
		t.Errorf("new entry at %d, want 300", r1.Index)
	}
	r2, err := l.AppendOnce(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Index != 300 || sizeOf(t, r2, vkey) != 301 {
		t.Errorf("repeat: index %d size %d, want 300 and 301", r2.Index, sizeOf(t, r2, vkey))
	}
}

func sizeOf(t *testing.T, r *Receipt, vkey string) uint64 {
	t.Helper()
	cp, err := ParseCheckpoint([]byte(r.Checkpoint), vkey)
	if err != nil {
		t.Fatal(err)
	}
	return cp.Size
}
