package review

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// WebhookInput asks for a webhook.
type WebhookInput struct {
	// URL receives the POSTs; http or https.
	URL string `json:"url"`
	// Events are the audit actions to deliver (such as
	// "case.transition"); empty means every case event.
	Events []string `json:"events,omitempty"`
}

const maxWebhookEvents = 32

func (in WebhookInput) validate() error {
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(in.URL) > maxURL {
		return invalid("url", "want an http or https URL of at most %d bytes", maxURL)
	}
	if len(in.Events) > maxWebhookEvents {
		return invalid("events", "%d events exceeds the limit of %d", len(in.Events), maxWebhookEvents)
	}
	for i, e := range in.Events {
		if e == "" || len(e) > 64 || strings.ContainsAny(e, " \t\r\n") {
			return invalid(fmt.Sprintf("events[%d]", i), "%q is not an event name", e)
		}
	}
	return nil
}

// CreateWebhook subscribes the actor's organisation to its cases' events
// and returns the webhook with its signing secret, shown once (stored
// sealed). Developers and admins.
func (s *Service) CreateWebhook(ctx context.Context, a Actor, in WebhookInput) (Webhook, string, error) {
	if !a.has(RoleDeveloper) && !a.has(RoleAdmin) {
		return Webhook{}, "", forbidden("create webhook", RoleDeveloper, RoleAdmin)
	}
	if err := in.validate(); err != nil {
		return Webhook{}, "", fmt.Errorf("create webhook: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Webhook{}, "", fmt.Errorf("create webhook: %w", err)
	}
	secret := "whsec_" + hex.EncodeToString(b[:])
	sealed, err := s.sealer.Seal([]byte(secret))
	if err != nil {
		return Webhook{}, "", fmt.Errorf("create webhook: %w", err)
	}
	now := s.stamp()
	w := Webhook{OrgID: a.Org.ID, URL: in.URL, Secret: sealed, Events: slices.Clone(in.Events), CreatedBy: a.User.ID, CreatedAt: now}
	if w.ID, err = newID("whk", now); err != nil {
		return Webhook{}, "", err
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := tx.CreateWebhook(ctx, w); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "webhook.create", "", map[string]any{"webhook": w.ID, "url": w.URL, "events": w.Events})
	})
	if err != nil {
		return Webhook{}, "", fmt.Errorf("create webhook: %w", err)
	}
	w.Secret = nil
	return w, secret, nil
}

// Webhooks lists webhooks, without secrets: a developer's own
// organisation's (orgID must be empty or that organisation, else
// ErrForbidden), and for an admin, who runs the service, those of
// orgID, or of every organisation when orgID is empty.
func (s *Service) Webhooks(ctx context.Context, a Actor, orgID string, p Page) ([]Webhook, error) {
	switch {
	case a.has(RoleAdmin):
	case a.has(RoleDeveloper) && (orgID == "" || orgID == a.Org.ID):
		orgID = a.Org.ID
	default:
		return nil, forbidden("list webhooks", RoleDeveloper, RoleAdmin)
	}
	ws, err := s.store.ListWebhooks(ctx, orgID, p)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	for i := range ws {
		ws[i].Secret = nil
	}
	return ws, nil
}

// DisableWebhook stops deliveries to a webhook, whoever created it: a
// developer may disable any of their organisation's, an admin (who runs
// the service) any organisation's, for instance one that floods the
// queue. It is audited as webhook.disable. Deliveries of a disabled
// webhook are dropped, not held back. A developer naming another
// organisation's webhook gets ErrNotFound.
func (s *Service) DisableWebhook(ctx context.Context, a Actor, id string) error {
	return s.setWebhook(ctx, a, id, "disable", func(tx Store, _ Webhook) (map[string]any, error) {
		return map[string]any{"webhook": id}, tx.DisableWebhook(ctx, id)
	})
}

// EnableWebhook resumes deliveries to a webhook: it clears Disabled and
// the circuit breaker's failure count and pause, so the next delivery
// is tried at once. Deliveries dropped while it was disabled are not
// sent; those held back while it was paused are. Who may is as for
// DisableWebhook; audited as webhook.enable.
func (s *Service) EnableWebhook(ctx context.Context, a Actor, id string) error {
	return s.setWebhook(ctx, a, id, "enable", func(tx Store, w Webhook) (map[string]any, error) {
		return map[string]any{"webhook": id, "was_disabled": w.Disabled, "failures": w.Failures}, tx.EnableWebhook(ctx, id)
	})
}

// setWebhook runs change on a webhook the actor may manage (a developer
// their organisation's, an admin any) and audits it as webhook.VERB with
// the details change returns, in one transaction.
func (s *Service) setWebhook(ctx context.Context, a Actor, id, verb string, change func(Store, Webhook) (map[string]any, error)) error {
	if !a.has(RoleDeveloper) && !a.has(RoleAdmin) {
		return forbidden(verb+" webhook", RoleDeveloper, RoleAdmin)
	}
	err := s.store.Tx(ctx, func(tx Store) error {
		w, err := tx.GetWebhook(ctx, id)
		if err != nil {
			return err
		}
		if w.OrgID != a.Org.ID && !a.has(RoleAdmin) {
			return fmt.Errorf("webhook %s: %w", id, ErrNotFound)
		}
		details, err := change(tx, w)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "webhook."+verb, "", details)
	})
	if err != nil {
		return fmt.Errorf("%s webhook %s: %w", verb, id, err)
	}
	return nil
}
