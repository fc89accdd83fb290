package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/webhook"
)

var t0 = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// world is a SQLite store with two developer organisations, a case in
// each, webhooks only in org_a, and an audit trail:
//
//	1 case.submit     case_a
//	2 case.submit     case_b
//	3 org.create      (no case)
//	4 case.transition case_a
//	5 finding.create  case_a
//	6 case.transition case_b
//	7 case.transition case_a (after whk_4_late was created)
type world struct {
	db     *sqlite.DB
	sealer *review.AgeSealer
	secret string
}

func newWorld(t *testing.T, hookURL string) world {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "clearance.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	id, err := review.GenerateAgeIdentity()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := review.NewAgeSealer(id)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := webhook.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := sealer.Seal([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for _, o := range []string{"org_a", "org_b"} {
		must("CreateOrg", db.CreateOrg(ctx, review.Org{ID: o, Name: o, Kind: review.OrgDeveloper, CreatedAt: at(0)}))
		c := "case_" + strings.TrimPrefix(o, "org_")
		must("CreateCase", db.CreateCase(ctx, review.Case{ID: c, OrgID: o, ModelDigest: "sha256:" + strings.Repeat("0", 64),
			ModelName: "model-" + o, Dossier: json.RawMessage(`{}`), TargetURL: "http://127.0.0.1:1", Profiles: []string{"p"},
			State: review.StateInAssessment, Version: 1, CreatedAt: at(0), UpdatedAt: at(0)}))
	}
	for _, h := range []review.Webhook{
		{ID: "whk_1_all", OrgID: "org_a"},
		{ID: "whk_2_transition", OrgID: "org_a", Events: []string{"case.transition"}},
		{ID: "whk_3_disabled", OrgID: "org_a", Disabled: true},
		{ID: "whk_4_late", OrgID: "org_a", CreatedAt: at(10)},
	} {
		h.URL, h.Secret, h.CreatedBy = hookURL, sealed, "usr_admin"
		if h.CreatedAt.IsZero() {
			h.CreatedAt = at(0)
		}
		must("CreateWebhook", db.CreateWebhook(ctx, h))
	}
	for i, e := range []review.AuditEntry{
		{Action: "case.submit", CaseID: "case_a"},
		{Action: "case.submit", CaseID: "case_b"},
		{Action: "org.create"},
		{Action: "case.transition", CaseID: "case_a", Details: json.RawMessage(`{"from":"submitted","to":"in_assessment"}`)},
		{Action: "finding.create", CaseID: "case_a"},
		{Action: "case.transition", CaseID: "case_b"},
		{Action: "case.transition", CaseID: "case_a", Time: at(20)},
	} {
		e.Actor = "usr_x"
		if e.Time.IsZero() {
			e.Time = at(i + 1)
		}
		_, err := db.AppendAudit(ctx, e)
		must("AppendAudit", err)
	}
	return world{db: db, sealer: sealer, secret: secret}
}

// recorder is an Enqueue that records deliveries and fails on one.
// Its outstanding counts the deliveries recorded after the first done.
type recorder struct {
	mu     sync.Mutex
	got    []webhook.Delivery
	done   int
	failOn webhook.Delivery
}

func (r *recorder) outstanding(context.Context) (map[string]int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, d := range r.got[r.done:] {
		out[d.WebhookID]++
	}
	return out, nil
}

// finish marks every delivery recorded so far finished.
func (r *recorder) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = len(r.got)
}

func (r *recorder) enqueue(_ context.Context, d webhook.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d == r.failOn {
		return errors.New("queue unavailable")
	}
	r.got = append(r.got, d)
	return nil
}

// wantAll are the deliveries of the world's trail, webhook by webhook.
var wantAll = []webhook.Delivery{
	{WebhookID: "whk_1_all", Seq: 1},
	{WebhookID: "whk_1_all", Seq: 4},
	{WebhookID: "whk_1_all", Seq: 7},
	{WebhookID: "whk_2_transition", Seq: 4},
	{WebhookID: "whk_2_transition", Seq: 7},
	{WebhookID: "whk_4_late", Seq: 7},
}

