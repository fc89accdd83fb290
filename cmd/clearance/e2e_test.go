package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/target"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/webhook"
)

// The end-to-end tests run the review service as users would: a server
// (in process, or as real processes that the crash tests kill), the
// reference model served over HTTP on loopback, every step through the
// REST API or the CLI, and the decision checked offline with clearance
// verify.

// e2eSuites are the suites the tests assess: small, and scored without a
// judge.
var e2eSuites = []string{"misuse", "over-refusal"}

const e2eLimit = 30

// referenceTarget serves a built-in reference profile on loopback,
// counting requests; delay is added to each request.
func referenceTarget(t *testing.T, profile string, delay time.Duration) (string, *atomic.Int64) {
	t.Helper()
	oracle, err := demoOracle()
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadReferenceProfile(profile)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := target.NewReference(p, oracle)
	if err != nil {
		t.Fatal(err)
	}
	h := target.NewReferenceServer(ref, target.ServerOptions{})
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		time.Sleep(delay)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// pgDatabase returns a PostgreSQL URL whose search_path is a fresh
// schema, or skips (fails under CLEARANCE_CI) without a server.
func pgDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CLEARANCE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CLEARANCE_CI") != "" {
			t.Fatal("CLEARANCE_CI is set but CLEARANCE_TEST_POSTGRES is not: the PostgreSQL variant must run")
		}
		t.Skip("CLEARANCE_TEST_POSTGRES unset")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := "e2e_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// client calls the REST API.
type client struct {
	t    *testing.T
	base string
}

// call sends a request with token and decodes a JSON answer into out,
// failing the test unless the status is want.
func (c client) call(token, method, path string, body any, want int, out any) {
	c.t.Helper()
	if code, b := c.try(token, method, path, body, nil); code != want {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, code, b, want)
	} else if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// try sends a request and returns its status and body; status 0 means
// the server could not be reached.
func (c client) try(token, method, path string, body any, hdr map[string]string) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func waitHealthy(t *testing.T, base string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if r, err := http.Get(base + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not healthy within %s", base, within)
}

// people are the users of an end-to-end test, by role, with tokens.
type people struct {
	admin, dev, assessor, reviewer, official string
	// staff are the user ids of the assessor and the reviewer, whom
	// assignStaff assigns to a case.
	staff []string
}

// assignStaff has the official assign the assessor and the reviewer to
// a case: staff see and act on only the cases they are assigned to.
func assignStaff(t *testing.T, c client, p people, caseID string) {
	t.Helper()
	c.call(p.official, "POST", "/api/v1/cases/"+caseID+"/assignees", map[string]any{"user_ids": p.staff}, 200, nil)
}

// seedPeople bootstraps the first admin in data (or database) and creates
// a developer, an assessor, a reviewer and an official over the API.
func seedPeople(t *testing.T, c client, adminToken string) people {
	t.Helper()
	p := people{admin: adminToken}
	var me struct {
		Org struct{ ID string } `json:"org"`
	}
	c.call(p.admin, "GET", "/api/v1/me", nil, 200, &me)
	mk := func(org, name string, role review.Role) string {
		var u struct{ ID string }
		c.call(p.admin, "POST", "/api/v1/users", map[string]any{"org_id": org, "name": name, "roles": []review.Role{role}}, 201, &u)
		var tok struct{ Secret string }
		c.call(p.admin, "POST", "/api/v1/users/"+u.ID+"/tokens", map[string]any{"name": "e2e"}, 201, &tok)
		if role == review.RoleAssessor || role == review.RoleReviewer {
			p.staff = append(p.staff, u.ID)
		}
		return tok.Secret
	}
	var dev, asr struct{ ID string }
	c.call(p.admin, "POST", "/api/v1/orgs", map[string]any{"name": "Lab A", "kind": "developer"}, 201, &dev)
	c.call(p.admin, "POST", "/api/v1/orgs", map[string]any{"name": "Assessors", "kind": "assessor"}, 201, &asr)
	p.dev = mk(dev.ID, "dana", review.RoleDeveloper)
	p.assessor = mk(asr.ID, "asa", review.RoleAssessor)
	p.reviewer = mk(me.Org.ID, "rita", review.RoleReviewer)
	p.official = mk(me.Org.ID, "omar", review.RoleOfficial)
	return p
}

func bootstrap(t *testing.T, sf serviceFlags) string {
	t.Helper()
	e, out := quietEnv()
	args := []string{"bootstrap", "--data", sf.data, "--org", "Review Office", "--user", "admin"}
	if sf.database != "" {
		args = append(args, "--database", sf.database)
	}
	if err := runAdmin(context.Background(), e, args); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1]
}

