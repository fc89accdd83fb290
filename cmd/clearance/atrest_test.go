package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/target"
)

// The at-rest tests check what a demo or a server leaves on disk: no
// harmful model answer and no endpoint credential in any file in the
// clear, every private file mode 0600, and no shard file after a crash.

// privateDir returns a new data directory that only its owner may use,
// as serve requires (t.TempDir's own directories follow the umask).
func privateDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// plantShardLeftover writes what a runner killed mid-shard left before
// shards ran in memory: DATA/tmp/shard-*/samples.jsonl, in plaintext.
func plantShardLeftover(t *testing.T, data string) string {
	t.Helper()
	dir := filepath.Join(data, "tmp", "shard-1234567")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	line := `{"id":"misuse/1","response":"Step 1: ` + target.SimulatedDetail + `"}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "samples.jsonl"), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// scanData fails the test for every file under data that holds one of
// the secrets.
func scanData(t *testing.T, data string, secrets map[string]string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // a -shm or -wal going away
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		files++
		for what, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %s in the clear", p, what)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Fatalf("scanned only %d files under %s", files, data)
	}
}

// wantPrivate fails the test for each named file under data that exists
// with another mode than 0600; the names that must exist are required.
func wantPrivate(t *testing.T, data string, required []string, optional ...string) {
	t.Helper()
	for i, name := range append(append([]string{}, required...), optional...) {
		fi, err := os.Stat(filepath.Join(data, name))
		if errors.Is(err, fs.ErrNotExist) && i >= len(required) {
			continue
		}
		if err != nil {
			t.Errorf("stat %s: %v", name, err)
			continue
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", name, m)
		}
	}
}

// TestDemoAtRest runs the demo, which submits each model with an API key
// and stores harmful compliant answers of the vulnerable model, over a
// data directory a crashed older version left a plaintext shard file in;
// then it reads every file of the data directory, while the service runs
// (databases with their WAL) and after it stopped, for the reference
// model's harmful-answer marker and for the API keys. Neither may
// appear: samples, cached responses and credentials are sealed, shards
// run in memory, and the leftover is removed at start-up. The private
// files are 0600.
func TestDemoAtRest(t *testing.T) {
	var leftover string
	demo := serveDemo(t, func(data string) { leftover = plantShardLeftover(t, data) }, "--witnesses", "0")
	data := demo.data

	if _, err := os.Stat(leftover); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the crashed shard's directory %s is still there (%v)", leftover, err)
	}
	// The secrets to look for, known from the sealed side: the keys the
	// developers submitted, and proof that harmful answers were stored.
	secrets := openedSecrets(t, data)
	scanData(t, data, secrets)
	wantPrivate(t, data, []string{"clearance.db", "jobs.db", "age.key", "session.key", "decision.key", "demo.json", "demo-tokens.txt"},
		"clearance.db-wal", "clearance.db-shm", "jobs.db-wal", "jobs.db-shm", "jobs.db.lock")

	demo.stop()
	scanData(t, data, secrets)
}

// openedSecrets opens the demo's store as the service does and returns
// the submitted credentials and the harmful-answer marker, after
// checking that the sealed samples do hold that marker (so that its
// absence from every file means something).
func openedSecrets(t *testing.T, data string) map[string]string {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(data, "clearance.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sealer, err := (&serviceFlags{data: data}).sealer()
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"the harmful-answer marker": target.SimulatedDetail}
	cases, err := db.ListCases(ctx, review.CaseFilter{Page: review.Page{Limit: review.MaxPageLimit}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c, err = db.GetCase(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		cred, err := sealer.Open(c.Credentials)
		if err != nil {
			t.Fatalf("open credentials of %s: %v", c.ID, err)
		}
		if !strings.HasPrefix(string(cred), "demo-key-") {
			t.Fatalf("case %s has credentials %q, want a demo key", c.ID, cred)
		}
		secrets["the API key of "+c.ModelName] = string(cred)
	}
	// The two reviewed models, and the red-team campaign's own case.
	if want := len(demoModels) + 1; len(cases) != want {
		t.Fatalf("%d cases, want %d", len(cases), want)
	}
	harmful := 0
	rows, err := db.SQL().QueryContext(ctx, `SELECT record FROM samples WHERE harmful = 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		rec, err := sealer.Open(b)
		if err != nil {
			t.Fatalf("a harmful sample is not sealed: %v", err)
		}
		if bytes.Contains(rec, []byte(target.SimulatedDetail)) {
			harmful++
		}
	}
	if harmful == 0 {
		t.Fatal("the demo stored no harmful compliant answer: the scan would prove nothing")
	}
	return secrets
}

// TestShardLeftoverRemoved: a shard directory a crash left in DATA/tmp is
// removed when the server starts, and the files the server makes are
// 0600, the databases' WAL and shared memory included.
func TestShardLeftoverRemoved(t *testing.T) {
	sf := serviceFlags{data: privateDir(t)}
	leftover := plantShardLeftover(t, sf.data)
	serveInProcess(t, sf)
	if _, err := os.Stat(leftover); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the crashed shard's directory %s is still there (%v)", leftover, err)
	}
	wantPrivate(t, sf.data, []string{"clearance.db", "clearance.db-wal", "clearance.db-shm", "jobs.db", "jobs.db-wal", "jobs.db-shm", "age.key", "session.key"})
}

