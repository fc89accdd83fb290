package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/tlog"
)

func runLog(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError("usage: clearance log init|append|proof|serve|verify|watch [flags] (run 'clearance log SUB -h')")
	}
	switch args[0] {
	case "init":
		return runLogInit(ctx, e, args[1:])
	case "append":
		return runLogAppend(ctx, e, args[1:])
	case "proof":
		return runLogProof(ctx, e, args[1:])
	case "serve":
		return runLogServe(ctx, e, args[1:])
	case "verify":
		return runLogVerify(ctx, e, args[1:])
	case "watch":
		return runLogWatch(ctx, e, args[1:])
	}
	return usageError("log: unknown subcommand %q", args[0])
}

func runLogInit(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "log init", "log init --dir DIR --origin NAME")
	dir := fs.String("dir", "", "log directory to create")
	origin := fs.String("origin", "", "log origin, e.g. clearance.example.org/decisions")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *dir == "" || *origin == "" {
		return usageError("log init: --dir and --origin are required")
	}
	vkey, err := tlog.Init(ctx, *dir, *origin)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created log %s in %s\nverifier key (%s): %s\n", *origin, *dir, filepath.Join(*dir, tlog.VerifierKeyFile), vkey)
	return nil
}

func runLogAppend(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "log append", "log append --dir DIR [--receipt OUT] FILE")
	dir := fs.String("dir", "", "log directory")
	out := fs.String("receipt", "", "where to write the receipt (default FILE.receipt.json)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *dir == "" {
		return usageError("log append: want --dir and one FILE")
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("read entry: %w", err)
	}
	if *out == "" {
		*out = tlog.ReceiptPath(pos[0])
	}
	r, err := appendToLog(ctx, *dir, data, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "appended %s at index %d\nwrote %s\n", pos[0], r.Index, *out)
	return nil
}

// appendToLog appends entry (a decision bundle) to the log in dir, waits
// for a checkpoint to cover it and writes the receipt to receiptPath
// (tlog.ReceiptPath(bundlePath) by convention). clearance decide and the
// demo call it too.
func appendToLog(ctx context.Context, dir string, entry []byte, receiptPath string) (*tlog.Receipt, error) {
	l, err := tlog.Open(ctx, dir, tlog.Options{})
	if err != nil {
		return nil, err
	}
	r, err := l.Append(ctx, entry)
	if cerr := l.Close(ctx); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	b, err := r.Marshal()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(receiptPath, b, 0o644); err != nil {
		return nil, fmt.Errorf("write receipt: %w", err)
	}
	return r, nil
}

// logSource opens --dir or --url, exactly one of which must be set.
func logSource(dir, url string) (tlog.Source, error) {
	switch {
	case dir != "" && url != "":
		return nil, usageError("give --dir or --url, not both")
	case dir != "":
		return tlog.OpenSource(dir, nil)
	case url != "":
		return tlog.OpenSource(url, &http.Client{Timeout: 30 * time.Second})
	}
	return nil, usageError("--dir or --url is required")
}

// logKey reads the verifier key from path, or from DIR/log.pub.
func logKey(path, dir string) (string, error) {
	if path == "" && dir != "" {
		path = filepath.Join(dir, tlog.VerifierKeyFile)
	}
	if path == "" {
		return "", usageError("--log-key is required")
	}
	return tlog.ReadVerifierKey(path)
}

