package policy

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Compare judges ev under profiles (all built-ins when none are given) and
// returns the results sorted by profile id: the side-by-side view of how
// regimes diverge on one model.
func Compare(ev *Evidence, profiles ...*Profile) (*Decision, error) {
	if len(profiles) == 0 {
		all, err := Builtins()
		if err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
		profiles = all
	}
	d, err := Decide(ev, profiles...)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	SortResults(d.Results)
	return d, nil
}

// nextDeadline returns the earliest future-or-open date among a result's
// conditions, clocks, disclosures and incident cases.
func nextDeadline(r Result) string {
	best, what := "", ""
	consider := func(date, label string) {
		if date == "" {
			return
		}
		if best == "" || date < best {
			best, what = date, label
		}
	}
	for _, c := range r.Conditions {
		consider(c.Due, c.ID)
	}
	for _, k := range r.Clocks {
		if k.Status == "running" || k.Status == "paused" {
			consider(k.Due, k.ID)
		}
	}
	for _, ds := range r.Disclosures {
		if ds.Status == "pending" || ds.Status == "overdue" {
			consider(ds.Due, ds.ID)
		}
	}
	for _, in := range r.Incidents {
		for _, cs := range in.Cases {
			if !cs.Reported {
				consider(cs.Due, in.ID)
			}
		}
	}
	if best == "" {
		return "-"
	}
	return best[:10] + " " + what
}

func penaltyText(r Result) string {
	if r.Penalty == nil || !r.Applicable {
		return "-"
	}
	return r.Penalty.Currency + " " + money(r.Penalty.Max)
}

