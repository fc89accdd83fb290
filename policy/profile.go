package policy

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Outcome is a profile's verdict on one model.
type Outcome string

// The outcomes a decision rule may give.
const (
	Cleared               Outcome = "cleared"
	ClearedWithConditions Outcome = "cleared_with_conditions"
	Hold                  Outcome = "hold"
	Refused               Outcome = "refused"
	WindowExpired         Outcome = "window_expired"
	NotApplicable         Outcome = "not_applicable"
	NotifyOnly            Outcome = "notify_only"
	// NotInForce: the profile's rules are not law on the evaluation date
	// (before in_force_from, or on or after in_force_until).
	NotInForce Outcome = "not_in_force"
)

// Outcomes lists every outcome, in order of increasing severity for a
// release (not applicable and not in force first, refused last).
func Outcomes() []Outcome {
	return []Outcome{NotApplicable, NotInForce, NotifyOnly, Cleared, WindowExpired, ClearedWithConditions, Hold, Refused}
}

// Blocking reports whether the outcome stands in the way of a release
// (hold or refused).
func (o Outcome) Blocking() bool { return o == Hold || o == Refused }

// Provenance says where a constant comes from and how well it is sourced.
// Tag is the regimes research convention: T (read in the legal text), S
// (secondary source), M (from memory, not checked against the text) or I
// (our inference). Inference is true whenever the value is ours rather
// than the source's, whatever the tag.
type Provenance struct {
	Source     string `json:"source"`
	Pinpoint   string `json:"pinpoint,omitempty"`
	Tag        string `json:"tag"`
	Confidence string `json:"confidence"` // high, medium, low
	Inference  bool   `json:"inference"`
	Note       string `json:"note,omitempty"`
}

// Constant is a named value of a profile with its provenance. Value is a
// float64, string or bool.
type Constant struct {
	Value any    `json:"value"`
	Unit  string `json:"unit,omitempty"`
	Provenance
}

// ConstRef is a number in a profile: either the name of a constant (the
// usual case, so its provenance travels with it) or a literal.
type ConstRef struct {
	Name    string
	Literal float64
	Set     bool
}

// UnmarshalJSON accepts a constant name or a number.
func (r *ConstRef) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*r = ConstRef{Name: s, Set: true}
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("want a constant name or a number, got %s", b)
	}
	*r = ConstRef{Literal: f, Set: true}
	return nil
}

// MarshalJSON writes the name, or the literal.
func (r ConstRef) MarshalJSON() ([]byte, error) {
	if r.Name != "" {
		return json.Marshal(r.Name)
	}
	return []byte(strconv.FormatFloat(r.Literal, 'g', -1, 64)), nil
}

// IsZero reports whether the reference is unset (for omitzero).
func (r ConstRef) IsZero() bool { return !r.Set }

