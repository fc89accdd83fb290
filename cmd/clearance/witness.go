package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/witness"
	"golang.org/x/mod/sumdb/note"
)

// runWitness runs a C2SP tlog-witness: init, add-log, serve.
func runWitness(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError("usage: clearance witness init|add-log|serve DIR [flags] (run 'clearance witness SUB -h')")
	}
	switch args[0] {
	case "init":
		return runWitnessInit(e, args[1:])
	case "add-log":
		return runWitnessAddLog(e, args[1:])
	case "serve":
		return runWitnessServe(ctx, e, args[1:])
	}
	return usageError("witness: unknown subcommand %q", args[0])
}

func runWitnessInit(e *env, args []string) error {
	fs := newFlagSet(e, "witness init", "witness init DIR --name NAME")
	name := fs.String("name", "", "the witness's name, on its cosignatures (e.g. witness.agency.example)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *name == "" {
		return usageError("witness init: want one DIR and --name")
	}
	vkey, err := witness.Init(pos[0], *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created witness %s in %s\nverifier key (%s): %s\n", *name, pos[0], filepath.Join(pos[0], witness.VerifierKeyFile), vkey)
	return nil
}

func runWitnessAddLog(e *env, args []string) error {
	fs := newFlagSet(e, "witness add-log", "witness add-log DIR --origin ORIGIN --key LOGKEY|FILE")
	origin := fs.String("origin", "", "the log's origin (its checkpoints' first line)")
	key := fs.String("key", "", "the log's verifier key, or a file holding it (such as the log's log.pub)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *origin == "" || *key == "" {
		return usageError("witness add-log: want one DIR, --origin and --key")
	}
	k := strings.TrimSpace(*key)
	if _, err := note.NewVerifier(k); err != nil {
		if k, err = tlog.ReadVerifierKey(*key); err != nil {
			return fmt.Errorf("witness add-log: --key is neither a verifier key nor a file holding one: %w", err)
		}
	}
	if err := witness.AddLog(pos[0], *origin, k); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "witness %s now follows log %s (restart 'clearance witness serve' to apply)\n", pos[0], *origin)
	return nil
}

func runWitnessServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "witness serve", "witness serve DIR [--listen ADDR]")
	listen := fs.String("listen", "127.0.0.1:7380", "listen address")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("witness serve: want one DIR")
	}
	if _, err := os.Stat(filepath.Join(pos[0], witness.SignerKeyFile)); err != nil {
		return fmt.Errorf("witness serve: %s is not a witness directory (run 'clearance witness init'): %w", pos[0], err)
	}
	s, err := witness.Open(ctx, pos[0], e.log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	fmt.Fprintf(e.stdout, "witness %s serving at http://%s/ (POST /add-checkpoint)\nverifier key: %s\n", s.Name(), ln.Addr(), s.VerifierKey())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// witnessFlag is the repeatable --witness URL=VKEY of clearance serve.
type witnessFlag []tlog.WitnessConfig

func (w *witnessFlag) String() string {
	var s []string
	for _, c := range *w {
		s = append(s, c.URL)
	}
	return strings.Join(s, ",")
}

func (w *witnessFlag) Set(v string) error {
	u, k, ok := strings.Cut(v, "=")
	if !ok || u == "" || k == "" {
		return fmt.Errorf("want URL=VKEY, got %q", v)
	}
	*w = append(*w, tlog.WitnessConfig{URL: u, Key: k})
	return nil
}
