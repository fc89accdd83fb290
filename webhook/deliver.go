package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// ErrPermanent is wrapped by Deliver's errors that retrying cannot
// cure: the receiver refused the delivery with a 4xx status other than
// 408, 425 and 429, or the delivery cannot be built (a webhook URL that
// is not http or https, a missing audit entry or case, an event of
// another organisation). The queue should not retry them.
var ErrPermanent = errors.New("permanent webhook delivery failure")

// Sealer opens sealed webhook secrets. *review.AgeSealer satisfies it.
type Sealer interface {
	Open(ciphertext []byte) ([]byte, error)
}

// DeliveryStore is what a Deliverer reads. review.Store satisfies it.
type DeliveryStore interface {
	GetWebhook(ctx context.Context, id string) (review.Webhook, error)
	GetCase(ctx context.Context, id string) (review.Case, error)
	ListAudit(ctx context.Context, f review.AuditFilter) ([]review.AuditEntry, error)
}

// DefaultTimeout is a Deliverer's default time limit for one POST.
const DefaultTimeout = 10 * time.Second

// maxResponse bounds how much of a receiver's response is read (and
// drained, so the connection can be reused); the rest is ignored.
const maxResponse = 64 << 10

// DelivererConfig configures a Deliverer.
type DelivererConfig struct {
	// Store is required.
	Store DeliveryStore
	// Sealer opens webhook secrets; required.
	Sealer Sealer
	// Client sends the requests; nil means a new http.Client. Its
	// redirect policy is replaced: redirects are never followed, so a
	// signed body goes only to the registered URL. Restricting which
	// addresses may be reached (webhook URLs are chosen by tenants) is
	// the job of its Transport: PublicClient reaches only public
	// addresses, and a refusal is permanent.
	Client *http.Client
	// Timeout bounds one POST, response included; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger is optional; nil discards.
	Logger *slog.Logger
}

func (c DelivererConfig) validate() error {
	switch {
	case c.Store == nil:
		return errors.New("webhook deliverer config: Store is required")
	case c.Sealer == nil:
		return errors.New("webhook deliverer config: Sealer is required")
	case c.Timeout < 0:
		return fmt.Errorf("webhook deliverer config: Timeout %v is negative", c.Timeout)
	}
	return nil
}

// Deliverer sends deliveries: it signs the event and POSTs it to the
// webhook's URL. It is safe for concurrent use.
type Deliverer struct {
	store   DeliveryStore
	sealer  Sealer
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger
}