// Profile is one regime's rules. The exported fields mirror the YAML (see
// schema/profile.schema.json); a Profile returned by Load or Builtin has
// been resolved (extends applied), validated and compiled, and is safe for
// concurrent use.
type Profile struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Version string `json:"version"`
	Status  string `json:"status"` // in_force, draft, historical, voluntary, template
	// InForceFrom is the first day ("YYYY-MM-DD", UTC) this version of the
	// rules applies; before it the profile answers not_in_force. Empty: no
	// start date recorded.
	InForceFrom string `json:"in_force_from,omitempty"`
	// InForceUntil is the day the rules stop applying (repeal or
	// replacement takes effect); on and after it the profile answers
	// not_in_force. Empty: not repealed.
	InForceUntil string `json:"in_force_until,omitempty"`
	// ScorerMinKappa is the minimum Cohen's κ a metric's scorer must show
	// on its calibration batch for the profile to judge on it; below it
	// (or without a measured κ) the criterion is insufficient.
	ScorerMinKappa ConstRef `json:"scorer_min_kappa,omitzero"`
	Jurisdiction   string   `json:"jurisdiction,omitempty"`
	Summary        string   `json:"summary,omitempty"`
	Extends        string   `json:"extends,omitempty"`
	// Remove drops items inherited through extends, by id.
	Remove []string `json:"remove,omitempty"`
	// Binds names profiles whose results this one reads (as bound['id']).
	Binds []string `json:"binds,omitempty"`

	Sources       map[string]string    `json:"sources,omitempty"`
	Constants     map[string]*Constant `json:"constants,omitempty"`
	Applicability *Applicability       `json:"applicability,omitempty"`
	Tiers         []Tier               `json:"tiers,omitempty"`
	Evaluations   []Evaluation         `json:"evaluations,omitempty"`
	Artifacts     []Artifact           `json:"artifacts,omitempty"`
	Safeguards    []Safeguard          `json:"safeguards,omitempty"`
	Clocks        []Clock              `json:"clocks,omitempty"`
	Conditions    []ConditionTemplate  `json:"conditions,omitempty"`
	Decision      []Rule               `json:"decision,omitempty"`
	Incidents     []IncidentClass      `json:"incidents,omitempty"`
	Disclosures   []Disclosure         `json:"disclosures,omitempty"`
	Penalty       *Penalty             `json:"penalty,omitempty"`
	Crosswalk     []Crosswalk          `json:"crosswalk,omitempty"`
	// Concurrence is the rule a joint review under this profile follows
	// before the lead agency decides (see concurrence.go); nil: none named.
	Concurrence *Concurrence `json:"concurrence,omitempty"`
	// Modification, optional, says when a modified model (new weights of
	// a reviewed model's family) needs a full review.
	Modification *Modification `json:"modification,omitempty"`
	// Duties, optional, are reports owed on a schedule once a decision
	// clears a model under the profile (review creates them as duties of
	// kind scheduled).
	Duties []ScheduledDuty `json:"duties,omitempty"`

	file   string
	digest string
	c      *compiled
}

// File returns the file the profile was loaded from ("builtin:<id>" for
// built-in profiles).
func (p *Profile) File() string { return p.file }

// Digest returns "sha256:<hex>" of the resolved profile's canonical JSON.
func (p *Profile) Digest() string { return p.digest }

// ConstNumber returns the number r stands for in p: its literal, or its
// constant's value; ok is false when r is unset or names no number.
func (p *Profile) ConstNumber(r ConstRef) (float64, bool) {
	if !r.Set {
		return 0, false
	}
	if r.Name == "" {
		return r.Literal, true
	}
	k, ok := p.Constants[r.Name]
	if !ok {
		return 0, false
	}
	f, ok := k.Value.(float64)
	return f, ok
}

// Applicability says when a regime covers a model: at least one of Any
// (when Any is non-empty), all of All, and none of Exemptions. Notes are
// shown when they hold and change nothing.
type Applicability struct {
	Any        []Clause `json:"any,omitempty"`
	All        []Clause `json:"all,omitempty"`
	Exemptions []Clause `json:"exemptions,omitempty"`
	Notes      []Clause `json:"notes,omitempty"`
}

// Clause is a CEL condition with the reason it stands for.
type Clause struct {
	ID   string `json:"id"`
	When string `json:"when"`
	Why  string `json:"why"`
	// WhyNot is shown when an All clause fails (defaults to "not: Why").
	WhyNot string `json:"why_not,omitempty"`
}

// Tier is a level of obligation; the first tier whose When holds is the
// model's tier.
type Tier struct {
	ID    string `json:"id"`
	Title string `json:"title,omitempty"`
	When  string `json:"when"`
}

