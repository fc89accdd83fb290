package webhook

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// CursorName is the store cursor holding the floor of the webhooks'
// own cursors after the Dispatcher's last completed round: no webhook's
// cursor is below it, and a webhook first seen starts from it (entries
// older than a webhook are not delivered to it anyway). Each webhook
// has its own cursor, HookCursor, the sequence number of the last audit
// entry its deliveries were enqueued for (or passed over); one never
// set reads as 0.
const CursorName = "webhooks"

// HookCursor names the store cursor of one webhook.
func HookCursor(webhookID string) string { return CursorName + ":" + webhookID }

// Batch sizes of a Dispatcher.
const (
	DefaultBatchSize = 100
	MaxBatchSize     = 1000
)

// Default fairness limits of a Dispatcher: the most deliveries one
// webhook, and all the webhooks of one organisation, may have in the
// queue (waiting, running or waiting to retry) at a time.
const (
	DefaultPerHook = 10
	DefaultPerOrg  = 20
)

// DispatchStore is what a Dispatcher reads and writes. review.Store
// satisfies it.
type DispatchStore interface {
	ListAudit(ctx context.Context, f review.AuditFilter) ([]review.AuditEntry, error)
	AuditHead(ctx context.Context) (review.AuditEntry, error)
	GetCase(ctx context.Context, id string) (review.Case, error)
	ListWebhooks(ctx context.Context, orgID string, p review.Page) ([]review.Webhook, error)
	Cursor(ctx context.Context, name string) (int64, error)
	SetCursor(ctx context.Context, name string, v int64) error
}

// DispatcherConfig configures a Dispatcher.
type DispatcherConfig struct {
	// Store is required.
	Store DispatchStore
	// Enqueue hands one delivery to the job queue; required. It should
	// keep one job per (WebhookID, Seq): after a crash the Dispatcher
	// enqueues again what it enqueued since a cursor last moved.
	Enqueue func(ctx context.Context, d Delivery) error
	// Outstanding counts, by webhook id, the deliveries in the queue
	// that are not finished (waiting, running, waiting to retry or
	// snoozed); required. *work.Queue's OutstandingDeliveries is one.
	Outstanding func(ctx context.Context) (map[string]int, error)
	// PerHook and PerOrg bound how many deliveries one webhook, and all
	// the webhooks of one organisation together, may have outstanding;
	// zero means DefaultPerHook and DefaultPerOrg.
	PerHook, PerOrg int
	// BatchSize is how many audit entries are read at a time; zero
	// means DefaultBatchSize, and it may not exceed MaxBatchSize.
	BatchSize int
	// Now is the clock, for pauses; nil means time.Now.
	Now func() time.Time
	// Logger is optional; nil discards.
	Logger *slog.Logger
}

func (c DispatcherConfig) validate() error {
	switch {
	case c.Store == nil:
		return errors.New("webhook dispatcher config: Store is required")
	case c.Enqueue == nil:
		return errors.New("webhook dispatcher config: Enqueue is required")
	case c.Outstanding == nil:
		return errors.New("webhook dispatcher config: Outstanding is required")
	case c.PerHook < 0 || c.PerOrg < 0:
		return fmt.Errorf("webhook dispatcher config: PerHook %d, PerOrg %d: want 0 or more", c.PerHook, c.PerOrg)
	case c.BatchSize < 0 || c.BatchSize > MaxBatchSize:
		return fmt.Errorf("webhook dispatcher config: BatchSize %d: want 0 to %d", c.BatchSize, MaxBatchSize)
	}
	return nil
}

