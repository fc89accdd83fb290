// Package sqlstore holds the review.Store methods that the SQLite and
// PostgreSQL stores share, written once in SQL both databases accept:
// numbered parameters ($1, $2, …, which SQLite binds by number too), TEXT
// times in a fixed-width UTC format, JSON as TEXT, ON CONFLICT clauses and
// no dialect functions. Each store embeds Records over its driver through
// a Conn and keeps what differs — opening, migrations, transactions, error
// translation and the methods that take database-specific locks.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// Result is the outcome of an Exec.
type Result interface{ RowsAffected() int64 }

// Row is one row to scan.
type Row interface{ Scan(dest ...any) error }

// Rows iterates over a query's rows.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Conn runs statements on a database or inside a transaction. Every
// error it returns, from the calls and from Scan and Err, is already
// translated into review's sentinels (no rows is review.ErrNotFound, a
// unique violation review.ErrConflict, a missing referenced row
// review.ErrNotFound).
type Conn interface {
	Exec(ctx context.Context, query string, args ...any) (Result, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Records implements the shared review.Store methods over a Conn.
type Records struct {
	q Conn
}

// New returns Records over c.
func New(c Conn) Records { return Records{q: c} }

// scanner is a Row or Rows.
type scanner interface{ Scan(dest ...any) error }

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// list runs a query and scans each row with scan.
func list[T any](ctx context.Context, q Conn, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (d *Records) exec(ctx context.Context, op, query string, args ...any) (Result, error) {
	r, err := d.q.Exec(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return r, nil
}

// one checks that an UPDATE touched a row.
func one(r Result, op string) error {
	if r.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", op, review.ErrNotFound)
	}
	return nil
}

// NonNil returns s, or an empty slice for nil, so that JSON columns hold
// [] rather than null.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNil[T any](s []T) []T { return NonNil(s) }

func isNotFound(err error) bool { return errors.Is(err, review.ErrNotFound) }

const timeFormat = "2006-01-02T15:04:05.000000Z"

// FormatTime is the stored form of a time: UTC, microseconds, fixed width
// (so that times sort as text).
func FormatTime(t time.Time) string { return review.AuditTime(t).Format(timeFormat) }

func fmtTime(t time.Time) string { return FormatTime(t) }

// nullTime stores a zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

// ParseTime reads a stored time.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s, err)
	}
	return t, nil
}

func parseTime(s string) (time.Time, error) { return ParseTime(s) }

func parseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}
