package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeBlock is one ```sh block of README.md.
type readmeBlock struct {
	line int    // of the opening fence
	text string // the commands, continuation lines joined
}

// readmeBlocks returns the sh blocks of a Markdown file.
func readmeBlocks(md string) []readmeBlock {
	var bs []readmeBlock
	var cur *readmeBlock
	var body []string
	for i, l := range strings.Split(md, "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```sh":
			cur = &readmeBlock{line: i + 1}
			body = nil
		case cur != nil && strings.TrimSpace(l) == "```":
			cur.text = strings.ReplaceAll(strings.Join(body, "\n"), "\\\n", " ")
			bs = append(bs, *cur)
			cur = nil
		case cur != nil:
			body = append(body, l)
		}
	}
	return bs
}

// readmeSkip is a rule that skips a README block the test cannot run as
// written; every skipped block is logged with its rule.
type readmeSkip struct {
	why  string
	skip func(text string) bool
}

func missing(name string) bool {
	_, err := exec.LookPath(name)
	return err != nil
}

var readmeSkips = []readmeSkip{
	{"the quick start: `go test ./...` is the suite this test is part of, and `demo` is tested by testdata/script/demo.txtar",
		func(t string) bool { return strings.Contains(t, "go test ./...") }},
	{"needs a real model endpoint and its API key (OPENAI_API_KEY=...)",
		func(t string) bool { return strings.Contains(t, "_API_KEY=...") }},
	{"needs PostgreSQL: postgres://… is the reader's database",
		func(t string) bool { return strings.Contains(t, "postgres://…") }},
	{"has a placeholder to fill in (<…>)",
		func(t string) bool { return regexp.MustCompile(`<[A-Za-z][^>]*>`).MatchString(t) }},
	{"needs cosign, which is not on the PATH",
		func(t string) bool { return strings.Contains(t, "cosign ") && missing("cosign") }},
	{"runs cyber-exploit agent episodes in a sandbox for minutes: needs bwrap and CLEARANCE_SLOW=1",
		func(t string) bool {
			return strings.Contains(t, "cyber-exploit") && (os.Getenv("CLEARANCE_SLOW") == "" || missing("bwrap"))
		}},
}

// longRunning matches the commands that serve until stopped: the test
// runs them until they print their address, then stops them with SIGINT
// and wants exit status 0.
var longRunning = regexp.MustCompile(`^clearance +(serve|worker|demo|reference +serve|log +serve)\b`)

// untilReady is the bash function that runs a long-running command.
const untilReady = `until_ready() {
  local out; out=$(mktemp)
  "$@" >"$out" 2>&1 &
  local pid=$! i
  for i in $(seq 1 600); do
    if grep -q 'http://127\.0\.0\.1:[0-9]' "$out"; then
      cat "$out"; kill -INT "$pid"; wait "$pid"; return $?
    fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$out"; wait "$pid"; return 1; fi
    sleep 0.1
  done
  cat "$out"; kill "$pid"; echo "$*: not serving after 60 s" >&2; return 1
}
`

// TestReadme runs every sh block of README.md as a newcomer would: the
// install block in the repository root (with GOBIN a temporary directory
// put first on PATH), every other block in order in one directory holding
// a copy of examples/, each with bash -e. Long-running commands run until
// they serve and are then stopped; 127.0.0.1:8080 becomes a free port.
// Blocks the test cannot run are skipped by a rule in readmeSkips, and
// logged.
func TestReadme(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	work := t.TempDir()
	if err := os.CopyFS(work, os.DirFS(filepath.Join(root, "examples"))); err != nil {
		t.Fatalf("copy examples/: %v", err)
	}
	// The install block builds with the user's Go caches; the others get
	// their own response cache.
	goEnv := append(os.Environ(), "GOBIN="+bin, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	environ := append(goEnv[:len(goEnv):len(goEnv)], "XDG_CACHE_HOME="+filepath.Join(work, ".cache"), "CLEARANCE_TOKEN=")
	blocks := readmeBlocks(string(md))
	installed := false
	var skipped []string
	for _, b := range blocks {
		name := fmt.Sprintf("README.md:%d", b.line)
		if rule := readmeSkipRule(b.text); rule != "" {
			skipped = append(skipped, name+": "+rule)
			continue
		}
		dir, env := work, environ
		if strings.Contains(b.text, "go install ./cmd/clearance") {
			dir, env, installed = root, goEnv, true
		} else if !installed {
			t.Fatalf("%s runs clearance before the README says how to install it", name)
		}
		script := untilReady + "set -e\n" + readmeScript(b.text)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-e", "-c", script)
		cmd.Dir, cmd.Env = dir, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		cancel()
		if err != nil {
			t.Fatalf("%s does not work as written: %v\n--- block\n%s\n--- output\n%s", name, err, b.text, out.String())
		}
		t.Logf("%s ran", name)
	}
	if !installed {
		t.Error("README.md has no block with go install ./cmd/clearance")
	}
	for _, s := range skipped {
		t.Logf("skipped %s", s)
	}
}

func readmeSkipRule(text string) string {
	for _, r := range readmeSkips {
		if r.skip(text) {
			return r.why
		}
	}
	return ""
}

// readmeScript rewrites a block for the test: long-running commands run
// through until_ready, and the README's port 8080 becomes a free one.
func readmeScript(text string) string {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.ReplaceAll(l, "127.0.0.1:8080", "127.0.0.1:0")
		if trimmed := strings.TrimSpace(l); longRunning.MatchString(trimmed) && !strings.Contains(trimmed, "--no-serve") {
			l = "until_ready " + trimmed
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestReadmeSkipRules pins which README blocks are skipped: a block
// that needs nothing external is never skipped.
func TestReadmeSkipRules(t *testing.T) {
	for _, tc := range []struct {
		text string
		skip bool
	}{
		{"clearance keys generate --out signer", false},
		{"clearance policy plan --dossier dossier.yaml --profile cn-tc260-003 -o plan.json", false},
		{"go run ./cmd/clearance demo\ngo test ./...", true},
		{"export OPENAI_API_KEY=...\nclearance assess --target openai", true},
		{"clearance serve  --database postgres://… --data ./data --workers 0", true},
		{"cosign verify-blob-attestation --digest <OMS root sha256 hex>", true},
	} {
		if got := readmeSkipRule(tc.text) != ""; got != tc.skip {
			t.Errorf("skip(%q) = %v, want %v", tc.text, got, tc.skip)
		}
	}
	if got := readmeScript("clearance serve --addr 127.0.0.1:8080 --data ./data"); got != "until_ready clearance serve --addr 127.0.0.1:0 --data ./data\n" {
		t.Errorf("readmeScript = %q", got)
	}
}
