package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// TestWebhooksPage checks that the webhooks page shows a paused
// webhook as "paused after 20 failures (…), until …", that another
// organisation's developer neither sees it nor can disable it, and that
// the admin sees every organisation's and can disable it, and its
// developer enable it again.
func TestWebhooksPage(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	wh, _, err := e.svc.CreateWebhook(ctx, e.actors["devA"], review.WebhookInput{URL: "https://hooks.a.example/clearance"})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := e.store.RecordWebhookFailure(ctx, wh.ID, "status 503", e.now); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.PauseWebhook(ctx, wh.ID, e.now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}

	dev := e.client(t)
	dev.signIn(t, "devA")
	p := dev.get(t, "/webhooks")
	if p.code != http.StatusOK || !strings.Contains(p.body, "https://hooks.a.example/clearance") ||
		!strings.Contains(p.body, "paused</strong> after 20 failures (status 503), until") ||
		!strings.Contains(p.body, "2026-03-02 09:10 UTC") {
		t.Fatalf("developer's webhooks page does not show the pause (%d):\n%s", p.code, p.body)
	}

	other := e.client(t)
	other.signIn(t, "devB")
	p = other.get(t, "/webhooks")
	if strings.Contains(p.body, wh.ID) {
		t.Fatalf("org B's developer sees org A's webhook:\n%s", p.body)
	}
	if r := other.do(t, http.MethodPost, "/webhooks/"+wh.ID+"/disable", url.Values{"csrf": {csrf(t, p)}}); r.code != http.StatusNotFound {
		t.Fatalf("org B's developer disables org A's webhook = %d, want 404", r.code)
	}

	admin := e.client(t)
	admin.signIn(t, "admin")
	if r := admin.post(t, "/webhooks", "/webhooks/"+wh.ID+"/disable", url.Values{}); r.code != http.StatusSeeOther {
		t.Fatalf("admin disables = %d:\n%s", r.code, r.body)
	}
	if p := admin.get(t, "/webhooks"); !strings.Contains(p.body, "<strong>disabled</strong>") || !strings.Contains(p.body, wh.OrgID) {
		t.Fatalf("admin's page does not show the disabled webhook and its organisation:\n%s", p.body)
	}
	if r := dev.post(t, "/webhooks", "/webhooks/"+wh.ID+"/enable", url.Values{}); r.code != http.StatusSeeOther {
		t.Fatalf("developer enables = %d:\n%s", r.code, r.body)
	}
	got, err := e.store.GetWebhook(ctx, wh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Disabled || got.Failures != 0 || !got.PausedUntil.IsZero() {
		t.Fatalf("after enable: disabled %v, failures %d, paused until %v; want enabled, 0, none", got.Disabled, got.Failures, got.PausedUntil)
	}
}
