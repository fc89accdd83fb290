package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/store/storetest"
)

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "clearance.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) review.Store { return open(t) })
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	for i := range 2 {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		ms, err := sqlite.Migrations()
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(ms) {
			t.Fatalf("open #%d: schema_migrations has %d rows, want %d", i, n, len(ms))
		}
		var mode string
		if err := db.SQL().QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
		}
		db.Close()
	}
}

func TestAuditAppendOnly(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	if _, err := db.AppendAudit(ctx, review.AuditEntry{Actor: "u", Action: "a"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit SET actor = 'x'`, `DELETE FROM audit`} {
		_, err := db.SQL().ExecContext(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error = %v, want append-only refusal", q, err)
		}
	}
}

// TestUpgrade opens a database made by the first migration alone, with a
// decision in it, and checks that Open brings it up to date: the decision
// reads back as not logged and can be logged.
func TestUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 2 || ms[0].Version != 1 {
		t.Fatalf("Migrations() = %d migrations starting at %d, want 0001 and later ones", len(ms), ms[0].Version)
	}
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
		ms[0].SQL,
		`INSERT INTO schema_migrations VALUES (1, '` + ms[0].Name + `', '2026-01-01T00:00:00.000000Z')`,
		`INSERT INTO orgs VALUES ('org_a', 'A', 'developer', '2026-01-01T00:00:00.000000Z')`,
		`INSERT INTO cases VALUES ('case_1', 'org_a', 'sha256:00', 'm', '{}', 'https://x', NULL, '[]', 'decided', NULL, 1,
			'2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`,
		`INSERT INTO decisions VALUES ('dec_1', 'case_1', 'usr_o', '{}', 'r', '[]', '', 0, x'01', '2026-01-02T00:00:00.000000Z')`,
	} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatalf("make version-1 database: %v", err)
		}
	}
	old.Close()

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(version-1 database): %v", err)
	}
	defer db.Close()
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, len(ms))
	}
	xs, err := db.ListUnloggedDecisions(ctx, 0)
	if err != nil || len(xs) != 1 || xs[0].ID != "dec_1" || xs[0].LogIndex != -1 {
		t.Fatalf("ListUnloggedDecisions after upgrade = %+v, %v; want dec_1 unlogged", xs, err)
	}
	if err := db.SetDecisionLog(ctx, "dec_1", 2, []byte("r")); err != nil {
		t.Fatalf("SetDecisionLog after upgrade: %v", err)
	}
	if got, err := db.GetDecision(ctx, "dec_1"); err != nil || got.LogIndex != 2 {
		t.Fatalf("GetDecision after upgrade = %+v, %v; want log index 2", got, err)
	}
	if err := db.PutCachedResponse(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("PutCachedResponse after upgrade: %v", err)
	}
}

// TestQueryPlans checks that the hot queries of the job tables use their
// indexes rather than scanning.
func TestQueryPlans(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	for _, tt := range []struct{ query, index string }{
		{`SELECT * FROM samples WHERE assessment_id = 'a' AND seq > -1 ORDER BY seq LIMIT 50`, "sqlite_autoindex_samples_1"},
		{`SELECT * FROM samples WHERE assessment_id = 'a' AND seq > -1 AND outcome = 'flagged' ORDER BY seq LIMIT 50`, "samples_outcome"},
		{`SELECT * FROM decisions WHERE bundle IS NOT NULL AND log_index IS NULL ORDER BY created_at, id LIMIT 50`, "decisions_unlogged"},
		{`SELECT * FROM assessments WHERE state IN (SELECT value FROM json_each('["queued"]')) ORDER BY created_at, id LIMIT 50`, "assessments_state"},
	} {
		rows, err := db.SQL().QueryContext(ctx, `EXPLAIN QUERY PLAN `+tt.query)
		if err != nil {
			t.Fatalf("explain %s: %v", tt.query, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "\n"), tt.index) {
			t.Errorf("plan of %s does not use %s:\n%s", tt.query, tt.index, strings.Join(plan, "\n"))
		}
	}
}
