package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"

	"github.com/clearance-dev/clearance/conform"
	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// exitNotSame is the exit code of `clearance conform` when the endpoint
// is not the model that was fingerprinted.
const exitNotSame = 40

// maxFingerprintFile bounds a fingerprint file read from disk.
const maxFingerprintFile = 64 << 20

func runConform(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "record" {
		return runConformRecord(ctx, e, args[1:])
	}
	fs := newFlagSet(e, "conform", "conform --fingerprint FILE --target KIND … [--alpha A] [--seed S] [--format text|json]\n"+
		"   or: conform --decision ID --server URL [--token T] [--target-url URL [--target-model M] [--credentials-env VAR]] [--format text|json]\n\n"+
		"Re-query a live endpoint with a fingerprint's probes and test whether it is the same model.\n"+
		"With --decision, the review service runs the check of a cleared decision against the fingerprint it binds\n"+
		"(the case's endpoint, or --target-url): the result is signed and logged, and a failed check opens a finding.\n"+
		"Exit codes: 0 same model, 40 not the same model, 1 error (requests failed: nothing is concluded), 2 usage.")
	var tf targetFlags
	tf.register(fs, "", "endpoint to check")
	fpPath := fs.String("fingerprint", "", "fingerprint file written by 'clearance conform record' (required)")
	alpha := fs.Float64("alpha", 0.05, "family-wise false-alarm rate of the check (Bonferroni over its tests)")
	seed := fs.Int64("seed", 1, "seed of the permutation test")
	conc := fs.Int("concurrency", 4, "probes in flight")
	format := fs.String("format", "text", "output: text or json")
	var svc conformServiceFlags
	svc.register(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageError("conform: --format %q: want text or json", *format)
	}
	if svc.decision != "" {
		if *fpPath != "" || tf.kind != "" {
			return usageError("conform: --decision checks through the service: give --target-url, not --fingerprint or --target")
		}
		return runConformService(ctx, e, svc, *format)
	}
	if svc.server != "" || svc.targetURL != "" {
		return usageError("conform: --server and --target-url go with --decision")
	}
	if *fpPath == "" {
		return usageError("conform: --fingerprint is required (or --decision, with --server)")
	}
	if *format != "text" && *format != "json" {
		return usageError("conform: --format %q: want text or json", *format)
	}
	if !(*alpha > 0 && *alpha <= 0.5) {
		return usageError("conform: --alpha %v: want a level in (0, 0.5]", *alpha)
	}
	fp, err := readFingerprint(*fpPath)
	if err != nil {
		return err
	}
	_, samples, err := conformPool()
	if err != nil {
		return err
	}
	bt, err := buildTarget(e, &tf, samples, "")
	if err != nil {
		return err
	}
	defer bt.close()
	res, err := conform.Check(ctx, bt.t, fp, conform.Options{Alpha: *alpha, Seed: *seed, Refused: refusedAnswer}, *conc)
	if err != nil {
		return err
	}
	if err := printConform(e.stdout, *format, res); err != nil {
		return err
	}
	if !res.Same {
		return &exitError{code: exitNotSame}
	}
	return nil
}

