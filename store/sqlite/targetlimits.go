package sqlite

import (
	"context"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// UpdateTargetLimit implements review.Store. The IMMEDIATE transaction
// holds SQLite's write lock from its start, so concurrent updates, from
// any process on the file, are serialised.
func (d *DB) UpdateTargetLimit(ctx context.Context, target string, fn func(*review.TargetLimit) error) (review.TargetLimit, error) {
	var out review.TargetLimit
	err := d.Tx(ctx, func(s review.Store) error {
		var err error
		out, err = s.(*DB).UpdateTargetLimitLocked(ctx, target, false, time.Now(), fn)
		return err
	})
	return out, err
}
