package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/internal/sqlstore"
)

// AppendAudit implements review.Store. The IMMEDIATE transaction holds
// the write lock, so the head cannot move between reading and appending.
func (d *DB) AppendAudit(ctx context.Context, e review.AuditEntry) (review.AuditEntry, error) {
	var out review.AuditEntry
	err := d.Tx(ctx, func(s review.Store) error {
		tx := s.(*DB)
		var prev *review.AuditEntry
		head, err := tx.AuditHead(ctx)
		switch {
		case err == nil:
			prev = &head
		case !isNotFound(err):
			return err
		}
		out = e.Chain(prev)
		if _, err := tx.q.ExecContext(ctx, sqlstore.AppendAuditSQL, sqlstore.AuditArgs(out)...); err != nil {
			return fmt.Errorf("append audit: %w", translate(err))
		}
		return nil
	})
	if err != nil {
		return review.AuditEntry{}, err
	}
	return out, nil
}

// MarkShardDone implements review.Store. It runs in one IMMEDIATE
// transaction, so of concurrent calls finishing an assessment's last
// shards exactly one counts them all.
func (d *DB) MarkShardDone(ctx context.Context, assessmentID string, shard int) (int, error) {
	op := fmt.Sprintf("mark shard %d of assessment %s done", shard, assessmentID)
	var n int
	err := d.Tx(ctx, func(s review.Store) error {
		tx := s.(*DB)
		if _, err := tx.q.ExecContext(ctx, sqlstore.MarkShardSQL, assessmentID, shard); err != nil {
			return fmt.Errorf("%s: %w", op, translate(err))
		}
		if err := tx.q.QueryRowContext(ctx, sqlstore.CountShardsSQL, assessmentID).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", op, translate(err))
		}
		return nil
	})
	return n, err
}

// PutSamples implements review.Store, in one transaction.
func (d *DB) PutSamples(ctx context.Context, samples []review.Sample) error {
	if err := sqlstore.CheckSamples(samples); err != nil {
		return err
	}
	return d.Tx(ctx, func(s review.Store) error {
		tx := s.(*DB)
		for _, x := range samples {
			if _, err := tx.q.ExecContext(ctx, sqlstore.PutSampleSQL, sqlstore.SampleArgs(x)...); err != nil {
				return fmt.Errorf("put sample %d of assessment %s: %w", x.Seq, x.AssessmentID, translate(err))
			}
		}
		return nil
	})
}

// conn adapts database/sql to sqlstore.Conn, translating errors.
type conn struct{ q querier }

func (c conn) Exec(ctx context.Context, query string, args ...any) (sqlstore.Result, error) {
	r, err := c.q.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return nil, translate(err)
	}
	return affected(n), nil
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rs, err := c.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	return rows{rs}, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return row{c.q.QueryRowContext(ctx, query, args...)}
}

type affected int64

func (a affected) RowsAffected() int64 { return int64(a) }

type row struct{ r *sql.Row }

func (r row) Scan(dest ...any) error { return translate(r.r.Scan(dest...)) }

type rows struct{ r *sql.Rows }

func (r rows) Next() bool             { return r.r.Next() }
func (r rows) Scan(dest ...any) error { return translate(r.r.Scan(dest...)) }
func (r rows) Err() error             { return translate(r.r.Err()) }
func (r rows) Close()                 { _ = r.r.Close() }
