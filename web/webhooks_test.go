package web_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/webhook"
)

// plainSealer opens every sealed secret to the same secret: the test's
// deliveries need a secret, not the service's sealing.
type plainSealer struct{}

func (plainSealer) Open([]byte) ([]byte, error) { return []byte("whsec_test"), nil }

type webhookList struct {
	Items []struct {
		ID          string `json:"id"`
		Disabled    bool   `json:"disabled"`
		State       string `json:"state"`
		Failures    int    `json:"failures"`
		LastError   string `json:"last_error"`
		PausedUntil string `json:"paused_until"`
	} `json:"items"`
}

// TestWebhookBreakerShown drives a webhook's deliveries to a failing
// receiver on 127.0.0.1 until its circuit breaker opens, and checks
// that GET /api/v1/webhooks says so (paused after 20 failures, until
// when, why); that the service's admin may list, disable and enable a
// webhook of any organisation, each audited; that enabling clears the
// breaker; and that another organisation's developer can do none of it.
// (Admins hold their role in the agency's organisation only.)
func TestWebhookBreakerShown(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)

	rc := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.WriteHeader(http.StatusServiceUnavailable)
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc.Listener = l
	rc.Start()
	defer rc.Close()

	var wh idOnly
	e.must(t, 201, &wh, "devA", "POST", "/api/v1/webhooks", `{"url":"`+rc.URL+`/hook"}`)
	e.submitOnly(t, "devA")
	head, err := e.rs.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dv, err := webhook.NewDeliverer(webhook.DelivererConfig{Store: e.rs, Sealer: plainSealer{}, Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	for range webhook.DefaultPauseAfter {
		if err := dv.Deliver(ctx, webhook.Delivery{WebhookID: wh.ID, Seq: head.Seq}); err == nil {
			t.Fatal("Deliver to a failing receiver = nil")
		}
	}

	var got webhookList
	e.must(t, 200, &got, "devA", "GET", "/api/v1/webhooks", "")
	if len(got.Items) != 1 {
		t.Fatalf("listed %d webhooks, want 1", len(got.Items))
	}
	until := e.now.Add(webhook.DefaultPause).UTC().Format(time.RFC3339Nano)
	w := got.Items[0]
	if w.State != "paused" || w.Failures != 20 || w.LastError != "status 503" || w.PausedUntil != until {
		t.Fatalf("listed %+v; want paused after 20 failures (status 503) until %s", w, until)
	}

	// Org B cannot touch it, see it, nor is told it exists.
	checkProblem(t, e.do(t, "devB", "DELETE", "/api/v1/webhooks/"+wh.ID, ""), 404)
	checkProblem(t, e.do(t, "devB", "POST", "/api/v1/webhooks/"+wh.ID+"/enable", ""), 404)
	checkProblem(t, e.do(t, "devB", "GET", "/api/v1/webhooks?org="+e.actors["devA"].Org.ID, ""), 403)

	// The admin sees it among org A's, disables devA's webhook, then
	// enables it: the breaker is cleared and the next delivery is tried
	// at once.
	var all webhookList
	e.must(t, 200, &all, "admin", "GET", "/api/v1/webhooks?org="+e.actors["devA"].Org.ID, "")
	if len(all.Items) != 1 || all.Items[0].ID != wh.ID || all.Items[0].State != "paused" {
		t.Fatalf("admin lists org A's webhooks as %+v, want the paused one", all.Items)
	}
	e.must(t, 204, nil, "admin", "DELETE", "/api/v1/webhooks/"+wh.ID, "")
	got = webhookList{} // omitted members must not keep old values
	e.must(t, 200, &got, "devA", "GET", "/api/v1/webhooks", "")
	if w := got.Items[0]; !w.Disabled || w.State != "disabled" {
		t.Fatalf("after DELETE: %+v, want disabled", w)
	}
	e.must(t, 204, nil, "admin", "POST", "/api/v1/webhooks/"+wh.ID+"/enable", "")
	got = webhookList{}
	e.must(t, 200, &got, "devA", "GET", "/api/v1/webhooks", "")
	if w := got.Items[0]; w.Disabled || w.State != "active" || w.Failures != 0 || w.PausedUntil != "" {
		t.Fatalf("after enable: %+v, want enabled with no failures and no pause", w)
	}
	es, err := e.rs.ListAudit(ctx, review.AuditFilter{AfterSeq: head.Seq, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, x := range es {
		if x.Actor == e.actors["admin"].User.ID {
			actions = append(actions, x.Action)
		}
	}
	if diff := cmp.Diff([]string{"webhook.disable", "webhook.enable"}, actions); diff != "" {
		t.Errorf("audit entries of the admin (-want +got):\n%s", diff)
	}
}
