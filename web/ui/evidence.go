package ui

import (
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

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
	// Outcome is the official's decided outcome once the case has a
	// decision, else the outcome the policy computed.
	Outcome    string
	Rationale  string
	Failed     []criterionView
	Conditions []policy.Condition
	Errors     []string
	// Explanation is the policy's plain-language reason for Computed.
	Explanation string
	// Computed is the outcome the policy computed; empty when the
	// comparison could not be computed.
	Computed string
	// Decided describes the decision the outcome is taken from; nil
	// before a decision.
	Decided *decidedView
	// RedTeam is the red-team campaign as evidence, in the rows of
	// profiles whose rules read it (campaign.go); "" otherwise.
	RedTeam string
}

// decidedView says who settled a matrix row's outcome, and when.
type decidedView struct {
	DecisionID string
	On         string // the date, YYYY-MM-DD (UTC)
	Deemed     bool   // deemed by an expired clock, not decided by the official
	Appealed   bool   // the case has been appealed since
	// Differs is true when the decided outcome is not the computed one.
	Differs bool
}

type criterionView struct {
	ID       string
	Title    string
	Status   string
	Observed string
	Required string
}

// matrix is the regime comparison of c. decisions are the case's
// decisions, oldest first: once there is one, each row shows the latest
// decision's outcome for its profile, with the computed outcome beside it
// when they differ, so the matrix never contradicts what was decided.
func (h *Handler) matrix(r *http.Request, c review.Case, decisions []review.Decision) *matrixView {
	m := &matrixView{Suggested: map[string]string{}}
	if h.evaluate == nil {
		m.Unavailable = "The regime comparison is not available on this server."
	} else if d, err := h.evaluate(r.Context(), c); err != nil || d == nil {
		h.log.WarnContext(r.Context(), "evaluate case", slog.String("case", c.ID), slog.Any("err", err))
		m.Unavailable = "The regime comparison could not be computed for this case; the error has been logged."
	} else {
		m.EvaluatedAt = d.EvaluatedAt
		for _, res := range d.Results {
			row := matrixRow{Profile: res.Profile, Title: res.Title, Status: res.Status, Applicable: res.Applicable,
				Tier: res.Tier, Outcome: string(res.Outcome), Rationale: res.Rationale, Conditions: res.Conditions, Errors: res.Errors,
				Explanation: res.Explanation, Computed: string(res.Outcome)}
			for _, cr := range res.FailedCriteria {
				row.Failed = append(row.Failed, criterionView{ID: cr.ID, Title: cr.Title, Status: cr.Status,
					Observed: observedText(cr.Observed), Required: cr.Required})
			}
			m.Rows = append(m.Rows, row)
			// A signed decision records a profile not in force as not
			// applicable (the decision form offers no not_in_force).
			if res.Outcome == policy.NotInForce {
				m.Suggested[res.Profile] = string(policy.NotApplicable)
			} else {
				m.Suggested[res.Profile] = string(res.Outcome)
			}
		}
	}
	if len(decisions) == 0 {
		return m
	}
	last := decisions[len(decisions)-1]
	for _, o := range outcomeRows(last.Outcomes) {
		if o.Outcome == "" {
			continue // not in a shape we can read; the decision page shows it as recorded
		}
		dv := &decidedView{DecisionID: last.ID, On: last.CreatedAt.UTC().Format(time.DateOnly), Deemed: last.Deemed || o.Deemed,
			Appealed: c.State == review.StateAppealed}
		i := slices.IndexFunc(m.Rows, func(x matrixRow) bool { return x.Profile == o.Profile })
		if i < 0 {
			m.Rows = append(m.Rows, matrixRow{Profile: o.Profile})
			i = len(m.Rows) - 1
		}
		row := &m.Rows[i]
		dv.Differs = row.Computed != "" && row.Computed != o.Outcome
		row.Outcome, row.Decided = o.Outcome, dv
	}
	return m
}

// explanations maps profile id to the policy's computed outcome and its
// explanation for c; empty when the comparison is unavailable.
func (h *Handler) explanations(r *http.Request, c review.Case) map[string]policy.Result {
	out := map[string]policy.Result{}
	if h.evaluate == nil {
		return out
	}
	d, err := h.evaluate(r.Context(), c)
	if err != nil || d == nil {
		h.log.WarnContext(r.Context(), "evaluate case", slog.String("case", c.ID), slog.Any("err", err))
		return out
	}
	for _, res := range d.Results {
		out[res.Profile] = res
	}
	return out
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
	// Plan is the spec as a table; HasPlan is false when it could not be
	// read that way (the raw spec is shown alone).
	Plan    planView
	HasPlan bool
	// Cyber are the solve-rate tables of cyber-exploit groups.
	Cyber []cyberView
	// Private is the private-variant gap (private.go); nil when the run
	// had no private forms.
	Private *privateView
	// Contamination is the canary scan (agency staff only: a developer's
	// metrics come without it); nil when the run was not scanned.
	Contamination *assess.Contamination
	// RefName and RefModel name the reference model of a reference
	// assessment (cohort.go); "" for the model's own.
	RefName, RefModel string
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
		v.Plan, v.HasPlan = planOf(a.Spec)
		if a.State == review.AssessmentDone && len(a.Metrics) > 0 {
			var m assess.Metrics
			if err := json.Unmarshal(a.Metrics, &m); err != nil {
				v.MetricsErr = "The metrics of this assessment could not be read."
				h.log.WarnContext(r.Context(), "decode metrics", slog.String("assessment", a.ID), slog.Any("err", err))
			} else {
				fillCharts(&v, m)
				v.Cyber = cyberViews(m)
				v.Private = privateGapView(m.PrivateGap)
				v.Contamination = m.Contamination
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
		if c.Caution != "" {
			t += "; caution: " + c.Caution
		}
	} else {
		t += "; not corrected (the scorer's error rates are not measured)"
	}
	return t
}

func scorerText(s assess.ScorerInfo) string {
	t := s.Label()
	if q := s.Quality; q != nil {
		t += fmt.Sprintf(" — measured on %s (n=%d): sensitivity %s, specificity %s, precision %s, recall %s", q.Dataset, q.N, pct(q.Sensitivity), pct(q.Specificity), pct(q.Precision), pct(q.Recall))
	} else {
		t += " — quality not measured"
	}
	return strings.TrimSpace(t)
}
