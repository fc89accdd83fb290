package sandbox

import (
	"context"
	"os"
	"strings"
	"testing"
)

// The box sees none of the host process's environment variables, not
// even through /proc/1/environ (bwrap's init) or the executor's: a
// worker's environment may hold API keys.
func TestHostEnvironmentHidden(t *testing.T) {
	for _, backend := range []string{Bubblewrap, GVisor} {
		t.Run(backend, func(t *testing.T) {
			r := newRunner(t, backend)
			t.Setenv("CLEARANCE_TEST_SECRET_ENV", "env-sentinel-93c1")
			b, err := r.Start(context.Background(), Spec{})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			res, err := b.Exec(context.Background(), "for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ; done 2>&1; env", 0)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(res.Stdout+res.Stderr, "env-sentinel-93c1") {
				t.Fatalf("a host environment variable is visible in the box:\n%s", res.Stdout)
			}
			if os.Getenv("CLEARANCE_TEST_SECRET_ENV") == "" {
				t.Fatal("test setup: variable not set")
			}
		})
	}
}
