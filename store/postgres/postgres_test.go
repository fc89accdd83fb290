package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/postgres"
	"github.com/clearance-dev/clearance/store/storetest"
)

// serverURL returns the test server from CLEARANCE_TEST_POSTGRES. Without
// it the test skips, except in CI (CLEARANCE_CI set), where it fails.
func serverURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("CLEARANCE_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CLEARANCE_CI") != "" {
			t.Fatal("CLEARANCE_CI is set but CLEARANCE_TEST_POSTGRES is not: CI must run the PostgreSQL store tests (see .ci/postgres.sh)")
		}
		t.Skip("CLEARANCE_TEST_POSTGRES not set; see .ci/postgres.sh")
	}
	return u
}

// open creates a fresh schema, opens a store on it and drops the schema
// when the test ends.
func open(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), newSchema(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// newSchema creates a fresh, empty schema, dropped when the test ends,
// and returns the connection string that selects it.
func newSchema(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	base := serverURL(t)
	var b [8]byte
	rand.Read(b[:])
	schema := "clearance_test_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect %s: %v", base, err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, base, schema)
}

func withSearchPath(t *testing.T, base, schema string) string {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		// key=value form
		return base + " search_path=" + schema
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestConformance(t *testing.T) {
	serverURL(t)
	storetest.Run(t, func(t *testing.T) review.Store { return open(t) })
}

func TestMigrationsIdempotent(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	// Opening again on the same schema applies nothing twice.
	cfg := db.Pool().Config().ConnString()
	again, err := postgres.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer again.Close()
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := again.Pool().QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(ms))
	}
}

func TestAuditAppendOnly(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	if _, err := db.AppendAudit(ctx, review.AuditEntry{Actor: "u", Action: "a"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit SET actor = 'x'`, `DELETE FROM audit`, `TRUNCATE audit`} {
		_, err := db.Pool().Exec(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error = %v, want append-only refusal", q, err)
		}
	}
}

// TestUpgrade opens a schema made by the first migration alone, with a
// decision in it, and checks that Open brings it up to date: the decision
// reads back as not logged and can be logged.
func TestUpgrade(t *testing.T) {
	ctx := context.Background()
	url := newSchema(t)
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 2 || ms[0].Version != 1 {
		t.Fatalf("Migrations() = %d migrations starting at %d, want 0001 and later ones", len(ms), ms[0].Version)
	}
	old, err := pgx.Connect(ctx, url)
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
		`INSERT INTO decisions VALUES ('dec_1', 'case_1', 'usr_o', '{}', 'r', '[]', '', false, '\x01', '2026-01-02T00:00:00.000000Z')`,
	} {
		if _, err := old.Exec(ctx, q); err != nil {
			t.Fatalf("make version-1 schema: %v", err)
		}
	}
	old.Close(ctx)

	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open(version-1 schema): %v", err)
	}
	defer db.Close()
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
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
