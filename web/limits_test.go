package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/postgres"
)

// openPostgres opens a store on a fresh schema of the server named by
// CLEARANCE_TEST_POSTGRES, dropped when the test ends. Without the
// variable the test skips, except in CI (CLEARANCE_CI set), where it
// fails.
func openPostgres(tb testing.TB) review.Store {
	tb.Helper()
	base := os.Getenv("CLEARANCE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CLEARANCE_CI") != "" {
			tb.Fatal("CLEARANCE_CI is set but CLEARANCE_TEST_POSTGRES is not")
		}
		tb.Skip("CLEARANCE_TEST_POSTGRES not set; see .ci/postgres.sh")
	}
	ctx := context.Background()
	var b [8]byte
	rand.Read(b[:])
	schema := "clearance_webtest_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect %s: %v", base, err)
	}
	tb.Cleanup(func() { admin.Close(context.Background()) })
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		tb.Fatalf("open %s: %v", schema, err)
	}
	tb.Cleanup(db.Close)
	return db
}

// onStores runs fn against an env on SQLite and on PostgreSQL (skipped
// without CLEARANCE_TEST_POSTGRES), built with o.
func onStores(t *testing.T, o envOptions, fn func(t *testing.T, e *env)) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			o := o
			o.postgres = pg
			fn(t, newEnvWith(t, o))
		})
	}
}

// submissionWith is submissionBody with another dossier (raw JSON).
func submissionWith(dossier string) string {
	return strings.Replace(submissionBody, `{"training_compute_flop":3e26}`, dossier, 1)
}

// TestListCasesWithoutDossier checks that a list of cases carries no
// dossier, however large, so that a page costs a few hundred bytes a
// case, and that the case itself still has it.
func TestListCasesWithoutDossier(t *testing.T) {
	onStores(t, envOptions{}, func(t *testing.T, e *env) {
		card := strings.Repeat("m", 512<<10)
		const n = 4
		var ids []string
		for range n {
			var c idOnly
			e.must(t, http.StatusCreated, &c, "devA", "POST", "/api/v1/cases", submissionWith(`{"model_card":"`+card+`"}`))
			ids = append(ids, c.ID)
		}
		r := e.do(t, "devA", "GET", "/api/v1/cases?limit=500", "")
		if r.code != http.StatusOK {
			t.Fatalf("list = %d %s", r.code, r.body)
		}
		var l struct {
			Items []map[string]json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(r.body, &l); err != nil {
			t.Fatal(err)
		}
		if len(l.Items) != n {
			t.Fatalf("list has %d cases, want %d", len(l.Items), n)
		}
		for _, it := range l.Items {
			if _, ok := it["dossier"]; ok {
				t.Errorf("listed case %s carries its dossier", it["id"])
			}
			if len(it["model_digest"]) == 0 || len(it["state"]) == 0 {
				t.Errorf("listed case lacks its summary: %v", it)
			}
		}
		perCase := len(r.body) / n
		t.Logf("list of %d cases with %d-byte dossiers: %d bytes, %d a case", n, len(card), len(r.body), perCase)
		if perCase > 2048 {
			t.Errorf("a listed case takes %d bytes, want at most 2048", perCase)
		}
		var c struct {
			Dossier struct {
				ModelCard string `json:"model_card"`
			} `json:"dossier"`
		}
		e.must(t, http.StatusOK, &c, "devA", "GET", "/api/v1/cases/"+ids[0], "")
		if c.Dossier.ModelCard != card {
			t.Errorf("GET case: dossier model_card of %d bytes, want %d", len(c.Dossier.ModelCard), len(card))
		}
	})
}

// TestQuotaOpenCases checks that a developer organisation at its quota
// of open cases is refused with a 429 problem naming the limit and the
// use, that nothing is stored, that other organisations are not held to
// its use, and that withdrawing a case makes room.
func TestQuotaOpenCases(t *testing.T) {
	onStores(t, envOptions{quota: review.Quota{OpenCases: 2}}, func(t *testing.T, e *env) {
		r := e.do(t, "devA", "POST", "/api/v1/cases", submissionBody, "Idempotency-Key", "k1")
		var c idOnly
		if err := json.Unmarshal(r.body, &c); err != nil || r.code != http.StatusCreated {
			t.Fatalf("submit = %d %s", r.code, r.body)
		}
		first := c.ID
		e.submitOnly(t, "devA")
		before := e.snapshot(t)
		// A retry of a submission already made is answered, not counted.
		r = e.do(t, "devA", "POST", "/api/v1/cases", submissionBody, "Idempotency-Key", "k1")
		if r.code != http.StatusCreated || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay at the quota = %d %s, want 201 replayed", r.code, r.body)
		}
		r = e.do(t, "devA", "POST", "/api/v1/cases", submissionBody)
		checkProblem(t, r, http.StatusTooManyRequests)
		if d := problemDetail(t, r); !strings.Contains(d, "2 open cases, the limit is 2") {
			t.Errorf("problem detail %q does not name the limit and the use", d)
		}
		if e.snapshot(t) != before {
			t.Error("a refused submission changed the store")
		}
		e.submitOnly(t, "devB")
		e.must(t, http.StatusOK, nil, "devA", "POST", "/api/v1/cases/"+first+"/transitions", `{"to":"withdrawn"}`)
		e.submitOnly(t, "devA")
	})
}

