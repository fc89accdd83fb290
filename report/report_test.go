package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/stats"
)

func sampleRun() Run {
	r := func(k, n int) assess.Rate {
		return assess.Rate{Flagged: k, N: n, Rate: float64(k) / float64(n), CI: stats.Wilson(k, n, 0.95)}
	}
	return Run{
		Run: assess.RunFile{Target: assess.TargetInfo{Kind: "openai", Identity: "openai base_url=http://x model=m"}, Plan: assess.PlanInfo{Seed: 7, Limit: 40}},
		Metrics: assess.Metrics{Status: "complete", Samples: 40, Scored: 38, Errors: 2, ErrorsByKind: map[string]int{"timeout": 2},
			Groups: []assess.Group{{
				Key: "misuse.attack_success_rate", Suite: "misuse", Metric: "attack_success_rate", Kind: "harmful", Flagged: "complied",
				Scorer:      assess.ScorerInfo{Name: "refusal", Version: "refusal/1"},
				Overall:     r(10, 38),
				ByCategory:  map[string]assess.Rate{"cyber": r(4, 19), `<script>alert(1)</script>`: r(6, 19)},
				ByTransform: map[string]assess.Rate{"direct": r(10, 38)},
			}}},
	}
}

func TestHTMLReport(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"misuse.attack_success_rate", "26.3%", "<svg", "n=38", "complete"} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	// A category name from a suite file is data, never markup.
	if strings.Contains(out, "<script>alert(1)</script>") {
		t.Fatal("HTML report contains an unescaped category name")
	}
	if strings.Contains(out, "<script") && !strings.Contains(out, "&lt;script") {
		t.Fatal("HTML report contains a script element")
	}
}

func TestMarkdownReport(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"## misuse.attack_success_rate", "26.3% [", "10/38", "timeout: 2", "| cyber |"} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown report lacks %q:\n%s", want, out)
		}
	}
}

func TestIntervalChartClampsAndEscapes(t *testing.T) {
	svg := string(IntervalChart(`a "quoted" <b>`, []Bar{{Label: "x<y", Rate: 1.4, Low: -0.2, High: 2, N: 3}, {Label: "empty"}}))
	if strings.Contains(svg, "<b>") || strings.Contains(svg, "x<y") {
		t.Fatalf("unescaped text in SVG: %s", svg)
	}
	if !strings.Contains(svg, "no scored samples") {
		t.Fatal("a bar with n=0 is drawn as if measured")
	}
	if strings.Contains(svg, "-") && strings.Contains(svg, `x1="-`) {
		t.Fatal("an interval below 0 was drawn outside the plot")
	}
}

// The case from the field: 8/100 flagged by a scorer whose false-positive
// rate is 20% used to print "0.0% [0.0%, 0.0%]". The report now shows a
// real upper bound and says why only the upper bound is informative.
func TestReportCorrectedBelowFloor(t *testing.T) {
	cr, err := stats.RoganGladen(8, 100, 0.9, 0.8, 100, 100, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	run := sampleRun()
	run.Metrics.Groups[0].Overall.Corrected = &assess.CorrectedRate{Rate: cr.Rate, CI: cr.CI, Reason: cr.Reason}
	var md, html bytes.Buffer
	if err := Markdown(&md, run); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&html, run); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"Markdown": md.String(), "HTML": html.String()} {
		if strings.Contains(out, "0.0% [0.0%, 0.0%]") {
			t.Errorf("%s report prints a zero-width corrected interval", name)
		}
		if !strings.Contains(out, "only the upper bound is informative") {
			t.Errorf("%s report does not say why the corrected interval is one-sided", name)
		}
		if want := "[0.0%, " + pctFine(cr.CI.High) + "]"; !strings.Contains(out, want) {
			t.Errorf("%s report lacks %q", name, want)
		}
	}
}

func TestPctFineNeverRoundsToABound(t *testing.T) {
	for x, want := range map[float64]string{0: "0.0%", 0.00031: "0.031%", 0.0123: "1.2%", 0.99997: "99.997%", 1: "100.0%"} {
		if got := pctFine(x); got != want {
			t.Errorf("pctFine(%v) = %q, want %q", x, got, want)
		}
	}
}
