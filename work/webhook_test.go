package work

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/webhook"
)

// TestWebhookDeliveries checks that a delivery is made once however often
// it is enqueued, that a transient failure is retried and that a
// permanent one is not.
func TestWebhookDeliveries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, base func() Config) {
		ctx := context.Background()
		var mu sync.Mutex
		calls := map[string]int{}
		cfg := workerConfig(base(), &fakeExpirer{}, noShard)
		cfg.Deliver = func(_ context.Context, d webhook.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			calls[d.ID()]++
			switch {
			case d.WebhookID == "whk_flaky" && calls[d.ID()] < 3:
				return errors.New("receiver answered 503")
			case d.WebhookID == "whk_gone":
				return fmt.Errorf("receiver answered 410: %w", webhook.ErrPermanent)
			}
			return nil
		}
		q := open(t, cfg)
		defer q.Close(ctx)
		for _, d := range []webhook.Delivery{{WebhookID: "whk_ok", Seq: 1}, {WebhookID: "whk_ok", Seq: 1}, {WebhookID: "whk_flaky", Seq: 2}, {WebhookID: "whk_gone", Seq: 3}} {
			if err := q.EnqueueDelivery(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.EnqueueDelivery(ctx, webhook.Delivery{WebhookID: "", Seq: 1}); err == nil {
			t.Error("EnqueueDelivery(no webhook) succeeded")
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"whk_ok:1": 1, "whk_flaky:2": 3, "whk_gone:3": 1}
		deadline := time.Now().Add(20 * time.Second)
		for {
			mu.Lock()
			done := calls["whk_flaky:2"] >= 3 && calls["whk_ok:1"] >= 1 && calls["whk_gone:3"] >= 1
			mu.Unlock()
			if done || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // a wrongly retried job would run again by now
		// Delivered once: enqueueing it again after completion is a no-op.
		if err := q.EnqueueDelivery(ctx, webhook.Delivery{WebhookID: "whk_ok", Seq: 1}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		for k, n := range want {
			if calls[k] != n {
				t.Errorf("%s delivered %d times, want %d (all: %v)", k, calls[k], n, calls)
			}
		}
	})
}

// TestEnqueueAssessment checks that an assessment's shards are queued
// once however often it is enqueued (Reconcile enqueues again).
func TestEnqueueAssessment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, base func() Config) {
		ctx := context.Background()
		var mu sync.Mutex
		runs := map[int]int{}
		q := open(t, workerConfig(base(), &fakeExpirer{}, func(_ context.Context, s ShardArgs) error {
			mu.Lock()
			defer mu.Unlock()
			runs[s.Shard]++
			return nil
		}))
		defer q.Close(ctx)
		a := review.Assessment{ID: "asm_x", Shards: 5}
		for range 3 {
			if err := q.EnqueueAssessment(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			mu.Lock()
			n := len(runs)
			mu.Unlock()
			if n == 5 {
				break
			}
		}
		time.Sleep(300 * time.Millisecond)
		if err := q.EnqueueAssessment(ctx, a); err != nil { // all completed: still nothing new
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		for i := range 5 {
			if runs[i] != 1 {
				t.Errorf("shard %d ran %d times, want 1 (%v)", i, runs[i], runs)
			}
		}
		if err := q.EnqueueAssessment(ctx, review.Assessment{ID: "", Shards: 1}); err == nil {
			t.Error("EnqueueAssessment(no id) succeeded")
		}
	})
}
