package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// CachedResponse implements review.Store.
func (d *Records) CachedResponse(ctx context.Context, key string) ([]byte, error) {
	var b []byte
	if err := d.q.QueryRow(ctx, `SELECT response FROM response_cache WHERE key = $1`, key).Scan(&b); err != nil {
		return nil, fmt.Errorf("get cached response %s: %w", key, err)
	}
	return b, nil
}

// PutCachedResponse implements review.Store.
func (d *Records) PutCachedResponse(ctx context.Context, key string, resp []byte) error {
	_, err := d.exec(ctx, "put cached response "+key, `INSERT INTO response_cache (key, response) VALUES ($1, $2)
		ON CONFLICT (key) DO NOTHING`, key, nonNil(resp))
	return err
}

// GetIdempotencyKey implements review.Store.
func (d *Records) GetIdempotencyKey(ctx context.Context, userID, key string) (review.IdempotencyKey, error) {
	k := review.IdempotencyKey{UserID: userID, Key: key}
	var h []byte
	var at string
	err := d.q.QueryRow(ctx, `SELECT request_hash, case_id, created_at FROM idempotency_keys
		WHERE user_id = $1 AND key = $2`, userID, key).Scan(&h, &k.CaseID, &at)
	if err != nil {
		return review.IdempotencyKey{}, fmt.Errorf("get idempotency key %q of user %s: %w", key, userID, err)
	}
	copy(k.RequestHash[:], h)
	k.CreatedAt, err = parseTime(at)
	return k, err
}

// CreateIdempotencyKey implements review.Store.
func (d *Records) CreateIdempotencyKey(ctx context.Context, k review.IdempotencyKey) error {
	_, err := d.exec(ctx, fmt.Sprintf("create idempotency key %q of user %s", k.Key, k.UserID),
		`INSERT INTO idempotency_keys (user_id, key, request_hash, case_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
		k.UserID, k.Key, k.RequestHash[:], k.CaseID, fmtTime(k.CreatedAt))
	return err
}

// CreateWebhook implements review.Store.
func (d *Records) CreateWebhook(ctx context.Context, w review.Webhook) error {
	op := "create webhook " + w.ID
	events, err := jsonText(nonNil(w.Events))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err = d.exec(ctx, op, `INSERT INTO webhooks (`+webhookCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		w.ID, w.OrgID, w.URL, nonNil(w.Secret), events, w.CreatedBy, w.Disabled, fmtTime(w.CreatedAt),
		w.Failures, w.LastError, nullTime(w.LastFailureAt), nullTime(w.PausedUntil))
	return err
}

const webhookCols = `id, org_id, url, secret, events, created_by, disabled, created_at,
	failures, last_error, last_failure_at, paused_until`

// scanWebhook returns no events as nil.
func scanWebhook(s scanner) (review.Webhook, error) {
	var w review.Webhook
	var events, at string
	var failedAt, paused sql.NullString
	if err := s.Scan(&w.ID, &w.OrgID, &w.URL, &w.Secret, &events, &w.CreatedBy, &w.Disabled, &at,
		&w.Failures, &w.LastError, &failedAt, &paused); err != nil {
		return w, err
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return w, fmt.Errorf("decode events of webhook %s: %w", w.ID, err)
	}
	if len(w.Events) == 0 {
		w.Events = nil
	}
	var err error
	if w.CreatedAt, err = parseTime(at); err != nil {
		return w, err
	}
	if w.LastFailureAt, err = parseNullTime(failedAt); err != nil {
		return w, err
	}
	w.PausedUntil, err = parseNullTime(paused)
	return w, err
}

// GetWebhook implements review.Store.
func (d *Records) GetWebhook(ctx context.Context, id string) (review.Webhook, error) {
	w, err := scanWebhook(d.q.QueryRow(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = $1`, id))
	if err != nil {
		return w, fmt.Errorf("get webhook %s: %w", id, err)
	}
	return w, nil
}