// TestDataDirModeRefused: every command that opens the data directory
// refuses one that group or others may read, write or enter, saying how
// to fix it; the files inside are not touched.
func TestDataDirModeRefused(t *testing.T) {
	for _, mode := range []fs.FileMode{0o755, 0o750, 0o701, 0o770} {
		data := t.TempDir()
		if err := os.Chmod(data, mode); err != nil {
			t.Fatal(err)
		}
		cmds := map[string]func(context.Context, *env, []string) error{
			"serve":  runServe,
			"demo":   runDemo,
			"worker": runWorker,
			"migrate": func(ctx context.Context, e *env, args []string) error {
				return runMigrate(ctx, e, args)
			},
			"admin bootstrap": func(ctx context.Context, e *env, args []string) error {
				return runAdmin(ctx, e, append([]string{"bootstrap", "--org", "O", "--user", "u"}, args...))
			},
		}
		for name, run := range cmds {
			e, _ := quietEnv()
			args := []string{"--data", data, "--addr", "127.0.0.1:0"}
			switch name {
			case "migrate", "admin bootstrap":
				args = args[:2]
			case "worker":
				args = []string{"--data", data, "--database", "postgres://127.0.0.1:1/none"}
			}
			err := run(context.Background(), e, args)
			if err == nil || !strings.Contains(err.Error(), "chmod 700 "+data) {
				t.Errorf("%s on a %04o data directory: error %v, want a refusal saying chmod 700 %s", name, mode, err, data)
			}
		}
		if entries, _ := os.ReadDir(data); len(entries) != 0 {
			t.Errorf("a refused %04o data directory got %d files", mode, len(entries))
		}
	}
}

// TestRestartRequeuesRunningShards: a server on SQLite dies with shards
// running (simulated without a kill: its jobs are left in the running
// state, attempted by a host that is gone). The next server re-queues
// them at start-up and the assessment completes, although
// --shard-timeout and --rescue-after are an hour each, so that River's
// rescue cannot explain it.
func TestRestartRequeuesRunningShards(t *testing.T) {
	sf := serviceFlags{data: privateDir(t)}
	refURL, _ := referenceTarget(t, "typical", 0)
	adminToken := bootstrap(t, sf)

	// A first server, working no shards, takes the assessment.
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	addr := freeAddr(t)
	se, _ := quietEnv()
	go func() {
		done <- runServe(ctx, se, []string{"--addr", addr, "--data", sf.data, "--workers", "0", "--shard-size", "13"})
	}()
	base := "http://" + addr
	waitHealthy(t, base, 20*time.Second)
	c := client{t: t, base: base}
	p := seedPeople(t, c, adminToken)
	dossier, modelDir := e2eFiles(t)
	caseID := submitCase(t, base, p.dev, refURL, modelDir, dossier)
	assignStaff(t, c, p, caseID)
	var as assessmentView
	c.call(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": e2eSuites, "limit": e2eLimit}, 201, &as)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("first server: %v", err)
	}

	// It "dies" holding every shard.
	jobs, err := sql.Open("sqlite", "file:"+filepath.Join(sf.data, "jobs.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer jobs.Close()
	at := time.Now().UTC().Format("2006-01-02 15:04:05.999999")
	res, err := jobs.Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = ?, attempted_by = json('["dead-host"]')
		WHERE kind = 'assess_shard' AND state = 'available'`, at)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n < 2 || n != int64(as.Shards) {
		t.Fatalf("%d shard jobs left running, want the assessment's %d", n, as.Shards)
	}

	// The next server re-queues them at once and completes the assessment.
	base = serveInProcess(t, sf, "--workers", "2", "--shard-size", "13", "--shard-timeout", "1h", "--rescue-after", "1h",
		"--allow-target-net", "127.0.0.1/32") // the reference model is on loopback
	c = client{t: t, base: base}
	as = waitDone(t, c, p.assessor, as.ID, 2*time.Minute)
	sameMetrics(t, as.Metrics, singleRun(t, refURL))
	var requeued, other int
	if err := jobs.QueryRow(`SELECT
		count(*) FILTER (WHERE state = 'completed' AND attempt = 2 AND errors LIKE '%re-queued%'),
		count(*) FILTER (WHERE NOT (state = 'completed' AND attempt = 2))
		FROM (SELECT state, attempt, json(errors) AS errors FROM river_job WHERE kind = 'assess_shard')`).Scan(&requeued, &other); err != nil {
		t.Fatal(err)
	}
	if requeued != as.Shards || other != 0 {
		t.Errorf("%d shard jobs re-queued and completed on attempt 2, %d otherwise; want all %d re-queued", requeued, other, as.Shards)
	}
}
