package tlog

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// BenchmarkAppendBatched appends b.N entries concurrently (they share
// batches and checkpoints) and reports appends per second.
func BenchmarkAppendBatched(b *testing.B) {
	ctx := context.Background()
	dir := filepath.Join(b.TempDir(), "log")
	if _, err := Init(ctx, dir, testOrigin); err != nil {
		b.Fatal(err)
	}
	l, err := Open(ctx, dir, Options{BatchMaxAge: 50 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(ctx)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 1024)
	for i := range b.N {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := l.Append(ctx, entry(i)); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
}

// BenchmarkAppendAwaited appends one entry at a time, each waiting for its
// checkpoint: the latency a single `clearance decide --log` sees.
func BenchmarkAppendAwaited(b *testing.B) {
	ctx := context.Background()
	dir := filepath.Join(b.TempDir(), "log")
	if _, err := Init(ctx, dir, testOrigin); err != nil {
		b.Fatal(err)
	}
	l, err := Open(ctx, dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(ctx)
	b.ResetTimer()
	for i := range b.N {
		if _, err := l.Append(ctx, entry(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/append")
}

// BenchmarkVerifyReceipt is the offline inclusion check of one entry.
func BenchmarkVerifyReceipt(b *testing.B) {
	_, vkey, receipts := newLog(b, 20)
	r := receipts[7]
	_, e := findEntry(b, r, vkey)
	b.ResetTimer()
	for range b.N {
		if _, err := VerifyReceipt(e, r, vkey); err != nil {
			b.Fatal(err)
		}
	}
}

func findEntry(b *testing.B, r *Receipt, vkey string) (int, []byte) {
	for i := range 20 {
		if _, err := VerifyReceipt(entry(i), r, vkey); err == nil {
			return i, entry(i)
		}
	}
	b.Fatal("no entry for receipt")
	return 0, nil
}