func money(v float64) string {
	switch {
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', -1, 64) + "B"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func failedIDs(r Result) string {
	if len(r.FailedCriteria) == 0 {
		return "-"
	}
	ids := make([]string, len(r.FailedCriteria))
	for i, c := range r.FailedCriteria {
		ids[i] = c.ID + "(" + c.Status + ")"
	}
	return strings.Join(ids, ",")
}

// inForceCell is the in-force column: "yes", "yes (since D)", "no (from
// D)" or "no (repealed D)".
func inForceCell(r Result) string {
	switch {
	case r.InForce && r.InForceFrom != "":
		return "yes (since " + r.InForceFrom + ")"
	case r.InForce:
		return "yes"
	case r.InForceUntil != "" && strings.HasPrefix(r.InForceNote, "repealed"):
		return "no (repealed " + r.InForceUntil + ")"
	default:
		return "no (from " + r.InForceFrom + ")"
	}
}

// appliesCell is the applicability column: yes, no or undetermined.
func appliesCell(r Result) string {
	if r.Applicability != "" {
		return r.Applicability
	}
	if r.Applicable {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// RenderTable writes the side-by-side view as aligned text: one row per
// profile, then the details that explain each row.
func RenderTable(w io.Writer, d *Decision) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Evidence for %s %s, evaluated at %s\n\n", orDash(d.Subject.Name), d.Subject.Version, d.EvaluatedAt)
	fmt.Fprintln(tw, "PROFILE\tSTATUS\tIN FORCE\tAPPLIES\tTIER\tOUTCOME\tFAILED\tNEXT DEADLINE\tMAX PENALTY")
	for _, r := range d.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Profile, r.Status, inForceCell(r), appliesCell(r), orDash(r.Tier), r.Outcome, failedIDs(r), nextDeadline(r), penaltyText(r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for _, r := range d.Results {
		fmt.Fprintf(&b, "\n%s: %s", r.Profile, r.Outcome)
		if r.Rationale != "" {
			fmt.Fprintf(&b, " (%s)", r.Rationale)
		}
		b.WriteString("\n")
		if r.Explanation != "" {
			fmt.Fprintf(&b, "  = %s\n", r.Explanation)
		}
		if r.InForceNote != "" {
			fmt.Fprintf(&b, "  @ %s\n", r.InForceNote)
		}
		for _, y := range r.Why {
			mark := "+"
			if y.Undetermined {
				mark = "?"
			} else if !y.Holds {
				mark = "-"
			}
			fmt.Fprintf(&b, "  %s %s%s\n", mark, y.Text, provText(y.Provenance))
		}
		if len(r.UndeterminedFacts) > 0 {
			fmt.Fprintf(&b, "  ? facts needed: %s\n", strings.Join(r.UndeterminedFacts, ", "))
		}
		if len(r.MissingFacts) > 0 {
			fmt.Fprintf(&b, "  ? not declared: %s\n", strings.Join(r.MissingFacts, ", "))
		}
		for _, c := range r.FailedCriteria {
			fmt.Fprintf(&b, "  ✗ %s [%s]: %s; required %s%s\n", c.ID, c.Status, c.Judgement, c.Required, provText(c.Provenance))
		}
		for _, c := range r.Conditions {
			fmt.Fprintf(&b, "  → %s", c.Text)
			if c.Due != "" {
				fmt.Fprintf(&b, " by %s", c.Due)
			} else if c.DueRule != "" {
				fmt.Fprintf(&b, " (%s)", c.DueRule)
			}
			b.WriteString(provText(c.Provenance) + "\n")
		}
		for _, k := range r.Clocks {
			fmt.Fprintf(&b, "  ⏱ %s: %s", k.Title, k.Status)
			if k.Due != "" {
				fmt.Fprintf(&b, ", due %s", k.Due)
			}
			fmt.Fprintf(&b, " (%s)%s\n", k.Length, provText(k.Provenance))
		}
		for _, in := range r.Incidents {
			fmt.Fprintf(&b, "  ! incident %s: report within %s to %s%s\n", in.ID, in.Deadline, in.To, provText(in.Provenance))
		}
		if r.Penalty != nil && r.Applicable {
			fmt.Fprintf(&b, "  € penalty: %s%s\n", r.Penalty.Text, provText(r.Penalty.Provenance))
		}
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "  error: %s\n", e)
		}
	}
	b.WriteString("\n" + TagLegend + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// TagLegend explains the provenance tags printed after each constant.
const TagLegend = "Tags: [T] read in the legal text; [S] from a secondary source; [M] from memory, not checked against the text; [I] our inference."

func provText(us []UsedConstant) string {
	if len(us) == 0 {
		return ""
	}
	parts := make([]string, len(us))
	for i, u := range us {
		parts[i] = fmt.Sprintf("%s=%v [%s] %s", u.Name, u.Value, u.Tag, u.Source)
	}
	return " {" + strings.Join(parts, "; ") + "}"
}

// RenderText writes results in the long form used by policy eval.
func RenderText(w io.Writer, d *Decision) error {
	var b strings.Builder
	for i, r := range d.Results {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s (%s, %s) %s\n", r.Profile, r.Status, r.ProfileVersion, r.ProfileDigest)
		fmt.Fprintf(&b, "  applicable: %v (%s)  in force: %s  tier: %s  outcome: %s\n", r.Applicable, orDash(r.Applicability), inForceCell(r), orDash(r.Tier), r.Outcome)
		if len(r.UndeterminedFacts) > 0 {
			fmt.Fprintf(&b, "  facts needed: %s\n", strings.Join(r.UndeterminedFacts, ", "))
		}
		if r.Rationale != "" {
			fmt.Fprintf(&b, "  rationale: %s (rule %s)\n", r.Rationale, orDash(r.Rule))
		}
		if r.Explanation != "" {
			fmt.Fprintf(&b, "  explanation: %s\n", r.Explanation)
		}
		for _, y := range r.Why {
			holds := fmt.Sprint(y.Holds)
			if y.Undetermined {
				holds = "undetermined"
			}
			fmt.Fprintf(&b, "  why: %s (%s)%s\n", y.Text, holds, provText(y.Provenance))
		}
		if len(r.MissingFacts) > 0 {
			fmt.Fprintf(&b, "  missing facts: %s\n", strings.Join(r.MissingFacts, ", "))
		}
		for _, c := range r.Criteria {
			fmt.Fprintf(&b, "  %-12s %s %s: %s", "["+c.Status+"]", c.Kind, c.ID, c.Judgement)
			if c.Observed != nil {
				fmt.Fprintf(&b, "; observed %s (%d/%d)", num4(c.Observed.Rate), c.Observed.Flagged, c.Observed.N)
				if c.Observed.Sequential != "" {
					fmt.Fprintf(&b, "; %s", c.Observed.Sequential)
				}
			}
			fmt.Fprintf(&b, "; required %s%s\n", c.Required, provText(c.Provenance))
		}
		for _, c := range r.Conditions {
			fmt.Fprintf(&b, "  condition %s: %s due %s %s%s\n", c.ID, c.Text, orDash(c.Due), c.DueRule, provText(c.Provenance))
		}
		for _, k := range r.Clocks {
			fmt.Fprintf(&b, "  clock %s: %s start %s due %s (%s)%s\n", k.ID, k.Status, orDash(k.Start), orDash(k.Due), k.Length, provText(k.Provenance))
		}
		for _, ds := range r.Disclosures {
			fmt.Fprintf(&b, "  disclosure %s to %s: %s due %s %s\n", ds.ID, ds.To, ds.Status, orDash(ds.Due), ds.DueRule)
		}
		for _, in := range r.Incidents {
			fmt.Fprintf(&b, "  incident duty %s: within %s to %s%s\n", in.ID, in.Deadline, in.To, provText(in.Provenance))
			for _, cs := range in.Cases {
				fmt.Fprintf(&b, "    case %s occurred %s due %s reported=%v overdue=%v\n", orDash(cs.Ref), cs.Occurred, cs.Due, cs.Reported, cs.Overdue)
			}
		}
		if r.Penalty != nil {
			fmt.Fprintf(&b, "  penalty: up to %s %s per %s: %s%s\n", r.Penalty.Currency, money(r.Penalty.Max), orDash(r.Penalty.Per), r.Penalty.Text, provText(r.Penalty.Provenance))
		}
		for _, br := range r.Bound {
			fmt.Fprintf(&b, "  bound %s: %s (tier %s)\n", br.Profile, br.Outcome, orDash(br.Tier))
		}
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "  error: %s\n", e)
		}
	}
	b.WriteString("\n" + TagLegend + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

var htmlPage = template.Must(template.New("compare").Funcs(template.FuncMap{
	"next": nextDeadline, "penalty": penaltyText, "failed": failedIDs, "dash": orDash,
	"prov": provText, "inforce": inForceCell, "applies": appliesCell, "legend": func() string { return TagLegend },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clearance: regimes compared</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#111}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.o-cleared,.o-cleared_with_conditions,.o-window_expired{background:#e7f6e7}
.o-hold{background:#fff4d6}.o-refused{background:#fde2e2}.o-not_applicable,.o-not_in_force,.o-notify_only{color:#555}
small{color:#555}
</style></head><body>
<h1>One model under every regime</h1>
<p>Evidence for <b>{{dash .Subject.Name}}</b> {{.Subject.Version}}{{if .Subject.Digest}} (<code>{{.Subject.Digest}}</code>){{end}}, evaluated at {{.EvaluatedAt}}.</p>
<table>
<thead><tr><th>Profile</th><th>Status</th><th>In force</th><th>Applies</th><th>Tier</th><th>Outcome</th><th>Failed criteria</th><th>Next deadline</th><th>Max penalty</th></tr></thead>
<tbody>
{{range .Results}}<tr class="o-{{.Outcome}}"><td><b>{{.Profile}}</b><br><small>{{.Title}}</small></td><td>{{.Status}}</td><td>{{inforce .}}</td><td>{{applies .}}{{if .UndeterminedFacts}}<br><small>facts needed: {{range $i, $f := .UndeterminedFacts}}{{if $i}}, {{end}}{{$f}}{{end}}</small>{{end}}</td><td>{{dash .Tier}}</td><td>{{.Outcome}}<br><small>{{.Rationale}}</small></td><td>{{failed .}}</td><td>{{next .}}</td><td>{{penalty .}}</td></tr>
{{end}}</tbody></table>
{{range .Results}}<h2 id="{{.Profile}}">{{.Profile}}: {{.Outcome}}</h2>
{{if .Explanation}}<p class="explanation">{{.Explanation}}</p>{{end}}
{{if .InForceNote}}<p class="in-force">{{.InForceNote}}</p>{{end}}
<ul>{{range .Why}}<li>{{if .Holds}}✓{{else if .Undetermined}}?{{else}}✗{{end}} {{.Text}}<small>{{prov .Provenance}}</small></li>{{end}}</ul>
{{if .FailedCriteria}}<table><tr><th>Criterion</th><th>Status</th><th>Observed</th><th>Required</th><th>Judgement</th><th>Provenance</th></tr>
{{range .FailedCriteria}}<tr><td>{{.ID}}</td><td>{{.Status}}</td><td>{{with .Observed}}{{.Rate}} ({{.Flagged}}/{{.N}}){{else}}-{{end}}</td><td>{{.Required}}</td><td>{{.Judgement}}</td><td><small>{{prov .Provenance}}</small></td></tr>
{{end}}</table>{{end}}
{{if .Conditions}}<p>Conditions:</p><ul>{{range .Conditions}}<li>{{.Text}}{{if .Due}} by {{.Due}}{{end}}</li>{{end}}</ul>{{end}}
{{if .Clocks}}<p>Clocks:</p><ul>{{range .Clocks}}<li>{{.Title}}: {{.Status}}{{if .Due}}, due {{.Due}}{{end}} ({{.Length}})</li>{{end}}</ul>{{end}}
{{end}}<p><small>{{legend}}</small></p>
</body></html>
`))

// RenderHTML writes the side-by-side view as a self-contained HTML page.
func RenderHTML(w io.Writer, d *Decision) error {
	return htmlPage.Execute(w, d)
}
