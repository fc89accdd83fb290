package report

import (
	"embed"
	"html/template"
	"io"

	"github.com/clearance-dev/clearance/assess"
)

//go:embed templates/run.html
var templates embed.FS

var runTemplate = template.Must(template.New("run.html").Funcs(template.FuncMap{
	"pct":     pct,
	"pctFine": pctFine,
	"rate":    rateCell,
	"chart": func(title string, rates map[string]assess.Rate) template.HTML {
		bars := make([]Bar, 0, len(rates))
		for _, k := range sortedKeys(rates) {
			r := rates[k]
			bars = append(bars, Bar{Label: k, Rate: r.Rate, Low: r.CI.Low, High: r.CI.High, N: r.N})
		}
		return IntervalChart(title, bars)
	},
	"overall": func(groups []assess.Group) template.HTML {
		bars := make([]Bar, 0, len(groups))
		for _, g := range groups {
			bars = append(bars, Bar{Label: g.Key, Rate: g.Overall.Rate, Low: g.Overall.CI.Low, High: g.Overall.CI.High, N: g.Overall.N})
		}
		return IntervalChart("Overall rates per suite metric", bars)
	},
	"short": short,
}).ParseFS(templates, "templates/run.html"))

// HTML writes the run report as one self-contained HTML page.
func HTML(w io.Writer, r Run) error {
	return runTemplate.Execute(w, r)
}