// ListWebhooks implements review.Store.
func (d *Records) ListWebhooks(ctx context.Context, orgID string, p review.Page) ([]review.Webhook, error) {
	ws, err := list(ctx, d.q, scanWebhook, `SELECT `+webhookCols+` FROM webhooks
		WHERE ($1 = '' OR org_id = $2) AND id > $3 ORDER BY id LIMIT $4`, orgID, orgID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return ws, nil
}

// DisableWebhook implements review.Store. Disabling a disabled webhook
// is a no-op.
func (d *Records) DisableWebhook(ctx context.Context, id string) error {
	op := "disable webhook " + id
	r, err := d.exec(ctx, op, `UPDATE webhooks SET disabled = true WHERE id = $1`, id)
	if err != nil {
		return err
	}
	return one(r, op)
}

// EnableWebhook implements review.Store.
func (d *Records) EnableWebhook(ctx context.Context, id string) error {
	op := "enable webhook " + id
	r, err := d.exec(ctx, op, `UPDATE webhooks SET disabled = false, failures = 0, paused_until = NULL WHERE id = $1`, id)
	if err != nil {
		return err
	}
	return one(r, op)
}

// RecordWebhookFailure implements review.Store. The increment is one
// statement, so concurrent failures each count.
func (d *Records) RecordWebhookFailure(ctx context.Context, id, kind string, at time.Time) (int, error) {
	var n int
	err := d.q.QueryRow(ctx, `UPDATE webhooks SET failures = failures + 1, last_error = $1, last_failure_at = $2
		WHERE id = $3 RETURNING failures`, kind, fmtTime(at), id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("record failure of webhook %s: %w", id, err)
	}
	return n, nil
}

// RecordWebhookSuccess implements review.Store.
func (d *Records) RecordWebhookSuccess(ctx context.Context, id string) error {
	op := "record success of webhook " + id
	r, err := d.exec(ctx, op, `UPDATE webhooks SET failures = 0, paused_until = NULL WHERE id = $1`, id)
	if err != nil {
		return err
	}
	return one(r, op)
}

// PauseWebhook implements review.Store.
func (d *Records) PauseWebhook(ctx context.Context, id string, until time.Time) error {
	op := "pause webhook " + id
	r, err := d.exec(ctx, op, `UPDATE webhooks SET paused_until = $1 WHERE id = $2`, nullTime(until), id)
	if err != nil {
		return err
	}
	return one(r, op)
}

// ClaimWebhookProbe implements review.Store: one conditional UPDATE, so
// of concurrent callers exactly one sees a row changed. Stored times
// sort as text.
func (d *Records) ClaimWebhookProbe(ctx context.Context, id string, now, until time.Time) (bool, error) {
	r, err := d.exec(ctx, "claim probe of webhook "+id, `UPDATE webhooks SET paused_until = $1
		WHERE id = $2 AND paused_until IS NOT NULL AND paused_until <= $3`, fmtTime(until), id, fmtTime(now))
	if err != nil {
		return false, err
	}
	return r.RowsAffected() == 1, nil
}

// Cursor implements review.Store.
func (d *Records) Cursor(ctx context.Context, name string) (int64, error) {
	var v int64
	err := d.q.QueryRow(ctx, `SELECT value FROM cursors WHERE name = $1`, name).Scan(&v)
	if err != nil && !isNotFound(err) {
		return 0, fmt.Errorf("get cursor %s: %w", name, err)
	}
	return v, nil
}

// SetCursor implements review.Store.
func (d *Records) SetCursor(ctx context.Context, name string, v int64) error {
	_, err := d.exec(ctx, "set cursor "+name, `INSERT INTO cursors (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, v)
	return err
}

// CreateAnchor implements review.Store. Anchoring an entry twice is
// review.ErrConflict.
func (d *Records) CreateAnchor(ctx context.Context, a review.Anchor) error {
	_, err := d.exec(ctx, fmt.Sprintf("create anchor of audit entry %d", a.Seq),
		`INSERT INTO anchors (seq, hash, log_index, created_at) VALUES ($1, $2, $3, $4)`,
		a.Seq, a.Hash, a.LogIndex, fmtTime(a.CreatedAt))
	return err
}

// LastAnchor implements review.Store.
func (d *Records) LastAnchor(ctx context.Context) (review.Anchor, error) {
	var a review.Anchor
	var at string
	err := d.q.QueryRow(ctx, `SELECT seq, hash, log_index, created_at FROM anchors ORDER BY seq DESC LIMIT 1`).
		Scan(&a.Seq, &a.Hash, &a.LogIndex, &at)
	if err != nil {
		return review.Anchor{}, fmt.Errorf("get last anchor: %w", err)
	}
	a.CreatedAt, err = parseTime(at)
	return a, err
}
