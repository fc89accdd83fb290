// Package sqlite is the embedded review.Store: one SQLite file through the
// pure-Go modernc.org/sqlite driver, in WAL mode with a busy timeout and
// foreign keys on. Migrations are embedded and applied by Open.
//
// Every transaction begins IMMEDIATE, taking SQLite's single write lock
// at the start, so transactions are serialised (waiting up to the busy
// timeout) and never fail mid-way on a lock upgrade; readers outside
// transactions run concurrently from WAL snapshots. Concurrent updates of
// one case are additionally guarded by its version (review.Store).
//
// Driver errors become review's sentinels: no rows and a foreign key to a
// missing row are review.ErrNotFound, a unique or primary key violation
// review.ErrConflict. A DB is safe for concurrent use.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// BusyTimeout is how long a statement waits for SQLite's write lock.
const BusyTimeout = 10 * time.Second

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is a review.Store on a SQLite file.
type DB struct {
	// Records holds the methods both stores share.
	sqlstore.Records
	db *sql.DB
	q  querier
	tx *sql.Tx // non-nil for a DB bound to a transaction
}

var _ review.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path and applies
// any migrations it lacks. The file and its -wal and -shm files get mode
// FileMode (0600), an existing database's included, and deleted records
// are overwritten with zeros (secure_delete).
func Open(ctx context.Context, path string) (*DB, error) {
	if err := privateFiles(path); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	v := url.Values{}
	v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "foreign_keys(1)")
	v.Add("_pragma", "synchronous(NORMAL)")
	v.Add("_pragma", "secure_delete(1)")
	v.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+v.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	d := &DB{Records: sqlstore.New(conn{db}), db: db, q: db}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return d, nil
}

// Close closes the database. It must not be called on a DB passed to a
// Tx function.
func (d *DB) Close() error { return d.db.Close() }

// SQL returns the underlying *sql.DB, for tests and for tools that share
// the file (the job queue).
func (d *DB) SQL() *sql.DB { return d.db }

// Migration is one embedded schema migration.
type Migration = sqlstore.Migration

// Migrations returns the embedded migrations in order.
func Migrations() ([]Migration, error) { return sqlstore.ReadMigrations(migrations) }

// migrate applies the migrations not yet recorded in schema_migrations,
// each in its own transaction with its record.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range ms {
		err := d.Tx(ctx, func(s review.Store) error {
			tx := s.(*DB)
			var n int
			if err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.q.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.q.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, sqlstore.FormatTime(time.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// Tx runs fn in one IMMEDIATE transaction; see review.Store.
func (d *DB) Tx(ctx context.Context, fn func(review.Store) error) (err error) {
	if d.tx != nil {
		return fn(d)
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", translate(err))
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(&DB{Records: sqlstore.New(conn{tx}), db: d.db, q: tx, tx: tx}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
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
	if errors.Is(err, sql.ErrNoRows) {
		return review.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%s: %w", se.Error(), review.ErrConflict)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("referenced record missing: %s: %w", se.Error(), review.ErrNotFound)
		}
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, review.ErrNotFound) }