// NewDeliverer returns a Deliverer, or an error naming a missing or bad
// setting.
func NewDeliverer(c DelivererConfig) (*Deliverer, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	d := &Deliverer{store: c.Store, sealer: c.Sealer, timeout: c.Timeout, now: c.Now, log: c.Logger}
	client := &http.Client{}
	if c.Client != nil {
		cp := *c.Client
		client = &cp
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	d.client = client
	if d.timeout == 0 {
		d.timeout = DefaultTimeout
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d, nil
}

// Deliver sends one delivery. It returns nil when the receiver answered
// 2xx, and also, sending nothing, when the webhook is gone, disabled,
// no longer subscribed to the event's type, or was created after the
// event. Otherwise it returns an error: wrapping ErrPermanent for a
// failure retrying cannot cure (see ErrPermanent), plain for one it may
// (a network error, a timeout, a 3xx, 408, 425, 429 or 5xx answer, a
// store or sealer error), which the queue should retry with backoff.
// Errors name the webhook by id, never by URL, which may hold a token.
func (d *Deliverer) Deliver(ctx context.Context, dl Delivery) error {
	if dl.WebhookID == "" || dl.Seq < 1 {
		return fmt.Errorf("deliver %q: %w: want a webhook id and a seq of 1 or more", dl.ID(), ErrPermanent)
	}
	hook, err := d.store.GetWebhook(ctx, dl.WebhookID)
	if errors.Is(err, review.ErrNotFound) {
		d.log.DebugContext(ctx, "webhook gone; delivery dropped", "delivery", dl.ID())
		return nil
	}
	if err != nil {
		return fmt.Errorf("deliver %s: load webhook: %w", dl.ID(), err)
	}
	if hook.Disabled {
		d.log.DebugContext(ctx, "webhook disabled; delivery dropped", "delivery", dl.ID())
		return nil
	}
	entry, err := d.entry(ctx, dl.Seq)
	if err != nil {
		return fmt.Errorf("deliver %s: %w", dl.ID(), err)
	}
	if !Matches(hook.Events, entry.Action) || entry.Time.Before(hook.CreatedAt) {
		d.log.DebugContext(ctx, "webhook not subscribed to event; delivery dropped", "delivery", dl.ID(), "type", entry.Action)
		return nil
	}
	c, err := d.store.GetCase(ctx, entry.CaseID)
	if errors.Is(err, review.ErrNotFound) {
		return fmt.Errorf("deliver %s: case %s: %w: not found", dl.ID(), entry.CaseID, ErrPermanent)
	}
	if err != nil {
		return fmt.Errorf("deliver %s: load case: %w", dl.ID(), err)
	}
	if c.OrgID != hook.OrgID {
		// Fail closed: an event goes only to its own tenant's hooks.
		return fmt.Errorf("deliver %s: %w: case %s is not of the webhook's organisation", dl.ID(), ErrPermanent, c.ID)
	}
	u, err := url.Parse(hook.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("deliver %s: %w: webhook URL is not an absolute http or https URL", dl.ID(), ErrPermanent)
	}
	secret, err := d.sealer.Open(hook.Secret)
	if err != nil {
		return fmt.Errorf("deliver %s: open secret: %w", dl.ID(), err)
	}
	if len(secret) == 0 {
		return fmt.Errorf("deliver %s: %w: webhook has an empty secret", dl.ID(), ErrPermanent)
	}
	body, err := json.Marshal(NewEvent(entry, c))
	if err != nil {
		return fmt.Errorf("deliver %s: encode event: %w", dl.ID(), err)
	}
	return d.post(ctx, dl, u, entry.Action, secret, body)
}

// entry loads the audit entry seq.
func (d *Deliverer) entry(ctx context.Context, seq int64) (review.AuditEntry, error) {
	es, err := d.store.ListAudit(ctx, review.AuditFilter{AfterSeq: seq - 1, Limit: 1})
	if err != nil {
		return review.AuditEntry{}, fmt.Errorf("load audit entry %d: %w", seq, err)
	}
	if len(es) == 0 || es[0].Seq != seq {
		return review.AuditEntry{}, fmt.Errorf("audit entry %d: %w: not found", seq, ErrPermanent)
	}
	if es[0].CaseID == "" {
		return review.AuditEntry{}, fmt.Errorf("audit entry %d: %w: not about a case", seq, ErrPermanent)
	}
	return es[0], nil
}

func (d *Deliverer) post(ctx context.Context, dl Delivery, u *url.URL, action string, secret, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("deliver %s: %w: build request: %v", dl.ID(), ErrPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Clearance-Webhook/1")
	req.Header.Set(EventHeader, action)
	req.Header.Set(DeliveryHeader, dl.ID())
	// Signed at send time, so that a retry hours later is not stale.
	req.Header.Set(SignatureHeader, Sign(secret, d.now(), body))

	start := d.now()
	resp, err := d.client.Do(req)
	if err != nil {
		// The *url.Error names the URL; keep only its cause.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		d.log.WarnContext(ctx, "webhook delivery failed", "delivery", dl.ID(), "err", err)
		if errors.Is(err, ErrPrivateAddress) {
			// The URL will not become public by waiting.
			return fmt.Errorf("deliver %s: post: %w: %w", dl.ID(), err, ErrPermanent)
		}
		return fmt.Errorf("deliver %s: post: %w", dl.ID(), err)
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()

	code := resp.StatusCode
	log := d.log.With("delivery", dl.ID(), "status", code, "duration", d.now().Sub(start))
	switch {
	case code >= 200 && code < 300:
		log.InfoContext(ctx, "webhook delivered")
		return nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout &&
		code != http.StatusTooEarly && code != http.StatusTooManyRequests:
		log.WarnContext(ctx, "webhook refused; not retrying")
		return fmt.Errorf("deliver %s: %w: receiver answered %d: %q", dl.ID(), ErrPermanent, code, clip(string(snippet)))
	case code >= 300 && code < 400:
		log.WarnContext(ctx, "webhook redirected; redirects are not followed")
		return fmt.Errorf("deliver %s: receiver answered %d (redirects are not followed)", dl.ID(), code)
	}
	log.WarnContext(ctx, "webhook delivery failed; will retry")
	return fmt.Errorf("deliver %s: receiver answered %d: %q", dl.ID(), code, clip(string(snippet)))
}