func runConformRecord(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "conform record", "conform record --target KIND … --out FILE [--probes N] [--seed S] [--logprobs] [--format text|json]\n\n"+
		"Record an endpoint's behavioural fingerprint: N seeded suite prompts plus the generic set, each asked twice at temperature 0.")
	var tf targetFlags
	tf.register(fs, "", "endpoint to fingerprint")
	out := fs.String("out", "", "fingerprint file to write (required)")
	n := fs.Int("probes", 250, "suite prompts to draw (the 60 generic prompts are added)")
	seed := fs.Int64("seed", 1, "seed of the probe draw, also sent as the decoding seed")
	conc := fs.Int("concurrency", 4, "probes in flight")
	logprobs := fs.Bool("logprobs", false, "also record the answers' token log-probabilities where the endpoint offers them (a check then compares them too); off by default, since some endpoints refuse the option")
	format := fs.String("format", "text", "output: text or json")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError("conform record: --out is required")
	}
	if *format != "text" && *format != "json" {
		return usageError("conform record: --format %q: want text or json", *format)
	}
	if *n < 1 || *n > conform.MaxProbes-len(conform.GenericProbes()) {
		return usageError("conform record: --probes %d: want 1…%d", *n, conform.MaxProbes-len(conform.GenericProbes()))
	}
	pool, samples, err := conformPool()
	if err != nil {
		return err
	}
	bt, err := buildTarget(e, &tf, samples, "")
	if err != nil {
		return err
	}
	defer bt.close()
	desc := bt.info.Identity
	if desc == "" {
		desc = strings.TrimSpace(bt.info.Kind + " " + bt.info.Model + " " + bt.info.BaseURL)
	}
	probes := append(conform.Select(pool, *n, *seed), conform.GenericProbes()...)
	fp, err := conform.Record(ctx, bt.t, probes, conform.RecordOptions{Seed: *seed, Concurrency: *conc, Target: desc, Now: e.now, LogProbs: *logprobs})
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(fp, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write fingerprint: %w", err)
	}
	if *format == "json" {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"file": *out, "digest": fp.Digest(), "probes": len(fp.Probes), "requests": fp.Requests()})
	}
	fmt.Fprintf(e.stdout, "fingerprint %s\n  %d probes, %d requests, written to %s\n", fp.Digest(), len(fp.Probes), fp.Requests(), *out)
	return nil
}

func readFingerprint(path string) (*conform.Fingerprint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read fingerprint: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFingerprintFile+1))
	if err != nil {
		return nil, fmt.Errorf("read fingerprint: %w", err)
	}
	if len(b) > maxFingerprintFile {
		return nil, fmt.Errorf("read fingerprint %s: larger than %d bytes", path, maxFingerprintFile)
	}
	fp, err := conform.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("read fingerprint %s: %w", path, err)
	}
	return fp, nil
}

// conformPool is the probe pool (every single-turn prompt of the built-in
// chat suites) and the samples a reference target is told the truth of.
func conformPool() ([]conform.Probe, iter.Seq[suite.Sample], error) {
	suites, err := chatSuites()
	if err != nil {
		return nil, nil, err
	}
	seq, _, err := suite.Samples(suites, suite.PlanOptions{})
	if err != nil {
		return nil, nil, err
	}
	var all []suite.Sample
	var pool []conform.Probe
	for s := range seq {
		all = append(all, s)
		if len(s.FollowUps) > 0 || s.Task != nil {
			continue
		}
		msgs := make([]target.Message, len(s.Messages))
		for i, m := range s.Messages {
			msgs[i] = target.Message{Role: m.Role, Content: m.Content}
		}
		pool = append(pool, conform.Probe{ID: s.ID, Kind: s.Kind, Category: s.Category, Messages: msgs})
	}
	return pool, slices.Values(all), nil
}

// refusedAnswer is the refusal classifier of the conformance check: the
// structural refusal scorer's label.
func refusedAnswer(prompt, answer string) bool {
	v := score.NewRefusal().Score(context.Background(), score.Input{Kind: suite.KindHarmful, Prompt: prompt, Response: answer})
	return v.Label == score.LabelRefusal
}

func printConform(w io.Writer, format string, res *conform.Result) error {
	if format == "json" {
		return json.NewEncoder(w).Encode(res)
	}
	verdict := "SAME MODEL (no test rejected)"
	if !res.Same {
		verdict = "NOT THE SAME MODEL (rejected: " + strings.Join(res.Failed(), ", ") + ")"
	}
	fmt.Fprintf(w, "conformance: %s\n  fingerprint %s, %d probes, %d requests, family-wise alpha %.3g\n", verdict, res.Fingerprint, res.Probes, res.Requests, res.Alpha)
	for _, t := range res.Tests {
		mark := "ok"
		if t.Rejected {
			mark = "REJECTED"
		}
		fmt.Fprintf(w, "  %-24s p=%-10.4g level=%-8.4g statistic=%+.4f  %s\n", t.Name, t.PValue, t.Level, t.Statistic, mark)
	}
	return nil
}
