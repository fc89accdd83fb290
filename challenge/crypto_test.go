package challenge

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/sandbox/sandboxtest"

	"github.com/google/go-cmp/cmp"

	"github.com/clearance-dev/clearance/sandbox"
)

// cfSeeds are the seeds the solution tests run: 1 by default, 1…5 under
// CLEARANCE_SLOW=1.
func cfSeeds() []int64 {
	if os.Getenv("CLEARANCE_SLOW") == "1" {
		return []int64{1, 2, 3, 4, 5}
	}
	return []int64{1}
}

// cfTestCatalogue checks a category's generators: at least five, each
// difficulty 1–3 present, names "<category>.<name>" and unique.
func cfTestCatalogue(t *testing.T, category string, gens []Generator) {
	t.Helper()
	if len(gens) < 5 {
		t.Errorf("%d %s generators, want at least 5", len(gens), category)
	}
	seen := map[string]bool{}
	diffs := map[int]int{}
	for _, g := range gens {
		if !strings.HasPrefix(g.Name, category+".") || g.Category != category {
			t.Errorf("generator %q category %q: want name %q.* and category %q", g.Name, g.Category, category, category)
		}
		if seen[g.Name] {
			t.Errorf("generator %q registered twice", g.Name)
		}
		seen[g.Name] = true
		if g.Summary == "" || g.Make == nil {
			t.Errorf("generator %q: empty summary or nil Make", g.Name)
		}
		if g.Difficulty < 1 || g.Difficulty > 3 {
			t.Errorf("generator %q difficulty %d, want 1…3", g.Name, g.Difficulty)
		}
		diffs[g.Difficulty]++
		if l, ok := Lookup(g.Name); !ok || l.Name != g.Name {
			t.Errorf("Lookup(%q) did not find it", g.Name)
		}
	}
	for d := 1; d <= 3; d++ {
		if diffs[d] == 0 {
			t.Errorf("no %s generator of difficulty %d", category, d)
		}
	}
}

// cfAssertHidden fails when the flag, its hex or its base64 appears in a
// file, the prompt, a setup command or a service command of task.
func cfAssertHidden(t *testing.T, task *Task, flag string) {
	t.Helper()
	forms := map[string][]byte{
		"clear":  []byte(flag),
		"hex":    []byte(hex.EncodeToString([]byte(flag))),
		"base64": []byte(base64.StdEncoding.EncodeToString([]byte(flag))),
	}
	check := func(where string, data []byte) {
		for name, f := range forms {
			if bytes.Contains(data, f) {
				t.Errorf("%s: the flag (%s) appears in %s", task.ID, name, where)
			}
		}
	}
	check("the prompt", []byte(task.Prompt))
	for _, f := range task.Files {
		check("file "+f.Path, f.Data)
	}
	for _, s := range task.Setup {
		check("setup command", []byte(s.Command))
	}
	for _, s := range task.Services {
		check("service command", []byte(s.Command))
	}
}

// cfTestStatic generates instances without a sandbox: determinism, the
// flag hidden, distinct instances for distinct seeds, unusual flags.
func cfTestStatic(t *testing.T, gens []Generator) {
	flags := []string{NewFlag(), "flag{" + strings.Repeat("!#$%&()*+,-./:;<=>?@[]^_|~AZaz09", 3) + "}", "flag{x}"}
	eqBytes := cmp.Comparer(func(x, y []byte) bool { return bytes.Equal(x, y) })
	for _, g := range gens {
		t.Run(g.Name, func(t *testing.T) {
			first := map[int64]*Task{}
			for _, seed := range []int64{1, 2} {
				for i, flag := range flags {
					a, err := g.Generate(seed, flag)
					if err != nil {
						t.Fatalf("Generate(%d, flag of %d bytes): %v", seed, len(flag), err)
					}
					if !a.Captured(flag) || a.Flag() != flag {
						t.Errorf("seed %d: task does not accept its own flag", seed)
					}
					if a.Solution == "" || len(a.Files) == 0 || a.Prompt == "" {
						t.Errorf("seed %d: empty solution, files or prompt", seed)
					}
					if !strings.Contains(a.Prompt, "Instance: "+g.Name+"/") {
						t.Errorf("seed %d: prompt lacks the instance line", seed)
					}
					cfAssertHidden(t, a, flag)
					if i == 0 {
						first[seed] = a
					}
				}
				b, err := g.Generate(seed, flags[0])
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(first[seed], b, cmp.AllowUnexported(Task{}), eqBytes); d != "" {
					t.Errorf("seed %d: two generations differ (-first +second):\n%s", seed, d)
				}
			}
			if cmp.Equal(first[1].Files, first[2].Files, eqBytes) {
				t.Errorf("seeds 1 and 2 give the same files")
			}
		})
	}
}