// Dispatcher turns audit entries into deliveries, fairly between
// organisations. Each webhook follows the audit trail from its own
// cursor (HookCursor); a round of Dispatch enqueues, for each webhook,
// the deliveries of the next entries that match it, but only as many
// as keep the webhook within PerHook outstanding deliveries and its
// organisation within PerOrg. The rest are held back in the audit
// trail, behind the webhook's cursor, until earlier deliveries finish.
// So the queue never holds more than PerOrg deliveries of any one
// organisation, and an event of another organisation, enqueued in the
// next round, waits behind at most PerOrg deliveries of each other busy
// organisation (see docs/webhooks.md for the bound and the designs
// rejected).
//
// A webhook matches an entry about a case when it belongs to the case's
// organisation, was created no later than the entry, and its Events
// match the entry's action (see Matches). Entries not about a case are
// passed over. A disabled webhook's cursor moves to the head without
// enqueueing (its events are dropped); a paused one's stays (its events
// wait for the pause to end).
//
// Delivery is at least once: a cursor moves past an entry only after
// its delivery was enqueued, so an Enqueue error or a crash leads to
// the entry being enqueued again. One Dispatcher should run at a time;
// two would enqueue the same deliveries (harmless with a deduplicating
// queue) and could exceed the limits. A Dispatcher is safe for
// concurrent use but gains nothing from it.
type Dispatcher struct {
	store       DispatchStore
	enqueue     func(ctx context.Context, d Delivery) error
	outstanding func(ctx context.Context) (map[string]int, error)
	perHook     int
	perOrg      int
	batch       int
	now         func() time.Time
	log         *slog.Logger
}

// NewDispatcher returns a Dispatcher, or an error naming a missing or
// bad setting.
func NewDispatcher(c DispatcherConfig) (*Dispatcher, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	d := &Dispatcher{store: c.Store, enqueue: c.Enqueue, outstanding: c.Outstanding,
		perHook: cmp.Or(c.PerHook, DefaultPerHook), perOrg: cmp.Or(c.PerOrg, DefaultPerOrg),
		batch: cmp.Or(c.BatchSize, DefaultBatchSize), now: c.Now, log: c.Logger}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d, nil
}

// Dispatch runs one round: it enqueues, webhook by webhook in id order,
// the deliveries each may have within the limits, moving each
// webhook's cursor as it goes. It returns how many deliveries it
// enqueued and the errors it met joined; a webhook whose store reads or
// Enqueue fail keeps its cursor after the last entry enqueued, and the
// other webhooks go on.
func (d *Dispatcher) Dispatch(ctx context.Context) (int, error) {
	var head int64
	switch h, err := d.store.AuditHead(ctx); {
	case errors.Is(err, review.ErrNotFound):
		return 0, nil // an empty trail
	case err != nil:
		return 0, fmt.Errorf("dispatch webhooks: read audit head: %w", err)
	default:
		head = h.Seq
	}
	floor, err := d.store.Cursor(ctx, CursorName)
	if err != nil {
		return 0, fmt.Errorf("dispatch webhooks: read cursor: %w", err)
	}
	if floor >= head {
		// Every webhook's cursor is at least the floor, so each is done
		// with the whole trail: an idle round costs these two reads.
		return 0, nil
	}
	hooks, err := d.webhooks(ctx)
	if err != nil {
		return 0, fmt.Errorf("dispatch webhooks: %w", err)
	}
	out, err := d.outstanding(ctx)
	if err != nil {
		return 0, fmt.Errorf("dispatch webhooks: count outstanding deliveries: %w", err)
	}
	orgOut := map[string]int{}
	for _, h := range hooks {
		orgOut[h.OrgID] += out[h.ID]
	}
	now := d.now()
	orgs := map[string]string{} // case id → organisation, for this round
	total := 0
	low := head // the lowest cursor after this round
	var errs []error
	for _, h := range hooks {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("dispatch webhooks: %w", err)
		}
		name := HookCursor(h.ID)
		cur, err := d.store.Cursor(ctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("dispatch webhooks: read cursor of %s: %w", h.ID, err))
			continue
		}
		if cur < floor {
			// First seen (or never moved while floor was 0): start at
			// the floor, which no webhook's cursor is below.
			cur = floor
		}
		if cur >= head {
			continue
		}
		if h.Disabled {
			if err := d.store.SetCursor(ctx, name, head); err != nil {
				errs = append(errs, fmt.Errorf("dispatch webhooks: set cursor of %s: %w", h.ID, err))
			}
			continue
		}
		free := min(d.perHook-out[h.ID], d.perOrg-orgOut[h.OrgID])
		if now.Before(h.PausedUntil) || free <= 0 {
			low = min(low, cur)
			continue // held back
		}
		n, next, err := d.hook(ctx, h, cur, head, free, orgs)
		low = min(low, next)
		total += n
		orgOut[h.OrgID] += n
		if next > cur {
			if serr := d.store.SetCursor(ctx, name, next); serr != nil {
				err = errors.Join(err, fmt.Errorf("set cursor to %d: %w", next, serr))
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("dispatch webhooks: webhook %s: %w", h.ID, err))
		}
	}
	if len(errs) == 0 && low > floor {
		if err := d.store.SetCursor(ctx, CursorName, low); err != nil {
			errs = append(errs, fmt.Errorf("dispatch webhooks: set cursor to %d: %w", low, err))
		}
	}
	return total, errors.Join(errs...)
}

