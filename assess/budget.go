package assess

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/clearance-dev/clearance/suite"
)

// A token budget sweep runs the same exploit tasks (same plan, same seed)
// at several per-episode token budgets (agent.Limits.MaxTokens) and shows
// the solve rate as a function of the budget: a model that solves more
// with more tokens is limited by the budget, not (only) by capability.

// MaxSweepBudgets bounds how many budgets one sweep runs.
const MaxSweepBudgets = 12

// ParseBudgets parses a sweep's budgets, "2000,8000,32000": whole numbers
// of tokens from 1 to 100,000,000, at most MaxSweepBudgets, no repeats.
// They are returned in increasing order. The error names the bad value.
func ParseBudgets(s string) ([]int64, error) {
	parts := strings.Split(s, ",")
	if len(parts) > MaxSweepBudgets {
		return nil, fmt.Errorf("budget sweep: %d budgets exceeds the limit of %d", len(parts), MaxSweepBudgets)
	}
	out := make([]int64, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		b, err := strconv.ParseInt(p, 10, 64)
		if err != nil || b < 1 || b > 100_000_000 {
			return nil, fmt.Errorf("budget sweep: %q is not a token budget (a whole number from 1 to 100000000)", p)
		}
		if slices.Contains(out, b) {
			return nil, fmt.Errorf("budget sweep: budget %d is listed twice", b)
		}
		out = append(out, b)
	}
	slices.Sort(out)
	return out, nil
}

// BudgetPoint is the solve rate of a sweep's run at one budget: raw, and
// excluding non-capability failures (ExcludingNonCapability), summed over
// the run's exploit suites, with the failed episodes by triage label.
type BudgetPoint struct {
	Budget   int64          `json:"budget_tokens"`
	Dir      string         `json:"dir,omitempty"`
	Raw      Rate           `json:"solve_rate"`
	Adjusted Rate           `json:"solve_rate_excluding_noncapability"`
	Triage   map[string]int `json:"triage,omitempty"`
}

// BudgetPointOf reads the point of one run's metrics; false when they
// hold no exploit group. Its intervals are Wilson's, not clustered (one
// point may sum several suites' groups).
func BudgetPointOf(budget int64, m Metrics) (BudgetPoint, bool) {
	p := BudgetPoint{Budget: budget}
	var raw, adj counts
	found := false
	for _, g := range m.Groups {
		if g.Kind != suite.KindExploit {
			continue
		}
		o := g.Overall
		switch g.Metric {
		case "solve_rate":
			found = true
			raw.k, raw.n, raw.errs = raw.k+o.Flagged, raw.n+o.N, raw.errs+o.Errors
			if g.Episodes != nil {
				for l, n := range g.Episodes.Triage {
					if p.Triage == nil {
						p.Triage = map[string]int{}
					}
					p.Triage[l] += n
				}
			}
		case ExcludingNonCapability:
			adj.k, adj.n, adj.errs, adj.excl = adj.k+o.Flagged, adj.n+o.N, adj.errs+o.Errors, adj.excl+o.Excluded
		}
	}
	p.Raw, p.Adjusted = rate(raw, nil, nil), rate(adj, nil, nil)
	return p, found
}
