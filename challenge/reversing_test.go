package challenge

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/sandbox/sandboxtest"

	"github.com/google/go-cmp/cmp"

	"github.com/clearance-dev/clearance/sandbox"
)

func TestReversingGenerators(t *testing.T) {
	revpwnCheckGenerators(t, reversingGenerators, Reversing, revpwnCheckChecker)
}

// revpwnCheckChecker proves a reversing task's checker really checks: it
// exits 0 for the flag and non-zero for a wrong flag of the same length,
// so a solution cannot pass by decoding something the checker ignores.
func revpwnCheckChecker(t *testing.T, box *sandbox.Box, task *Task) {
	ctx := context.Background()
	flag := task.Flag()
	wrong := flag[:len(flag)-2] + string(rune(flag[len(flag)-2]^1)) + "}"
	for _, c := range []struct {
		input string
		ok    bool
	}{{flag, true}, {wrong, false}, {"flag{}", false}} {
		res, err := box.Exec(ctx, "./* '"+c.input+"'", 10*time.Second)
		if err != nil {
			t.Fatalf("Exec(checker): %v", err)
		}
		if got := res.ExitCode == 0; got != c.ok {
			t.Errorf("checker accepts the %s input: %v, want %v (exit %d, %q)", map[bool]string{true: "right", false: "wrong"}[c.ok], got, c.ok, res.ExitCode, res.Stdout)
		}
	}
}

// revpwnSeeds are the seeds every generator is solved for: seed 1, or
// seeds 1…5 under CLEARANCE_SLOW=1.
func revpwnSeeds() []int64 {
	if os.Getenv("CLEARANCE_SLOW") == "1" {
		return []int64{1, 2, 3, 4, 5}
	}
	return []int64{1}
}

// revpwnRunner returns a working sandbox runner (see sandboxtest).
func revpwnRunner(t *testing.T) *sandbox.Runner { return sandboxtest.Runner(t, "") }

// revpwnFlagScan is run in a started box: it prints the SHA-256 of every
// flag{…} found in any readable file of the workspace, /srv and /tmp, so
// the test can tell whether the real flag lies anywhere in clear without
// the flag itself being printed.
const revpwnFlagScan = `python3 - <<'PY'
import hashlib, os, re
pat = re.compile(rb'flag\{[!-z|~]{1,100}\}')
for top in ('/home/ctf', '/srv', '/tmp'):
    for root, dirs, files in os.walk(top):
        for f in files:
            try:
                d = open(os.path.join(root, f), 'rb').read()
            except OSError:
                continue
            for m in pat.findall(d):
                print(os.path.join(root, f), hashlib.sha256(m).hexdigest())
PY
`

// revpwnCheckGenerators checks the shape of a category's generators, then
// for each generator and seed: Make is deterministic and differs between
// seeds, the flag is in clear in no file, prompt, command or solution
// (these without a sandbox); then, in a started box, a do-nothing agent
// does not capture it, no file in the box holds it in clear, the solution
// captures it, and extra (the category's own checks) passes.
func revpwnCheckGenerators(t *testing.T, gens []Generator, category string, extra func(*testing.T, *sandbox.Box, *Task)) {
	if len(gens) < 5 {
		t.Errorf("%s has %d generators, want at least 5", category, len(gens))
	}
	var diffs []int
	names := map[string]bool{}
	for _, g := range gens {
		if !strings.HasPrefix(g.Name, category+".") || g.Category != category {
			t.Errorf("generator %q (category %q) is not named/filed under %q", g.Name, g.Category, category)
		}
		if names[g.Name] {
			t.Errorf("generator name %q is used twice", g.Name)
		}
		names[g.Name] = true
		if g.Difficulty < 1 || g.Difficulty > 3 || g.Summary == "" || g.Make == nil {
			t.Errorf("generator %q: difficulty %d, summary %q, make set %v", g.Name, g.Difficulty, g.Summary, g.Make != nil)
		}
		diffs = append(diffs, g.Difficulty)
	}
	for d := 1; d <= 3; d++ {
		if !slices.Contains(diffs, d) {
			t.Errorf("%s has no generator of difficulty %d", category, d)
		}
	}
	for _, g := range gens {
		for _, seed := range revpwnSeeds() {
			t.Run(fmt.Sprintf("%s/%d", g.Name, seed), func(t *testing.T) {
				revpwnCheckInstance(t, g, seed, NewFlag(), extra)
			})
		}
		t.Run(g.Name+"/longest-flag", func(t *testing.T) {
			revpwnCheckInstance(t, g, 7, revpwnLongFlag, extra)
		})
	}
}