// hook enqueues up to free deliveries to h of the entries after cur, up
// to head. It returns how many it enqueued and the seq of the last
// entry it is done with (enqueued or passed over).
func (d *Dispatcher) hook(ctx context.Context, h review.Webhook, cur, head int64, free int, orgs map[string]string) (n int, next int64, err error) {
	next = cur
	for next < head {
		es, err := d.store.ListAudit(ctx, review.AuditFilter{AfterSeq: next, Limit: d.batch})
		if err != nil {
			return n, next, fmt.Errorf("list audit after %d: %w", next, err)
		}
		for _, e := range es {
			if e.Seq > head {
				return n, next, nil
			}
			if e.CaseID != "" && !e.Time.Before(h.CreatedAt) && Matches(h.Events, e.Action) {
				org, err := d.caseOrg(ctx, e, orgs)
				if err != nil {
					return n, next, fmt.Errorf("audit entry %d: %w", e.Seq, err)
				}
				if org == h.OrgID {
					if n == free {
						return n, next, nil
					}
					dl := Delivery{WebhookID: h.ID, Seq: e.Seq}
					if err := d.enqueue(ctx, dl); err != nil {
						return n, next, fmt.Errorf("audit entry %d: enqueue delivery %s: %w", e.Seq, dl.ID(), err)
					}
					n++
				}
			}
			next = e.Seq
		}
		if len(es) < d.batch {
			break
		}
	}
	return n, next, nil
}

// caseOrg returns the organisation of an entry's case, "" for a case
// that does not exist.
func (d *Dispatcher) caseOrg(ctx context.Context, e review.AuditEntry, orgs map[string]string) (string, error) {
	if org, ok := orgs[e.CaseID]; ok {
		return org, nil
	}
	c, err := d.store.GetCase(ctx, e.CaseID)
	if errors.Is(err, review.ErrNotFound) {
		d.log.WarnContext(ctx, "audit entry names an unknown case; no webhooks", "seq", e.Seq, "case", e.CaseID)
		orgs[e.CaseID] = ""
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("load case %s: %w", e.CaseID, err)
	}
	orgs[e.CaseID] = c.OrgID
	return c.OrgID, nil
}

// webhooks lists every organisation's webhooks, page by page.
func (d *Dispatcher) webhooks(ctx context.Context) ([]review.Webhook, error) {
	var all []review.Webhook
	p := review.Page{Limit: review.MaxPageLimit}
	for {
		hs, err := d.store.ListWebhooks(ctx, "", p)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		all = append(all, hs...)
		if len(hs) < p.N() {
			return all, nil
		}
		p.After = hs[len(hs)-1].ID
	}
}

// Run calls Dispatch every interval until ctx is done, logging errors
// (the next round retries), and returns ctx's error.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("run webhook dispatcher: interval %v is not positive", interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := d.Dispatch(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			d.log.ErrorContext(ctx, "dispatch webhooks", "err", err, "enqueued", n)
		case n > 0:
			d.log.InfoContext(ctx, "webhook deliveries enqueued", "n", n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
