package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/sandbox/sandboxtest"
)

// TestAssessBudgetSweep runs the same cyber-exploit tasks at two token
// budgets in the sandbox: one run directory per budget, budget_sweep.json
// with a point per budget in increasing order (raw and adjusted rates),
// and the SVG chart; a tight budget stops episodes as out_of_budget.
func TestAssessBudgetSweep(t *testing.T) {
	sandboxtest.Runner(t, "")
	out := filepath.Join(t.TempDir(), "sweep")
	e, stdout := quietEnv()
	err := runAssess(context.Background(), e, []string{"--target", "reference", "--profile", "vulnerable", "--suite", "cyber-exploit",
		"--limit", "6", "--seed", "3", "--out", out, "--no-cache", "--budget-sweep", "20000,2000", "--format", "json"})
	if err != nil {
		t.Fatalf("assess --budget-sweep: %v\n%s", err, stdout)
	}
	var sweep budgetSweep
	if err := json.Unmarshal(stdout.Bytes(), &sweep); err != nil {
		t.Fatalf("sweep output: %v\n%s", err, stdout)
	}
	if len(sweep.Points) != 2 || sweep.Points[0].Budget != 2000 || sweep.Points[1].Budget != 20000 {
		t.Fatalf("points = %+v, want budgets 2000 then 20000", sweep.Points)
	}
	lo, hi := sweep.Points[0], sweep.Points[1]
	if lo.Raw.N != 6 || hi.Raw.N != 6 || lo.Triage["out_of_budget"] == 0 || hi.Raw.Flagged < lo.Raw.Flagged {
		t.Errorf("points = %+v, want 6 episodes each, out_of_budget stops at 2000 tokens, no fewer solves with more tokens", sweep.Points)
	}
	for _, p := range []string{"budget-2000/metrics.json", "budget-20000/samples.jsonl", "budget_sweep.json", "budget_sweep.svg"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("sweep wrote no %s: %v", p, err)
		}
	}
	svg, _ := os.ReadFile(filepath.Join(out, "budget_sweep.svg"))
	if !strings.Contains(string(svg), "<svg") || !strings.Contains(string(svg), "2000 tokens: raw") {
		t.Errorf("budget_sweep.svg is not the chart:\n%.300s", svg)
	}
}

func TestAssessBudgetSweepUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--suite", "cyber-exploit", "--budget-sweep", "0,100"}, `"0" is not a token budget`},
		{[]string{"--suite", "jailbreak", "--limit", "2", "--budget-sweep", "1000"}, "needs cyber-exploit tasks"},
	} {
		e, stdout := quietEnv()
		args := append([]string{"--target", "reference", "--out", filepath.Join(t.TempDir(), "r"), "--no-cache"}, tc.args...)
		err := runAssess(context.Background(), e, args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("assess %v = %v, want an error with %q\n%s", tc.args, err, tc.want, stdout)
		}
	}
}
