package policy

// Concurrence rules (the rule of a profile's concurrence block).
const (
	ConcurLead = "lead"
	ConcurAll  = "all"
	ConcurKOfN = "k_of_n"
)

// What a silent agency is deemed to say after the consultation period.
const (
	SilenceConcur = "concur"
	SilenceObject = "object"
)

// DefaultConsultationDays is the consultation period of a concurrence
// block that names none, and of a case whose profiles name no block.
const DefaultConsultationDays = 10

// Concurrence is a profile's concurrence block: what a joint review under
// the profile needs from its participating agencies before the lead
// decides. Rule is lead (the lead decides after the consultation,
// answering every objection), all (every participating agency concurs)
// or k_of_n (K of them concur, objections answered). ConsultationDays
// (calendar days from the proposal, default 10) bounds the consultation;
// Silence (default concur) is what an agency that has said nothing by
// then is deemed to say.
type Concurrence struct {
	Rule             string `json:"rule"`
	K                int    `json:"k,omitempty"`
	ConsultationDays int    `json:"consultation_days,omitempty"`
	Silence          string `json:"silence,omitempty"`
}

// DefaultConcurrence is the rule when no profile names one: the lead
// decides after ten days, silence counting as concurrence.
func DefaultConcurrence() Concurrence {
	return Concurrence{Rule: ConcurLead, ConsultationDays: DefaultConsultationDays, Silence: SilenceConcur}
}

// withDefaults fills the block's omitted fields.
func (c Concurrence) withDefaults() Concurrence {
	if c.ConsultationDays == 0 {
		c.ConsultationDays = DefaultConsultationDays
	}
	if c.Silence == "" {
		c.Silence = SilenceConcur
	}
	return c
}

// strictness orders rules: lead, then k_of_n by k, then all.
func (c Concurrence) strictness() int {
	switch c.Rule {
	case ConcurAll:
		return 1 << 20
	case ConcurKOfN:
		return c.K
	}
	return 0
}

// StrictestConcurrence merges the concurrence blocks of the profiles of
// one case, strictest wins, each part on its own: the rule (all over
// k_of_n, a larger k over a smaller, k_of_n over lead), the longest
// consultation, and silence object over concur. Profiles without a block
// add nothing; with none, the result is DefaultConcurrence.
func StrictestConcurrence(profiles []*Profile) Concurrence {
	var out Concurrence
	found := false
	for _, p := range profiles {
		if p == nil || p.Concurrence == nil {
			continue
		}
		k := p.Concurrence.withDefaults()
		if !found {
			out, found = k, true
			continue
		}
		if k.strictness() > out.strictness() {
			out.Rule, out.K = k.Rule, k.K
		}
		out.ConsultationDays = max(out.ConsultationDays, k.ConsultationDays)
		if k.Silence == SilenceObject {
			out.Silence = SilenceObject
		}
	}
	if !found {
		return DefaultConcurrence()
	}
	return out
}
