package review

import (
	"encoding/json"
	"strings"
)

// OutcomeEntry is one profile's entry in a decision's Outcomes: a bare
// outcome name, or {"outcome", "conditions", "deemed"} with each condition
// a text or {"text", "due"}.
type OutcomeEntry struct {
	Outcome string
	// Conditions are the conditions' texts, "TEXT (due DATE)" where a due
	// date is given; empty ones are left out.
	Conditions []string
	Deemed     bool
}

// ParseOutcomeEntry reads one profile's entry of a decision's Outcomes;
// ok is false when it is neither form. A condition of another shape is
// kept as its JSON text.
func ParseOutcomeEntry(v json.RawMessage) (e OutcomeEntry, ok bool) {
	if json.Unmarshal(v, &e.Outcome) == nil {
		return e, true
	}
	var o struct {
		Outcome    string            `json:"outcome"`
		Conditions []json.RawMessage `json:"conditions"`
		Deemed     bool              `json:"deemed"`
	}
	if json.Unmarshal(v, &o) != nil {
		return OutcomeEntry{}, false
	}
	e = OutcomeEntry{Outcome: o.Outcome, Deemed: o.Deemed}
	for _, c := range o.Conditions {
		var t string
		var full struct{ Text, Due string }
		switch {
		case json.Unmarshal(c, &t) == nil:
		case json.Unmarshal(c, &full) == nil && full.Text != "":
			t = full.Text
			if full.Due != "" {
				t += " (due " + full.Due + ")"
			}
		default:
			t = string(c)
		}
		if t = strings.TrimSpace(t); t != "" {
			e.Conditions = append(e.Conditions, t)
		}
	}
	return e, true
}