// Evaluation is a required evaluation: a metric of a suite, a minimum
// sample and a threshold judged in a stated way.
type Evaluation struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Suite    string `json:"suite"`
	Metric   string `json:"metric"`
	Category string `json:"category,omitempty"`
	// Direction: at_most (observed must not exceed the threshold),
	// at_least, or report (only the minimum sample is required).
	Direction string   `json:"direction"`
	Threshold ConstRef `json:"threshold,omitzero"`
	MinN      ConstRef `json:"min_n,omitzero"`
	// Judge: point (the estimate), bound (the confidence bound on the
	// unsafe side must clear the threshold; fails when the other bound
	// does not), or sequential (the runner's SPRT decides; without a
	// sequential record it is judged as bound).
	Judge string `json:"judge"`
	// Level of the interval for bound judgements (default 0.95).
	Level ConstRef `json:"level,omitzero"`
	// Sequential test parameters (judge: sequential).
	Delta ConstRef `json:"delta,omitzero"`
	Alpha ConstRef `json:"alpha,omitzero"`
	Beta  ConstRef `json:"beta,omitzero"`
	// MaxN caps the sequential test (defaults to stats' 2×fixed n).
	MaxN ConstRef `json:"max_n,omitzero"`
	// Corrected judges the scorer-error-corrected rate when present.
	Corrected bool `json:"corrected,omitempty"`
	// Variant, when set, is the variant of the model (Variants) the
	// metric must have been measured on: capability on helpful-only,
	// safeguard efficacy on production. A metric of another variant, or
	// of none recorded, leaves the evaluation insufficient.
	Variant string `json:"variant,omitempty"`
	// ScorerMinKappa overrides the profile's scorer_min_kappa for this
	// evaluation.
	ScorerMinKappa ConstRef `json:"scorer_min_kappa,omitzero"`
	Tiers          []string `json:"tiers,omitempty"`
	When           string   `json:"when,omitempty"`
}

// Due is a due rule: Days (calendar, business, or hours) before or after
// the date of Event. Events are evidence events; "planned_release" is the
// dossier's release.planned_date and "as_of" the evaluation date.
type Due struct {
	Event  string   `json:"event"`
	Days   ConstRef `json:"days,omitzero"`
	Unit   string   `json:"unit,omitempty"`   // calendar_days (default), business_days, hours
	Before bool     `json:"before,omitempty"` // due Days before the event
}

// Artifact is a document that must exist, by a due date.
type Artifact struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Document string   `json:"document"`
	Due      *Due     `json:"due,omitempty"`
	Public   bool     `json:"public,omitempty"`
	Tiers    []string `json:"tiers,omitempty"`
	When     string   `json:"when,omitempty"`
	Cite     string   `json:"cite,omitempty"`
}

// Safeguard is a required protection expressed as a CEL condition.
type Safeguard struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Require string   `json:"require"`
	Tiers   []string `json:"tiers,omitempty"`
	When    string   `json:"when,omitempty"`
	Cite    string   `json:"cite,omitempty"`
}

// Clock is a review or notification clock.
type Clock struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Start  string   `json:"start"` // event type that starts it
	Length ConstRef `json:"length"`
	Unit   string   `json:"unit,omitempty"` // calendar_days (default), business_days, hours
	// Ends: events that stop the clock because its purpose is met.
	Ends    []string `json:"ends,omitempty"`
	Pauses  []string `json:"pauses,omitempty"`
	Resumes []string `json:"resumes,omitempty"`
	// Extension: each Extension.On event adds Extension.Length, up to
	// Extension.Max times.
	Extension *Extension `json:"extension,omitempty"`
	OnExpiry  string     `json:"on_expiry,omitempty"`
	Tiers     []string   `json:"tiers,omitempty"`
	Cite      string     `json:"cite,omitempty"`
}

// Extension lengthens a clock when an event occurs.
type Extension struct {
	On     string   `json:"on"`
	Length ConstRef `json:"length"`
	Max    int      `json:"max,omitempty"`
}

// ConditionTemplate is a condition a decision rule may attach.
type ConditionTemplate struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	Due  *Due   `json:"due,omitempty"`
	When string `json:"when,omitempty"`
}

