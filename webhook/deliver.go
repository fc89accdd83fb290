package webhook

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// ErrPermanent is wrapped by Deliver's errors that retrying cannot
// cure: the receiver refused the delivery with a 4xx status other than
// 408, 425 and 429, or the delivery cannot be built (a webhook URL that
// is not http or https, a missing audit entry or case, an event of
// another organisation). The queue should not retry them.
var ErrPermanent = errors.New("permanent webhook delivery failure")

// ErrPaused is wrapped by the *PausedError Deliver returns for a
// webhook whose circuit breaker is open.
var ErrPaused = errors.New("webhook paused")

// PausedError is Deliver's answer for a delivery to a paused webhook:
// nothing was sent, and the queue should try again at Until without
// counting an attempt. It wraps ErrPaused.
type PausedError struct {
	WebhookID string
	Until     time.Time
}

func (e *PausedError) Error() string {
	return fmt.Sprintf("webhook %s paused until %s", e.WebhookID, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap returns ErrPaused.
func (e *PausedError) Unwrap() error { return ErrPaused }

// Sealer opens sealed webhook secrets. *review.AgeSealer satisfies it.
type Sealer interface {
	Open(ciphertext []byte) ([]byte, error)
}

// DeliveryStore is what a Deliverer reads, and where it keeps each
// webhook's circuit breaker. review.Store satisfies it.
type DeliveryStore interface {
	GetWebhook(ctx context.Context, id string) (review.Webhook, error)
	GetCase(ctx context.Context, id string) (review.Case, error)
	ListAudit(ctx context.Context, f review.AuditFilter) ([]review.AuditEntry, error)
	RecordWebhookFailure(ctx context.Context, id, kind string, at time.Time) (int, error)
	RecordWebhookSuccess(ctx context.Context, id string) error
	PauseWebhook(ctx context.Context, id string, until time.Time) error
	ClaimWebhookProbe(ctx context.Context, id string, now, until time.Time) (bool, error)
}

// DefaultTimeout is a Deliverer's default time limit for one POST.
const DefaultTimeout = 10 * time.Second

// Circuit breaker and logging defaults of a Deliverer.
const (
	DefaultPauseAfter = 20
	DefaultPause      = 10 * time.Minute
	DefaultLogEvery   = time.Minute
)

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
	// PauseAfter is how many consecutive failed deliveries open a
	// webhook's circuit breaker; zero means DefaultPauseAfter.
	PauseAfter int
	// Pause is how long an open breaker holds a webhook's deliveries
	// before one probe delivery is tried; zero means DefaultPause.
	Pause time.Duration
	// LogEvery is the shortest time between two log lines about one
	// webhook's failures; the failures in between are counted in the
	// next line. Zero means DefaultLogEvery.
	LogEvery time.Duration
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
	case c.PauseAfter < 0:
		return fmt.Errorf("webhook deliverer config: PauseAfter %d is negative", c.PauseAfter)
	case c.Pause < 0:
		return fmt.Errorf("webhook deliverer config: Pause %v is negative", c.Pause)
	case c.LogEvery < 0:
		return fmt.Errorf("webhook deliverer config: LogEvery %v is negative", c.LogEvery)
	}
	return nil
}

// Deliverer sends deliveries: it signs the event and POSTs it to the
// webhook's URL. It is safe for concurrent use.
//
// It keeps each webhook's circuit breaker in the store: every failed
// delivery (no answer, or an answer other than 2xx) counts, a 2xx
// resets the count, and at PauseAfter consecutive failures the webhook
// is paused for Pause. Deliveries to a paused webhook return a
// *PausedError and wait; when the pause is over exactly one delivery,
// the probe, is sent (ClaimWebhookProbe): its success closes the
// breaker, its failure pauses the webhook again.
//
// Failures are logged at most once per webhook per LogEvery, each line
// counting the failures not logged since the one before.
type Deliverer struct {
	store      DeliveryStore
	sealer     Sealer
	client     *http.Client
	timeout    time.Duration
	pauseAfter int
	pause      time.Duration
	now        func() time.Time
	log        *slog.Logger
	failures   failureLog
}

