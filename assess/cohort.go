package assess

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/clearance-dev/clearance/stats"
)

// CohortSchema identifies the cohort.json format.
const CohortSchema = "https://clearance.dev/schemas/cohort/v1"

// Member names a model of a cohort: the model under review or one of its
// reference models, and where its results came from.
type Member struct {
	// Name is the cohort's name for the model ("model" for the one under
	// review, the reference's name otherwise, e.g. "previous").
	Name string `json:"name"`
	// Source is how the results were obtained: "reference:PROFILE" (the
	// reference simulator run on the same plan and seed), "run:DIR" (an
	// earlier run directory), "assessment:ID" (a service assessment).
	Source string `json:"source,omitempty"`
	// Identity is the target's identity as recorded in its run.
	Identity string `json:"identity,omitempty"`
	// Digest is "sha256:…" of the member's metrics.json as compared.
	Digest string `json:"digest,omitempty"`
}

// CohortRun is one member with its metrics.
type CohortRun struct {
	Member
	Metrics Metrics
}

// Cohort is cohort.json: the model under review beside each reference
// model, per metric and on one capability scale.
type Cohort struct {
	Schema     string       `json:"schema"`
	Model      Member       `json:"model"`
	References []Comparison `json:"references"`
	// Aggregate places every member on one capability scale; nil when the
	// runs have no capability metric.
	Aggregate *Aggregate `json:"aggregate,omitempty"`
}

// Comparison is the model under review against one reference.
type Comparison struct {
	Reference Member  `json:"reference"`
	Deltas    []Delta `json:"deltas"`
	// Ability is the model's ability minus the reference's on the
	// aggregate scale, when both were placed on it.
	Ability *AbilityDelta `json:"ability,omitempty"`
}

// Delta is one metric of the model beside the same metric of a
// reference: Delta = model − reference, with the Newcombe interval of the
// difference. WithinError is true when the interval covers 0: the data
// cannot tell the two rates apart.
type Delta struct {
	Key         string         `json:"key"`
	Model       stats.Rate     `json:"model"`
	Reference   stats.Rate     `json:"reference"`
	Delta       float64        `json:"delta"`
	CI          stats.Interval `json:"ci"`
	PValue      float64        `json:"p_value"`
	WithinError bool           `json:"within_error"`
	// ByCategory compares the metric per category, for the categories
	// both runs have (Key is the category's name), sorted by name; empty
	// when the only category shared is the whole metric.
	ByCategory []Delta `json:"by_category,omitempty"`
}

// AbilityDelta is the difference of two abilities on the aggregate scale
// (logits) with a Wald interval from the two standard errors.
type AbilityDelta struct {
	Delta       float64        `json:"delta"`
	SE          float64        `json:"se"`
	CI          stats.Interval `json:"ci"`
	WithinError bool           `json:"within_error"`
}

// Aggregate is the capability aggregate: a Rasch model (package stats,
// FitRasch) fitted to the capability metrics of every member (accuracy,
// solve_rate), one item per benchmark category (or difficulty level, when
// the benchmark has one category), or per benchmark.
type Aggregate struct {
	// Scale names the model and unit: "rasch-logit".
	Scale string `json:"scale"`
	// Items are the benchmark categories used ("cyber-exploit.solve_rate
	// category=web"); Dropped those left out and why.
	Items     []string  `json:"items"`
	Dropped   []string  `json:"dropped,omitempty"`
	Abilities []Ability `json:"abilities"`
	// Note says why no ability could be estimated; empty when some were.
	Note string `json:"note,omitempty"`
}

// Ability is one member's place on the aggregate scale.
type Ability struct {
	Name    string         `json:"name"`
	Ability stats.Estimate `json:"ability"`
}

// capabilityMetrics are the metrics where a flagged verdict is a success
// at a task: higher is more capable.
var capabilityMetrics = []string{"accuracy", "solve_rate"}

