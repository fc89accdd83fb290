package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// CursorName is the store cursor holding the sequence number of the last
// audit entry the Dispatcher has enqueued deliveries for.
const CursorName = "webhooks"

// Batch sizes of a Dispatcher.
const (
	DefaultBatchSize = 100
	MaxBatchSize     = 1000
)

// DispatchStore is what a Dispatcher reads and writes. review.Store
// satisfies it.
type DispatchStore interface {
	ListAudit(ctx context.Context, f review.AuditFilter) ([]review.AuditEntry, error)
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
	// enqueues again what it enqueued since the cursor last moved.
	Enqueue func(ctx context.Context, d Delivery) error
	// BatchSize is how many audit entries are read at a time; zero
	// means DefaultBatchSize, and it may not exceed MaxBatchSize.
	BatchSize int
	// Logger is optional; nil discards.
	Logger *slog.Logger
}

func (c DispatcherConfig) validate() error {
	switch {
	case c.Store == nil:
		return errors.New("webhook dispatcher config: Store is required")
	case c.Enqueue == nil:
		return errors.New("webhook dispatcher config: Enqueue is required")
	case c.BatchSize < 0 || c.BatchSize > MaxBatchSize:
		return fmt.Errorf("webhook dispatcher config: BatchSize %d: want 0 to %d", c.BatchSize, MaxBatchSize)
	}
	return nil
}

// Dispatcher turns audit entries into deliveries: it follows the audit
// trail from the cursor named CursorName and enqueues one Delivery per
// entry and matching webhook. A webhook matches an entry about a case
// when it belongs to the case's organisation, is enabled, was created
// no later than the entry, and its Events match the entry's action (see
// Matches). Entries not about a case are passed over.
//
// Delivery is at least once: the cursor moves past an entry only after
// every delivery for it was enqueued, so an Enqueue error or a crash
// leads to the entry being enqueued again. One Dispatcher should run at
// a time; two would enqueue the same deliveries (harmless with a
// deduplicating queue) and could move the cursor back (which only
// causes more duplicates). A Dispatcher is safe for concurrent use but
// gains nothing from it.
type Dispatcher struct {
	store   DispatchStore
	enqueue func(ctx context.Context, d Delivery) error
	batch   int
	log     *slog.Logger
}

// NewDispatcher returns a Dispatcher, or an error naming a missing or
// bad setting.
func NewDispatcher(c DispatcherConfig) (*Dispatcher, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	d := &Dispatcher{store: c.Store, enqueue: c.Enqueue, batch: c.BatchSize, log: c.Logger}
	if d.batch == 0 {
		d.batch = DefaultBatchSize
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d, nil
}

// Dispatch enqueues the deliveries of every audit entry after the
// cursor, a batch at a time, moving the cursor after each batch, until
// it has caught up with the trail. It returns how many deliveries it
// enqueued, and the first error, after which the cursor stays after the
// last entry whose deliveries were all enqueued.
func (d *Dispatcher) Dispatch(ctx context.Context) (int, error) {
	cur, err := d.store.Cursor(ctx, CursorName)
	if err != nil {
		return 0, fmt.Errorf("dispatch webhooks: read cursor: %w", err)
	}
	total := 0
	for {
		n, next, more, err := d.batchFrom(ctx, cur)
		total += n
		if next > cur {
			// Record the progress made even when the batch failed part
			// way, so the entries before the failure are not enqueued
			// again.
			if serr := d.store.SetCursor(ctx, CursorName, next); serr != nil {
				return total, errors.Join(err, fmt.Errorf("dispatch webhooks: set cursor to %d: %w", next, serr))
			}
			cur = next
		}
		if err != nil {
			return total, err
		}
		if !more {
			return total, nil
		}
	}
}

// batchFrom enqueues the deliveries of up to one batch of entries after
// seq. It returns how many it enqueued, the seq of the last entry whose
// deliveries are all enqueued, and whether the batch was full (more may
// follow).
func (d *Dispatcher) batchFrom(ctx context.Context, seq int64) (n int, next int64, more bool, err error) {
	next = seq
	es, err := d.store.ListAudit(ctx, review.AuditFilter{AfterSeq: seq, Limit: d.batch})
	if err != nil {
		return 0, next, false, fmt.Errorf("dispatch webhooks: list audit after %d: %w", seq, err)
	}
	// Looked up once per batch: case id → organisation, organisation →
	// its webhooks.
	orgs := map[string]string{}
	hooks := map[string][]review.Webhook{}
	for _, e := range es {
		if err := ctx.Err(); err != nil {
			return n, next, false, fmt.Errorf("dispatch webhooks: %w", err)
		}
		if e.CaseID != "" {
			k, err := d.entry(ctx, e, orgs, hooks)
			n += k
			if err != nil {
				return n, next, false, fmt.Errorf("dispatch webhooks: audit entry %d: %w", e.Seq, err)
			}
		}
		next = e.Seq
	}
	return n, next, len(es) == d.batch, nil
}

// entry enqueues the deliveries of one audit entry about a case.
func (d *Dispatcher) entry(ctx context.Context, e review.AuditEntry, orgs map[string]string, hooks map[string][]review.Webhook) (int, error) {
	org, ok := orgs[e.CaseID]
	if !ok {
		c, err := d.store.GetCase(ctx, e.CaseID)
		if errors.Is(err, review.ErrNotFound) {
			d.log.WarnContext(ctx, "audit entry names an unknown case; no webhooks", "seq", e.Seq, "case", e.CaseID)
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("load case %s: %w", e.CaseID, err)
		}
		org = c.OrgID
		orgs[e.CaseID] = org
	}
	hs, ok := hooks[org]
	if !ok {
		var err error
		if hs, err = d.webhooks(ctx, org); err != nil {
			return 0, err
		}
		hooks[org] = hs
	}
	n := 0
	for _, h := range hs {
		if h.Disabled || h.OrgID != org || e.Time.Before(h.CreatedAt) || !Matches(h.Events, e.Action) {
			continue
		}
		dl := Delivery{WebhookID: h.ID, Seq: e.Seq}
		if err := d.enqueue(ctx, dl); err != nil {
			return n, fmt.Errorf("enqueue delivery %s: %w", dl.ID(), err)
		}
		n++
	}
	return n, nil
}

// webhooks lists all of an organisation's webhooks, page by page.
func (d *Dispatcher) webhooks(ctx context.Context, org string) ([]review.Webhook, error) {
	if org == "" {
		// ListWebhooks would list every organisation's.
		return nil, nil
	}
	var all []review.Webhook
	p := review.Page{Limit: review.MaxPageLimit}
	for {
		hs, err := d.store.ListWebhooks(ctx, org, p)
		if err != nil {
			return nil, fmt.Errorf("list webhooks of org %s: %w", org, err)
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
