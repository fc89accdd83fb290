package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/report"
	"github.com/clearance-dev/clearance/review"
)

// This file is the case page's token-budget sweeps (issue 17.3; the
// service's review.BudgetSweeps): per sweep a table of the solve rate at
// each budget, raw and excluding non-capability failures (the automatic
// triage in each assessment's metrics), and the same as a chart; and the
// schedule form's variant, scaffold, private-forms and budgets fields.

// sweepView is one sweep on the case page.
type sweepView struct {
	ID      string
	Variant string
	Rows    []sweepRow
	Chart   template.HTML // empty until a point is done
}

type sweepRow struct {
	Budget       int64
	AssessmentID string
	State        string
	Done         bool
	Raw, Adj     string // "50.0% [15.0%, 85.0%] 1/2"
	Excluded     int
	FailedBy     string
}

// sweeps builds the case's sweep views, newest first.
func (h *Handler) sweeps(ctx context.Context, a review.Actor, caseID string) ([]sweepView, error) {
	ss, err := h.svc.BudgetSweeps(ctx, a, caseID)
	if err != nil {
		return nil, err
	}
	var out []sweepView
	for _, s := range ss {
		v := sweepView{ID: s.ID}
		var bars []report.Bar
		for _, as := range s.Assessments {
			b := as.Sweep().BudgetTokens
			if v.Variant == "" {
				v.Variant = as.Variant().String()
			}
			row := sweepRow{Budget: b, AssessmentID: as.ID, State: string(as.State)}
			var m assess.Metrics
			if as.State == review.AssessmentDone && json.Unmarshal(as.Metrics, &m) == nil {
				if p, ok := assess.BudgetPointOf(b, m); ok {
					row.Done, row.Raw, row.Adj, row.Excluded = true, sweepRate(p.Raw), sweepRate(p.Adjusted), p.Adjusted.Excluded
					row.FailedBy = failedBy(p.Triage)
					bars = append(bars,
						report.Bar{Label: fmt.Sprintf("%d tokens: raw", b), Rate: p.Raw.Rate, Low: p.Raw.CI.Low, High: p.Raw.CI.High, N: p.Raw.N},
						report.Bar{Label: fmt.Sprintf("%d tokens: excl. non-capability", b), Rate: p.Adjusted.Rate, Low: p.Adjusted.CI.Low, High: p.Adjusted.CI.High, N: p.Adjusted.N})
				}
			}
			v.Rows = append(v.Rows, row)
		}
		if len(bars) > 0 {
			v.Chart = report.IntervalChart("Solve rate by token budget per episode", bars)
		}
		out = append(out, v)
	}
	return out, nil
}

func sweepRate(r assess.Rate) string {
	if r.N == 0 {
		return "— (0 episodes)"
	}
	return fmt.Sprintf("%s [%s, %s] %d/%d", pct1(r.Rate), pct1(r.CI.Low), pct1(r.CI.High), r.Flagged, r.N)
}

// failedBy writes failed episodes by label, in agent.TriageLabels order.
func failedBy(m map[string]int) string {
	var parts []string
	for _, l := range agent.TriageLabels {
		if m[l] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", l, m[l]))
		}
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

// scheduleFields are the schedule form's fields that the service may
// name in an error.
var scheduleFields = []string{"suites", "limit", "seed", "variant", "checkpoint", "scaffold", "private", "budgets"}

// parseVariantAndSweep reads the schedule form's variant, checkpoint,
// scaffold, private-forms and budgets fields into in, failing f's
// fields that are malformed; the service checks the rest (a checkpoint
// name's form, whether the plan can be swept, whether the server holds
// a private seed).
func parseVariantAndSweep(f *form, in *review.AssessmentInput) {
	if v := strings.TrimSpace(f.V("variant")); v != "" {
		if !slices.Contains(review.Variants, v) {
			f.fail("variant", "Choose one of: "+strings.Join(review.Variants, ", ")+".")
		}
		in.Variant = v
	}
	in.Checkpoint = strings.TrimSpace(f.V("checkpoint"))
	in.Scaffold = strings.TrimSpace(f.V("scaffold"))
	switch f.V("private") {
	case "", "on":
		in.Private = f.V("private") == "on"
	default:
		f.fail("private", "Tick the box or leave it empty.")
	}
	if s := strings.TrimSpace(f.V("budgets")); s != "" {
		bs, err := assess.ParseBudgets(s)
		if err != nil {
			f.fail("budgets", strings.TrimPrefix(err.Error(), "budget sweep: ")+".")
		}
		in.Budgets = bs
	}
}
