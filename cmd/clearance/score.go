package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
)

// scoreSummary is what `clearance score --format json` prints.
type scoreSummary struct {
	Scorer     string            `json:"scorer"`
	Version    string            `json:"version"`
	Input      string            `json:"input"`
	Output     string            `json:"output,omitempty"`
	Lines      int               `json:"lines"`
	Flagged    int               `json:"flagged"`
	Errors     int               `json:"errors"`
	Labels     map[string]int    `json:"labels"`
	Evaluation *score.Evaluation `json:"evaluation,omitempty"` // when the input has labels
}

func runScore(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "score", "score --scorer NAME --input FILE.jsonl [--out VERDICTS.jsonl] [--format text|json]")
	name := fs.String("scorer", "refusal", "scorer: "+strings.Join(score.Names(), ", "))
	input := fs.String("input", "", "transcript file: JSON Lines with prompt, response and optional label (- for stdin)")
	out := fs.String("out", "", "write one verdict a line, in input order, with the input's fields kept")
	format := fs.String("format", "text", "summary format: text or json")
	var judge targetFlags
	judge.register(fs, "judge-", "target of the judge scorer")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *input == "" {
		return usageError("--input is required")
	}
	if *format != "text" && *format != "json" {
		return usageError("--format must be text or json, not %q", *format)
	}
	var completer score.Completer
	if *name == "judge" {
		bt, err := buildTarget(e, &judge, func(func(suite.Sample) bool) {}, "judge-")
		if err != nil {
			return err
		}
		defer bt.close()
		completer = bt.t
	}
	sc, err := score.New(*name, completer)
	if err != nil {
		return usageError("%v", err)
	}
	var in io.Reader = e.stdin
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	var w *bufio.Writer
	var outFile *os.File
	if *out != "" {
		if outFile, err = os.Create(*out); err != nil {
			return err
		}
		defer outFile.Close()
		w = bufio.NewWriter(outFile)
	}
	// The refusal scorer's classes are XSTest's; its binary view counts any
	// refusal, full or partial, as positive.
	ev := score.NewEvaluator("refusal", "partial_refusal")
	sum := scoreSummary{Scorer: sc.Name(), Version: sc.Version(), Input: *input, Output: *out, Labels: map[string]int{}}
	labelled := 0
	err = score.ReadTranscripts(in, func(line int, t score.Transcript) error {
		v := sc.Score(ctx, t.Input())
		sum.Lines++
		if v.Err != "" {
			sum.Errors++
		} else {
			sum.Labels[v.Label]++
			if v.Flagged {
				sum.Flagged++
			}
		}
		if t.Label != "" {
			labelled++
			ev.Add(t.Label, v)
		}
		if w != nil {
			b, err := withVerdict(t.Raw, v)
			if err != nil {
				return err
			}
			w.Write(b)
			w.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", *input, err)
	}
	if w != nil {
		if err := w.Flush(); err != nil {
			return err
		}
		if err := outFile.Close(); err != nil {
			return err
		}
	}
	if labelled > 0 {
		x := ev.Evaluation()
		sum.Evaluation = &x
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	fmt.Fprintf(e.stdout, "%s (%s): %d lines, %d flagged, %d scorer errors\n", sum.Scorer, sum.Version, sum.Lines, sum.Flagged, sum.Errors)
	for l, n := range sum.Labels {
		fmt.Fprintf(e.stdout, "  %-18s %d\n", l, n)
	}
	if x := sum.Evaluation; x != nil {
		fmt.Fprintf(e.stdout, "Against %d labels: accuracy %.3f, macro-F1 %.3f; binary (refused vs answered): precision %.3f, recall %.3f, F1 %.3f\n",
			x.N, x.Accuracy, x.MacroF1, x.Binary.Precision, x.Binary.Recall, x.Binary.F1)
		for _, c := range x.PerClass {
			fmt.Fprintf(e.stdout, "  %-18s support %4d  precision %.3f  recall %.3f  F1 %.3f\n", c.Class, c.Support, c.Precision, c.Recall, c.F1)
		}
	}
	if sum.Output != "" {
		fmt.Fprintf(e.stdout, "Verdicts: %s\n", sum.Output)
	}
	return nil
}

// withVerdict returns the input line with a "verdict" field added (or
// replaced), every other field kept as it was.
func withVerdict(raw json.RawMessage, v score.Verdict) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("re-read transcript line: %w", err)
	}
	vb, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	fields["verdict"] = vb
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
