package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// runCLI runs the command line in-process as main would and returns its
// exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		log: slog.New(slog.DiscardHandler), getenv: func(string) string { return "" }, now: time.Now}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, e, args)
	return code, out.String(), errb.String()
}

// helpLines are every command line whose --help the CLI must answer: each
// command, and each subcommand of each group.
func helpLines() [][]string {
	var lines [][]string
	names := make([]string, 0)
	for n := range commands() {
		names = append(names, n)
	}
	sort.Strings(names)
	gs := groups()
	for _, n := range names {
		lines = append(lines, []string{n})
		for _, s := range gs[n].subs {
			lines = append(lines, []string{n, s.name})
		}
	}
	return lines
}

// TestHelpEverywhere walks every command and subcommand: --help (and -h)
// prints its usage on stdout and exits 0; a group's help lists each
// subcommand with a line.
func TestHelpEverywhere(t *testing.T) {
	t.Chdir(t.TempDir())
	gs := groups()
	for _, line := range helpLines() {
		for _, h := range []string{"--help", "-h"} {
			args := append(slices.Clone(line), h)
			code, out, errs := runCLI(t, args...)
			name := strings.Join(args, " ")
			if code != 0 {
				t.Errorf("clearance %s: exit %d, want 0\nstderr: %s", name, code, errs)
				continue
			}
			if !strings.Contains(out, "clearance "+strings.Join(line, " ")) {
				t.Errorf("clearance %s: stdout does not show its usage:\n%s", name, out)
			}
			if g, ok := gs[line[0]]; ok && len(line) == 1 {
				for _, s := range g.subs {
					if !strings.Contains(out, s.name) || !strings.Contains(out, s.summary) {
						t.Errorf("clearance %s: subcommand %s and its summary are missing:\n%s", name, s.name, out)
					}
				}
			}
		}
	}
	// Every group's subcommands are in groups(): a group's own usage
	// error names no subcommand the table lacks.
	code, out, _ := runCLI(t, "help", "log")
	if code != 0 || !strings.Contains(out, "init") {
		t.Errorf("clearance help log: exit %d\n%s", code, out)
	}
}

// TestWrongFlagErrorLast checks that a wrong flag prints a short usage and
// then the error as the last line, exit 2, for every command and
// subcommand.
func TestWrongFlagErrorLast(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, line := range helpLines() {
		if _, ok := groups()[line[0]]; ok && len(line) == 1 && !groups()[line[0]].ownFlags {
			continue // a group without flags of its own: see TestGroupErrors
		}
		args := append(slices.Clone(line), "--no-such-flag")
		code, out, errs := runCLI(t, args...)
		name := strings.Join(args, " ")
		lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
		last := lines[len(lines)-1]
		if code != 2 || !strings.Contains(last, "flag provided but not defined: -no-such-flag") {
			t.Errorf("clearance %s: exit %d, last line %q, want 2 and the error last\n%s", name, code, last, errs)
		}
		if len(lines) > 6 {
			t.Errorf("clearance %s: %d lines on stderr, want a short usage:\n%s", name, len(lines), errs)
		}
		if out != "" {
			t.Errorf("clearance %s: stdout %q, want nothing", name, out)
		}
	}
}

// TestGroupErrors checks a group without or with an unknown subcommand:
// its subcommands, then the error last, exit 2.
func TestGroupErrors(t *testing.T) {
	for n, g := range groups() {
		if g.ownFlags {
			continue
		}
		for _, args := range [][]string{{n}, {n, "frob"}} {
			code, _, errs := runCLI(t, args...)
			lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
			last := lines[len(lines)-1]
			if code != 2 || !strings.HasPrefix(last, "clearance "+n+": ") || !strings.Contains(errs, g.subs[0].summary) {
				t.Errorf("clearance %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, errs)
			}
		}
	}
}

// TestNoDoubledPrefix checks that errors name their command once.
func TestNoDoubledPrefix(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify"}, "clearance verify: --bundle and --key are required"},
		{[]string{"sign", "model"}, "clearance sign model: want one model directory and --key"},
		{[]string{"log", "init", "--dir", "log", "--origin", "example.org/log"}, ""},
		{[]string{"log", "init", "--dir", "log", "--origin", "example.org/log"}, `clearance log: init log in "log": log already exists`},
	} {
		_, _, errs := runCLI(t, tc.args...)
		if !strings.Contains(errs, tc.want) {
			t.Errorf("clearance %v: stderr %q, want %q", tc.args, errs, tc.want)
		}
		for _, dup := range []string{"verify: verify:", "sign: sign", "log log:"} {
			if strings.Contains(errs, dup) {
				t.Errorf("clearance %v: doubled prefix in %q", tc.args, errs)
			}
		}
	}
	if _, err := os.Stat("log/log.pub"); err != nil {
		t.Error(err)
	}
}

// TestPolicyShowUnknown lists the valid ids when the id is unknown.
func TestPolicyShowUnknown(t *testing.T) {
	code, _, errs := runCLI(t, "policy", "show", "eu-ai-act")
	if code == 0 || !strings.Contains(errs, "eu-ai-act-gpai-sr") || !strings.Contains(errs, "cn-tc260-003") {
		t.Errorf("policy show eu-ai-act: exit %d, stderr %q; want the valid ids", code, errs)
	}
}
