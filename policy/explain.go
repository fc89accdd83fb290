package policy

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// explain composes a Result's Explanation: one paragraph in plain words
// that a reader can check against the rest of the result. It is built,
// in this order, from
//
//  1. the regime (the profile's jurisdiction and id) and the outcome,
//     "EU (eu-ai-act-gpai-sr): cleared with conditions";
//  2. what the regime asks: the explain text of the decision rule that
//     fired when the profile has one, else the rule's rationale, else the
//     result's rationale (not applicable, not in force, fail-closed holds);
//  3. for not_applicable, the applicability clauses that did not hold
//     and the exemptions that did;
//  4. every criterion that did not pass, observed against required;
//  5. the rates the regime asks to have reported but sets no maximum for,
//     with the observed value, so a reader sees them even when the
//     outcome clears;
//  6. the conditions attached, with their due dates;
//  7. the facts the dossier lacks: those applicability turns on, else,
//     when the outcome blocks, those read as zero or false;
//  8. that rules could not be evaluated, when any could not.
//
// It only restates the result: nothing in it is decided here.
func explain(p *Profile, r *Result) string {
	// Several profiles share a jurisdiction (US), so the id goes with it.
	head := p.ID
	if p.Jurisdiction != "" {
		head = p.Jurisdiction + " (" + p.ID + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", head, outcomeWords(r.Outcome))
	reason := r.Rationale
	if r.Rule != "" {
		if i := slices.IndexFunc(p.Decision, func(x Rule) bool { return x.ID == r.Rule }); i >= 0 && p.Decision[i].Explain != "" && len(r.Errors) == 0 {
			reason = p.Decision[i].Explain
		}
	}
	reason = strings.TrimSuffix(strings.TrimSpace(reason), ".")
	if r.Outcome == NotApplicable {
		var not []string
		for _, w := range r.Why {
			if strings.HasPrefix(w.Clause, "notes.") {
				continue
			}
			if !w.Holds || strings.HasPrefix(w.Clause, "exemptions.") {
				not = append(not, w.Text)
			}
		}
		if len(not) > 0 {
			reason += " (" + strings.Join(not, "; ") + ")"
		}
	}
	if reason != "" {
		b.WriteString(" — ")
		b.WriteString(reason)
	}
	var parts []string
	for _, c := range r.FailedCriteria {
		parts = append(parts, criterionWords(c))
	}
	var reported []string
	for _, c := range r.Criteria {
		if c.Kind == "evaluation" && c.Direction == "report" && c.Status == "pass" && c.Observed != nil {
			reported = append(reported, fmt.Sprintf("%s: %s", c.Title, observedWords(c.Observed)))
		}
	}
	if len(reported) > 0 {
		parts = append(parts, "reported, with no maximum rate set: "+strings.Join(reported, "; ")+" (to be disclosed and addressed, not kept under a limit)")
	}
	for _, c := range r.Conditions {
		s := "condition: " + strings.TrimSuffix(c.Text, ".")
		if c.Due != "" {
			s += " by " + dateWords(c.Due)
		} else if c.DueRule != "" {
			s += " (" + c.DueRule + ")"
		}
		parts = append(parts, s)
	}
	switch {
	case len(r.UndeterminedFacts) > 0:
		if !strings.Contains(reason, r.UndeterminedFacts[0]) {
			parts = append(parts, "whether it applies turns on facts the dossier does not declare: "+strings.Join(r.UndeterminedFacts, ", "))
		}
	case len(r.MissingFacts) > 0 && r.Outcome.Blocking():
		parts = append(parts, "not declared in the dossier, read as zero or false: "+strings.Join(r.MissingFacts, ", "))
	}
	if len(r.Errors) > 0 {
		parts = append(parts, fmt.Sprintf("%d rule(s) could not be evaluated, so the profile holds (fail closed)", len(r.Errors)))
	}
	if len(parts) > 0 {
		b.WriteString("; ")
		b.WriteString(strings.Join(parts, "; "))
	}
	return b.String()
}

// outcomeWords is an outcome as a reader says it.
func outcomeWords(o Outcome) string {
	if o == "" {
		return "no outcome"
	}
	return strings.ReplaceAll(string(o), "_", " ")
}

// criterionWords states a criterion that did not pass.
func criterionWords(c Criterion) string {
	switch c.Kind {
	case "evaluation":
		if c.Observed == nil {
			return fmt.Sprintf("%s: %s (required %s)", c.Title, c.Judgement, c.Required)
		}
		return fmt.Sprintf("%s: observed %s, required %s (%s)", c.Title, observedWords(c.Observed), c.Required, c.Status)
	case "safeguard":
		return fmt.Sprintf("%s: %s (required %s)", c.Title, c.Judgement, c.Required)
	default:
		s := fmt.Sprintf("%s: %s", c.Title, c.Judgement)
		if c.Due != "" {
			s += ", due " + dateWords(c.Due)
		}
		return s
	}
}

// observedWords is a measured rate as a percentage with its counts and
// interval.
func observedWords(o *Observed) string {
	s := fmt.Sprintf("%s (%d of %d", percent(o.Rate), o.Flagged, o.N)
	if o.CI != nil && o.CI.Level > 0 && !math.IsNaN(o.CI.Low) && !math.IsNaN(o.CI.High) {
		s += fmt.Sprintf("; %s%% interval %s–%s", num(math.Round(o.CI.Level*1000)/10), percent(o.CI.Low), percent(o.CI.High))
	}
	if o.Corrected {
		s += "; corrected for scorer error"
	}
	return s + ")"
}

// percent writes a rate as a percentage with at most one decimal.
func percent(f float64) string {
	if math.IsNaN(f) {
		return "n/a"
	}
	return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + "%"
}

// dateWords shortens an RFC 3339 timestamp at midnight UTC to its date.
func dateWords(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return s
}
