// Package sandboxtest gives tests a working sandbox runner, or skips
// them when the machine has none — except under CLEARANCE_CI=1, where a
// missing sandbox fails the test, so CI cannot pass by skipping.
package sandboxtest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/sandbox"
)

// checks holds each backend's availability, checked once per process.
var checks sync.Map // backend → *check

type check struct {
	once sync.Once
	err  error
}

// Backend is the backend tests use by default: CLEARANCE_SANDBOX_BACKEND
// when set ("bwrap" or "runsc"), else bubblewrap.
func Backend() string {
	if b := os.Getenv("CLEARANCE_SANDBOX_BACKEND"); b != "" {
		return b
	}
	return sandbox.Bubblewrap
}

// Runner returns a runner of backend ("" for Backend()) whose Check
// passed, or skips t (fails it under CLEARANCE_CI=1) with the reason.
func Runner(t testing.TB, backend string) *sandbox.Runner {
	t.Helper()
	if backend == "" {
		backend = Backend()
	}
	r, err := sandbox.New(sandbox.Config{Backend: backend})
	if err != nil {
		t.Fatalf("sandbox.New(%q): %v", backend, err)
	}
	v, _ := checks.LoadOrStore(backend, &check{})
	c := v.(*check)
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c.err = r.Check(ctx)
	})
	if c.err != nil {
		if os.Getenv("CLEARANCE_CI") == "1" {
			t.Fatalf("sandbox backend %s unavailable under CLEARANCE_CI=1: %v", backend, c.err)
		}
		t.Skipf("sandbox backend %s unavailable: %v", backend, c.err)
	}
	return r
}
