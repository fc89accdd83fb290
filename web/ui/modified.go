package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
)

// A modified model's case shows the prior case it re-reviews, with the
// prior evidence side by side: each profile's outcome and each metric's
// overall rate, prior and now, and whether the profiles require a full
// review (review.PriorReview).

type priorView struct {
	*review.PriorReview
	Outcomes []sideBySide
	Metrics  []sideBySide
}

// sideBySide is one row of the comparison: a key, the prior value and
// this case's ("—" when absent).
type sideBySide struct {
	Key, Prior, Now string
}

func decisionOutcomes(d review.Decision) map[string]string {
	out := map[string]string{}
	var m map[string]json.RawMessage
	if json.Unmarshal(d.Outcomes, &m) != nil {
		return out
	}
	for p, v := range m {
		if e, ok := review.ParseOutcomeEntry(v); ok {
			out[p] = e.Outcome
		}
	}
	return out
}

func metricRates(a review.Assessment) map[string]string {
	out := map[string]string{}
	var m assess.Metrics
	if len(a.Metrics) == 0 || json.Unmarshal(a.Metrics, &m) != nil {
		return out
	}
	for _, g := range m.Groups {
		out[g.Key] = fmt.Sprintf("%.1f%% (n=%d)", 100*g.Overall.Rate, g.Overall.N)
	}
	return out
}

func sideRows(prior, now map[string]string) []sideBySide {
	var keys []string
	for k := range prior {
		keys = append(keys, k)
	}
	for k := range now {
		if _, ok := prior[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	rows := make([]sideBySide, 0, len(keys))
	for _, k := range keys {
		r := sideBySide{Key: k, Prior: "—", Now: "—"}
		if v, ok := prior[k]; ok {
			r.Prior = v
		}
		if v, ok := now[k]; ok {
			r.Now = v
		}
		rows = append(rows, r)
	}
	return rows
}

// priorView builds the comparison for case c, nil when c re-reviews no
// case the user sees.
func (h *Handler) priorView(ctx context.Context, a review.Actor, c review.Case, decisions []review.Decision, runs []review.Assessment) (*priorView, error) {
	pr, err := h.svc.PriorReview(ctx, a, c.ID)
	if err != nil || pr == nil {
		return nil, err
	}
	v := &priorView{PriorReview: pr}
	now := map[string]string{}
	if len(decisions) > 0 {
		now = decisionOutcomes(decisions[len(decisions)-1])
	}
	v.Outcomes = sideRows(decisionOutcomes(pr.Decision), now)
	var latest review.Assessment
	for _, r := range runs {
		if r.State == review.AssessmentDone {
			latest = r
		}
	}
	v.Metrics = sideRows(metricRates(pr.Assessment), metricRates(latest))
	return v, nil
}
