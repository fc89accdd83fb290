package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// UpdateTargetLimitLocked is review.Store.UpdateTargetLimit inside the
// caller's transaction: it makes the target's row if missing, reads it
// (FOR UPDATE when forUpdate, PostgreSQL's row lock; SQLite's IMMEDIATE
// transaction already holds the write lock), runs fn and writes the row
// back. now stamps UpdatedAt.
func (d *Records) UpdateTargetLimitLocked(ctx context.Context, target string, forUpdate bool, now time.Time, fn func(*review.TargetLimit) error) (review.TargetLimit, error) {
	op := fmt.Sprintf("update limit of target %q", target)
	if target == "" {
		return review.TargetLimit{}, fmt.Errorf("update target limit: empty target: %w", review.ErrInvalidInput)
	}
	if _, err := d.q.Exec(ctx, `INSERT INTO target_limits (target, limit_value, max_slots, leases, updated_at)
		VALUES ($1, 0, 0, '[]', $2) ON CONFLICT (target) DO NOTHING`, target, fmtTime(now)); err != nil {
		return review.TargetLimit{}, fmt.Errorf("%s: %w", op, err)
	}
	query := `SELECT limit_value, max_slots, pause_until, last_cut, leases, updated_at FROM target_limits WHERE target = $1`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	l := review.TargetLimit{Target: target}
	var pause, cut sql.NullString
	var leases, updated string
	if err := d.q.QueryRow(ctx, query, target).Scan(&l.Limit, &l.Max, &pause, &cut, &leases, &updated); err != nil {
		return review.TargetLimit{}, fmt.Errorf("%s: %w", op, err)
	}
	var err error
	if l.PauseUntil, err = parseNullTime(pause); err != nil {
		return review.TargetLimit{}, fmt.Errorf("%s: %w", op, err)
	}
	if l.LastCut, err = parseNullTime(cut); err != nil {
		return review.TargetLimit{}, fmt.Errorf("%s: %w", op, err)
	}
	if l.UpdatedAt, err = parseTime(updated); err != nil {
		return review.TargetLimit{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := json.Unmarshal([]byte(leases), &l.Leases); err != nil {
		return review.TargetLimit{}, fmt.Errorf("%s: leases: %w", op, err)
	}
	if err := fn(&l); err != nil {
		return review.TargetLimit{}, err
	}
	switch {
	case math.IsNaN(l.Limit) || math.IsInf(l.Limit, 0) || l.Limit < 0:
		return review.TargetLimit{}, fmt.Errorf("%s: limit %v: %w", op, l.Limit, review.ErrInvalidInput)
	case l.Max < 0:
		return review.TargetLimit{}, fmt.Errorf("%s: max %d: %w", op, l.Max, review.ErrInvalidInput)
	}
	l.Target = target
	l.UpdatedAt = review.AuditTime(now).UTC()
	l.PauseUntil, l.LastCut = storedTime(l.PauseUntil), storedTime(l.LastCut)
	for i := range l.Leases {
		l.Leases[i].Expires = storedTime(l.Leases[i].Expires)
	}
	b, err := jsonText(nonNil(l.Leases))
	if err != nil {
		return review.TargetLimit{}, fmt.Errorf("%s: %w", op, err)
	}
	if _, err := d.q.Exec(ctx, `UPDATE target_limits SET limit_value = $2, max_slots = $3, pause_until = $4, last_cut = $5,
		leases = $6, updated_at = $7 WHERE target = $1`,
		target, l.Limit, l.Max, nullTime(l.PauseUntil), nullTime(l.LastCut), b, fmtTime(l.UpdatedAt)); err != nil {
		return review.TargetLimit{}, fmt.Errorf("%s: %w", op, err)
	}
	return l, nil
}

// storedTime is t as a store returns it: UTC, to the microsecond.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return review.AuditTime(t).UTC()
}
