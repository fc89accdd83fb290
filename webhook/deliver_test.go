package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/clearance-dev/clearance/review"
)

// memStore is an in-memory DeliveryStore.
type memStore struct {
	hooks map[string]review.Webhook
	cases map[string]review.Case
	audit []review.AuditEntry
	err   error // returned by every method when set
}

func (m *memStore) GetWebhook(_ context.Context, id string) (review.Webhook, error) {
	if m.err != nil {
		return review.Webhook{}, m.err
	}
	h, ok := m.hooks[id]
	if !ok {
		return review.Webhook{}, review.ErrNotFound
	}
	return h, nil
}

func (m *memStore) GetCase(_ context.Context, id string) (review.Case, error) {
	if m.err != nil {
		return review.Case{}, m.err
	}
	c, ok := m.cases[id]
	if !ok {
		return review.Case{}, review.ErrNotFound
	}
	return c, nil
}

func (m *memStore) ListAudit(_ context.Context, f review.AuditFilter) ([]review.AuditEntry, error) {
	if m.err != nil {
		return nil, m.err
	}
	var out []review.AuditEntry
	for _, e := range m.audit {
		if e.Seq > f.AfterSeq && len(out) < f.Limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// plainSealer "unseals" by stripping a "sealed:" prefix.
type plainSealer struct{}

func (plainSealer) Open(b []byte) ([]byte, error) {
	s, ok := strings.CutPrefix(string(b), "sealed:")
	if !ok {
		return nil, errors.New("not sealed")
	}
	return []byte(s), nil
}

var (
	eventTime = time.Date(2026, 7, 1, 9, 30, 0, 123000, time.UTC)
	hookTime  = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
)

func (m *memStore) RecordWebhookFailure(_ context.Context, id, kind string, at time.Time) (int, error) {
	h, ok := m.hooks[id]
	if !ok {
		return 0, review.ErrNotFound
	}
	h.Failures++
	h.LastError, h.LastFailureAt = kind, at
	m.hooks[id] = h
	return h.Failures, nil
}

func (m *memStore) RecordWebhookSuccess(_ context.Context, id string) error {
	h := m.hooks[id]
	h.Failures, h.PausedUntil = 0, time.Time{}
	m.hooks[id] = h
	return nil
}

func (m *memStore) PauseWebhook(_ context.Context, id string, until time.Time) error {
	h := m.hooks[id]
	h.PausedUntil = until
	m.hooks[id] = h
	return nil
}

func (m *memStore) ClaimWebhookProbe(_ context.Context, id string, now, until time.Time) (bool, error) {
	h := m.hooks[id]
	if h.PausedUntil.IsZero() || h.PausedUntil.After(now) {
		return false, nil
	}
	h.PausedUntil = until
	m.hooks[id] = h
	return true, nil
}

func fixture(url string) *memStore {
	return &memStore{
		hooks: map[string]review.Webhook{
			"whk_1": {ID: "whk_1", OrgID: "org_dev", URL: url, Secret: []byte("sealed:" + string(testSecret)), CreatedAt: hookTime},
		},
		cases: map[string]review.Case{
			"case_1": {ID: "case_1", OrgID: "org_dev", ModelDigest: "sha256:" + strings.Repeat("ab", 32), ModelName: "frontier-7",
				Dossier: json.RawMessage(`{"training_flop":"SECRET-DOSSIER"}`), TargetURL: "https://target.example/SECRET-URL",
				Credentials: []byte("SECRET-CREDENTIALS"), State: review.StateDecided},
		},
		audit: []review.AuditEntry{
			{Seq: 7, Time: eventTime, Actor: "usr_official", Action: "case.transition", CaseID: "case_1",
				Details: json.RawMessage(`{"from":"under_review","to":"decided","version":3,"decision":"dec_9","override":true,"reason":"SECRET-DETAIL"}`)},
			{Seq: 8, Time: eventTime, Actor: "usr_admin", Action: "org.create", Details: json.RawMessage(`{}`)},
			{Seq: 9, Time: eventTime, Actor: "usr_x", Action: "finding.create", CaseID: "case_1", Details: json.RawMessage(`{}`)},
		},
	}
}

// receiver is a webhook receiver on 127.0.0.1 that verifies signatures
// the way docs/webhooks.md tells receivers to.
type receiver struct {
	*httptest.Server
	status int
	delay  time.Duration
	now    time.Time

	mu       sync.Mutex
	got      []Event
	headers  []http.Header
	verifyEr []error
}

func newReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	return newReceiverDelay(t, status, 0, nil)
}

// newReceiverDelay starts a receiver that waits delay before answering,
// or serves with h when h is not nil.
func newReceiverDelay(t *testing.T, status int, delay time.Duration, h http.Handler) *receiver {
	t.Helper()
	r := &receiver{status: status, delay: delay, now: testTime}
	if h == nil {
		h = http.HandlerFunc(r.serve)
	}
	srv := httptest.NewUnstartedServer(h)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	r.Server = srv
	t.Cleanup(srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	verr := Verify(testSecret, req.Header.Get(SignatureHeader), body, r.now, DefaultTolerance)
	var ev Event
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		verr = errors.Join(verr, err)
	}
	r.mu.Lock()
	r.got = append(r.got, ev)
	r.headers = append(r.headers, req.Header.Clone())
	r.verifyEr = append(r.verifyEr, verr)
	r.mu.Unlock()
	if r.delay > 0 {
		select {
		case <-time.After(r.delay):
		case <-req.Context().Done():
			return
		}
	}
	w.WriteHeader(r.status)
	io.WriteString(w, strings.Repeat("x", 100<<10)) // longer than read
}

// requests returns what the receiver got: events, headers and the
// result of verifying each signature.
func (r *receiver) requests() ([]Event, []http.Header, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got, r.headers, r.verifyEr
}

func newDeliverer(t *testing.T, st DeliveryStore, timeout time.Duration) *Deliverer {
	t.Helper()
	d, err := NewDeliverer(DelivererConfig{Store: st, Sealer: plainSealer{}, Timeout: timeout,
		Now: func() time.Time { return testTime }})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDeliverStatus(t *testing.T) {
	tests := []struct {
		status    int
		ok        bool
		permanent bool
	}{
		{status: 200, ok: true},
		{status: 204, ok: true},
		{status: 302},
		{status: 400, permanent: true},
		{status: 401, permanent: true},
		{status: 404, permanent: true},
		{status: 408},
		{status: 410, permanent: true},
		{status: 425},
		{status: 429},
		{status: 500},
		{status: 503},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			var h http.Handler
			if tt.status == 302 {
				h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
					if req.URL.Path == "/moved" {
						t.Errorf("redirect followed to %s", req.URL)
					}
					http.Redirect(w, req, "/moved", http.StatusFound)
				})
			}
			r := newReceiverDelay(t, tt.status, 0, h)
			d := newDeliverer(t, fixture(r.URL+"/hook?token=SECRET-TOKEN"), time.Second)
			err := d.Deliver(context.Background(), Delivery{WebhookID: "whk_1", Seq: 7})
			switch {
			case tt.ok && err != nil:
				t.Fatalf("Deliver = %v, want nil", err)
			case !tt.ok && err == nil:
				t.Fatal("Deliver = nil, want an error")
			case errors.Is(err, ErrPermanent) != tt.permanent:
				t.Fatalf("Deliver = %v; permanent = %v, want %v", err, errors.Is(err, ErrPermanent), tt.permanent)
			}
			if err != nil && strings.Contains(err.Error(), "SECRET-TOKEN") {
				t.Errorf("Deliver error %q reveals the webhook URL", err)
			}
			if tt.status == 302 {
				return
			}
			got, _, verr := r.requests()
			if len(got) != 1 {
				t.Fatalf("receiver got %d requests, want 1", len(got))
			}
			if verr[0] != nil {
				t.Fatalf("receiver's Verify = %v", verr[0])
			}
		})
	}
}

