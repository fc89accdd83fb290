package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// TestThroughputProcesses is the benchmark of docs/benchmarks.md
// ("Assessments through the service"), not a timed test: it runs only
// with CLEARANCE_BENCH=1 and PostgreSQL, and logs wall times. The same
// 2,000-sample plan (jailbreak, limit 2000, seed 1, no judge) runs
// against a model on 127.0.0.1 that answers in 500 ms:
//
//	(a) a clearance assess --concurrency 64 process;
//	(b) clearance serve --workers 0 on PostgreSQL with one clearance
//	    worker --concurrency 64 process;
//	(c) the same with four worker processes.
//
// Each is timed from start (the assess process's, or the assessment's
// POST) to the end (the process's exit, or the assessment done). Every
// process is this test binary re-executed as clearance (startProc).
func TestThroughputProcesses(t *testing.T) {
	if os.Getenv("CLEARANCE_BENCH") == "" || os.Getenv("CLEARANCE_TEST_POSTGRES") == "" {
		t.Skip("set CLEARANCE_BENCH=1 and CLEARANCE_TEST_POSTGRES to run the throughput benchmark")
	}
	const samples, latency, conc = 2000, 500 * time.Millisecond, "64"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"choices": []map[string]any{{"message": map[string]string{"role": "assistant", "content": "I can't help with that."}, "finish_reason": "stop"}}})
	}))
	defer srv.Close()

	// (a) the CLI, as a process.
	began := time.Now()
	p := startProc(t, "assess", "--target", "openai", "--base-url", srv.URL+"/v1", "--model", "m", "--suite", "jailbreak",
		"--limit", fmt.Sprint(samples), "--seed", "1", "--skip-judge", "--no-cache", "--concurrency", conc, "--calibration", "0",
		"--out", t.TempDir(), "--format", "json")
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("clearance assess: %v\n%s", err, p.logs)
	}
	cli := time.Since(began)
	t.Logf("(a) clearance assess --concurrency %s: %d samples in %.1fs", conc, samples, cli.Seconds())

	for _, n := range []int{1, 4} {
		wall := throughputService(t, srv.URL, n, conc, samples)
		t.Logf("(%c) serve + %d clearance worker process(es): %d samples in %.1fs (%.2f× (a))",
			map[int]rune{1: 'b', 4: 'c'}[n], n, samples, wall.Seconds(), wall.Seconds()/cli.Seconds())
	}
}

// throughputService starts clearance serve --workers 0 and n clearance
// worker processes on a fresh PostgreSQL schema (an empty response
// cache), has an assessor assess the plan through the API, and returns
// the time from the POST to the assessment's completion.
func throughputService(t *testing.T, model string, n int, conc string, samples int) time.Duration {
	sf := serviceFlags{data: privateDir(t), database: pgDatabase(t)}
	adminToken := bootstrap(t, sf)
	addr := freeAddr(t)
	base := "http://" + addr
	srv := startProc(t, "serve", "--addr", addr, "--data", sf.data, "--database", sf.database, "--workers", "0")
	defer srv.kill()
	waitHealthy(t, base, 30*time.Second)
	for range n {
		w := startProc(t, "worker", "--data", sf.data, "--database", sf.database, "--concurrency", conc,
			"--calibration", "-1", "--allow-target-net", "127.0.0.1/32")
		defer w.kill()
	}
	c := client{t: t, base: base}
	p := seedPeople(t, c, adminToken)
	dossier, modelDir := e2eFiles(t)
	caseID := submitCase(t, base, p.dev, model, modelDir, dossier)
	assignStaff(t, c, p, caseID)
	began := time.Now()
	var as assessmentView
	c.call(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": []string{"jailbreak"}, "limit": samples, "seed": 1}, 201, &as)
	as = waitDone(t, c, p.assessor, as.ID, 10*time.Minute)
	wall := time.Since(began)
	if as.Shards == 0 {
		t.Fatalf("assessment %s has no shards", as.ID)
	}
	return wall
}
