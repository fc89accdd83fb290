package postgres

import (
	"context"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// UpdateTargetLimit implements review.Store. The target's row is locked
// (FOR UPDATE) until the transaction ends, so concurrent updates, from
// any process on the database, are serialised.
func (d *DB) UpdateTargetLimit(ctx context.Context, target string, fn func(*review.TargetLimit) error) (review.TargetLimit, error) {
	var out review.TargetLimit
	err := d.Tx(ctx, func(s review.Store) error {
		var err error
		out, err = s.(*DB).UpdateTargetLimitLocked(ctx, target, true, time.Now(), fn)
		return err
	})
	return out, err
}
