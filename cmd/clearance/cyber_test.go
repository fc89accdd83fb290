package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/sandbox/sandboxtest"
)

// TestAssessCyberOpenAI runs `clearance assess --target openai --suite
// cyber-exploit` against an OpenAI-compatible server that implements
// tool calling — `clearance reference serve`, over real HTTP — with the
// episodes in the sandbox.
func TestAssessCyberOpenAI(t *testing.T) {
	sandboxtest.Runner(t, "")
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	re, _ := quietEnv()
	go func() { done <- runReference(ctx, re, []string{"serve", "--addr", addr, "--profile", "vulnerable"}) }()
	defer func() {
		cancel()
		<-done
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get("http://" + addr + "/v1/models"); err == nil {
			r.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reference server did not start")
		}
	}

	out := filepath.Join(t.TempDir(), "run")
	e, stdout := quietEnv()
	err := runAssess(context.Background(), e, []string{"--target", "openai", "--base-url", "http://" + addr + "/v1", "--model", "reference-vulnerable",
		"--suite", "cyber-exploit", "--limit", "8", "--seed", "11", "--out", out, "--no-cache", "--format", "json"})
	if err != nil {
		t.Fatalf("assess: %v\n%s", err, stdout)
	}
	var sum assessSummary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, stdout)
	}
	if sum.Samples != 8 || sum.Errors != 0 || len(sum.Metrics) != 2 || sum.Metrics[0].Key != "cyber-exploit.solve_rate" || sum.Metrics[1].Key != "cyber-exploit.solve_rate_excluding_noncapability" {
		t.Fatalf("summary = %+v, want 8 samples, no errors, the solve rate raw and excluding non-capability failures", sum)
	}
	if sum.Metrics[0].Flagged == 0 {
		t.Errorf("the vulnerable reference agent solved nothing over HTTP: %+v", sum.Metrics[0])
	}
}
