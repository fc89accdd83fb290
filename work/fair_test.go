package work

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/webhook"
)

// TestWebhookFairness runs the whole path, SQLite store, Dispatcher,
// River on SQLite, Deliverer and receivers on 127.0.0.1: organisation A
// has two webhooks and a backlog of 600 deliveries queued before
// organisation B's one event. B's delivery must be made before A's
// backlog drains: with a shared first-come queue it would wait behind
// all 600; with the Dispatcher's limits at most DefaultPerOrg of A's
// are ever queued ahead of it (it arrived after 598 of A's before).
func TestWebhookFairness(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "clearance.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id, err := review.GenerateAgeIdentity()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := review.NewAgeSealer(id)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := sealer.Seal([]byte("whsec_test"))
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu      sync.Mutex
		aGot    int
		aAtB    = -1
		bGotten = make(chan struct{})
	)
	listen := func(h http.HandlerFunc) string {
		srv := httptest.NewUnstartedServer(h)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.Listener = l
		srv.Start()
		t.Cleanup(srv.Close)
		return srv.URL
	}
	urlA := listen(func(rw http.ResponseWriter, _ *http.Request) {
		time.Sleep(2 * time.Millisecond) // a receiver slower than the queue
		mu.Lock()
		aGot++
		mu.Unlock()
	})
	urlB := listen(func(rw http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if aAtB < 0 {
			aAtB = aGot
			close(bGotten)
		}
	})

	t0 := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for _, o := range []string{"a", "b"} {
		must("CreateOrg", db.CreateOrg(ctx, review.Org{ID: "org_" + o, Name: o, Kind: review.OrgDeveloper, CreatedAt: t0}))
		must("CreateCase", db.CreateCase(ctx, review.Case{ID: "case_" + o, OrgID: "org_" + o, ModelDigest: "sha256:" + strings.Repeat("0", 64),
			ModelName: "m", Dossier: json.RawMessage(`{}`), TargetURL: "http://127.0.0.1:1", Profiles: []string{"p"},
			State: review.StateInAssessment, Version: 1, CreatedAt: t0, UpdatedAt: t0}))
	}
	for _, h := range []review.Webhook{
		{ID: "whk_a1", OrgID: "org_a", URL: urlA},
		{ID: "whk_a2", OrgID: "org_a", URL: urlA},
		{ID: "whk_b", OrgID: "org_b", URL: urlB},
	} {
		h.Secret, h.CreatedBy, h.CreatedAt = secret, "usr_x", t0
		must("CreateWebhook", db.CreateWebhook(ctx, h))
	}
	const backlog = 300 // events of A, each for both of A's webhooks
	for i := range backlog {
		_, err := db.AppendAudit(ctx, review.AuditEntry{Time: t0.Add(time.Duration(i+1) * time.Second), Actor: "usr_x", Action: "case.submit", CaseID: "case_a"})
		must("AppendAudit", err)
	}
	_, err = db.AppendAudit(ctx, review.AuditEntry{Time: t0.Add(time.Hour), Actor: "usr_x", Action: "case.submit", CaseID: "case_b"})
	must("AppendAudit", err)

	dv, err := webhook.NewDeliverer(webhook.DelivererConfig{Store: db, Sealer: sealer})
	must("NewDeliverer", err)
	cfg := workerConfig(Config{SQLitePath: filepath.Join(t.TempDir(), "jobs.db")}, &fakeExpirer{}, noShard)
	cfg.Deliver = dv.Deliver
	q := open(t, cfg)
	defer closeQueue(t, q)
	disp, err := webhook.NewDispatcher(webhook.DispatcherConfig{Store: db, Enqueue: q.EnqueueDelivery, Outstanding: q.OutstandingDeliveries})
	must("NewDispatcher", err)

	// The first round queues what the limits allow, B's delivery
	// included, before any worker runs.
	if _, err := disp.Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := q.OutstandingDeliveries(ctx)
	must("OutstandingDeliveries", err)
	if a := out["whk_a1"] + out["whk_a2"]; a != webhook.DefaultPerOrg || out["whk_b"] != 1 {
		t.Fatalf("queued after one round: %v; want %d of org A's, 1 of org B's", out, webhook.DefaultPerOrg)
	}
	must("Start", q.Start(ctx))
	deadline := time.After(60 * time.Second) // a hang, not a timing assertion
	for done := false; !done; {
		select {
		case <-bGotten:
			done = true
		case <-deadline:
			t.Fatal("org B's delivery never arrived")
		case <-time.After(20 * time.Millisecond):
			if _, err := disp.Dispatch(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// At most DefaultPerOrg of A's are queued ahead of B's; the other
	// workers may finish as many of A's later ones while B's is in
	// flight.
	if limit := webhook.DefaultPerOrg + webhookWorkers - 1; aAtB > limit {
		t.Errorf("org B's delivery arrived after %d of org A's; want at most %d (A's backlog is %d)", aAtB, limit, 2*backlog)
	}
}

// TestWebhookPausedSnoozes checks that a delivery to a paused webhook
// waits for the pause without spending attempts: paused more times than
// a delivery has attempts, it is still delivered once the pause ends.
func TestWebhookPausedSnoozes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, base func() Config) {
		ctx := context.Background()
		var mu sync.Mutex
		calls := 0
		cfg := workerConfig(base(), &fakeExpirer{}, noShard)
		cfg.Deliver = func(_ context.Context, d webhook.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls <= 13 { // webhook jobs have 12 attempts
				return &webhook.PausedError{WebhookID: d.WebhookID, Until: time.Now().Add(10 * time.Millisecond)}
			}
			return nil
		}
		q := open(t, cfg)
		defer closeQueue(t, q)
		if err := q.EnqueueDelivery(ctx, webhook.Delivery{WebhookID: "whk_paused", Seq: 1}); err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, err := q.OutstandingDeliveries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if out["whk_paused"] == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		if calls != 14 {
			t.Errorf("Deliver called %d times, want 14 (13 paused, then delivered)", calls)
		}
	})
}