// submitCase submits the model in modelDir with the submit CLI and
// returns the case id. The submission's digest keys it, so submitting
// again returns the same case.
func submitCase(t *testing.T, base, token, refURL, modelDir, dossierPath string) string {
	t.Helper()
	e, out := quietEnv()
	err := runSubmit(context.Background(), e, []string{"--server", base, "--token", token, "--dossier", dossierPath,
		"--target", refURL, "--model", modelDir, "--model-name", "northwind-robust", "--profile", "us-2026-draft,ca-sb-53", "--format", "json"})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	var c struct{ ID string }
	if err := json.Unmarshal(out.Bytes(), &c); err != nil || c.ID == "" {
		t.Fatalf("submit output %q: %v", out, err)
	}
	return c.ID
}

type assessmentView struct {
	ID         string          `json:"id"`
	State      string          `json:"state"`
	Shards     int             `json:"shards"`
	ShardsDone int             `json:"shards_done"`
	Error      string          `json:"error"`
	Spec       json.RawMessage `json:"spec"`
	Metrics    json.RawMessage `json:"metrics"`
}

// waitDone polls an assessment until it is done; each poll may fail while
// a server restarts.
func waitDone(t *testing.T, c client, token, id string, within time.Duration) assessmentView {
	t.Helper()
	deadline := time.Now().Add(within)
	var a assessmentView
	for time.Now().Before(deadline) {
		code, b := c.try(token, "GET", "/api/v1/assessments/"+id, nil, nil)
		if code == 200 {
			if err := json.Unmarshal(b, &a); err != nil {
				t.Fatal(err)
			}
			switch a.State {
			case "done":
				return a
			case "failed":
				t.Fatalf("assessment %s failed: %s", id, a.Error)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("assessment %s not done within %s: %+v", id, within, a)
	return a
}

// singleRun assesses the same plan in one process with clearance assess
// and returns its metrics: what every sharded, retried, multi-process
// assessment must equal. extra are more assess flags, such as the
// --calibration size the service under test was started with.
func singleRun(t *testing.T, refURL string, extra ...string) assess.Metrics {
	t.Helper()
	dir := t.TempDir()
	e, _ := quietEnv()
	args := []string{"--target", "openai", "--base-url", refURL + "/v1", "--model", "northwind-robust", "--limit", fmt.Sprint(e2eLimit),
		"--seed", "1", "--skip-judge", "--no-cache", "--out", dir, "--format", "json"}
	args = append(args, extra...)
	for _, s := range e2eSuites {
		args = append(args, "--suite", s)
	}
	if err := runAssess(context.Background(), e, args); err != nil {
		t.Fatalf("single-process assess: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m assess.Metrics
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sameMetrics(t *testing.T, got json.RawMessage, want assess.Metrics) {
	t.Helper()
	var m assess.Metrics
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	// The service also scans every answer for the agency's canaries
	// (the single run has no private seed): it must have scanned them
	// all and found none; the rest must be the same.
	if c := m.Contamination; want.Contamination == nil && c != nil {
		if c.Signal() || c.Scanned == 0 {
			t.Errorf("sharded assessment's canary scan = %+v, want every answer scanned and no canary", *c)
		}
		m.Contamination = nil
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("sharded assessment's metrics differ from a single run's (-single +sharded):\n%s", diff)
	}
}

// e2eFiles writes the dossier and the model weights a developer submits.
func e2eFiles(t *testing.T) (dossier, modelDir string) {
	t.Helper()
	dir := t.TempDir()
	dossier = filepath.Join(dir, "dossier.yaml")
	if err := os.WriteFile(dossier, demoDossier, 0o644); err != nil {
		t.Fatal(err)
	}
	modelDir = filepath.Join(dir, "weights")
	if err := writeDemoWeights(modelDir, "northwind-robust"); err != nil {
		t.Fatal(err)
	}
	return dossier, modelDir
}

// review takes a submitted case from assessment to a logged decision
// through the API and returns the assessment and the decision id.
func reviewCase(t *testing.T, c client, p people, caseID string, within time.Duration) (assessmentView, string) {
	t.Helper()
	var as assessmentView
	c.call(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": e2eSuites, "limit": e2eLimit}, 201, &as)
	as = waitDone(t, c, p.assessor, as.ID, within)
	return as, decideCase(t, c, p, caseID, as.ID)
}

func decideCase(t *testing.T, c client, p people, caseID, assessmentID string) string {
	t.Helper()
	var samples struct {
		Items []struct{ ID string } `json:"items"`
	}
	c.call(p.reviewer, "GET", "/api/v1/assessments/"+assessmentID+"/samples?outcome=flagged&limit=3", nil, 200, &samples)
	ids := []string{}
	for _, s := range samples.Items {
		ids = append(ids, s.ID)
	}
	var f struct{ ID string }
	c.call(p.reviewer, "POST", "/api/v1/cases/"+caseID+"/findings", map[string]any{"severity": "moderate", "title": "Residual misuse", "sample_ids": ids}, 201, &f)
	c.call(p.dev, "POST", "/api/v1/findings/"+f.ID+"/responses", map[string]any{"body": "Mitigated in the next checkpoint."}, 201, nil)
	var d struct{ ID string }
	c.call(p.official, "POST", "/api/v1/cases/"+caseID+"/decisions", map[string]any{
		"outcomes":  map[string]any{"us-2026-draft": map[string]string{"outcome": "cleared_with_conditions"}, "ca-sb-53": "cleared"},
		"rationale": "Residual misuse within the agreed bound.", "override_reason": "Artifacts beyond the test's scope."}, 201, &d)
	return d.ID
}

// verifyDownloaded downloads a decision's bundle and receipt once it is
// logged and runs clearance verify on them, offline and against the log.
func verifyDownloaded(t *testing.T, c client, token, decisionID, data, modelDir string) []byte {
	t.Helper()
	var d struct {
		LogIndex *int64          `json:"log_index"`
		Receipt  json.RawMessage `json:"receipt"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.call(token, "GET", "/api/v1/decisions/"+decisionID, nil, 200, &d)
		if d.LogIndex != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d.LogIndex == nil {
		t.Fatalf("decision %s not logged", decisionID)
	}
	code, bundle := c.try(token, "GET", "/api/v1/decisions/"+decisionID+"/bundle", nil, nil)
	if code != 200 {
		t.Fatalf("download bundle: %d %s", code, bundle)
	}
	dir := t.TempDir()
	bp := filepath.Join(dir, "decision.sigstore.json")
	if err := os.WriteFile(bp, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tlog.ReceiptPath(bp), d.Receipt, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{{"--log-key", filepath.Join(data, "log", "log.pub")}, {"--log", filepath.Join(data, "log")}} {
		e, out := quietEnv()
		args := append([]string{"--bundle", bp, "--key", filepath.Join(data, "decision.pub"), "--model", modelDir}, extra...)
		if err := runVerify(context.Background(), e, args); err != nil {
			t.Fatalf("clearance verify %v: %v\n%s", args, err, out)
		}
		if !strings.Contains(out.String(), "verified") {
			t.Errorf("verify output: %s", out)
		}
	}
	return bundle
}

// TestEndToEnd runs the whole review through the service on SQLite and on
// PostgreSQL: submit (CLI) → plan → assessment as jobs against the
// reference model over HTTP → finding → response → decision → signed
// bundle in the log → clearance verify on the downloaded bundle. The
// assessment's metrics equal a single-process run's.
func TestEndToEnd(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			sf := serviceFlags{data: privateDir(t)}
			if backend == "postgres" {
				sf.database = pgDatabase(t)
			}
			refURL, _ := referenceTarget(t, "typical", 0)
			adminToken := bootstrap(t, sf)
			// The reference model is on 127.0.0.1: allowed by name, as a
			// deployment allows its own networks.
			base := serveInProcess(t, sf, "--workers", "2", "--shard-size", "13", "--allow-target-net", "127.0.0.1/32")
			c := client{t: t, base: base}
			p := seedPeople(t, c, adminToken)
			dossier, modelDir := e2eFiles(t)
			caseID := submitCase(t, base, p.dev, refURL, modelDir, dossier)
			assignStaff(t, c, p, caseID)
			if again := submitCase(t, base, p.dev, refURL, modelDir, dossier); again != caseID {
				t.Errorf("a repeated submit opened case %s, want %s", again, caseID)
			}
			as, decisionID := reviewCase(t, c, p, caseID, time.Minute)
			if as.Shards < 2 {
				t.Errorf("assessment ran in %d shards, want several", as.Shards)
			}
			sameMetrics(t, as.Metrics, singleRun(t, refURL))
			verifyDownloaded(t, c, p.dev, decisionID, sf.data, modelDir)
			var cs struct {
				State string `json:"state"`
			}
			c.call(p.dev, "GET", "/api/v1/cases/"+caseID, nil, 200, &cs)
			if cs.State != "decided" {
				t.Errorf("case state %s, want decided", cs.State)
			}
		})
	}
}

// serveInProcess runs clearance serve in this process until the test
// ends and returns its base URL.
func serveInProcess(t *testing.T, sf serviceFlags, extra ...string) string {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	se, _ := quietEnv()
	args := append([]string{"--addr", addr, "--data", sf.data}, extra...)
	if sf.database != "" {
		args = append(args, "--database", sf.database)
	}
	go func() { done <- runServe(ctx, se, args) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + addr
	waitHealthy(t, base, 20*time.Second)
	return base
}

// proc is a clearance process run from the test binary.
type proc struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CLEARANCE_TEST_EXEC=1")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: &logs}
	t.Cleanup(func() { p.kill() })
	return p
}

// kill ends the process with SIGKILL: no shutdown, no flush.
func (p *proc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

func slow(t *testing.T) {
	t.Helper()
	if os.Getenv("CLEARANCE_SLOW") == "" {
		t.Skip("set CLEARANCE_SLOW=1 for the crash and multi-process tests")
	}
}

// TestCrashRecovery kills the server (SIGKILL) at random points of the
// review on SQLite and restarts it: no case, sample, clock or decision is
// lost, the assessment's metrics equal a single run's, and the decision
// is in the log exactly once.
func TestCrashRecovery(t *testing.T) {
	slow(t)
	sf := serviceFlags{data: privateDir(t)}
	refURL, _ := referenceTarget(t, "typical", 3*time.Millisecond)
	adminToken := bootstrap(t, sf)
	addr := freeAddr(t)
	base := "http://" + addr
	serve := func() *proc {
		p := startProc(t, "serve", "--addr", addr, "--data", sf.data, "--workers", "2", "--shard-size", "7",
			"--shard-timeout", "4s", "--rescue-after", "1s", "--concurrency", "4", "--allow-target-net", "127.0.0.1/32",
			// The last shard's job also calibrates the scorers: a small batch
			// keeps it inside the 4 s shard timeout under the race detector.
			"--calibration", "20")
		waitHealthy(t, base, 30*time.Second)
		return p
	}
	randDelay := func(max time.Duration) time.Duration {
		var b [2]byte
		rand.Read(b[:])
		return time.Duration(int(b[0])<<8|int(b[1])) * max / 65536
	}
	srv := serve()
	c := client{t: t, base: base}
	p := seedPeople(t, c, adminToken)
	dossier, modelDir := e2eFiles(t)
	caseID := submitCase(t, base, p.dev, refURL, modelDir, dossier)
	assignStaff(t, c, p, caseID)

	// Crash right after the submission: the retried submit finds the case.
	srv.kill()
	srv = serve()
	if again := submitCase(t, base, p.dev, refURL, modelDir, dossier); again != caseID {
		t.Fatalf("after a crash the submit opened case %s, want %s", again, caseID)
	}
	var as assessmentView
	c.call(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": e2eSuites, "limit": e2eLimit}, 201, &as)
	// Crash three times while shards run.
	kills := 0
	for kills < 3 {
		time.Sleep(randDelay(400 * time.Millisecond))
		var now assessmentView
		if code, b := c.try(p.assessor, "GET", "/api/v1/assessments/"+as.ID, nil, nil); code == 200 {
			json.Unmarshal(b, &now)
		}
		if now.State == "done" {
			break
		}
		srv.kill()
		kills++
		t.Logf("killed the server with %d of %d shards done", now.ShardsDone, now.Shards)
		srv = serve()
	}
	as = waitDone(t, c, p.assessor, as.ID, 2*time.Minute)
	decisionID := decideCase(t, c, p, caseID, as.ID)
	// Crash at once after the decision, maybe before it is logged.
	time.Sleep(randDelay(50 * time.Millisecond))
	srv.kill()
	srv = serve()
	bundle := verifyDownloaded(t, c, p.dev, decisionID, sf.data, modelDir)
	// A second restart logs nothing twice either.
	srv.kill()
	srv = serve()
	defer srv.kill()

	// Nothing lost.
	var cases struct {
		Items []struct{ ID, State string } `json:"items"`
	}
	c.call(p.official, "GET", "/api/v1/cases", nil, 200, &cases)
	if len(cases.Items) != 1 || cases.Items[0].State != "decided" {
		t.Errorf("cases after the crashes: %+v, want one decided", cases.Items)
	}
	var spec struct{ Samples int }
	json.Unmarshal(as.Spec, &spec)
	n := 0
	for after := ""; ; {
		var page struct {
			Items []struct{ Seq int } `json:"items"`
			Next  string              `json:"next"`
		}
		c.call(p.reviewer, "GET", "/api/v1/assessments/"+as.ID+"/samples?limit=500"+after, nil, 200, &page)
		for i, s := range page.Items {
			if s.Seq != n+i {
				t.Fatalf("sample at position %d has seq %d", n+i, s.Seq)
			}
		}
		n += len(page.Items)
		if page.Next == "" {
			break
		}
		after = "&after=" + page.Next
	}
	if n != spec.Samples || n == 0 {
		t.Errorf("%d samples stored, the plan has %d", n, spec.Samples)
	}
	sameMetrics(t, as.Metrics, singleRun(t, refURL, "--calibration", "20"))
	// The decision is logged exactly once.
	src, err := tlog.OpenSource(filepath.Join(sf.data, "log"), nil)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := tlog.ReadVerifierKey(filepath.Join(sf.data, "log", "log.pub"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := tlog.Monitor(context.Background(), src, vkey, tlog.MonitorOptions{})
	if err != nil {
		t.Fatalf("monitor the log: %v", err)
	}
	copies := 0
	for i := uint64(0); i < rep.Checkpoint.Size; i++ {
		_, entry, err := tlog.Prove(context.Background(), src, vkey, i)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(entry, bundle) {
			copies++
		}
	}
	if copies != 1 {
		t.Errorf("the decision is in the log %d times, want once", copies)
	}
	// The case's clock was decided, and its expiry job survived: the
	// scheduled clock job is still in the queue's database.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(sf.data, "jobs.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var clocks int
	if err := db.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'clock_expiry' AND json_extract(args, '$.case_id') = ?`, caseID).Scan(&clocks); err != nil {
		t.Fatal(err)
	}
	if clocks < 1 {
		t.Errorf("no clock expiry job for case %s after the crashes", caseID)
	}
}

// TestWorkersKilled runs an assessment on PostgreSQL with the server
// working no shards and three worker processes, kills one worker while it
// holds shards, and checks that the assessment completes with the metrics
// of a single-process run.
func TestWorkersKilled(t *testing.T) {
	slow(t)
	sf := serviceFlags{data: privateDir(t), database: pgDatabase(t)}
	refURL, _ := referenceTarget(t, "typical", 5*time.Millisecond)
	adminToken := bootstrap(t, sf)
	addr := freeAddr(t)
	base := "http://" + addr
	srv := startProc(t, "serve", "--addr", addr, "--data", sf.data, "--database", sf.database, "--workers", "0", "--shard-size", "6")
	defer srv.kill()
	waitHealthy(t, base, 30*time.Second)
	var workers []*proc
	for range 3 {
		workers = append(workers, startProc(t, "worker", "--data", sf.data, "--database", sf.database, "--workers", "2",
			"--shard-timeout", "4s", "--rescue-after", "1s", "--concurrency", "2", "--allow-target-net", "127.0.0.1/32", "--calibration", "20"))
	}
	c := client{t: t, base: base}
	p := seedPeople(t, c, adminToken)
	dossier, modelDir := e2eFiles(t)
	caseID := submitCase(t, base, p.dev, refURL, modelDir, dossier)
	assignStaff(t, c, p, caseID)
	var as assessmentView
	c.call(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": e2eSuites, "limit": e2eLimit}, 201, &as)
	// Kill a worker once the work is under way.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var now assessmentView
		if code, b := c.try(p.assessor, "GET", "/api/v1/assessments/"+as.ID, nil, nil); code == 200 {
			json.Unmarshal(b, &now)
		}
		if now.ShardsDone >= 1 {
			workers[0].kill()
			t.Logf("killed worker 1 with %d of %d shards done", now.ShardsDone, now.Shards)
			break
		}
	}
	as = waitDone(t, c, p.assessor, as.ID, 2*time.Minute)
	sameMetrics(t, as.Metrics, singleRun(t, refURL, "--calibration", "20"))
	conn, err := pgx.Connect(context.Background(), sf.database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var retried int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'assess_shard' AND attempt > 1`).Scan(&retried); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d shards were rescued and run again after the kill", retried)
	for i, w := range workers[1:] {
		if !strings.Contains(w.logs.String(), "workers on PostgreSQL") {
			t.Errorf("worker %d did not start: %s", i+2, w.logs)
		}
	}
}

// TestCaseClient drives the client commands: case assess --wait, case
// import of a run made with clearance assess, case show, and case bundle
// feeding clearance verify; meanwhile the developer's webhook receives
// every transition of the case, HMAC-signed, from the running server.
func TestCaseClient(t *testing.T) {
	sf := serviceFlags{data: privateDir(t)}
	refURL, _ := referenceTarget(t, "typical", 0)
	adminToken := bootstrap(t, sf)
	// The reference model and the webhook receiver are on loopback: each
	// is allowed by name.
	base := serveInProcess(t, sf, "--shard-size", "20", "--allow-target-net", "127.0.0.1/32", "--allow-webhook-net", "127.0.0.1")
	c := client{t: t, base: base}
	p := seedPeople(t, c, adminToken)
	hookURL, events := webhookReceiver(t)
	var hook struct{ Secret string }
	c.call(p.dev, "POST", "/api/v1/webhooks", map[string]any{"url": hookURL, "events": []string{"case.transition"}}, 201, &hook)
	dossier, modelDir := e2eFiles(t)
	caseID := submitCase(t, base, p.dev, refURL, modelDir, dossier)
	assignStaff(t, c, p, caseID)
	run := func(f func(context.Context, *env, []string) error, args ...string) []byte {
		t.Helper()
		e, out := quietEnv()
		if err := f(context.Background(), e, append(args, "--server", base)); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out.Bytes()
	}
	var as assessmentView
	out := run(runCase, "assess", caseID, "--suite", "misuse", "--limit", "12", "--wait", "--format", "json", "--token", p.assessor)
	if err := json.Unmarshal(out, &as); err != nil || as.State != "done" || len(as.Metrics) == 0 {
		t.Fatalf("case assess --wait printed %s (%v)", out, err)
	}
	// The default is a summary for people: state, counts and each rate.
	text := string(run(runCase, "assess", caseID, "--suite", "over-refusal", "--limit", "12", "--wait", "--token", p.assessor))
	for _, want := range []string{"of case " + caseID + ": done — 12 samples", "over-refusal.over_refusal_rate", "/9  corrected", "(refusal/"} {
		if !strings.Contains(text, want) {
			t.Errorf("case assess --wait text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "{") {
		t.Errorf("case assess --wait text output is JSON:\n%s", text)
	}
	// Import a run made elsewhere.
	runDir := t.TempDir()
	e, _ := quietEnv()
	if err := runAssess(context.Background(), e, []string{"--target", "openai", "--base-url", refURL + "/v1", "--model", "m",
		"--suite", "over-refusal", "--limit", "10", "--no-cache", "--out", runDir}); err != nil {
		t.Fatal(err)
	}
	var imp assessmentView
	out = run(runCase, "import", caseID, "--run", runDir, "--format", "json", "--token", p.assessor)
	if err := json.Unmarshal(out, &imp); err != nil || imp.State != "done" {
		t.Fatalf("case import printed %s (%v)", out, err)
	}
	wantMetrics, _ := os.ReadFile(filepath.Join(runDir, "metrics.json"))
	var got, want any
	json.Unmarshal(imp.Metrics, &got)
	json.Unmarshal(wantMetrics, &want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("imported metrics differ (-file +stored):\n%s", diff)
	}
	var list struct{ Items []assessmentView }
	c.call(p.dev, "GET", "/api/v1/cases/"+caseID+"/assessments", nil, 200, &list)
	if len(list.Items) != 3 {
		t.Errorf("case has %d assessments, want 3", len(list.Items))
	}
	decisionID := decideCase(t, c, p, caseID, as.ID)
	bundle := filepath.Join(t.TempDir(), "d.sigstore.json")
	for range 50 {
		out = run(runCase, "bundle", decisionID, "--out", bundle, "--token", p.dev)
		if strings.Contains(string(out), "receipt (log index") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The bundle goes to the public log: the rationale stays private.
	var env struct {
		DSSE struct{ Payload []byte } `json:"dsseEnvelope"`
	}
	if b, err := os.ReadFile(bundle); err != nil || json.Unmarshal(b, &env) != nil || len(env.DSSE.Payload) == 0 {
		t.Errorf("read the bundle's payload: %v", err)
	} else if bytes.Contains(env.DSSE.Payload, []byte("Residual misuse")) || !bytes.Contains(env.DSSE.Payload, []byte("cleared_with_conditions")) {
		t.Errorf("the signed statement carries the official's rationale, or lacks the outcome:\n%s", env.DSSE.Payload)
	}
	e, vout := quietEnv()
	if err := runVerify(context.Background(), e, []string{"--bundle", bundle, "--key", filepath.Join(sf.data, "decision.pub"),
		"--model", modelDir, "--log-key", filepath.Join(sf.data, "log", "log.pub")}); err != nil {
		t.Fatalf("verify the bundle from case bundle: %v\n%s", err, vout)
	}
	out = run(runCase, "show", caseID, "--token", p.dev, "--format", "json")
	if !strings.Contains(string(out), `"decided"`) {
		t.Errorf("case show --format json: %s", out)
	}
	// The default text is a summary for people: names, not user ids, for
	// the agency's staff and for the developer alike.
	for who, token := range map[string]string{"admin": p.admin, "developer": p.dev} {
		out = run(runCase, "show", caseID, "--token", token)
		for _, want := range []string{"Model", "northwind-robust", "State", "decided", "Assigned", "asa", "rita", decisionID + " by omar", "Assessments:", as.ID} {
			if !strings.Contains(string(out), want) {
				t.Errorf("case show (%s) lacks %q:\n%s", who, want, out)
			}
		}
		if strings.Contains(string(out), "{") || strings.Contains(string(out), "usr_") {
			t.Errorf("case show (%s) prints JSON or user ids:\n%s", who, out)
		}
	}
	out = run(runCase, "list", "--token", p.dev)
	if !regexp.MustCompile(`(?m)^` + caseID + ` +northwind-robust +Lab A +decided`).Match(out) {
		t.Errorf("case list:\n%s", out)
	}
	// The developer's webhook got every transition of the case, signed:
	// two assessments, then the decision.
	wantTo := []string{"in_assessment", "under_review", "in_assessment", "under_review", "decided"}
	var gotTo []string
	deadline := time.Now().Add(20 * time.Second)
	for len(gotTo) < len(wantTo) && time.Now().Before(deadline) {
		select {
		case ev := <-events:
			if err := webhook.Verify([]byte(hook.Secret), ev.sig, ev.body, time.Now(), webhook.DefaultTolerance); err != nil {
				t.Errorf("delivery signature: %v", err)
			}
			var e webhook.Event
			if err := json.Unmarshal(ev.body, &e); err != nil || e.CaseID != caseID || e.Type != "case.transition" {
				t.Errorf("delivery %s (%v)", ev.body, err)
			}
			gotTo = append(gotTo, string(e.To))
		case <-time.After(100 * time.Millisecond):
		}
	}
	slices.Sort(gotTo)
	slices.Sort(wantTo)
	if !slices.Equal(gotTo, wantTo) {
		t.Errorf("webhook transitions %v, want %v", gotTo, wantTo)
	}
}

type delivery struct {
	sig  string
	body []byte
}

// webhookReceiver serves on loopback and passes each POST on.
func webhookReceiver(t *testing.T) (string, <-chan delivery) {
	t.Helper()
	ch := make(chan delivery, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- delivery{sig: r.Header.Get(webhook.SignatureHeader), body: b}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hook", ch
}