// TestQuotaBytes checks the quota of dossier bytes: a submission whose
// dossier would take the organisation over it is refused with a 429
// naming the limit, the use and the size, and nothing is stored.
func TestQuotaBytes(t *testing.T) {
	onStores(t, envOptions{quota: review.Quota{Bytes: 1000}}, func(t *testing.T, e *env) {
		e.submitOnly(t, "devA") // a dossier of 30 bytes
		// 977 bytes, 480 of them two-byte characters
		big := `{"model_card":"` + strings.Repeat("é", 480) + `"}`
		before := e.snapshot(t)
		r := e.do(t, "devA", "POST", "/api/v1/cases", submissionWith(big))
		checkProblem(t, r, http.StatusTooManyRequests)
		if d := problemDetail(t, r); !strings.Contains(d, "stores 30 bytes of dossiers and this one adds 977, over the limit of 1000 bytes") {
			t.Errorf("problem detail %q does not name the limit, the use and the size", d)
		}
		if e.snapshot(t) != before {
			t.Error("a refused submission changed the store")
		}
		e.must(t, http.StatusCreated, nil, "devA", "POST", "/api/v1/cases", submissionWith(`{"model_card":"`+strings.Repeat("e", 900)+`"}`))
	})
}

// TestInvalidText checks that text that is not UTF-8 or holds NUL is
// refused with a 422 problem naming the field, on SQLite and PostgreSQL
// alike (PostgreSQL's text refuses both, which was a 500), and stores
// nothing; valid text outside ASCII is kept as sent.
func TestInvalidText(t *testing.T) {
	onStores(t, envOptions{}, func(t *testing.T, e *env) {
		c := e.submit(t, "devA")
		tests := []struct {
			who, path, body, want string
		}{
			{"devA", "/api/v1/cases", submissionWith("{\"model_card\":\"caf\xe9\"}"), "dossier.model_card: invalid UTF-8"},
			{"devA", "/api/v1/cases", submissionWith(`{"evals":[{"note":"a\u0000b"}]}`), `dossier.evals[0].note: contains NUL (\u0000)`},
			{"devA", "/api/v1/cases", submissionWith(`{"model_card":"\ud800"}`), "dossier.model_card: unpaired UTF-16 surrogate escape"},
			{"devA", "/api/v1/cases", strings.Replace(submissionBody, `"frontier-x"`, "\"frontier\xff\"", 1), "model.name: invalid UTF-8"},
			{"devA", "/api/v1/cases", strings.Replace(submissionBody, `"frontier-x"`, `"frontier\u0000"`, 1), `model.name: contains NUL`},
			{"assessor", "/api/v1/cases/" + c + "/transitions", `{"to":"in_assessment","note":"n\u0000"}`, `note: contains NUL`},
			{"reviewer", "/api/v1/cases/" + c + "/findings", "{\"severity\":\"low\",\"title\":\"t\",\"description\":\"\xc3\"}", "description: invalid UTF-8"},
		}
		for _, tc := range tests {
			before := e.snapshot(t)
			r := e.do(t, tc.who, "POST", tc.path, tc.body)
			checkProblem(t, r, http.StatusUnprocessableEntity)
			if d := problemDetail(t, r); !strings.Contains(d, tc.want) {
				t.Errorf("POST %s %.60q: detail %q, want it to contain %q", tc.path, tc.body, d, tc.want)
			}
			if !json.Valid(r.body) {
				t.Errorf("POST %s: the problem is not valid JSON: %q", tc.path, r.body)
			}
			if e.snapshot(t) != before {
				t.Errorf("POST %s %.60q changed the store", tc.path, tc.body)
			}
		}
		var got struct {
			ID      string          `json:"id"`
			Dossier json.RawMessage `json:"dossier"`
		}
		e.must(t, http.StatusCreated, &got, "devA", "POST", "/api/v1/cases", submissionWith(`{"model_card":"café \ud83d\ude00 \u00e9"}`))
		e.must(t, http.StatusOK, &got, "devA", "GET", "/api/v1/cases/"+got.ID, "")
		if want := `{"model_card":"café 😀 é"}`; string(got.Dossier) != want && string(got.Dossier) != `{"model_card":"café \ud83d\ude00 \u00e9"}` {
			t.Errorf("dossier read back as %s, want %s", got.Dossier, want)
		}
	})
}

// TestImportSpool checks that an import is spooled in the server's
// temporary directory and that nothing of it is left there afterwards,
// on both stores.
func TestImportSpool(t *testing.T) {
	dir := t.TempDir()
	onStores(t, envOptions{tempDir: dir}, func(t *testing.T, e *env) {
		c := e.submit(t, "devA")
		e.must(t, http.StatusOK, nil, "assessor", "POST", "/api/v1/cases/"+c+"/transitions", `{"to":"in_assessment"}`)
		var as idOnly
		e.must(t, http.StatusCreated, &as, "assessor", "POST", "/api/v1/cases/"+c+"/imports", importBody)
		var l struct {
			Items []json.RawMessage `json:"items"`
		}
		e.must(t, http.StatusOK, &l, "reviewer", "GET", "/api/v1/assessments/"+as.ID+"/samples", "")
		if len(l.Items) != 2 {
			t.Errorf("imported %d samples, want 2", len(l.Items))
		}
		// Refused imports leave nothing either, and a developer's is
		// refused before its body is read.
		checkProblem(t, e.do(t, "assessor", "POST", "/api/v1/cases/"+c+"/imports", `{"run":{},"samples":[{"id":"a","suite":"s"},{"id":"a","suite":"s"}]}`), 400)
		checkProblem(t, e.do(t, "devA", "POST", "/api/v1/cases/"+c+"/imports", importBody), 403)
		left, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil || len(left) != 0 {
			t.Errorf("left in the temporary directory: %v %v", left, err)
		}
	})
}