// cfRunner returns a working sandbox runner (see sandboxtest).
func cfRunner(t *testing.T) *sandbox.Runner { return sandboxtest.Runner(t, "") }

// cfSnoop is an agent that looks for the flag a service holds in memory
// through /proc: command lines, environments, standard input and the
// writable memory of every other process in the box.
const cfSnoop = `python3 - <<'EOF'
import os, re
pat = re.compile(rb'flag\{[!-z|~]{1,100}\}')
for pid in os.listdir('/proc'):
    if not pid.isdigit() or int(pid) == os.getpid():
        continue
    for name in ('cmdline', 'environ', 'fd/0'):
        try:
            with open(f'/proc/{pid}/{name}', 'rb') as f:
                os.set_blocking(f.fileno(), False)
                print(pid, name, pat.findall(f.read(1 << 20) or b''))
        except Exception as e:
            print(pid, name, e)
    try:
        mem = open(f'/proc/{pid}/mem', 'rb')
        for line in open(f'/proc/{pid}/maps'):
            span, perms = line.split()[:2]
            if 'r' not in perms:
                continue
            a, b = (int(x, 16) for x in span.split('-'))
            try:
                mem.seek(a)
                print(pid, 'mem', pat.findall(mem.read(b - a)))
            except Exception:
                pass
    except Exception as e:
        print(pid, 'mem', e)
EOF
`

// cfTestSolutions starts a box per generator and seed, runs the solution
// (it must print the flag), a do-nothing agent and, for tasks with a
// service, an agent snooping on the service through /proc (they must not).
func cfTestSolutions(t *testing.T, gens []Generator) {
	r := cfRunner(t)
	for _, g := range gens {
		t.Run(g.Name, func(t *testing.T) {
			for _, seed := range cfSeeds() {
				flag := NewFlag()
				task, err := g.Generate(seed, flag)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				box, err := r.Start(ctx, task.Spec(sandbox.Limits{}))
				if err != nil {
					t.Fatalf("seed %d: start box: %v", seed, err)
				}
				lazy, err := box.Exec(ctx, "ls -la; cat * 2>/dev/null | head -c 2000", 20*time.Second)
				if err != nil {
					t.Fatalf("seed %d: do-nothing agent: %v", seed, err)
				}
				if task.Captured(lazy.Stdout + lazy.Stderr) {
					t.Errorf("seed %d: a do-nothing agent captured the flag", seed)
				}
				if len(task.Services) > 0 {
					snoop, err := box.Exec(ctx, cfSnoop, 30*time.Second)
					if err != nil {
						t.Fatalf("seed %d: snooping agent: %v", seed, err)
					}
					if task.Captured(snoop.Stdout + snoop.Stderr) {
						t.Errorf("seed %d: an agent reading the service's /proc files captured the flag", seed)
					}
				}
				res, err := box.Exec(ctx, task.Solution, 90*time.Second)
				if err != nil {
					t.Fatalf("seed %d: run solution: %v", seed, err)
				}
				if !task.Captured(res.Stdout) {
					t.Errorf("seed %d: solution did not print the flag: exit %d\nstdout: %.500s\nstderr: %.2000s", seed, res.ExitCode, res.Stdout, res.Stderr)
				}
				t.Logf("seed %d: solution took %.0f ms", seed, res.DurationMS)
				if err := box.Close(); err != nil {
					t.Errorf("close box: %v", err)
				}
			}
		})
	}
}

func TestCryptoCatalogue(t *testing.T) { cfTestCatalogue(t, Crypto, cryptoGenerators) }

func TestCryptoGenerate(t *testing.T) { cfTestStatic(t, cryptoGenerators) }

func TestCryptoSolutions(t *testing.T) { cfTestSolutions(t, cryptoGenerators) }
