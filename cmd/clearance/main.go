// Command clearance is the pre-release security review system for advanced
// AI models: it assesses models, judges the evidence under regimes' rules,
// signs and logs decisions, and verifies them offline.
//
// Each subcommand lives in its own file as a func(ctx, *env, args) error;
// main only dispatches and maps errors to exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

// env is what every subcommand gets from main: its streams, a logger, the
// environment and a clock. Tests build their own.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	getenv func(string) string
	now    func() time.Time
}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// exitError carries a specific exit code out of a subcommand. Code 1 is the
// default for any other error; 2 is a usage error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks an error in the command line itself (exit code 2).
func usageError(format string, a ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, a...)}
}

func commands() map[string]command {
	return map[string]command{
		"assess":    {"run evaluation suites against a model and write a run directory", runAssess},
		"score":     {"re-score a transcript file with a scorer, no model calls", runScore},
		"suites":    {"list the built-in suites, or show one", runSuites},
		"tasks":     {"list cyber challenge generators and external task directories; import InterCode-CTF and Cybench", runTasks},
		"reference": {"serve the reference model (a simulator) over HTTP", runReference},
		"conform":   {"record an endpoint's behavioural fingerprint, or check a live endpoint is the model fingerprinted", runConform},
		"demo":      {"run a representative review end to end on embedded defaults", runDemo},
		"version":   {"print the version", runVersion},
		"policy":    {"lint, evaluate, compare and plan policy profiles", runPolicy},
		"keys":      {"generate signing keys", runKeys},
		"trust":     {"pin agencies' decision, log and witness keys for verify --from and log watch", runTrust},
		"sign":      {"sign a model directory or a decision", runSign},
		"verify":    {"verify a signed decision (or model signature) offline", runVerify},
		"log":       {"create, append to, serve, prove and monitor a transparency log", runLog},
		"decide":    {"evaluate profiles, sign the decision and log it, in one command", runDecide},
		"serve":     {"run the review service (web UI, REST API, jobs, log) on SQLite or PostgreSQL", runServe},
		"worker":    {"run assessment and clock workers against a PostgreSQL service", runWorker},
		"migrate":   {"apply the store's migrations", runMigrate},
		"admin":     {"bootstrap the first admin and organisation", runAdmin},
		"audit":     {"verify the service's hash-chained audit trail", runAudit},
		"submit":    {"submit a model for review to a Clearance service", runSubmit},
		"case":      {"list or show review cases on a Clearance service", runCase},
		"incident":  {"file incidents against cleared decisions, list their duties and file reports", runIncident},
		"token":     {"list or revoke API tokens on a Clearance service", runToken},
		"user":      {"list, disable or enable users on a Clearance service (admin)", runUser},
		"witness":   {"run a C2SP tlog-witness that cosigns other agencies' log checkpoints", runWitness},
	}
}

func main() {
	e := &env{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
		now:    time.Now,
	}
	e.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	quietTessera()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the process exit code.
func run(ctx context.Context, e *env, args []string) int {
	cmds := commands()
	if len(args) > 1 && args[0] == "help" {
		// "clearance help log" is "clearance log --help".
		args = []string{args[1], "--help"}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stdout, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "clearance: unknown command %q (run 'clearance help')\n", args[0])
		return 2
	}
	if g, ok := groups()[args[0]]; ok {
		if code, handled := dispatchGroup(e, args[0], c.summary, g, args[1:]); handled {
			return code
		}
	}
	err := c.run(ctx, e, args[1:])
	if err == nil {
		return 0
	}
	var xe *exitError
	if errors.As(err, &xe) {
		if xe.err != nil && xe.err.Error() != "" {
			printError(e.stderr, args[0], xe.err)
		}
		return xe.code
	}
	if errors.Is(err, errFlagHelp) {
		return 0
	}
	printError(e.stderr, args[0], err)
	return 1
}

// printError prints a command's error as "clearance NAME: error", without
// repeating the name when the error already begins with it ("clearance
// verify: verify: …" would).
func printError(w io.Writer, name string, err error) {
	msg := err.Error()
	if strings.HasPrefix(msg, name+": ") || strings.HasPrefix(msg, name+" ") {
		fmt.Fprintf(w, "clearance %s\n", msg)
		return
	}
	fmt.Fprintf(w, "clearance %s: %s\n", name, msg)
}

func printUsage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("clearance: pre-release security review for advanced AI models\n\nUsage: clearance <command> [flags]\n\nCommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, cmds[n].summary)
	}
	b.WriteString("\nRun 'clearance <command> -h' for a command's flags.\n")
	io.WriteString(w, b.String())
}

// quietTessera routes klog, through which Tessera logs, to a warning-level
// logger on stderr, so that its informational lines stay out of the CLI's
// output. klog's logger is process-wide and unsynchronised, so it is set
// once at start-up, before any Tessera goroutine runs (main, and TestMain
// for the tests).
func quietTessera() {
	klog.SetSlogLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}
