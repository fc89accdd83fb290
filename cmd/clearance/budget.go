package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/report"
)

// budgetSweepFlag registers --budget-sweep on fs.
func budgetSweepFlag(fs *flag.FlagSet) *string {
	return fs.String("budget-sweep", "", "run the plan's cyber-exploit tasks once per token budget, e.g. 2000,8000,32000 (per episode, as --agent-max-tokens), and show the solve rate as a function of the budget; writes DIR/budget-N/ per budget, budget_sweep.json and budget_sweep.svg")
}

// budgetSweep is budget_sweep.json.
type budgetSweep struct {
	Points []assess.BudgetPoint `json:"points"`
}

// runBudgetSweep runs cfg once per budget into cfg.OutDir/budget-N (same
// plan, same seed, only the episodes' token limit changes), writes the
// sweep's JSON and chart, and prints the table.
func runBudgetSweep(ctx context.Context, e *env, cfg assess.Config, list, format string) error {
	budgets, err := assess.ParseBudgets(list)
	if err != nil {
		return usageError("--budget-sweep: %v", err)
	}
	base, ok := cfg.Episodes.(agent.Runner)
	if !ok {
		return usageError("--budget-sweep needs cyber-exploit tasks in the plan (--suite cyber-exploit or --tasks)")
	}
	dir := cfg.OutDir
	var sweep budgetSweep
	for _, b := range budgets {
		c := cfg
		r := base
		r.Limits.MaxTokens = b
		c.Episodes, c.Progress = r, nil
		c.OutDir = filepath.Join(dir, fmt.Sprintf("budget-%d", b))
		res, err := assess.Run(ctx, c)
		if res == nil {
			return fmt.Errorf("budget sweep at %d tokens: %w", b, err)
		}
		if werr := report.WriteRunFiles(c.OutDir, report.Run{Run: res.Run, Metrics: res.Metrics}); werr != nil {
			return werr
		}
		if err != nil {
			return fmt.Errorf("budget sweep at %d tokens: %w", b, err)
		}
		p, _ := assess.BudgetPointOf(b, res.Metrics)
		p.Dir = c.OutDir
		sweep.Points = append(sweep.Points, p)
	}
	js, err := json.MarshalIndent(sweep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "budget_sweep.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("write budget sweep: %w", err)
	}
	svg := budgetChart(sweep.Points)
	if err := os.WriteFile(filepath.Join(dir, "budget_sweep.svg"), []byte(svg), 0o644); err != nil {
		return fmt.Errorf("write budget sweep: %w", err)
	}
	if format == "json" {
		_, err := e.stdout.Write(append(js, '\n'))
		return err
	}
	printBudgetSweep(e.stdout, sweep.Points)
	fmt.Fprintf(e.stdout, "Sweep: %s, chart %s\n", filepath.Join(dir, "budget_sweep.json"), filepath.Join(dir, "budget_sweep.svg"))
	return nil
}

// budgetChart draws the raw and adjusted solve rates per budget.
func budgetChart(points []assess.BudgetPoint) string {
	var bars []report.Bar
	for _, p := range points {
		bars = append(bars,
			report.Bar{Label: fmt.Sprintf("%d tokens: raw", p.Budget), Rate: p.Raw.Rate, Low: p.Raw.CI.Low, High: p.Raw.CI.High, N: p.Raw.N},
			report.Bar{Label: fmt.Sprintf("%d tokens: excl. non-capability", p.Budget), Rate: p.Adjusted.Rate, Low: p.Adjusted.CI.Low, High: p.Adjusted.CI.High, N: p.Adjusted.N})
	}
	return string(report.IntervalChart("Solve rate by token budget per episode", bars))
}

func printBudgetSweep(w io.Writer, points []assess.BudgetPoint) {
	fmt.Fprintf(w, "%12s  %-28s %-28s %s\n", "BUDGET", "SOLVE RATE", "EXCL. NON-CAPABILITY", "FAILED EPISODES BY TRIAGE")
	for _, p := range points {
		fmt.Fprintf(w, "%12d  %-28s %-28s %s\n", p.Budget, rateCell(p.Raw), rateCell(p.Adjusted)+excludedNote(p.Adjusted), triageCounts(p.Triage))
	}
}

func rateCell(r assess.Rate) string {
	return fmt.Sprintf("%5.1f%% [%4.1f, %4.1f] %d/%d", 100*r.Rate, 100*r.CI.Low, 100*r.CI.High, r.Flagged, r.N)
}

func excludedNote(r assess.Rate) string {
	if r.Excluded == 0 {
		return ""
	}
	return fmt.Sprintf(" −%d", r.Excluded)
}

// triageCounts writes failed episodes by label in agent.TriageLabels order.
func triageCounts(m map[string]int) string {
	if len(m) == 0 {
		return "—"
	}
	var parts []string
	seen := map[string]bool{}
	for _, l := range agent.TriageLabels {
		if m[l] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", l, m[l]))
		}
		seen[l] = true
	}
	var rest []string
	for l, n := range m {
		if !seen[l] && n > 0 {
			rest = append(rest, fmt.Sprintf("%s %d", l, n))
		}
	}
	sort.Strings(rest)
	return strings.Join(append(parts, rest...), ", ")
}

// printTriage writes, under the metric lines of a run with agent
// episodes, how many failed episodes each triage label has and how many
// the adjusted rate left out.
func printTriage(w io.Writer, m assess.Metrics) {
	for _, g := range m.Groups {
		if g.Metric != "solve_rate" || g.Episodes == nil {
			continue
		}
		fmt.Fprintf(w, "  %s failed episodes by triage: %s\n", g.Suite, triageCounts(g.Episodes.Triage))
	}
	for _, g := range m.Groups {
		if g.Metric == assess.ExcludingNonCapability && g.Overall.Excluded > 0 {
			fmt.Fprintf(w, "  %s left out %d refused or scaffold-error episodes (automatic triage; reviewers confirm in the service)\n", g.Key, g.Overall.Excluded)
		}
	}
}
