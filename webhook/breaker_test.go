package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/webhook"
)

// receiver is an httptest server on 127.0.0.1 answering status (503
// until changed) and counting requests.
type receiver struct {
	srv    *httptest.Server
	status atomic.Int32
	hits   atomic.Int32
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.status.Store(http.StatusServiceUnavailable)
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		r.hits.Add(1)
		rw.WriteHeader(int(r.status.Load()))
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.srv.Listener = l
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestBreaker checks the circuit breaker on SQLite with a failing
// receiver: 20 consecutive failures pause the webhook, deliveries then
// wait without reaching the receiver, the store shows why and until
// when, one probe is sent after the pause (a failed probe pauses it
// again), and a successful probe closes the breaker.
func TestBreaker(t *testing.T) {
	ctx := context.Background()
	rc := newReceiver(t)
	w := newWorld(t, rc.srv.URL+"/hook")
	clk := &clock{t: at(60)}
	dv, err := webhook.NewDeliverer(webhook.DelivererConfig{Store: w.db, Sealer: w.sealer, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	dl := webhook.Delivery{WebhookID: "whk_1_all", Seq: 1}
	for i := range webhook.DefaultPauseAfter {
		if err := dv.Deliver(ctx, dl); err == nil || errors.Is(err, webhook.ErrPaused) {
			t.Fatalf("attempt %d: Deliver = %v, want a receiver failure", i+1, err)
		}
		clk.add(time.Second)
	}
	pausedAt := clk.now().Add(-time.Second)
	for range 5 {
		err := dv.Deliver(ctx, dl)
		var pe *webhook.PausedError
		if !errors.As(err, &pe) || !pe.Until.Equal(pausedAt.Add(webhook.DefaultPause)) {
			t.Fatalf("Deliver while paused = %v, want a PausedError until %v", err, pausedAt.Add(webhook.DefaultPause))
		}
	}
	if n := rc.hits.Load(); n != webhook.DefaultPauseAfter {
		t.Fatalf("receiver got %d requests, want %d (none while paused)", n, webhook.DefaultPauseAfter)
	}
	h, err := w.db.GetWebhook(ctx, "whk_1_all")
	if err != nil {
		t.Fatal(err)
	}
	if h.Failures != 20 || h.LastError != "status 503" || !h.PausedUntil.Equal(pausedAt.Add(webhook.DefaultPause)) {
		t.Fatalf("webhook = failures %d, last error %q, paused until %v; want 20, status 503, %v",
			h.Failures, h.LastError, h.PausedUntil, pausedAt.Add(webhook.DefaultPause))
	}

	// After the pause, one probe; it fails, and the webhook is paused again.
	clk.add(webhook.DefaultPause)
	if err := dv.Deliver(ctx, dl); err == nil || errors.Is(err, webhook.ErrPaused) {
		t.Fatalf("probe: Deliver = %v, want a receiver failure", err)
	}
	if err := dv.Deliver(ctx, dl); !errors.Is(err, webhook.ErrPaused) {
		t.Fatalf("Deliver after a failed probe = %v, want ErrPaused", err)
	}
	if n := rc.hits.Load(); n != webhook.DefaultPauseAfter+1 {
		t.Fatalf("receiver got %d requests, want %d", n, webhook.DefaultPauseAfter+1)
	}

	// The receiver recovers: the next probe closes the breaker.
	rc.status.Store(http.StatusNoContent)
	clk.add(webhook.DefaultPause)
	if err := dv.Deliver(ctx, dl); err != nil {
		t.Fatalf("probe: Deliver = %v, want nil", err)
	}
	if err := dv.Deliver(ctx, webhook.Delivery{WebhookID: "whk_1_all", Seq: 4}); err != nil {
		t.Fatalf("Deliver after the breaker closed = %v", err)
	}
	h, err = w.db.GetWebhook(ctx, "whk_1_all")
	if err != nil {
		t.Fatal(err)
	}
	if h.Failures != 0 || !h.PausedUntil.IsZero() {
		t.Fatalf("webhook after a success = failures %d, paused until %v; want 0, not paused", h.Failures, h.PausedUntil)
	}
}

// TestFailureLogBounded checks that 1,000 failed deliveries to one
// webhook within 100 seconds log a line a minute, each counting the
// failures it stands for, and not 1,000 lines.
func TestFailureLogBounded(t *testing.T) {
	ctx := context.Background()
	rc := newReceiver(t)
	w := newWorld(t, rc.srv.URL+"/hook")
	clk := &clock{t: at(60)}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dv, err := webhook.NewDeliverer(webhook.DelivererConfig{Store: w.db, Sealer: w.sealer, Now: clk.now, Logger: log,
		PauseAfter: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		if err := dv.Deliver(ctx, webhook.Delivery{WebhookID: "whk_1_all", Seq: 1}); err == nil {
			t.Fatal("Deliver = nil, want a failure")
		}
		clk.add(100 * time.Millisecond)
	}
	rc.status.Store(http.StatusOK)
	if err := dv.Deliver(ctx, webhook.Delivery{WebhookID: "whk_1_all", Seq: 4}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var failed []string
	for _, l := range lines {
		if strings.Contains(l, "webhook delivery failed") {
			failed = append(failed, l)
		}
	}
	if len(lines) > 5 || len(failed) != 2 {
		t.Fatalf("1000 failures logged %d lines (%d failure lines), want 2 failure lines and at most 5 in all:\n%s",
			len(lines), len(failed), buf.String())
	}
	if !strings.Contains(failed[1], "failures_not_logged=599") || !strings.Contains(lines[len(lines)-1], "failures_not_logged=399") {
		t.Errorf("lines do not count the failures they stand for:\n%s", buf.String())
	}
}