func runLogProof(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "log proof", "log proof --dir DIR|--url URL --index N [--log-key PUB] [--out FILE] [--entry-out FILE]")
	dir := fs.String("dir", "", "log directory")
	url := fs.String("url", "", "log URL")
	index := fs.String("index", "", "entry index")
	keyPath := fs.String("log-key", "", "log verifier key (default DIR/log.pub)")
	out := fs.String("out", "", "write the receipt here instead of stdout")
	entryOut := fs.String("entry-out", "", "also write the entry's bytes here")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	idx, perr := strconv.ParseUint(*index, 10, 64)
	if len(pos) > 0 || perr != nil {
		return usageError("log proof: --index N (a non-negative integer) is required")
	}
	src, err := logSource(*dir, *url)
	if err != nil {
		return err
	}
	vkey, err := logKey(*keyPath, *dir)
	if err != nil {
		return err
	}
	r, entry, err := tlog.Prove(ctx, src, vkey, idx)
	if err != nil {
		return err
	}
	b, err := r.Marshal()
	if err != nil {
		return err
	}
	if *entryOut != "" {
		if err := os.WriteFile(*entryOut, entry, 0o644); err != nil {
			return err
		}
	}
	if *out != "" {
		return os.WriteFile(*out, b, 0o644)
	}
	_, err = e.stdout.Write(b)
	return err
}

func runLogServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "log serve", "log serve --dir DIR [--addr ADDR]")
	dir := fs.String("dir", "", "log directory")
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *dir == "" {
		return usageError("log serve: --dir is required")
	}
	h, err := tlog.NewHandler(*dir)
	if err != nil {
		return err
	}
	defer h.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stdout, "serving log %s at http://%s/\n", *dir, ln.Addr())
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

// Exit codes of clearance log verify.
const (
	exitLogCheckpoint   = 20 // the checkpoint (or --since) is not signed by the log key
	exitLogTampered     = 21 // entries or tiles do not match the checkpoint
	exitLogInconsistent = 22 // the log does not extend the --since checkpoint
	exitLogEntry        = 23 // an entry failed --key verification
)

func runLogVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "log verify", "log verify --dir DIR|--url URL --log-key PUB [--since CHECKPOINT] [--save CHECKPOINT] [--key PUB]")
	dir := fs.String("dir", "", "log directory")
	url := fs.String("url", "", "log URL")
	keyPath := fs.String("log-key", "", "log verifier key (default DIR/log.pub)")
	since := fs.String("since", "", "an earlier checkpoint file the log must extend")
	save := fs.String("save", "", "write the verified checkpoint here (for the next --since)")
	declKey := fs.String("key", "", "also verify every entry as a decision bundle signed by this public key")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("log verify: unexpected arguments %v", pos)
	}
	src, err := logSource(*dir, *url)
	if err != nil {
		return err
	}
	vkey, err := logKey(*keyPath, *dir)
	if err != nil {
		return err
	}
	var opts tlog.MonitorOptions
	if *since != "" {
		if opts.Since, err = os.ReadFile(*since); err != nil {
			return fmt.Errorf("read --since: %w", err)
		}
	}
	if *declKey != "" {
		pub, err := loadPublicKey(*declKey)
		if err != nil {
			return err
		}
		opts.CheckEntry = func(_ uint64, entry []byte) error {
			_, err := attest.VerifyDecision(entry, pub)
			return err
		}
	}
	rep, err := tlog.Monitor(ctx, src, vkey, opts)
	if err != nil {
		code := 1
		switch {
		case errors.Is(err, tlog.ErrCheckpoint):
			code = exitLogCheckpoint
		case errors.Is(err, tlog.ErrTampered):
			code = exitLogTampered
		case errors.Is(err, tlog.ErrInconsistent):
			code = exitLogInconsistent
		case errors.Is(err, attest.ErrSignature), errors.Is(err, attest.ErrMalformed):
			code = exitLogEntry
		}
		return &exitError{code: code, err: err}
	}
	if *save != "" {
		if err := os.WriteFile(*save, rep.Checkpoint.Raw, 0o644); err != nil {
			return err
		}
	}
	msg := fmt.Sprintf("ok: log %s, %d entries, %d tiles match checkpoint root %x", rep.Checkpoint.Origin, rep.Checkpoint.Size, rep.Tiles, rep.Checkpoint.Hash)
	if opts.Since != nil {
		msg += fmt.Sprintf("; consistent with earlier checkpoint of size %d", rep.SinceSize)
	}
	if opts.CheckEntry != nil {
		msg += "; every entry is a decision signed by " + *declKey
	}
	fmt.Fprintln(e.stdout, msg)
	return nil
}
