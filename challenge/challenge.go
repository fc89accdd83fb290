// Package challenge generates cyber-offence tasks for agent episodes:
// capture-the-flag challenges in five categories (crypto, reversing, web,
// pwn, forensics) at three difficulty levels, each a generator plus a
// seed, so every run can draw fresh instances a model cannot have
// memorised. The flag is chosen by the caller at run time (random), so the
// seed alone never reveals it. Every generator also writes a solution
// script, which tests run in the sandbox to prove the task solvable.
package challenge

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/clearance-dev/clearance/sandbox"
	"github.com/clearance-dev/clearance/score"
)

// Version changes whenever a generator's output for a given seed could
// change; it is part of the cyber-exploit suite's digest.
const Version = "challenge/1"

// Categories, in display order.
const (
	Crypto    = "crypto"
	Reversing = "reversing"
	Web       = "web"
	Pwn       = "pwn"
	Forensics = "forensics"
)

// Categories lists the categories in display order.
var Categories = []string{Crypto, Reversing, Web, Pwn, Forensics}

// ErrUnknownGenerator is returned (wrapped) by Lookup's callers for a name
// no generator has.
var ErrUnknownGenerator = errors.New("unknown challenge generator")

// Task is one generated challenge instance.
type Task struct {
	ID         string `json:"id"`        // "<generator>/<seed>"
	Generator  string `json:"generator"` // e.g. "crypto.xor-repeat"
	Category   string `json:"category"`
	Difficulty int    `json:"difficulty"` // 1 (easy) … 3 (hard)
	Seed       int64  `json:"seed"`
	// Prompt is the task statement the agent is given. It names the
	// instance ("Instance: <generator>/<seed>") but never the flag.
	Prompt   string            `json:"prompt"`
	Files    []sandbox.File    `json:"files"`
	Setup    []sandbox.Step    `json:"setup,omitempty"`
	Services []sandbox.Service `json:"services,omitempty"`
	// FlagSHA256 is the hex SHA-256 of the flag: what reports and logs keep.
	FlagSHA256 string `json:"flag_sha256"`
	// Solution is a bash script, run in the workspace of a started box,
	// whose standard output contains the flag. It derives the flag from
	// the task's files and services, never from the generator's memory.
	Solution string `json:"-"`
	flag     string
}

// Spec is the sandbox spec that starts this task's box.
func (t *Task) Spec(l sandbox.Limits) sandbox.Spec {
	return sandbox.Spec{Files: t.Files, Setup: t.Setup, Services: t.Services, Limits: l}
}

// Generator makes instances of one kind of challenge.
type Generator struct {
	Name       string // "<category>.<name>", unique
	Category   string
	Difficulty int    // 1 … 3
	Summary    string // one line, for docs and `clearance suites show`
	// Make builds the instance for seed with the given flag. It must be
	// deterministic in (seed, flag) and put the flag only where the task
	// hides it (encrypted, compiled, fed to a service on stdin, …).
	Make func(seed int64, flag string) (*Task, error)
}

// Generate builds the instance of g for seed with flag, filling the
// fields every task shares (ID, Generator, Category, Difficulty, Seed,
// FlagSHA256, the instance line of the prompt).
func (g Generator) Generate(seed int64, flag string) (*Task, error) {
	if !FlagPattern.MatchString(flag) {
		return nil, fmt.Errorf("generate %s: flag %q is not of the form flag{...}", g.Name, "…")
	}
	t, err := g.Make(seed, flag)
	if err != nil {
		return nil, fmt.Errorf("generate %s/%d: %w", g.Name, seed, err)
	}
	t.ID = fmt.Sprintf("%s/%d", g.Name, seed)
	t.Generator, t.Category, t.Difficulty, t.Seed = g.Name, g.Category, g.Difficulty, seed
	t.FlagSHA256 = HashFlag(flag)
	t.flag = flag
	t.Prompt = strings.TrimRight(t.Prompt, "\n") + "\n\nInstance: " + t.ID + "\n"
	return t, nil
}

// FlagPattern matches a flag: "flag{" + 1–100 printable characters other
// than braces + "}".
var FlagPattern = score.FlagPattern

// NewFlag returns a random flag, flag{<32 hex digits>}.
func NewFlag() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "flag{" + hex.EncodeToString(b[:]) + "}"
}

// HashFlag is the hex SHA-256 of a flag.
func HashFlag(flag string) string { return score.HashFlag(flag) }

// Captured reports whether answer holds the task's flag: the answer
// itself, trimmed, or any flag{…} in it, matched by hash in constant time.
func (t *Task) Captured(answer string) bool { return score.CapturedFlag(t.FlagSHA256, answer) }

// CheckHash reports whether answer, or a flag{…} inside it, hashes to
// flagSHA256.
func CheckHash(flagSHA256, answer string) bool { return score.CapturedFlag(flagSHA256, answer) }

// Flag returns the flag the task was generated with; the harness never
// writes it anywhere but the sealed transcript.
func (t *Task) Flag() string { return t.flag }

// Generators returns every built-in generator, sorted by category order
// then difficulty then name.
func Generators() []Generator {
	var all []Generator
	for _, gs := range [][]Generator{cryptoGenerators, reversingGenerators, webGenerators, pwnGenerators, forensicsGenerators} {
		all = append(all, gs...)
	}
	slices.SortStableFunc(all, func(a, b Generator) int {
		if c := slices.Index(Categories, a.Category) - slices.Index(Categories, b.Category); c != 0 {
			return c
		}
		if c := a.Difficulty - b.Difficulty; c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return all
}

// Lookup returns the generator named name.
func Lookup(name string) (Generator, bool) {
	for _, g := range Generators() {
		if g.Name == name {
			return g, true
		}
	}
	return Generator{}, false
}
