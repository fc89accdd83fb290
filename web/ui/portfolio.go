package ui

import (
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
)

// maxPortfolioCases bounds the cases the portfolio reads.
const maxPortfolioCases = 500

// maxTrendSeries bounds the rates drawn per model.
const maxTrendSeries = 6

type portfolioCell struct {
	Outcome string
	// Source is "decision", "evaluation" (the current evaluation of an
	// undecided case) or "state" (neither is available).
	Source string
	CaseID string
}

type portfolioRow struct {
	Model string
	Cells []portfolioCell
	// Submissions is how many cases the model has.
	Submissions int
	Trend       template.HTML
	TrendRows   []trendRow
	// Dates are the submission dates, the trend's x axis.
	Dates []string
}

type trendRow struct {
	Key   string
	Rates []string
}

type portfolioPage struct {
	base
	Profiles []string
	Rows     []portfolioRow
	// Truncated is set when only the first maxPortfolioCases were read.
	Truncated bool
}

// portfolio shows every model the actor can see against every regime
// (profile) its cases were submitted under: the latest decision's outcome,
// or for an undecided case the current evaluation; and per model the
// trend of its key rates across submissions. Officials, admins and
// auditors; the cases listed are those the service lets the actor see.
func (h *Handler) portfolio(w http.ResponseWriter, r *http.Request, u user) {
	if !u.User.Has(review.RoleOfficial) && !u.User.Has(review.RoleAdmin) && !u.User.Has(review.RoleAuditor) {
		h.serviceError(w, r, review.ErrForbidden)
		return
	}
	ctx := r.Context()
	var cases []review.Case
	f := review.CaseFilter{Page: review.Page{Limit: review.MaxPageLimit}}
	truncated := false
	for {
		cs, err := h.svc.ListCases(ctx, u.Actor, f)
		if err != nil {
			h.serviceError(w, r, err)
			return
		}
		cases = append(cases, cs...)
		if len(cs) < f.Page.N() {
			break
		}
		if len(cases) >= maxPortfolioCases {
			truncated = true
			break
		}
		f.Page.After = cs[len(cs)-1].ID
	}
	byModel := map[string][]review.Case{}
	profSet := map[string]bool{}
	for _, c := range cases {
		byModel[c.ModelName] = append(byModel[c.ModelName], c)
		for _, p := range c.Profiles {
			profSet[p] = true
		}
	}
	d := &portfolioPage{base: base{Title: "Portfolio", Nav: "portfolio"}, Truncated: truncated}
	d.setUser(u)
	for p := range profSet {
		d.Profiles = append(d.Profiles, p)
	}
	sort.Strings(d.Profiles)
	models := make([]string, 0, len(byModel))
	for m := range byModel {
		models = append(models, m)
	}
	sort.Strings(models)
	for _, m := range models {
		cs := byModel[m]
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].CreatedAt.Before(cs[j].CreatedAt) })
		row := portfolioRow{Model: m, Submissions: len(cs)}
		cache := map[string]map[string]portfolioCell{}
		for _, p := range d.Profiles {
			cell := portfolioCell{}
			for i := len(cs) - 1; i >= 0; i-- {
				if !slices.Contains(cs[i].Profiles, p) {
					continue
				}
				outs, ok := cache[cs[i].ID]
				if !ok {
					var err error
					if outs, err = h.caseOutcomes(r, u, cs[i]); err != nil {
						h.serviceError(w, r, err)
						return
					}
					cache[cs[i].ID] = outs
				}
				cell = outs[p]
				cell.CaseID = cs[i].ID
				break
			}
			row.Cells = append(row.Cells, cell)
		}
		var err error
		if row.Trend, row.TrendRows, row.Dates, err = h.trend(r, u, m, cs); err != nil {
			h.serviceError(w, r, err)
			return
		}
		d.Rows = append(d.Rows, row)
	}
	h.render(w, r, http.StatusOK, "portfolio", d)
}

// caseOutcomes returns a case's outcome per profile: its latest
// decision's, else its current evaluation's, else its state.
func (h *Handler) caseOutcomes(r *http.Request, u user, c review.Case) (map[string]portfolioCell, error) {
	out := map[string]portfolioCell{}
	ds, err := h.svc.Decisions(r.Context(), u.Actor, c.ID, review.Page{Limit: review.MaxPageLimit})
	if err != nil {
		return nil, err
	}
	if len(ds) > 0 {
		for _, o := range outcomeRows(ds[len(ds)-1].Outcomes) {
			out[o.Profile] = portfolioCell{Outcome: o.Outcome, Source: "decision"}
		}
	}
	if h.evaluate != nil && len(out) < len(c.Profiles) {
		ev, err := h.evaluate(r.Context(), c)
		if err != nil {
			h.log.WarnContext(r.Context(), "evaluate case for portfolio", slog.String("case", c.ID), slog.Any("err", err))
		} else if ev != nil {
			for _, res := range ev.Results {
				if _, done := out[res.Profile]; !done {
					out[res.Profile] = portfolioCell{Outcome: string(res.Outcome), Source: "evaluation"}
				}
			}
		}
	}
	for _, p := range c.Profiles {
		if _, done := out[p]; !done {
			out[p] = portfolioCell{Outcome: string(c.State), Source: "state"}
		}
	}
	return out, nil
}

