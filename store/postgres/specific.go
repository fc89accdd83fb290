package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/internal/sqlstore"
)

// AppendAudit implements review.Store. A transaction-scoped advisory lock
// holds the head of the trail until commit, so concurrent appends queue
// instead of colliding on the next sequence number.
func (d *DB) AppendAudit(ctx context.Context, e review.AuditEntry) (review.AuditEntry, error) {
	var out review.AuditEntry
	err := d.Tx(ctx, func(s review.Store) error {
		tx := s.(*DB)
		if _, err := tx.q.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLockKey); err != nil {
			return fmt.Errorf("lock audit head: %w", translate(err))
		}
		var prev *review.AuditEntry
		head, err := tx.AuditHead(ctx)
		switch {
		case err == nil:
			prev = &head
		case !isNotFound(err):
			return err
		}
		out = e.Chain(prev)
		if _, err := tx.q.Exec(ctx, sqlstore.AppendAuditSQL, sqlstore.AuditArgs(out)...); err != nil {
			return fmt.Errorf("append audit: %w", translate(err))
		}
		return nil
	})
	if err != nil {
		return review.AuditEntry{}, err
	}
	return out, nil
}

// MarkShardDone implements review.Store. It locks the assessment's row
// until its transaction ends, so of concurrent calls finishing an
// assessment's last shards (each in a Tx of its caller or not) exactly
// one counts them all; at READ COMMITTED the others would each miss the
// shards not yet committed. The lock is FOR NO KEY UPDATE, which does not
// conflict with the key-share locks that inserting samples takes on the
// row through their foreign key: with FOR UPDATE, two transactions that
// each put samples and then mark their shard done deadlock.
func (d *DB) MarkShardDone(ctx context.Context, assessmentID string, shard int) (int, error) {
	op := fmt.Sprintf("mark shard %d of assessment %s done", shard, assessmentID)
	var n int
	err := d.Tx(ctx, func(s review.Store) error {
		tx := s.(*DB)
		if _, err := tx.q.Exec(ctx, `SELECT 1 FROM assessments WHERE id = $1 FOR NO KEY UPDATE`, assessmentID); err != nil {
			return fmt.Errorf("%s: lock assessment: %w", op, translate(err))
		}
		if _, err := tx.q.Exec(ctx, sqlstore.MarkShardSQL, assessmentID, shard); err != nil {
			return fmt.Errorf("%s: %w", op, translate(err))
		}
		if err := tx.q.QueryRow(ctx, sqlstore.CountShardsSQL, assessmentID).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", op, translate(err))
		}
		return nil
	})
	return n, err
}

// PutSamples implements review.Store, in one transaction and one round
// trip.
func (d *DB) PutSamples(ctx context.Context, samples []review.Sample) error {
	if err := sqlstore.CheckSamples(samples); err != nil {
		return err
	}
	if len(samples) == 0 {
		return nil
	}
	return d.Tx(ctx, func(s review.Store) error {
		tx := s.(*DB)
		var b pgx.Batch
		for _, x := range samples {
			b.Queue(sqlstore.PutSampleSQL, sqlstore.SampleArgs(x)...)
		}
		br := tx.q.SendBatch(ctx, &b)
		for _, x := range samples {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return fmt.Errorf("put sample %d of assessment %s: %w", x.Seq, x.AssessmentID, translate(err))
			}
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("put samples: %w", translate(err))
		}
		return nil
	})
}

// conn adapts a pgx querier to sqlstore.Conn, translating errors.
type conn struct{ q querier }

func (c conn) Exec(ctx context.Context, query string, args ...any) (sqlstore.Result, error) {
	r, err := c.q.Exec(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	return r, nil
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rs, err := c.q.Query(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	return rows{rs}, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return row{c.q.QueryRow(ctx, query, args...)}
}

type row struct{ r pgx.Row }

func (r row) Scan(dest ...any) error { return translate(r.r.Scan(dest...)) }

type rows struct{ pgx.Rows }

func (r rows) Scan(dest ...any) error { return translate(r.Rows.Scan(dest...)) }
func (r rows) Err() error             { return translate(r.Rows.Err()) }

// OrgUsage implements review.Store. It locks the organisation's row (FOR
// NO KEY UPDATE, which leaves the key-share locks of inserts referring
// to it free) until its transaction ends, so that of two submissions of
// one organisation racing a quota, the second counts the first's case.
func (d *DB) OrgUsage(ctx context.Context, orgID string) (review.Usage, error) {
	var u review.Usage
	err := d.Tx(ctx, func(s review.Store) error {
		tx := s.(*DB)
		err := translate(tx.q.QueryRow(ctx, sqlstore.OrgUsageSQL+` FOR NO KEY UPDATE`, orgID).Scan(&u.OpenCases, &u.Bytes))
		if errors.Is(err, review.ErrNotFound) {
			u = review.Usage{}
			return nil
		}
		if err != nil {
			return fmt.Errorf("usage of organisation %s: %w", orgID, err)
		}
		return nil
	})
	return u, err
}
