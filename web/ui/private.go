package ui

import (
	"fmt"

	"github.com/clearance-dev/clearance/assess"
)

// privateView is an assessment's private-variant gap on the case page:
// for agency staff a row per metric; for a developer, whose copy the
// review service cut down to the flag, the flag alone.
type privateView struct {
	Flagged, Redacted bool
	Margin            string
	Rows              []privateRow
}

type privateRow struct {
	Metric, Public, Private, Gap, Interval string
	Flagged                                bool
}

// privateGapView renders g; nil for none.
func privateGapView(g *assess.PrivateGap) *privateView {
	if g == nil {
		return nil
	}
	v := &privateView{Flagged: g.Flagged, Redacted: g.Redacted, Margin: fmt.Sprintf("%.0f points", 100*g.Margin)}
	for _, d := range g.Gaps {
		v.Rows = append(v.Rows, privateRow{
			Metric:   d.Metric,
			Public:   fmt.Sprintf("%.1f%% (%d/%d)", 100*d.Diff.B.Rate, d.Diff.B.K, d.Diff.B.N),
			Private:  fmt.Sprintf("%.1f%% (%d/%d)", 100*d.Diff.A.Rate, d.Diff.A.K, d.Diff.A.N),
			Gap:      fmt.Sprintf("%+.1f points", 100*d.Diff.Diff),
			Interval: fmt.Sprintf("[%+.1f, %+.1f]", 100*d.Diff.CI.Low, 100*d.Diff.CI.High),
			Flagged:  d.Flagged,
		})
	}
	return v
}
