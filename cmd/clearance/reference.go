package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

func runReference(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "serve" {
		return usageError("usage: clearance reference serve --addr 127.0.0.1:PORT [--profile NAME|FILE]")
	}
	fs := newFlagSet(e, "reference serve", "reference serve --addr 127.0.0.1:PORT [--profile NAME|FILE] [--latency D]")
	addr := fs.String("addr", "127.0.0.1:8400", "listen address")
	profile := fs.String("profile", "robust", "built-in profile ("+joinNames(target.BuiltinProfileNames())+") or a YAML file")
	latency := fs.Duration("latency", 0, "delay added to every answer")
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	p, err := loadReferenceProfile(*profile)
	if err != nil {
		return err
	}
	// The simulator is told the truth of every built-in sample, so any plan
	// of the built-in suites gets answers drawn from the profile's rates.
	// Agent tasks (cyber-exploit) are known from their statement instead.
	suites, err := chatSuites()
	if err != nil {
		return err
	}
	seq, _, err := suite.Samples(suites, suite.PlanOptions{})
	if err != nil {
		return err
	}
	ref, err := target.NewReference(p, assess.ReferenceOracle(seq))
	if err != nil {
		return err
	}
	// Every built-in prompt is public: a memorised profile is robust on
	// them and on nothing else.
	ref = ref.WithTaskOracle(assess.TaskOracle()).WithPublicPrompts(assess.PublicPrompts(seq))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := &http.Server{Handler: target.NewReferenceServer(ref, target.ServerOptions{Latency: *latency, Logger: logger}), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stdout, "reference model %q (a SIMULATOR for demos, tests and calibration — not a model) serving the OpenAI API at http://%s/v1\n", ref.ModelName(), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

func joinNames(ns []string) string {
	s := ""
	for i, n := range ns {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// chatSuites returns the built-in suites whose samples are chat prompts,
// without the agent-task suites: a reference oracle knows every chat
// prompt by its hash, and agent tasks from their statement
// (assess.TaskOracle), whose instances a plan seed draws afresh.
func chatSuites() ([]*suite.Suite, error) {
	all, err := suite.Builtins()
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, s := range all {
		if !slices.Contains(s.Kinds(), suite.KindExploit) {
			out = append(out, s)
		}
	}
	return out, nil
}