// NewDeliverer returns a Deliverer, or an error naming a missing or bad
// setting.
func NewDeliverer(c DelivererConfig) (*Deliverer, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	d := &Deliverer{store: c.Store, sealer: c.Sealer, timeout: c.Timeout, now: c.Now, log: c.Logger,
		pauseAfter: cmp.Or(c.PauseAfter, DefaultPauseAfter), pause: cmp.Or(c.Pause, DefaultPause),
		failures: failureLog{every: cmp.Or(c.LogEvery, DefaultLogEvery), hooks: map[string]*failureWindow{}}}
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
	probe := false
	if !hook.PausedUntil.IsZero() {
		now := d.now()
		if now.Before(hook.PausedUntil) {
			return &PausedError{WebhookID: hook.ID, Until: hook.PausedUntil}
		}
		// The pause is over: one delivery probes the receiver, and the
		// others wait while it runs.
		busy := now.Add(d.timeout + probeMargin)
		ok, err := d.store.ClaimWebhookProbe(ctx, hook.ID, now, busy)
		if err != nil {
			return fmt.Errorf("deliver %s: claim probe: %w", dl.ID(), err)
		}
		if !ok {
			return &PausedError{WebhookID: hook.ID, Until: busy}
		}
		probe = true
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
	kind, err := d.post(ctx, dl, u, entry.Action, secret, body)
	d.record(ctx, hook, dl, probe, kind, err)
	return err
}

// probeMargin is added to the timeout to keep other deliveries waiting
// while a probe runs.
const probeMargin = 5 * time.Second

// record updates hook's circuit breaker after an attempt: kind is the
// failure's kind, empty after a success.
func (d *Deliverer) record(ctx context.Context, hook review.Webhook, dl Delivery, probe bool, kind string, err error) {
	if kind == "" && err != nil {
		return // not the receiver's failure
	}
	if kind == "" {
		if n := d.failures.reset(hook.ID); n > 0 || probe {
			d.log.InfoContext(ctx, "webhook delivering again", "webhook", hook.ID, "failures_not_logged", n, "probe", probe)
		}
		if hook.Failures > 0 || probe {
			if serr := d.store.RecordWebhookSuccess(ctx, hook.ID); serr != nil {
				d.log.ErrorContext(ctx, "record webhook success", "webhook", hook.ID, "err", serr)
			}
		}
		return
	}
	now := d.now()
	if logIt, skipped := d.failures.allow(hook.ID, now); logIt {
		d.log.WarnContext(ctx, "webhook delivery failed", "webhook", hook.ID, "delivery", dl.ID(),
			"kind", kind, "err", err, "failures_not_logged", skipped)
	}
	n, serr := d.store.RecordWebhookFailure(ctx, hook.ID, kind, now)
	if serr != nil {
		d.log.ErrorContext(ctx, "record webhook failure", "webhook", hook.ID, "err", serr)
		return
	}
	if n < d.pauseAfter {
		return
	}
	until := now.Add(d.pause)
	if serr := d.store.PauseWebhook(ctx, hook.ID, until); serr != nil {
		d.log.ErrorContext(ctx, "pause webhook", "webhook", hook.ID, "err", serr)
		return
	}
	if n == d.pauseAfter || probe {
		// Once per opening of the breaker, however many deliveries
		// were in flight.
		d.log.WarnContext(ctx, "webhook paused", "webhook", hook.ID, "failures", n, "kind", kind, "until", until)
	}
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

// post sends the request. It returns the kind of a failure the
// receiver is to blame for, for the circuit breaker ("" after a 2xx or
// when the request could not be built), and the error to return.
func (d *Deliverer) post(ctx context.Context, dl Delivery, u *url.URL, action string, secret, body []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("deliver %s: %w: build request: %v", dl.ID(), ErrPermanent, err)
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
		if errors.Is(err, ErrPrivateAddress) {
			// The URL will not become public by waiting.
			return "private address", fmt.Errorf("deliver %s: post: %w: %w", dl.ID(), err, ErrPermanent)
		}
		kind := "connection"
		if ne := net.Error(nil); errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			kind = "timeout"
		}
		return kind, fmt.Errorf("deliver %s: post: %w", dl.ID(), err)
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()

	code := resp.StatusCode
	kind := fmt.Sprintf("status %d", code)
	switch {
	case code >= 200 && code < 300:
		d.log.DebugContext(ctx, "webhook delivered", "delivery", dl.ID(), "status", code, "duration", d.now().Sub(start))
		return "", nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout &&
		code != http.StatusTooEarly && code != http.StatusTooManyRequests:
		return kind, fmt.Errorf("deliver %s: %w: receiver answered %d: %q", dl.ID(), ErrPermanent, code, clip(string(snippet)))
	case code >= 300 && code < 400:
		return kind, fmt.Errorf("deliver %s: receiver answered %d (redirects are not followed)", dl.ID(), code)
	}
	return kind, fmt.Errorf("deliver %s: receiver answered %d: %q", dl.ID(), code, clip(string(snippet)))
}

// failureLog decides which delivery failures are logged: per webhook,
// the first of a window of length every, whose line then counts the
// failures not logged since the last line. A success ends the window.
type failureLog struct {
	every time.Duration
	mu    sync.Mutex
	hooks map[string]*failureWindow // only webhooks failing now
}

type failureWindow struct {
	start   time.Time // of the last line logged
	skipped int       // failures not logged since
}

// allow reports whether a failure of hook at now is logged and, if so,
// how many were not since the last line.
func (l *failureLog) allow(hook string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.hooks[hook]
	if !ok {
		l.hooks[hook] = &failureWindow{start: now}
		return true, 0
	}
	if now.Sub(w.start) < l.every {
		w.skipped++
		return false, 0
	}
	n := w.skipped
	w.start, w.skipped = now, 0
	return true, n
}

// reset ends hook's failures and returns how many were not logged.
func (l *failureLog) reset(hook string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.hooks[hook]
	if !ok {
		return 0
	}
	delete(l.hooks, hook)
	return w.skipped
}
