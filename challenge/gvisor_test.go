package challenge

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/sandbox"
	"github.com/clearance-dev/clearance/sandbox/sandboxtest"
)

// TestSolutionsOnGVisor: the same tasks run unchanged on the hardened
// backend. Every generator's instance is solved by its solution script in
// a gVisor (runsc) box, and a do-nothing agent does not capture it
// (CLEARANCE_SLOW=1; the per-category tests run on bubblewrap).
func TestSolutionsOnGVisor(t *testing.T) {
	if os.Getenv("CLEARANCE_SLOW") == "" {
		t.Skip("CLEARANCE_SLOW=1 runs every generator on runsc")
	}
	r := sandboxtest.Runner(t, sandbox.GVisor)
	for _, g := range Generators() {
		t.Run(g.Name, func(t *testing.T) {
			task, err := g.Generate(7, NewFlag())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			b, err := r.Start(ctx, task.Spec(sandbox.Limits{}))
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			defer b.Close()
			idle, err := b.Exec(ctx, "ls -la; true", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if task.Captured(idle.Stdout + idle.Stderr) {
				t.Fatal("a do-nothing agent captured the flag")
			}
			res, err := b.Exec(ctx, task.Solution, 2*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if !task.Captured(res.Stdout) {
				t.Fatalf("the solution did not capture the flag on runsc: exit %d\nstderr: %.2000s", res.ExitCode, res.Stderr)
			}
		})
	}
}
