// Package report renders runs and decisions for people: Markdown for
// review threads and a self-contained HTML page whose charts are inline
// SVG drawn here (no scripts, no external assets), so a report can be
// mailed, archived or opened offline.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clearance-dev/clearance/assess"
)

// Run is what a run report shows.
type Run struct {
	Run     assess.RunFile
	Metrics assess.Metrics
}

// Variant is the variant of the model the run tested, as the report
// states it beside every metric: "helpful-only", "checkpoint step-120k",
// with "; scaffold VERSION" when recorded, or "not recorded" for a run
// made before variants were recorded.
func (r Run) Variant() string {
	v := r.Run.Variant
	switch {
	case v == "":
		v = "not recorded"
	case r.Run.Checkpoint != "":
		v += " " + r.Run.Checkpoint
	}
	if r.Run.Scaffold != "" {
		v += "; scaffold " + r.Run.Scaffold
	}
	return v
}

// LoadRun reads run.json and metrics.json from a run directory.
func LoadRun(dir string) (Run, error) {
	var r Run
	if err := readJSON(filepath.Join(dir, "run.json"), &r.Run); err != nil {
		return r, err
	}
	if err := readJSON(filepath.Join(dir, "metrics.json"), &r.Metrics); err != nil {
		return r, err
	}
	return r, nil
}

// WriteRunFiles writes report.md and report.html into dir.
func WriteRunFiles(dir string, r Run) error {
	for name, write := range map[string]func(io.Writer, Run) error{"report.md": Markdown, "report.html": HTML} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := write(f, r); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// pctFine is pct, except that a bound strictly between 0 and 1 never prints
// as 0.0% or 100.0%: a corrected interval of [0.0%, 0.03%] must not read as
// [0.0%, 0.0%].
func pctFine(x float64) string {
	switch {
	case x > 0 && x < 0.0005:
		return fmt.Sprintf("%.2g%%", 100*x)
	case x < 1 && x > 0.9995:
		return fmt.Sprintf("%.6g%%", 100*x)
	}
	return pct(x)
}

func rateCell(r assess.Rate) string {
	if r.N == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%s [%s, %s]", pct(r.Rate), pct(r.CI.Low), pct(r.CI.High))
}

func sortedKeys(m map[string]assess.Rate) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Markdown writes the run report as Markdown.
func Markdown(w io.Writer, r Run) error {
	var b strings.Builder
	m := r.Metrics
	fmt.Fprintf(&b, "# Assessment report\n\n")
	fmt.Fprintf(&b, "- Target: `%s` (%s)\n", r.Run.Target.Identity, r.Run.Target.Kind)
	fmt.Fprintf(&b, "- Variant tested: **%s** (every metric below was measured on it)\n", mdEscape(r.Variant()))
	fmt.Fprintf(&b, "- Status: **%s**; %d samples, %d scored, %d errors\n", m.Status, m.Samples, m.Scored, m.Errors)
	fmt.Fprintf(&b, "- Seed: %d; limit per suite: %d\n", r.Run.Plan.Seed, r.Run.Plan.Limit)
	for _, s := range r.Run.Plan.Suites {
		fmt.Fprintf(&b, "- Suite `%s` v%s, sha256 `%s`\n", s.Name, s.Version, short(s.Digest))
	}
	if r.Run.Stats != nil {
		st := r.Run.Stats
		fmt.Fprintf(&b, "- Model calls: %d (%d retries, %d from cache), tokens in/out: %d/%d\n", st.Requests, st.Retries, st.CacheHits, st.InputTokens, st.OutputTokens)
	}
	if len(m.ErrorsByKind) > 0 {
		kinds := make([]string, 0, len(m.ErrorsByKind))
		for k, n := range m.ErrorsByKind {
			kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(&b, "- Errors by kind (excluded from every rate): %s\n", strings.Join(kinds, ", "))
	}
	b.WriteString("\nRates are shown as point estimate [95% Wilson interval]. Errors are never counted as refusals or passes.\n")
	for _, g := range m.Groups {
		fmt.Fprintf(&b, "\n## %s\n\n", g.Key)
		fmt.Fprintf(&b, "Flagged means: %s.\n\n", g.Flagged)
		fmt.Fprintf(&b, "- Variant: %s\n", mdEscape(r.Variant()))
		fmt.Fprintf(&b, "- Overall: **%s** (%d/%d, %d errors)\n", rateCell(g.Overall), g.Overall.Flagged, g.Overall.N, g.Overall.Errors)
		if g.Overall.Clustered != nil {
			fmt.Fprintf(&b, "- Clustered by behaviour (%d behaviours): [%s, %s]\n", g.Overall.Clusters, pct(g.Overall.Clustered.Low), pct(g.Overall.Clustered.High))
		}
		if c := g.Overall.Corrected; c != nil {
			reason := ""
			if c.Reason != "" {
				reason = "; " + c.Reason
			}
			if c.Caution != "" {
				reason += "; **" + c.Caution + "**"
			}
			fmt.Fprintf(&b, "- Corrected for scorer error: %s [%s, %s] (assumes the scorer's error rates measured on its labelled dataset hold for this model's answers%s)\n", pctFine(c.Rate), pctFine(c.CI.Low), pctFine(c.CI.High), reason)
		}
		fmt.Fprintf(&b, "- Scorer: `%s`", g.Scorer.Label())
		if q := g.Scorer.Quality; q != nil {
			fmt.Fprintf(&b, " (on %s, n=%d: sensitivity %.3f, specificity %.3f, precision %.3f, recall %.3f, F1 %.3f)", q.Dataset, q.N, q.Sensitivity, q.Specificity, q.Precision, q.Recall, q.F1)
		} else {
			b.WriteString(" (agreement with human labels not measured: the rate is not corrected)")
		}
		b.WriteString("\n")
		for _, part := range []struct {
			title string
			rates map[string]assess.Rate
		}{{"Category", g.ByCategory}, {"Transform", g.ByTransform}, {"Difficulty", g.ByDifficulty}} {
			if len(part.rates) < 2 {
				continue
			}
			fmt.Fprintf(&b, "\n| %s | rate [95%% CI] | flagged/n | errors |\n|---|---|---|---|\n", part.title)
			for _, k := range sortedKeys(part.rates) {
				x := part.rates[k]
				fmt.Fprintf(&b, "| %s | %s | %d/%d | %d |\n", mdEscape(k), rateCell(x), x.Flagged, x.N, x.Errors)
			}
		}
		if len(g.PassAtK) > 0 {
			b.WriteString("\n| k | pass@k | 95% CI |\n|---|---|---|\n")
			for _, p := range g.PassAtK {
				ci := "—"
				if p.CI != nil {
					ci = fmt.Sprintf("[%s, %s]", pct(p.CI.Low), pct(p.CI.High))
				}
				fmt.Fprintf(&b, "| %d | %s | %s |\n", p.K, pct(p.Rate), ci)
			}
		}
		if e := g.Episodes; e != nil {
			fmt.Fprintf(&b, "\nAgent episodes: %d (%d solved; %d shell commands). Median to solve: %.0f turns, %.0f tokens, %.1f s.\n", e.Episodes, e.Solved, e.Commands, e.TurnsToSolve, e.TokensToSolve, e.SecondsToSolve)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func short(d string) string {
	if len(d) > 16 {
		return d[:16]
	}
	return d
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read report input: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
