package ui

import (
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/report"
	"github.com/clearance-dev/clearance/review"
)

// matrixView is the regime comparison: one row per profile.
type matrixView struct {
	// Unavailable says why there is no matrix; empty when there is one.
	Unavailable string
	EvaluatedAt string
	Rows        []matrixRow
	// Suggested maps profile id to the outcome the policy reached, used
	// to preselect the decision form.
	Suggested map[string]string
}

type matrixRow struct {
	Profile    string
	Title      string
	Status     string
	Applicable bool
	Tier       string
	Outcome    string
	Rationale  string
	Failed     []criterionView
	Conditions []policy.Condition
	Errors     []string
}

type criterionView struct {
	ID       string
	Title    string
	Status   string
	Observed string
	Required string
}

func (h *Handler) matrix(r *http.Request, c review.Case) *matrixView {
	if h.evaluate == nil {
		return &matrixView{Unavailable: "The regime comparison is not available on this server."}
	}
	d, err := h.evaluate(r.Context(), c)
	if err != nil || d == nil {
		h.log.WarnContext(r.Context(), "evaluate case", slog.String("case", c.ID), slog.Any("err", err))
		return &matrixView{Unavailable: "The regime comparison could not be computed for this case; the error has been logged."}
	}
	m := &matrixView{EvaluatedAt: d.EvaluatedAt, Suggested: map[string]string{}}
	for _, res := range d.Results {
		row := matrixRow{Profile: res.Profile, Title: res.Title, Status: res.Status, Applicable: res.Applicable,
			Tier: res.Tier, Outcome: string(res.Outcome), Rationale: res.Rationale, Conditions: res.Conditions, Errors: res.Errors}
		for _, cr := range res.FailedCriteria {
			row.Failed = append(row.Failed, criterionView{ID: cr.ID, Title: cr.Title, Status: cr.Status,
				Observed: observedText(cr.Observed), Required: cr.Required})
		}
		m.Rows = append(m.Rows, row)
		m.Suggested[res.Profile] = string(res.Outcome)
	}
	return m
}

func observedText(o *policy.Observed) string {
	if o == nil {
		return "not measured"
	}
	s := fmt.Sprintf("%s (%d of %d)", pct(o.Rate), o.Flagged, o.N)
	if o.CI != nil {
		s = fmt.Sprintf("%s, 95%% interval %s–%s", s, pct(o.CI.Low), pct(o.CI.High))
	}
	if o.Corrected {
		s += ", corrected for scorer error"
	}
	return s
}

func outcomeChoices() []string {
	os := policy.Outcomes()
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = string(o)
	}
	return out
}

// assessmentView is one assessment with its metrics drawn as charts.
type assessmentView struct {
	review.Assessment
	Spec       string
	Summary    string
	Overall    template.HTML
	Groups     []groupView
	MetricsErr string
}

type groupView struct {
	Key         string
	Flagged     string
	Scorer      string
	Rates       string // the overall rate, raw and corrected for the scorer's error
	ByCategory  template.HTML
	ByTransform template.HTML
}

func (h *Handler) assessmentViews(r *http.Request, u user, caseID string) ([]assessmentView, error) {
	as, err := h.assessments(r.Context(), u.Actor, caseID)
	if err != nil {
		return nil, err
	}
	out := make([]assessmentView, 0, len(as))
	for _, a := range as {
		v := assessmentView{Assessment: a, Spec: string(a.Spec)}
		if a.State == review.AssessmentDone && len(a.Metrics) > 0 {
			var m assess.Metrics
			if err := json.Unmarshal(a.Metrics, &m); err != nil {
				v.MetricsErr = "The metrics of this assessment could not be read."
				h.log.WarnContext(r.Context(), "decode metrics", slog.String("assessment", a.ID), slog.Any("err", err))
			} else {
				fillCharts(&v, m)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// fillCharts draws a run's rates: one chart of every metric's overall
// rate, then per metric its rates by category and by transform (attack).
func fillCharts(v *assessmentView, m assess.Metrics) {
	v.Summary = fmt.Sprintf("%d samples, %d scored, %d errors (status %s)", m.Samples, m.Scored, m.Errors, m.Status)
	overall := make([]report.Bar, 0, len(m.Groups))
	for _, g := range m.Groups {
		overall = append(overall, bar(g.Key, g.Overall))
		gv := groupView{Key: g.Key, Flagged: g.Flagged, Scorer: scorerText(g.Scorer), Rates: ratesText(g.Overall)}
		gv.ByCategory = report.IntervalChart(g.Key+" by category", bars(g.ByCategory))
		gv.ByTransform = report.IntervalChart(g.Key+" by transform", bars(g.ByTransform))
		v.Groups = append(v.Groups, gv)
	}
	if len(overall) > 0 {
		v.Overall = report.IntervalChart("Overall rates with 95% intervals", overall)
	}
}

func bar(label string, r assess.Rate) report.Bar {
	return report.Bar{Label: label, Rate: r.Rate, Low: r.CI.Low, High: r.CI.High, N: r.N}
}

func bars(m map[string]assess.Rate) []report.Bar {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]report.Bar, len(keys))
	for i, k := range keys {
		out[i] = bar(k, m[k])
	}
	return out
}

// ratesText is a rate as observed and, when the scorer's error rates are
// known, corrected for them.
func ratesText(r assess.Rate) string {
	t := fmt.Sprintf("observed %s [%s, %s] (%d of %d", pct(r.Rate), pct(r.CI.Low), pct(r.CI.High), r.Flagged, r.N)
	if r.Errors > 0 {
		t += fmt.Sprintf("; %d errors excluded", r.Errors)
	}
	t += ")"
	if c := r.Corrected; c != nil {
		t += fmt.Sprintf("; corrected for scorer error %s [%s, %s]", pct(c.Rate), pct(c.CI.Low), pct(c.CI.High))
		if c.Reason != "" {
			t += " (" + c.Reason + ")"
		}
	} else {
		t += "; not corrected (the scorer's error rates are not measured)"
	}
	return t
}

func scorerText(s assess.ScorerInfo) string {
	t := s.Name
	if s.Version != "" {
		t += " " + s.Version
	}
	if q := s.Quality; q != nil {
		t += fmt.Sprintf(" — measured on %s (n=%d): sensitivity %s, specificity %s, precision %s, recall %s", q.Dataset, q.N, pct(q.Sensitivity), pct(q.Specificity), pct(q.Precision), pct(q.Recall))
	} else {
		t += " — quality not measured"
	}
	return strings.TrimSpace(t)
}
