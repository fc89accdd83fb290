package assess

import (
	"sort"

	"github.com/clearance-dev/clearance/stats"
)

// Difference is one metric compared between two runs: B − A with its
// Newcombe interval and a two-sided test of equality.
type Difference struct {
	Key         string         `json:"key"`
	A           stats.Rate     `json:"a"`
	B           stats.Rate     `json:"b"`
	Diff        float64        `json:"diff"`
	CI          stats.Interval `json:"ci"`
	PValue      float64        `json:"p_value"`
	Significant bool           `json:"significant"`
}

// Compare returns the difference of every metric group present in both
// runs (overall, by category and by transform), sorted by key. Groups found
// in only one run are left out.
func Compare(a, b Metrics) []Difference {
	bg := map[string]Group{}
	for _, g := range b.Groups {
		bg[g.Key] = g
	}
	var out []Difference
	add := func(key string, x, y Rate) {
		if x.N == 0 || y.N == 0 {
			return
		}
		d := stats.Diff(y.Flagged, y.N, x.Flagged, x.N, Level) // stats.Diff is first − second
		out = append(out, Difference{Key: key, A: d.B, B: d.A, Diff: d.Diff, CI: d.CI, PValue: d.PValue, Significant: d.Significant})
	}
	for _, ga := range a.Groups {
		gb, ok := bg[ga.Key]
		if !ok {
			continue
		}
		add(ga.Key, ga.Overall, gb.Overall)
		for c, r := range ga.ByCategory {
			if r2, ok := gb.ByCategory[c]; ok {
				add(ga.Key+" category="+c, r, r2)
			}
		}
		for t, r := range ga.ByTransform {
			if r2, ok := gb.ByTransform[t]; ok && len(ga.ByTransform) > 1 {
				add(ga.Key+" transform="+t, r, r2)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
