package report

import (
	"fmt"
	"html/template"
	"strings"
)

// Bar is one row of an interval chart: a rate and its interval, all in
// [0, 1].
type Bar struct {
	Label string
	Rate  float64
	Low   float64
	High  float64
	N     int
}

// IntervalChart draws rates with their interval bars as an inline SVG:
// one row per bar, a filled bar to the point estimate, whiskers for the
// interval, and the figures written out, so the chart is readable without
// colour and by screen readers (it has a title and per-row text).
func IntervalChart(title string, bars []Bar) template.HTML {
	const (
		labelW = 220
		plotW  = 360
		textW  = 190
		rowH   = 22
		top    = 24
	)
	width := labelW + plotW + textW
	height := top + rowH*len(bars) + 24
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`, width, height, width, height)
	fmt.Fprintf(&b, `<title>%s</title>`, template.HTMLEscapeString(title))
	// Grid at 0, 25, 50, 75, 100 %.
	for i := 0; i <= 4; i++ {
		x := labelW + plotW*i/4
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ccc"/>`, x, top-6, x, height-20)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#555">%d%%</text>`, x, height-6, 25*i)
	}
	for i, bar := range bars {
		y := top + rowH*i
		cy := y + rowH/2
		x := func(v float64) float64 { return float64(labelW) + float64(plotW)*clamp01(v) }
		label := bar.Label
		if len(label) > 34 {
			label = label[:33] + "…"
		}
		fmt.Fprintf(&b, `<g><title>%s: %s [%s, %s], n=%d</title>`, template.HTMLEscapeString(bar.Label), pct(bar.Rate), pct(bar.Low), pct(bar.High), bar.N)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle">%s</text>`, labelW-8, cy, template.HTMLEscapeString(label))
		if bar.N > 0 {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#7aa6d6"/>`, labelW, y+5, x(bar.Rate)-float64(labelW), rowH-10)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000" stroke-width="1.5"/>`, x(bar.Low), cy, x(bar.High), cy)
			for _, v := range []float64{bar.Low, bar.High} {
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000" stroke-width="1.5"/>`, x(v), y+4, x(v), y+rowH-4)
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%d" r="3" fill="#000"/>`, x(bar.Rate), cy)
			fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle">%s [%s, %s] n=%d</text>`, labelW+plotW+8, cy, pct(bar.Rate), pct(bar.Low), pct(bar.High), bar.N)
		} else {
			fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle">no scored samples</text>`, labelW+plotW+8, cy)
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every interpolated string above is escaped
}

func clamp01(v float64) float64 {
	switch {
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}
