package policy

// Relative criteria: a profile compares the model with reference models
// (earlier frontier models, the developer's previous release, open-weight
// baselines) through the cohort the assessment measured (assess.Cohort,
// docs/cohorts.md). In CEL:
//
//	'previous' in references
//	references['previous'].delta['cyber-exploit.solve_rate'].low > consts.margin
//	references['frontier'].ability.high <= consts.margin   // on the aggregate scale
//	!references['previous'].delta['misuse.attack_success_rate'].within_error
//
// delta is keyed by metric ("suite.metric", overall rates only); every
// value is model − reference with the 95% interval of the difference.
// ability is the same on the capability aggregate (Rasch logits) and is
// present only when has_ability is true.

// ReferenceView is one reference model in CEL: references['name'].
type ReferenceView struct {
	// Source says where the reference's results came from
	// ("reference:typical", "run:DIR", "assessment:ID").
	Source string               `json:"source,omitempty"`
	Delta  map[string]DeltaView `json:"delta"`
	// HasAbility is true when both models were placed on the capability
	// aggregate; Ability is the difference there.
	HasAbility bool      `json:"has_ability,omitempty"`
	Ability    DeltaView `json:"ability,omitzero"`
}

// DeltaView is a difference model − reference with its interval.
// WithinError is true when the interval covers 0.
type DeltaView struct {
	Delta       float64 `json:"delta"`
	Low         float64 `json:"low"`
	High        float64 `json:"high"`
	Model       float64 `json:"model,omitempty"`     // the model's rate
	Reference   float64 `json:"reference,omitempty"` // the reference's rate
	WithinError bool    `json:"within_error"`
}

// referencesActivation is the references variable: never nil, and every
// reference's delta map never nil, so rules can index without checks.
func referencesActivation(refs map[string]ReferenceView) map[string]ReferenceView {
	out := make(map[string]ReferenceView, len(refs))
	for k, r := range refs {
		if r.Delta == nil {
			r.Delta = map[string]DeltaView{}
		}
		out[k] = r
	}
	return out
}