func TestDeliverRequest(t *testing.T) {
	r := newReceiver(t, http.StatusOK)
	d := newDeliverer(t, fixture(r.URL), time.Second)
	if err := d.Deliver(context.Background(), Delivery{WebhookID: "whk_1", Seq: 7}); err != nil {
		t.Fatalf("Deliver = %v", err)
	}
	got, headers, verr := r.requests()
	if len(got) != 1 || verr[0] != nil {
		t.Fatalf("receiver got %d requests, verify errors %v", len(got), verr)
	}
	want := Event{ID: "evt_7", Type: "case.transition", Seq: 7, Time: eventTime, CaseID: "case_1",
		State: review.StateDecided, ModelDigest: "sha256:" + strings.Repeat("ab", 32), ModelName: "frontier-7",
		From: review.StateUnderReview, To: review.StateDecided, DecisionID: "dec_9"}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	h := headers[0]
	for k, v := range map[string]string{
		EventHeader:    "case.transition",
		DeliveryHeader: "whk_1:7",
		"Content-Type": "application/json",
	} {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if got, want := h.Get(SignatureHeader), "t=1782907200,v1="; !strings.HasPrefix(got, want) {
		t.Errorf("signature = %q, want prefix %q", got, want)
	}
}

// TestEventRedacts checks that no secret a case holds reaches the body.
func TestEventRedacts(t *testing.T) {
	st := fixture("http://unused")
	b, err := json.Marshal(NewEvent(st.audit[0], st.cases["case_1"]))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"SECRET", "usr_official", "override", "version"} {
		if strings.Contains(string(b), s) {
			t.Errorf("event %s contains %q", b, s)
		}
	}
}