// trend collects the overall rate of each metric from the latest
// finished assessment of each of a model's cases (oldest first) and draws
// them as lines.
func (h *Handler) trend(r *http.Request, u user, model string, cs []review.Case) (template.HTML, []trendRow, []string, error) {
	var labels []string
	series := map[string][]float64{}
	for i, c := range cs {
		as, err := h.assessments(r.Context(), u.Actor, c.ID)
		if err != nil {
			return "", nil, nil, err
		}
		labels = append(labels, c.CreatedAt.UTC().Format("2006-01-02"))
		refs, err := h.svc.References(r.Context(), u.Actor, c.ID) // reference models' runs are not the model's
		if err != nil {
			return "", nil, nil, err
		}
		var m *assess.Metrics
		for j := len(as) - 1; j >= 0; j-- {
			if _, isRef := refs[as[j].ID]; !isRef && as[j].State == review.AssessmentDone && len(as[j].Metrics) > 0 {
				var mm assess.Metrics
				if json.Unmarshal(as[j].Metrics, &mm) == nil {
					m = &mm
					break
				}
			}
		}
		if m == nil {
			continue
		}
		for _, g := range m.Groups {
			s, ok := series[g.Key]
			if !ok {
				if len(series) >= maxTrendSeries {
					continue
				}
				s = nanSlice(len(cs))
			}
			s[i] = g.Overall.Rate
			series[g.Key] = s
		}
	}
	if len(series) == 0 {
		return "", nil, labels, nil
	}
	keys := make([]string, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var rows []trendRow
	for _, k := range keys {
		tr := trendRow{Key: k}
		for _, v := range series[k] {
			tr.Rates = append(tr.Rates, pct(v))
		}
		rows = append(rows, tr)
	}
	return trendChart("Key rates of "+model+" across submissions", labels, keys, series), rows, labels, nil
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// trendChart draws rates (0..1) over submissions as an inline SVG line
// chart: one line per key with a dot per submission, the key written at
// the line's last point (and in a legend), so that it reads without
// colour.
func trendChart(title string, labels, keys []string, series map[string][]float64) template.HTML {
	const (
		left, top, plotW, plotH, legendW = 48, 24, 420, 160, 260
	)
	n := len(labels)
	width, height := left+plotW+legendW, top+plotH+40
	x := func(i int) float64 {
		if n == 1 {
			return left + plotW/2
		}
		return left + float64(i)*plotW/float64(n-1)
	}
	y := func(v float64) float64 { return top + (1-v)*plotH }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="trend" role="img" viewBox="0 0 %d %d" width="%d" height="%d" aria-labelledby="t-%s">`,
		width, height, width, height, svgID(title))
	fmt.Fprintf(&b, `<title id="t-%s">%s</title>`, svgID(title), template.HTMLEscapeString(title))
	for _, g := range []float64{0, 0.25, 0.5, 0.75, 1} {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#d9dcd6"/>`, left, left+plotW, y(g), y(g))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#59636b">%.0f%%</text>`, left-6, y(g)+4, g*100)
	}
	for i, l := range labels {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#59636b">%s</text>`, x(i), top+plotH+18, template.HTMLEscapeString(l))
	}
	colours := []string{"#1f5f8b", "#a61b1b", "#1f6b3a", "#7a5200", "#6b3fa0", "#333333"}
	dashes := []string{"", "6 3", "2 3", "8 3 2 3", "4 4", "1 2"}
	for k, key := range keys {
		col, dash := colours[k%len(colours)], dashes[k%len(dashes)]
		var pts []string
		for i, v := range series[key] {
			if math.IsNaN(v) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: %s on %s</title></circle>`,
				x(i), y(v), col, template.HTMLEscapeString(key), pct(v), template.HTMLEscapeString(labels[i]))
		}
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"`, col, strings.Join(pts, " "))
			if dash != "" {
				fmt.Fprintf(&b, ` stroke-dasharray="%s"`, dash)
			}
			b.WriteString("/>")
		}
		ly := top + 6 + k*18
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"`, left+plotW+16, left+plotW+40, ly, ly, col)
		if dash != "" {
			fmt.Fprintf(&b, ` stroke-dasharray="%s"`, dash)
		}
		b.WriteString("/>")
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#1d2327">%s</text>`, left+plotW+46, ly+4, template.HTMLEscapeString(key))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text is escaped above
}

func svgID(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}