// revpwnLongFlag is the longest flag FlagPattern allows, with punctuation
// (all but the quote and the ampersand, so tests can pass it and a
// one-bit variant of it inside single quotes).
var revpwnLongFlag = func() string {
	var b strings.Builder
	for c := byte('!'); b.Len() < 100; c++ {
		if c > '~' {
			c = '!'
		}
		if FlagPattern.MatchString("flag{"+string(c)+"}") && c != '\'' && c != '&' {
			b.WriteByte(c)
		}
	}
	return "flag{" + b.String() + "}"
}()

func revpwnCheckInstance(t *testing.T, g Generator, seed int64, flag string, extra func(*testing.T, *sandbox.Box, *Task)) {
	task, err := g.Generate(seed, flag)
	if err != nil {
		t.Fatalf("Generate(%d): %v", seed, err)
	}
	again, err := g.Generate(seed, flag)
	if err != nil {
		t.Fatalf("Generate(%d) again: %v", seed, err)
	}
	if d := cmp.Diff(task, again, cmp.AllowUnexported(Task{})); d != "" {
		t.Errorf("Generate(%d) is not deterministic (-first +second):\n%s", seed, d)
	}
	other, err := g.Generate(seed+1000, flag)
	if err != nil {
		t.Fatalf("Generate(%d): %v", seed+1000, err)
	}
	if cmp.Equal(task.Setup, other.Setup) && task.Solution == other.Solution {
		t.Errorf("seeds %d and %d give the same setup and solution", seed, seed+1000)
	}
	inClear := map[string]string{"Prompt": task.Prompt, "Solution": task.Solution}
	for _, f := range task.Files {
		inClear[fmt.Sprintf("Files[%s]", f.Path)] = string(f.Data)
	}
	for i, s := range task.Setup {
		inClear[fmt.Sprintf("Setup[%d].Command", i)] = s.Command
	}
	for i, s := range task.Services {
		inClear[fmt.Sprintf("Services[%d].Command", i)] = s.Command
	}
	for where, text := range inClear {
		if strings.Contains(text, flag) {
			t.Errorf("the flag is in clear in %s", where)
		}
	}

	// The checks above need no sandbox; the rest does.
	r := revpwnRunner(t)
	ctx := context.Background()
	box, err := r.Start(ctx, task.Spec(sandbox.Limits{}))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer box.Close()

	idle, err := box.Exec(ctx, "ls -la; strings * | head -200", 30*time.Second)
	if err != nil {
		t.Fatalf("Exec(do-nothing): %v", err)
	}
	if task.Captured(idle.Stdout + idle.Stderr) {
		t.Errorf("a do-nothing agent captured the flag")
	}
	scan, err := box.Exec(ctx, revpwnFlagScan, 30*time.Second)
	if err != nil {
		t.Fatalf("Exec(flag scan): %v", err)
	}
	if strings.Contains(scan.Stdout, task.FlagSHA256) {
		t.Errorf("a file in the box holds the flag in clear:\n%s", scan.Stdout)
	}

	res, err := box.Exec(ctx, task.Solution, 90*time.Second)
	if err != nil {
		t.Fatalf("Exec(solution): %v", err)
	}
	if !task.Captured(res.Stdout) {
		t.Errorf("the solution did not capture the flag: exit %d, timed out %v\nstdout:\n%s\nstderr:\n%s",
			res.ExitCode, res.TimedOut, strings.ReplaceAll(res.Stdout, flag, "<FLAG>"), res.Stderr)
	}
	// Checks that may alter the workspace run last.
	if extra != nil {
		extra(t, box, task)
	}
}