func newDispatcher(t *testing.T, st webhook.DispatchStore, r *recorder, batch int) *webhook.Dispatcher {
	t.Helper()
	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{Store: st, Enqueue: r.enqueue, Outstanding: r.outstanding, BatchSize: batch})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func cursor(t *testing.T, w world) int64 {
	t.Helper()
	return namedCursor(t, w, webhook.CursorName)
}

func namedCursor(t *testing.T, w world, name string) int64 {
	t.Helper()
	v, err := w.db.Cursor(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDispatch(t *testing.T) {
	for _, batch := range []int{0, 1, 2, 7} {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, "http://127.0.0.1:1/hook")
			r := &recorder{}
			d := newDispatcher(t, w.db, r, batch)
			n, err := d.Dispatch(ctx)
			if err != nil {
				t.Fatalf("Dispatch = %v", err)
			}
			if n != len(wantAll) {
				t.Errorf("Dispatch = %d, want %d", n, len(wantAll))
			}
			if diff := cmp.Diff(wantAll, r.got); diff != "" {
				t.Fatalf("enqueued (-want +got):\n%s", diff)
			}
			if c := cursor(t, w); c != 7 {
				t.Errorf("cursor = %d, want 7", c)
			}

			// The cursor persists: a new Dispatcher on the same store
			// enqueues nothing more.
			r2 := &recorder{}
			n, err = newDispatcher(t, w.db, r2, batch).Dispatch(ctx)
			if err != nil || n != 0 || len(r2.got) != 0 {
				t.Fatalf("second Dispatch = %d, %v, enqueued %v; want 0, nil, none", n, err, r2.got)
			}

			// A new entry is picked up, and only it.
			if _, err := w.db.AppendAudit(ctx, review.AuditEntry{Time: at(30), Actor: "u", Action: "case.decided", CaseID: "case_a"}); err != nil {
				t.Fatal(err)
			}
			n, err = d.Dispatch(ctx)
			want := []webhook.Delivery{{WebhookID: "whk_1_all", Seq: 8}, {WebhookID: "whk_4_late", Seq: 8}}
			if err != nil || n != 2 {
				t.Fatalf("third Dispatch = %d, %v; want 2, nil", n, err)
			}
			if diff := cmp.Diff(want, r.got[len(wantAll):]); diff != "" {
				t.Errorf("third Dispatch enqueued (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDispatchEnqueueFailure(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "http://127.0.0.1:1/hook")
	// Fails on the second delivery of entry 4, after its first.
	r := &recorder{failOn: webhook.Delivery{WebhookID: "whk_2_transition", Seq: 4}}
	d := newDispatcher(t, w.db, r, 2)
	n, err := d.Dispatch(ctx)
	if err == nil || !strings.Contains(err.Error(), "queue unavailable") || !strings.Contains(err.Error(), "audit entry 4") {
		t.Fatalf("Dispatch = %v, want the enqueue error for audit entry 4", err)
	}
	// The other webhooks go on.
	if n != 4 {
		t.Errorf("Dispatch = %d, want 4 enqueued for the other webhooks", n)
	}
	// For whk_2_transition, entries 1 to 3 are done; 4 is not, and
	// stays after its cursor. The round's cursor does not move.
	if c := namedCursor(t, w, webhook.HookCursor("whk_2_transition")); c != 3 {
		t.Fatalf("cursor of whk_2_transition = %d, want 3", c)
	}
	if c := cursor(t, w); c != 0 {
		t.Fatalf("cursor = %d, want 0", c)
	}

	r.failOn = webhook.Delivery{}
	r.got, r.done = nil, 0
	if _, err := d.Dispatch(ctx); err != nil {
		t.Fatalf("Dispatch after recovery = %v", err)
	}
	if diff := cmp.Diff(wantAll[3:5], r.got); diff != "" {
		t.Errorf("enqueued after recovery (-want +got):\n%s", diff)
	}
	if c := cursor(t, w); c != 7 {
		t.Errorf("cursor = %d, want 7", c)
	}
}

func TestNewDispatcherConfig(t *testing.T) {
	r := &recorder{}
	for _, c := range []webhook.DispatcherConfig{
		{Enqueue: r.enqueue},
		{Store: &sqlite.DB{}},
		{Store: &sqlite.DB{}, Enqueue: r.enqueue},
		{Store: &sqlite.DB{}, Enqueue: r.enqueue, Outstanding: r.outstanding, BatchSize: -1},
		{Store: &sqlite.DB{}, Enqueue: r.enqueue, Outstanding: r.outstanding, BatchSize: webhook.MaxBatchSize + 1},
		{Store: &sqlite.DB{}, Enqueue: r.enqueue, Outstanding: r.outstanding, PerHook: -1},
		{Store: &sqlite.DB{}, Enqueue: r.enqueue, Outstanding: r.outstanding, PerOrg: -1},
	} {
		if _, err := webhook.NewDispatcher(c); err == nil {
			t.Errorf("NewDispatcher(%+v) = nil error, want one", c)
		}
	}
}

// TestDispatchDeliver runs the whole path on SQLite: dispatch, then
// deliver each enqueued delivery to a receiver that verifies it.
func TestDispatchDeliver(t *testing.T) {
	ctx := context.Background()
	var (
		mu       sync.Mutex
		received []string // Clearance-Delivery headers
		secret   []byte
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.Verify(secret, req.Header.Get(webhook.SignatureHeader), body, at(60), webhook.DefaultTolerance); err != nil {
			t.Errorf("receiver: %v", err)
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		received = append(received, req.Header.Get(webhook.DeliveryHeader))
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	defer srv.Close()

	w := newWorld(t, srv.URL)
	mu.Lock()
	secret = []byte(w.secret)
	mu.Unlock()
	r := &recorder{}
	if _, err := newDispatcher(t, w.db, r, 0).Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	dv, err := webhook.NewDeliverer(webhook.DelivererConfig{Store: w.db, Sealer: w.sealer,
		Client: srv.Client(), Now: func() time.Time { return at(60) }})
	if err != nil {
		t.Fatal(err)
	}
	// Disabling a hook after its deliveries were enqueued drops them.
	if err := w.db.DisableWebhook(ctx, "whk_4_late"); err != nil {
		t.Fatal(err)
	}
	for _, d := range r.got {
		if err := dv.Deliver(ctx, d); err != nil {
			t.Errorf("Deliver(%v) = %v", d, err)
		}
	}
	want := []string{"whk_1_all:1", "whk_1_all:4", "whk_1_all:7", "whk_2_transition:4", "whk_2_transition:7"}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, received); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
}

func TestRun(t *testing.T) {
	w := newWorld(t, "http://127.0.0.1:1/hook")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &recorder{}
	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{Store: w.db, Outstanding: r.outstanding, Enqueue: func(ctx context.Context, dl webhook.Delivery) error {
		err := r.enqueue(ctx, dl)
		if dl.WebhookID == "whk_4_late" {
			cancel() // stop Run once it has caught up
		}
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(ctx, 0); err == nil {
		t.Error("Run(interval 0) = nil, want an error")
	}
	if err := d.Run(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if len(r.got) < 4 {
		t.Errorf("Run enqueued %v, want at least the deliveries before seq 7", r.got)
	}
}

// TestDispatchLimits checks that a webhook never has more than PerHook
// deliveries outstanding, nor an organisation more than PerOrg, that
// the rest are held back in order, and that they are enqueued as
// earlier ones finish.
func TestDispatchLimits(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "http://127.0.0.1:1/hook")
	r := &recorder{}
	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{Store: w.db, Enqueue: r.enqueue, Outstanding: r.outstanding, PerHook: 1, PerOrg: 2})
	if err != nil {
		t.Fatal(err)
	}
	rounds := [][]webhook.Delivery{
		{{WebhookID: "whk_1_all", Seq: 1}, {WebhookID: "whk_2_transition", Seq: 4}},
		nil, // nothing finished: nothing more
		{{WebhookID: "whk_1_all", Seq: 4}, {WebhookID: "whk_2_transition", Seq: 7}},
		{{WebhookID: "whk_1_all", Seq: 7}, {WebhookID: "whk_4_late", Seq: 7}},
		nil,
	}
	for i, want := range rounds {
		if i != 1 {
			r.finish()
		}
		before := len(r.got)
		if _, err := d.Dispatch(ctx); err != nil {
			t.Fatalf("round %d: Dispatch = %v", i, err)
		}
		if diff := cmp.Diff(want, r.got[before:], cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round %d enqueued (-want +got):\n%s", i, diff)
		}
	}
}

// TestDispatchPaused checks that a paused webhook's deliveries are held
// back until the pause ends, keeping its place, and that a webhook
// created later gets only what follows its creation.
func TestDispatchPaused(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "http://127.0.0.1:1/hook")
	if err := w.db.PauseWebhook(ctx, "whk_2_transition", at(100)); err != nil {
		t.Fatal(err)
	}
	now := at(50)
	r := &recorder{}
	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{Store: w.db, Enqueue: r.enqueue, Outstanding: r.outstanding,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	want := []webhook.Delivery{wantAll[0], wantAll[1], wantAll[2], wantAll[5]}
	if diff := cmp.Diff(want, r.got); diff != "" {
		t.Fatalf("enqueued while whk_2_transition is paused (-want +got):\n%s", diff)
	}
	// A webhook created now sees only what follows.
	sealed, err := w.sealer.Seal([]byte(w.secret))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.db.CreateWebhook(ctx, review.Webhook{ID: "whk_5_new", OrgID: "org_a", URL: "http://127.0.0.1:1/hook",
		Secret: sealed, CreatedBy: "usr_admin", CreatedAt: at(55)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.AppendAudit(ctx, review.AuditEntry{Time: at(60), Actor: "u", Action: "case.decided", CaseID: "case_a"}); err != nil {
		t.Fatal(err)
	}
	now = at(101)
	r.got, r.done = nil, 0
	if _, err := d.Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	want = []webhook.Delivery{{WebhookID: "whk_1_all", Seq: 8}, wantAll[3], wantAll[4], {WebhookID: "whk_4_late", Seq: 8}, {WebhookID: "whk_5_new", Seq: 8}}
	if diff := cmp.Diff(want, r.got); diff != "" {
		t.Fatalf("enqueued after the pause (-want +got):\n%s", diff)
	}
}

// countingRecorder counts the rounds that asked for outstanding
// deliveries: the work a round does beyond its two cheap reads.
type countingRecorder struct {
	*recorder
	asked int
}

func (c *countingRecorder) outstanding(ctx context.Context) (map[string]int, error) {
	c.asked++
	return c.recorder.outstanding(ctx)
}

// An idle round (no entry after every webhook's cursor) reads the head
// and the floor only, and a new entry ends the idleness.
func TestDispatchIdleRoundIsCheap(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "http://127.0.0.1:1/hook")
	c := &countingRecorder{recorder: &recorder{}}
	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{Store: w.db, Enqueue: c.enqueue, Outstanding: c.outstanding})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := d.Dispatch(ctx); err != nil || n != len(wantAll) {
		t.Fatalf("first Dispatch = %d, %v; want %d, nil", n, err, len(wantAll))
	}
	asked := c.asked
	for range 3 {
		if n, err := d.Dispatch(ctx); err != nil || n != 0 {
			t.Fatalf("idle Dispatch = %d, %v; want 0, nil", n, err)
		}
	}
	if c.asked != asked {
		t.Errorf("idle rounds asked for outstanding deliveries %d times, want 0", c.asked-asked)
	}
	if _, err := w.db.AppendAudit(ctx, review.AuditEntry{Time: at(30), Actor: "u", Action: "case.decided", CaseID: "case_a"}); err != nil {
		t.Fatal(err)
	}
	if n, err := d.Dispatch(ctx); err != nil || n != 2 {
		t.Fatalf("Dispatch after a new entry = %d, %v; want 2, nil", n, err)
	}
	if c.asked != asked+1 {
		t.Errorf("the round after a new entry asked %d times, want 1", c.asked-asked)
	}
}
