package policy

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Finding is one lint result.
type Finding struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Field    string `json:"field,omitempty"`
	Severity string `json:"severity"` // error, warning
	Msg      string `json:"message"`
}

func (f Finding) String() string {
	loc := f.File
	if f.Line > 0 {
		loc += fmt.Sprintf(":%d", f.Line)
	}
	if f.Field != "" {
		return fmt.Sprintf("%s: %s: %s: %s", loc, f.Severity, f.Field, f.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", loc, f.Severity, f.Msg)
}

// KnownSuites are the suites Clearance ships; an evaluation naming another
// suite gets a lint warning (a user's own suite is allowed).
var knownSuites = []string{"misuse", "jailbreak", "over-refusal", "prompt-injection", "leakage", "cyber-compliance"}

// derived variables are computed after applicability and tiers.
var derivedVars = []string{"evals", "failed_evals", "missing_evals", "inconclusive_evals", "missing_artifacts",
	"pending_artifacts", "failed_safeguards", "clocks", "open_incidents", "overdue_incidents"}

// Lint loads a profile and reports its problems: schema and CEL errors
// (severity error), and warnings for unused constants, unreachable or
// shadowed decision rules and tiers, a missing catch-all rule, literal
// numbers without provenance, unknown suites and profile references, and
// applicability or tier rules that read values computed after them. It
// returns an error only when the profile cannot be read at all.
func Lint(name string, data []byte, parents Resolver) ([]Finding, error) {
	p, err := Load(name, data, parents)
	if err != nil {
		var pe *ProfileError
		if !errors.As(err, &pe) {
			return nil, err
		}
		out := make([]Finding, 0, len(pe.Problems))
		for _, pr := range pe.Problems {
			f := pr.File
			if f == "" {
				f = name
			}
			out = append(out, Finding{File: f, Line: pr.Line, Field: pr.Field(), Severity: "error", Msg: pr.Msg})
		}
		return out, nil
	}
	return lintProfile(p), nil
}

func lintProfile(p *Profile) []Finding {
	c := p.c
	var out []Finding
	warn := func(section, id, field, msg string) {
		pr := c.loc.find(section, id, field)
		f := pr.File
		if f == "" {
			f = p.file
		}
		out = append(out, Finding{File: f, Line: pr.Line, Field: pr.Field(), Severity: "warning", Msg: msg})
	}
	for _, n := range sortedKeys(p.Constants) {
		if c.refs[n] == 0 {
			warn("constants", n, "", fmt.Sprintf("constant %q is never used", n))
		}
	}
	always := func(prg *program) bool { return prg == nil || (prg.lit != nil && *prg.lit) }
	never := func(prg *program) bool { return prg != nil && prg.lit != nil && !*prg.lit }
	for i, r := range p.Decision {
		if never(c.rules[i]) {
			warn("decision", r.ID, "when", fmt.Sprintf("rule %q can never match (when is false)", r.ID))
		}
		for j := 0; j < i; j++ {
			if always(c.rules[j]) {
				warn("decision", r.ID, "", fmt.Sprintf("rule %q is unreachable: rule %q before it always matches", r.ID, p.Decision[j].ID))
				break
			}
			if r.When != "" && p.Decision[j].When == r.When {
				warn("decision", r.ID, "when", fmt.Sprintf("rule %q is unreachable: rule %q has the same condition", r.ID, p.Decision[j].ID))
				break
			}
		}
	}
	if n := len(p.Decision); n > 0 && !always(c.rules[n-1]) {
		warn("decision", p.Decision[n-1].ID, "", "no catch-all rule last: when no rule matches the outcome is hold")
	}
	for i, t := range p.Tiers {
		for j := 0; j < i; j++ {
			if always(c.tiers[j]) {
				warn("tiers", t.ID, "", fmt.Sprintf("tier %q is unreachable: tier %q before it always matches", t.ID, p.Tiers[j].ID))
				break
			}
		}
	}
	literal := func(section, id, field string, r ConstRef) {
		if r.Set && r.Name == "" && r.Literal != 0 {
			warn(section, id, field, fmt.Sprintf("literal %v has no provenance: make it a constant", r.Literal))
		}
	}
	for _, e := range p.Evaluations {
		literal("evaluations", e.ID, "threshold", e.Threshold)
		literal("evaluations", e.ID, "min_n", e.MinN)
		if !slices.Contains(knownSuites, e.Suite) {
			warn("evaluations", e.ID, "suite", fmt.Sprintf("suite %q is not built in (a custom suite must exist at run time)", e.Suite))
		}
	}
	for _, k := range p.Clocks {
		literal("clocks", k.ID, "length", k.Length)
	}
	for _, k := range p.Incidents {
		literal("incidents", k.ID, "deadline", k.Deadline)
	}
	for _, k := range p.Duties {
		literal("duties", k.ID, "first", k.First)
		literal("duties", k.ID, "every", k.Every)
		if k.Cite == "" {
			warn("duties", k.ID, "cite", "no cite: name the provision that owes the duty")
		}
	}
	known := BuiltinIDs()
	for _, x := range p.Crosswalk {
		if !slices.Contains(known, x.Profile) {
			warn("crosswalk", "", "", fmt.Sprintf("crosswalk to %q, which is not a built-in profile", x.Profile))
		}
	}
	for _, b := range p.Binds {
		if !slices.Contains(known, b) {
			warn("binds", "", "", fmt.Sprintf("binds %q, which is not built in: pass it with --profile", b))
		}
	}
	early := func(section, id string, prg *program) {
		if prg == nil {
			return
		}
		for _, v := range prg.vars {
			if slices.Contains(derivedVars, v) || v == "tier" {
				warn(section, id, "when", fmt.Sprintf("reads %s, which is not computed yet at this stage (always empty)", v))
			}
		}
	}
	if a := p.Applicability; a != nil {
		for i, k := range a.Any {
			early("applicability/any", k.ID, c.any[i])
		}
		for i, k := range a.All {
			early("applicability/all", k.ID, c.all[i])
		}
		for i, k := range a.Exemptions {
			early("applicability/exemptions", k.ID, c.exempt[i])
		}
	}
	for i, t := range p.Tiers {
		early("tiers", t.ID, c.tiers[i])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}
