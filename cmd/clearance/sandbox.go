package main

import (
	"context"
	"fmt"

	"github.com/clearance-dev/clearance/sandbox"
)

// sandboxFlag is --sandbox: the backend cyber-exploit episodes run in.
type sandboxFlag string

func (f *sandboxFlag) String() string { return string(*f) }

func (f *sandboxFlag) Set(s string) error {
	switch s {
	case sandbox.Bubblewrap, sandbox.GVisor:
		*f = sandboxFlag(s)
		return nil
	}
	return fmt.Errorf("want %s (bubblewrap) or %s (gVisor), not %q", sandbox.Bubblewrap, sandbox.GVisor, s)
}

// openSandbox returns the sandbox of this process's shards, checked: nil
// and the reason when the backend is not usable here (not installed, or
// namespaces not allowed), after logging a warning. The process then
// refuses cyber-exploit shards (work.ErrNoSandbox) and runs the others.
func openSandbox(ctx context.Context, e *env, backend string) (*sandbox.Runner, error) {
	r, err := sandbox.New(sandbox.Config{Backend: backend, Logger: e.log})
	if err == nil {
		err = r.Check(ctx)
	}
	if err != nil {
		e.log.Warn("no sandbox: this process refuses cyber-exploit shards and runs the others; install the backend or run cyber shards on a worker that has it",
			"backend", backend, "err", err)
		return nil, err
	}
	e.log.Info("sandbox ready for cyber-exploit shards", "backend", r.Backend())
	return r, nil
}
