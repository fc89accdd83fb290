package review

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// Token-budget sweeps in the service (issue 17.3). An assessment input
// with Budgets schedules one assessment per budget: the same plan (same
// suites, samples and seed), differing only in the token budget of each
// agent episode. The assessments share a sweep id; each records its
// budget and the sweep in its Spec, under "budget_tokens" and "sweep",
// beside the planner's keys, so a sweep is read back from the
// assessments alone (BudgetSweeps) and needs no table of its own. An
// input without Budgets schedules one assessment as before.
//
// The planner decides whether a plan can be swept (package work refuses
// one without agent tasks); the runner gives each episode the
// assessment's budget. The solve rate as a function of the budget is
// computed from each assessment's metrics by the caller (package web),
// since this package does not read metrics.

// Bounds of a budget sweep; they equal assess.MaxSweepBudgets and the
// bounds of assess.ParseBudgets (clearance assess --budget-sweep), which
// this package does not import; a test in web checks they agree.
const (
	MaxSweepBudgets = 12
	MaxBudgetTokens = 100_000_000
)

// checkBudgets validates an input's budgets: at most MaxSweepBudgets,
// each a whole number of tokens from 1 to MaxBudgetTokens, none twice.
func checkBudgets(bs []int64) error {
	if len(bs) > MaxSweepBudgets {
		return invalid("budgets", "%d budgets exceeds the limit of %d", len(bs), MaxSweepBudgets)
	}
	for i, b := range bs {
		if b < 1 || b > MaxBudgetTokens {
			return invalid(fmt.Sprintf("budgets[%d]", i), "%d is not a token budget (a whole number from 1 to %d)", b, MaxBudgetTokens)
		}
		if slices.Contains(bs[:i], b) {
			return invalid(fmt.Sprintf("budgets[%d]", i), "budget %d is listed twice", b)
		}
	}
	return nil
}

// SweepSpec is what an assessment of a budget sweep records in its Spec.
type SweepSpec struct {
	// Sweep is the sweep's id ("swp_…"), shared by its assessments;
	// empty for an assessment outside a sweep.
	Sweep string `json:"sweep,omitempty"`
	// BudgetTokens is the token budget of each agent episode.
	BudgetTokens int64 `json:"budget_tokens,omitempty"`
}

// Sweep returns the budget sweep the assessment's Spec records; the zero
// SweepSpec when it is in none.
func (as Assessment) Sweep() SweepSpec {
	var s SweepSpec
	if json.Unmarshal(as.Spec, &s) != nil {
		return SweepSpec{}
	}
	return s
}

// sweepAssessments returns the assessments to create for as: as alone
// when budgets is empty, else one copy per budget in increasing order,
// each with its own id, the budget and the sweep's id added to its spec.
func (s *Service) sweepAssessments(as Assessment, budgets []int64) ([]Assessment, error) {
	if len(budgets) == 0 {
		return []Assessment{as}, nil
	}
	sweep, err := newID("swp", as.CreatedAt)
	if err != nil {
		return nil, err
	}
	bs := slices.Clone(budgets)
	slices.Sort(bs)
	out := make([]Assessment, 0, len(bs))
	for i, b := range bs {
		x := as
		if i > 0 {
			if x.ID, err = newID("asm", as.CreatedAt); err != nil {
				return nil, err
			}
		}
		if x.Spec, err = addSpecKeys(as.Spec, SweepSpec{Sweep: sweep, BudgetTokens: b}); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// addSpecKeys adds the keys of v (a struct marshalled to a JSON object)
// to spec, a compact JSON object the planner wrote; a planner that wrote
// one of them itself is an error.
func addSpecKeys(spec []byte, v any) ([]byte, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(spec, &keys); err != nil || keys == nil {
		return nil, fmt.Errorf("planner spec: not a JSON object")
	}
	add, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var addKeys map[string]json.RawMessage
	if err := json.Unmarshal(add, &addKeys); err != nil {
		return nil, err
	}
	for k := range addKeys {
		if _, ok := keys[k]; ok {
			return nil, fmt.Errorf("planner spec: key %q is the service's to record", k)
		}
	}
	if len(addKeys) == 0 {
		return spec, nil
	}
	// A fresh slice: appending to spec's own would overwrite its "}",
	// and the caller adds keys to the same spec once per budget.
	body := bytes.Clone(bytes.TrimSuffix(bytes.TrimSpace(spec), []byte("}")))
	if len(bytes.TrimSpace(body)) > 1 { // more than "{"
		body = append(body, ',')
	}
	return append(body, add[1:]...), nil
}

// BudgetSweep is one token-budget sweep of a case: its assessments in
// increasing order of budget.
type BudgetSweep struct {
	ID          string
	Assessments []Assessment
}

// maxSweepScan bounds the assessments BudgetSweeps reads.
const maxSweepScan = 10 * MaxPageLimit

// BudgetSweeps lists a case's budget sweeps, newest first, each with
// the assessments the actor may see (metrics redacted as Assessments
// redacts them), in increasing order of budget. It reads at most the
// case's 10×MaxPageLimit most recent assessments' worth of pages.
func (s *Service) BudgetSweeps(ctx context.Context, a Actor, caseID string) ([]BudgetSweep, error) {
	byID := map[string]*BudgetSweep{}
	var order []string
	p := Page{Limit: MaxPageLimit}
	for read := 0; read < maxSweepScan; {
		as, err := s.Assessments(ctx, a, caseID, p)
		if err != nil {
			return nil, fmt.Errorf("list budget sweeps: %w", err)
		}
		for _, x := range as {
			sw := x.Sweep()
			if sw.Sweep == "" {
				continue
			}
			bs, ok := byID[sw.Sweep]
			if !ok {
				bs = &BudgetSweep{ID: sw.Sweep}
				byID[sw.Sweep] = bs
				order = append(order, sw.Sweep)
			}
			bs.Assessments = append(bs.Assessments, x)
		}
		read += len(as)
		if len(as) < p.N() {
			break
		}
		p.After = as[len(as)-1].ID
	}
	slices.Sort(order)
	slices.Reverse(order)
	out := make([]BudgetSweep, 0, len(order))
	for _, id := range order {
		bs := byID[id]
		slices.SortFunc(bs.Assessments, func(x, y Assessment) int {
			return cmp.Compare(x.Sweep().BudgetTokens, y.Sweep().BudgetTokens)
		})
		out = append(out, *bs)
	}
	return out, nil
}