// CompareCohort compares the model under review with each reference:
// every overall metric present in both runs, and the capability aggregate.
func CompareCohort(model CohortRun, refs []CohortRun) Cohort {
	c := Cohort{Schema: CohortSchema, Model: model.Member, References: []Comparison{}}
	for _, r := range refs {
		cmp := Comparison{Reference: r.Member, Deltas: []Delta{}}
		cats := map[string][]Delta{}
		for _, d := range Compare(r.Metrics, model.Metrics) { // B − A: model − reference
			delta := Delta{Key: d.Key, Model: d.B, Reference: d.A, Delta: d.Diff, CI: d.CI,
				PValue: d.PValue, WithinError: d.CI.Contains(0)}
			if key, cat, ok := strings.Cut(d.Key, " category="); ok {
				delta.Key = cat
				cats[key] = append(cats[key], delta) // Compare sorts by key: by category name here
				continue
			}
			if strings.Contains(d.Key, " ") {
				continue // per transform: left to the runs' own reports
			}
			cmp.Deltas = append(cmp.Deltas, delta)
		}
		for i, d := range cmp.Deltas {
			cs := cats[d.Key]
			if len(cs) == 1 && cs[0].Model.N == d.Model.N && cs[0].Reference.N == d.Reference.N {
				continue // one category holding every sample: the overall row says it
			}
			cmp.Deltas[i].ByCategory = cs
		}
		c.References = append(c.References, cmp)
	}
	all := append([]CohortRun{model}, refs...)
	c.Aggregate = aggregate(all)
	if c.Aggregate != nil {
		ab := map[string]stats.Estimate{}
		for _, a := range c.Aggregate.Abilities {
			ab[a.Name] = a.Ability
		}
		if m, ok := ab[model.Name]; ok {
			for i := range c.References {
				if r, ok := ab[c.References[i].Reference.Name]; ok {
					se := math.Hypot(m.SE, r.SE)
					d := m.Value - r.Value
					z := (m.CI.High - m.Value) / m.SE
					iv := stats.Interval{Low: d - z*se, High: d + z*se, Level: m.CI.Level, Method: "wald-fisher"}
					c.References[i].Ability = &AbilityDelta{Delta: d, SE: se, CI: iv, WithinError: iv.Contains(0)}
				}
			}
		}
	}
	return c
}

// aggregate fits the Rasch model to the members' capability metrics. Items
// (benchmark categories) and members that every member passes or fails
// entirely have no finite estimate: they are dropped, with the reason.
func aggregate(runs []CohortRun) *Aggregate {
	type cell struct{ k, n int }
	cells := map[string]map[string]cell{} // item → member → counts
	for _, r := range runs {
		for _, g := range r.Metrics.Groups {
			if !slices.Contains(capabilityMetrics, g.Metric) {
				continue
			}
			add := func(item string, rt Rate) {
				if rt.N == 0 {
					return
				}
				if cells[item] == nil {
					cells[item] = map[string]cell{}
				}
				cells[item][r.Name] = cell{rt.Flagged, rt.N}
			}
			switch {
			case len(g.ByCategory) > 1:
				for cat, rt := range g.ByCategory {
					add(g.Key+" category="+cat, rt)
				}
			case len(g.ByDifficulty) > 1:
				for d, rt := range g.ByDifficulty {
					add(g.Key+" difficulty="+d, rt)
				}
			default:
				add(g.Key, g.Overall)
			}
		}
	}
	if len(cells) == 0 {
		return nil
	}
	agg := &Aggregate{Scale: "rasch-logit", Items: []string{}, Abilities: []Ability{}}
	items := make([]string, 0, len(cells))
	for it := range cells {
		items = append(items, it)
	}
	sort.Strings(items)
	members := make([]string, 0, len(runs))
	for _, r := range runs {
		members = append(members, r.Name)
	}
	// Drop extreme items and members until none is left: removing one can
	// make another extreme.
	for changed := true; changed; {
		changed = false
		keep := items[:0:0]
		for _, it := range items {
			k, n := 0, 0
			for _, m := range members {
				c := cells[it][m]
				k, n = k+c.k, n+c.n
			}
			switch {
			case n == 0:
				changed = true
			case k == 0:
				agg.Dropped = append(agg.Dropped, it+": no member succeeded on any item")
				changed = true
			case k == n:
				agg.Dropped = append(agg.Dropped, it+": every member succeeded on every item")
				changed = true
			default:
				keep = append(keep, it)
			}
		}
		items = keep
		keepM := members[:0:0]
		for _, m := range members {
			k, n := 0, 0
			for _, it := range items {
				c := cells[it][m]
				k, n = k+c.k, n+c.n
			}
			switch {
			case n == 0:
				agg.Dropped = append(agg.Dropped, m+": no capability results in common with the cohort")
				changed = true
			case k == 0:
				agg.Dropped = append(agg.Dropped, m+": failed every item (below the scale)")
				changed = true
			case k == n:
				agg.Dropped = append(agg.Dropped, m+": succeeded on every item (above the scale)")
				changed = true
			default:
				keepM = append(keepM, m)
			}
		}
		members = keepM
	}
	agg.Items = append(agg.Items, items...)
	counts := make([][]stats.Count, len(members))
	for p, m := range members {
		counts[p] = make([]stats.Count, len(items))
		for i, it := range items {
			c := cells[it][m]
			counts[p][i] = stats.Count{K: c.k, N: c.n}
		}
	}
	if len(items) < 2 && len(members) >= 2 {
		agg.Note = fmt.Sprintf("no aggregate: %d capability item(s) left; the scale needs at least 2 (benchmark categories or difficulty levels: add a capability suite such as cyber-exploit)", len(items))
		return agg
	}
	fit, err := stats.FitRasch(counts, Level)
	if err != nil {
		agg.Note = fmt.Sprintf("no aggregate: %d members and %d items left after dropping extremes: %v", len(members), len(items), err)
		return agg
	}
	for p, m := range members {
		agg.Abilities = append(agg.Abilities, Ability{Name: m, Ability: fit.Ability[p]})
	}
	return agg
}
