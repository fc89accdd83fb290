package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSandboxFlag(t *testing.T) {
	for in, ok := range map[string]bool{"bwrap": true, "runsc": true, "": false, "docker": false, "BWRAP": false} {
		var f sandboxFlag
		if err := f.Set(in); (err == nil) != ok {
			t.Errorf("Set(%q) = %v, want ok %v", in, err, ok)
		} else if ok && string(f) != in {
			t.Errorf("Set(%q) left %q", in, f)
		}
	}
}

// TestServeSandboxMissing starts clearance serve with --sandbox runsc and
// no runsc on PATH: it logs a warning naming what is missing and serves
// on (its shards that need no sandbox run; work's TestSandbox* cover the
// refusal of cyber shards).
func TestServeSandboxMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	data := privateDir(t)
	addr := freeAddr(t)
	se, _ := quietEnv()
	var logs syncBuf
	se.log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, se, []string{"--addr", addr, "--data", data, "--sandbox", "runsc"}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var resp *http.Response
	var err error
	for range 200 {
		if resp, err = http.Get("http://" + addr + "/healthz"); err == nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, want := range []string{"level=WARN", "no sandbox: this process refuses cyber-exploit shards", "backend=runsc", "runsc not found: apt-get install runsc"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("serve's log lacks %q:\n%s", want, logs.String())
		}
	}
}

// syncBuf is a buffer safe for the concurrent writes of a logger.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
