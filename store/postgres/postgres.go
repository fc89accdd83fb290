// Package postgres is the scale-out review.Store on PostgreSQL through
// pgx (pgxpool). Migrations are embedded and applied by Open under an
// advisory lock, so any number of processes may start at once.
//
// Transactions run at READ COMMITTED. Concurrent updates of one case are
// decided by the case's version (an UPDATE … WHERE version = $n blocks on
// the row lock and then matches nothing), and appends to the audit trail
// are serialised by a transaction-scoped advisory lock. The schema is the
// SQLite one adapted (BYTEA, BOOLEAN, a trigger function); times are the
// same fixed-width UTC text, so both stores return identical values.
//
// Driver errors become review's sentinels: no rows and a foreign key to a
// missing row are review.ErrNotFound; unique violations, serialisation
// failures and deadlocks are review.ErrConflict. A DB is safe for
// concurrent use.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys (arbitrary constants, "CLRNC" + a suffix).
const (
	migrateLockKey int64 = 0x434c524e43_01
	auditLockKey   int64 = 0x434c524e43_02
)

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// DB is a review.Store on PostgreSQL.
type DB struct {
	// Records holds the methods both stores share.
	sqlstore.Records
	pool *pgxpool.Pool
	q    querier
	tx   pgx.Tx // non-nil for a DB bound to a transaction
}

var _ review.Store = (*DB)(nil)

// DefaultMaxConns is the pool size when the connection string sets no
// pool_max_conns.
const DefaultMaxConns = 16

// Open connects to the database at connString (a postgres:// URL or
// key=value string; a search_path parameter selects the schema) and
// applies any migrations it lacks.
func Open(ctx context.Context, connString string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("parse postgres connection string: %w", err)
	}
	if !strings.Contains(connString, "pool_max_conns") {
		// The store, the job queue and every worker share the pool:
		// pgxpool's default (the number of CPUs, at least 4) queues them.
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	d := &DB{Records: sqlstore.New(conn{pool}), pool: pool, q: pool}
	if err := d.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return d, nil
}

// Close closes the pool. It must not be called on a DB passed to a Tx
// function.
func (d *DB) Close() { d.pool.Close() }

// Pool returns the underlying pool, for tests and for tools that share
// the database (the job queue).
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// Migration is one embedded schema migration.
type Migration = sqlstore.Migration

// Migrations returns the embedded migrations in order.
func Migrations() ([]Migration, error) { return sqlstore.ReadMigrations(migrations) }

// migrate applies, in one transaction under an advisory lock, the
// migrations not yet recorded in schema_migrations.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	return d.Tx(ctx, func(s review.Store) error {
		tx := s.(*DB)
		if _, err := tx.q.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		if _, err := tx.q.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		for _, m := range ms {
			var n int
			if err := tx.q.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
				return fmt.Errorf("read schema_migrations: %w", err)
			}
			if n > 0 {
				continue
			}
			if _, err := tx.q.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
			if _, err := tx.q.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, sqlstore.FormatTime(time.Now())); err != nil {
				return fmt.Errorf("record migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// Tx runs fn in one transaction; see review.Store.
func (d *DB) Tx(ctx context.Context, fn func(review.Store) error) error {
	if d.tx != nil {
		return fn(d)
	}
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", translate(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // no-op after Commit
	if err := fn(&DB{Records: sqlstore.New(conn{tx}), pool: d.pool, q: tx, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", translate(err))
	}
	return nil
}

// translate maps driver errors to review's sentinels, keeping the driver
// error's text.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return review.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505", "40001", "40P01": // unique_violation, serialization_failure, deadlock_detected
			return fmt.Errorf("%s: %w", pe.Error(), review.ErrConflict)
		case "23503": // foreign_key_violation
			return fmt.Errorf("referenced record missing: %s: %w", pe.Error(), review.ErrNotFound)
		}
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, review.ErrNotFound) }