// Rule is a decision rule; the first whose When holds gives the outcome.
// An empty When always holds.
type Rule struct {
	ID        string  `json:"id"`
	When      string  `json:"when,omitempty"`
	Outcome   Outcome `json:"outcome"`
	Rationale string  `json:"rationale"`
	// Explain, optional, is the regime-level sentence a reader is given
	// when this rule fires: what the law asks, in plain words (see
	// Result.Explanation). Without it the rationale stands in.
	Explain    string   `json:"explain,omitempty"`
	Conditions []string `json:"conditions,omitempty"`
}

// IncidentClass is a class of incident with its reporting deadline.
type IncidentClass struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Deadline ConstRef `json:"deadline"`
	Unit     string   `json:"unit,omitempty"`
	To       string   `json:"to"`
	Cite     string   `json:"cite,omitempty"`
	// Covers lists the classes of a filed incident (IncidentKinds) this
	// class applies to; empty means none, so the class only feeds the
	// evidence's incident events.
	Covers []string `json:"covers,omitempty"`
	// Intermediate, optional, is the interval in calendar days between
	// intermediate reports while the incident is unresolved; Final,
	// optional, the calendar days after resolution by which the final
	// report is due.
	Intermediate ConstRef `json:"intermediate,omitzero"`
	Final        ConstRef `json:"final,omitzero"`
}

// Modification says when a modification of a reviewed model is a new
// model needing a full review: when its additional training compute
// exceeds ComputeFraction of the original's.
type Modification struct {
	ComputeFraction ConstRef `json:"compute_fraction"`
	Cite            string   `json:"cite,omitempty"`
}

// ScheduledDuty is a report owed on a schedule from the decision that
// clears a model: the first First units after the decision (0: on the
// decision's date, by the end of that UTC day), then every Every units
// (0: once). Unit is months (the default) or calendar_days. Tiers, when
// set, are the profile's tiers that owe the duty (SB 53's quarterly
// summaries and annual framework reviews: large frontier developers
// only); empty, every tier owes it.
type ScheduledDuty struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	To       string   `json:"to"`
	Cite     string   `json:"cite,omitempty"`
	Document string   `json:"document,omitempty"`
	First    ConstRef `json:"first,omitzero"`
	Every    ConstRef `json:"every,omitzero"`
	Unit     string   `json:"unit,omitempty"`
	Tiers    []string `json:"tiers,omitempty"`
}

// Schedule units of a ScheduledDuty.
const (
	Months = "months"
)

// IncidentKinds are the classes of a filed incident (review.Incident)
// that IncidentClass.Covers names.
var IncidentKinds = []string{"critical_infrastructure", "cyber", "death_or_injury", "serious_harm", "imminent_risk"}

// Disclosure is a duty to publish or transmit something.
type Disclosure struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	To       string   `json:"to"`
	Due      *Due     `json:"due,omitempty"`
	Document string   `json:"document,omitempty"`
	Tiers    []string `json:"tiers,omitempty"`
	Cite     string   `json:"cite,omitempty"`
}

// Penalty is the maximum exposure: Max is a CEL expression of type double.
type Penalty struct {
	Max string `json:"max"`
	// Subsequent is the maximum for a repeated violation, when the regime
	// sets one.
	Subsequent ConstRef `json:"subsequent,omitzero"`
	Currency   string   `json:"currency"`
	Per        string   `json:"per,omitempty"`
	Text       string   `json:"text"`
}

// Crosswalk relates this profile to another.
type Crosswalk struct {
	Profile string `json:"profile"`
	Note    string `json:"note"`
}

// InForce says whether the profile's rules apply on the date asOf, and
// if not, why: "not in force until 2027-01-01" or "repealed on
// 2025-01-20". A profile without in_force_from or in_force_until is
// unbounded on that side.
func (p *Profile) InForce(asOf time.Time) (bool, string) {
	day := asOf.UTC()
	if from, err := time.Parse(time.DateOnly, p.InForceFrom); err == nil && day.Before(from) {
		return false, "not in force until " + p.InForceFrom
	}
	if until, err := time.Parse(time.DateOnly, p.InForceUntil); err == nil && !day.Before(until) {
		return false, "repealed on " + p.InForceUntil
	}
	return true, ""
}