func TestDeliverRetryable(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		r := newReceiverDelay(t, http.StatusOK, 5*time.Second, nil)
		d := newDeliverer(t, fixture(r.URL), 100*time.Millisecond)
		err := d.Deliver(context.Background(), Delivery{WebhookID: "whk_1", Seq: 7})
		if err == nil || errors.Is(err, ErrPermanent) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Deliver = %v, want a retryable deadline exceeded error", err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		r := newReceiver(t, http.StatusOK)
		url := r.URL
		r.Close()
		d := newDeliverer(t, fixture(url), time.Second)
		err := d.Deliver(context.Background(), Delivery{WebhookID: "whk_1", Seq: 7})
		if err == nil || errors.Is(err, ErrPermanent) {
			t.Fatalf("Deliver = %v, want a retryable error", err)
		}
	})
	t.Run("store error", func(t *testing.T) {
		st := fixture("http://127.0.0.1:1")
		st.err = errors.New("database is locked")
		d := newDeliverer(t, st, time.Second)
		err := d.Deliver(context.Background(), Delivery{WebhookID: "whk_1", Seq: 7})
		if err == nil || errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "database is locked") {
			t.Fatalf("Deliver = %v, want a retryable store error", err)
		}
	})
}

// TestDeliverSkipsOrRefuses covers deliveries that are dropped (nil,
// nothing sent) or refused as permanent before anything is sent.
func TestDeliverSkipsOrRefuses(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*memStore)
		dl        Delivery
		permanent string // error substring; empty means nil
	}{
		{name: "hook gone", dl: Delivery{"whk_gone", 7}},
		{name: "hook disabled", edit: func(m *memStore) { h := m.hooks["whk_1"]; h.Disabled = true; m.hooks["whk_1"] = h }},
		{name: "not subscribed", edit: func(m *memStore) { h := m.hooks["whk_1"]; h.Events = []string{"case.submit"}; m.hooks["whk_1"] = h }},
		{name: "default excludes finding events", dl: Delivery{"whk_1", 9}},
		{name: "hook newer than event", edit: func(m *memStore) {
			h := m.hooks["whk_1"]
			h.CreatedAt = eventTime.Add(time.Microsecond)
			m.hooks["whk_1"] = h
		}},
		{name: "zero seq", dl: Delivery{"whk_1", 0}, permanent: "seq of 1 or more"},
		{name: "no audit entry", dl: Delivery{"whk_1", 99}, permanent: "audit entry 99"},
		{name: "entry not about a case", dl: Delivery{"whk_1", 8}, permanent: "not about a case"},
		{name: "case gone", edit: func(m *memStore) { delete(m.cases, "case_1") }, permanent: "case case_1"},
		{name: "other tenant", edit: func(m *memStore) { c := m.cases["case_1"]; c.OrgID = "org_other"; m.cases["case_1"] = c },
			permanent: "not of the webhook's organisation"},
		{name: "ftp URL", edit: func(m *memStore) { h := m.hooks["whk_1"]; h.URL = "ftp://127.0.0.1/x"; m.hooks["whk_1"] = h },
			permanent: "http or https"},
		{name: "relative URL", edit: func(m *memStore) { h := m.hooks["whk_1"]; h.URL = "/hook"; m.hooks["whk_1"] = h },
			permanent: "http or https"},
		{name: "empty secret", edit: func(m *memStore) { h := m.hooks["whk_1"]; h.Secret = []byte("sealed:"); m.hooks["whk_1"] = h },
			permanent: "empty secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t, http.StatusOK)
			st := fixture(r.URL)
			if tt.edit != nil {
				tt.edit(st)
			}
			dl := tt.dl
			if dl.WebhookID == "" {
				dl = Delivery{"whk_1", 7}
			}
			err := newDeliverer(t, st, time.Second).Deliver(context.Background(), dl)
			if tt.permanent == "" && err != nil {
				t.Fatalf("Deliver = %v, want nil", err)
			}
			if tt.permanent != "" && (!errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), tt.permanent)) {
				t.Fatalf("Deliver = %v, want a permanent error containing %q", err, tt.permanent)
			}
			if got, _, _ := r.requests(); len(got) != 0 {
				t.Fatalf("receiver got %d requests, want none", len(got))
			}
		})
	}
}

func TestDeliverSealerError(t *testing.T) {
	r := newReceiver(t, http.StatusOK)
	st := fixture(r.URL)
	h := st.hooks["whk_1"]
	h.Secret = []byte("garbage")
	st.hooks["whk_1"] = h
	err := newDeliverer(t, st, time.Second).Deliver(context.Background(), Delivery{"whk_1", 7})
	if err == nil || errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "open secret") {
		t.Fatalf("Deliver = %v, want a retryable open secret error", err)
	}
}

func TestNewDelivererConfig(t *testing.T) {
	for _, c := range []DelivererConfig{
		{Sealer: plainSealer{}},
		{Store: &memStore{}},
		{Store: &memStore{}, Sealer: plainSealer{}, Timeout: -1},
	} {
		if _, err := NewDeliverer(c); err == nil {
			t.Errorf("NewDeliverer(%+v) = nil error, want one", c)
		}
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		events []string
		action string
		want   bool
	}{
		{nil, "case.transition", true},
		{nil, "case.submit", true},
		{nil, "finding.create", false},
		{nil, "cases.x", false},
		{[]string{"case.transition"}, "case.transition", true},
		{[]string{"case.transition"}, "case.submit", false},
		{[]string{"finding.create"}, "finding.create", true},
	}
	for _, tt := range tests {
		if got := Matches(tt.events, tt.action); got != tt.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tt.events, tt.action, got, tt.want)
		}
	}
}
