package policy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/stats"
)

// ErrNoDate is returned by Decide when the evidence has no evaluation
// date (AsOf): clocks and due dates cannot be computed without one.
var ErrNoDate = errors.New("evidence has no evaluation date (as_of)")

// Applicability values of a Result.
const (
	ApplicabilityYes          = "yes"
	ApplicabilityNo           = "no"
	ApplicabilityUndetermined = "undetermined"
)

// ErrUndetermined is returned (wrapped) when a decision would clear a
// profile whose applicability or tier turns on facts the dossier lacks.
var ErrUndetermined = errors.New("profile undetermined: facts needed")

// CheckClearable returns an error wrapping ErrUndetermined, naming the
// facts needed, when the result cannot be cleared: its applicability or
// tier turns on facts the dossier does not declare. The outcome o is what
// a decider proposes for the profile; only clearing outcomes (cleared,
// cleared with conditions, notify only) are refused.
func (r *Result) CheckClearable(o Outcome) error {
	if len(r.UndeterminedFacts) == 0 || !r.InForce {
		return nil
	}
	switch o {
	case Cleared, ClearedWithConditions, NotifyOnly:
		return fmt.Errorf("profile %s cannot be %s: %w: %s", r.Profile, o, ErrUndetermined, strings.Join(r.UndeterminedFacts, ", "))
	}
	return nil
}

func notInForceRationale(why string, asOf time.Time) string {
	return why + " (evaluated as of " + asOf.UTC().Format(time.DateOnly) + ")"
}

// Decision is the judgement of one evidence under one or more profiles.
// JSON fields are lowerCamelCase (it is the signed predicate); times are
// RFC 3339 UTC.
type Decision struct {
	EvaluatedAt string   `json:"evaluatedAt"`
	Subject     Identity `json:"subject"`
	Results     []Result `json:"results"`
}

// Result is one profile's verdict.
type Result struct {
	Profile        string `json:"profile"`
	Title          string `json:"title"`
	ProfileVersion string `json:"profileVersion"`
	Status         string `json:"status"` // the profile's legal status: in_force, draft, …
	ProfileDigest  string `json:"profileDigest"`
	Applicable     bool   `json:"applicable"`
	// Applicability is three-valued: yes, no, or undetermined (it turns
	// on facts the dossier does not declare, listed in
	// UndeterminedFacts). Applicable is true for yes and undetermined
	// (fail closed), and false when the profile is not in force.
	Applicability     string   `json:"applicability"`
	UndeterminedFacts []string `json:"undeterminedFacts,omitempty"`
	// InForce says whether the profile's rules apply on the evaluation
	// date; InForceFrom and InForceUntil are the profile's dates.
	InForce      bool   `json:"inForce"`
	InForceFrom  string `json:"inForceFrom,omitempty"`
	InForceUntil string `json:"inForceUntil,omitempty"`
	// InForceNote says it in words: "in force since 2026-01-01", "not in
	// force until 2027-01-01", "repealed on 2025-01-20"; empty when the
	// profile records no dates.
	InForceNote  string   `json:"inForceNote,omitempty"`
	Why          []Reason `json:"why"`
	MissingFacts []string `json:"missingFacts,omitempty"`
	Tier         string   `json:"tier"`
	Outcome      Outcome  `json:"outcome"`
	Rule         string   `json:"rule,omitempty"`
	Rationale    string   `json:"rationale,omitempty"`
	// Explanation is the outcome in plain words a reader can check: the
	// regime, what it asks, the criteria that failed with observed
	// against required, the conditions and the facts needed (see explain).
	Explanation string `json:"explanation,omitempty"`

	Criteria       []Criterion     `json:"criteria,omitempty"`
	FailedCriteria []Criterion     `json:"failedCriteria,omitempty"`
	Conditions     []Condition     `json:"conditions,omitempty"`
	Clocks         []ClockResult   `json:"clocks,omitempty"`
	Disclosures    []DisclosureDue `json:"disclosures,omitempty"`
	Incidents      []IncidentDuty  `json:"incidents,omitempty"`
	Penalty        *Exposure       `json:"penalty,omitempty"`
	Bound          []BoundResult   `json:"bound,omitempty"`
	Errors         []string        `json:"errors,omitempty"`
}

// Reason is one applicability clause and whether it held.
type Reason struct {
	Clause string `json:"clause"` // "any.compute", "all.eu-market", "exemptions.…", "notes.…"
	Holds  bool   `json:"holds"`
	// Undetermined: the clause turns on facts the dossier lacks.
	Undetermined bool           `json:"undetermined,omitempty"`
	Text         string         `json:"text"`
	Provenance   []UsedConstant `json:"provenance,omitempty"`
}

// UsedConstant is a constant as used in an output, with its provenance.
type UsedConstant struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
	Unit  string `json:"unit,omitempty"`
	Provenance
}

// Criterion is one requirement judged: an evaluation, an artifact or a
// safeguard. Status: pass, fail, inconclusive (the interval straddles the
// threshold), insufficient (fewer samples than required), missing (no
// metric or document), pending (not yet due).
type Criterion struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"` // evaluation, artifact, safeguard
	Title     string    `json:"title"`
	Status    string    `json:"status"`
	Suite     string    `json:"suite,omitempty"`
	Metric    string    `json:"metric,omitempty"`
	Category  string    `json:"category,omitempty"`
	Observed  *Observed `json:"observed,omitempty"`
	Required  string    `json:"required"`
	Threshold *float64  `json:"threshold,omitempty"`
	Direction string    `json:"direction,omitempty"`
	MinN      int       `json:"minN,omitempty"`
	Judge     string    `json:"judge,omitempty"`
	Judgement string    `json:"judgement"`
	// Variant is the variant of the model the evaluation requires its
	// metric to have been measured on; empty when any will do.
	Variant string `json:"variant,omitempty"`
	// Scorer is the scorer of the judged metric, when the evidence names it.
	Scorer     *MetricScorer  `json:"scorer,omitempty"`
	Due        string         `json:"due,omitempty"`
	Cite       string         `json:"cite,omitempty"`
	Provenance []UsedConstant `json:"provenance,omitempty"`
}

// Observed is the measured value an evaluation was judged on.
type Observed struct {
	Rate      float64         `json:"rate"`
	Flagged   int             `json:"flagged"`
	N         int             `json:"n"`
	CI        *stats.Interval `json:"ci,omitempty"`
	Corrected bool            `json:"corrected,omitempty"`
	// Sequential describes the runner's sequential test, when one decided.
	Sequential string `json:"sequential,omitempty"`
	// Variant is the variant the metric was measured on, with the
	// checkpoint ("checkpoint:NAME"); empty when the evidence records none.
	Variant string `json:"variant,omitempty"`
}

// Condition is a condition attached to an outcome.
type Condition struct {
	ID         string         `json:"id"`
	Text       string         `json:"text"`
	Due        string         `json:"due,omitempty"`
	DueRule    string         `json:"dueRule,omitempty"`
	Provenance []UsedConstant `json:"provenance,omitempty"`
}

// DisclosureDue is a disclosure duty and its state: done, pending,
// overdue, or unscheduled (its due event has no date yet).
type DisclosureDue struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	To      string `json:"to"`
	Status  string `json:"status"`
	Due     string `json:"due,omitempty"`
	DueRule string `json:"dueRule,omitempty"`
	Cite    string `json:"cite,omitempty"`
}

// IncidentDuty is an incident class's reporting duty and the incidents of
// that class in the evidence.
type IncidentDuty struct {
	ID         string         `json:"id"`
	Title      string         `json:"title"`
	Deadline   string         `json:"deadline"`
	To         string         `json:"to"`
	Cite       string         `json:"cite,omitempty"`
	Provenance []UsedConstant `json:"provenance,omitempty"`
	Cases      []IncidentCase `json:"cases,omitempty"`
}

// IncidentCase is one incident and its report.
type IncidentCase struct {
	Ref      string `json:"ref,omitempty"`
	Occurred string `json:"occurred"`
	Due      string `json:"due"`
	Reported bool   `json:"reported"`
	Overdue  bool   `json:"overdue"`
}

// Exposure is the maximum penalty for the developer in evidence.
type Exposure struct {
	Max        float64        `json:"max"`
	Subsequent float64        `json:"subsequent,omitempty"` // maximum for a repeated violation
	Currency   string         `json:"currency"`
	Per        string         `json:"per,omitempty"`
	Text       string         `json:"text"`
	Provenance []UsedConstant `json:"provenance,omitempty"`
}

// BoundResult is the outcome of a profile this one binds to.
type BoundResult struct {
	Profile    string  `json:"profile"`
	Applicable bool    `json:"applicable"`
	Tier       string  `json:"tier"`
	Outcome    Outcome `json:"outcome"`
}

// Decide judges ev under each profile, in order. The evaluation date is
// ev.AsOf; it returns ErrNoDate when that is zero. Profiles named in a
// profile's binds are taken from profiles when present, else from the
// built-ins. Errors evaluating a rule do not abort: the profile's outcome
// becomes hold and the error is listed in its result (fail closed).
func Decide(ev *Evidence, profiles ...*Profile) (*Decision, error) {
	if ev == nil {
		return nil, errors.New("decide: nil evidence")
	}
	if ev.AsOf.IsZero() {
		return nil, fmt.Errorf("decide: %w", ErrNoDate)
	}
	d := &decider{ev: ev, given: map[string]*Profile{}, done: map[string]*Result{}, busy: map[string]bool{}}
	for _, p := range profiles {
		if p == nil || p.c == nil {
			return nil, errors.New("decide: profile not loaded (use Load or Builtin)")
		}
		d.given[p.ID] = p
	}
	d.base = d.baseActivation()
	out := &Decision{EvaluatedAt: rfc(ev.AsOf), Subject: ev.Identity, Results: make([]Result, 0, len(profiles))}
	if out.Subject.Name == "" {
		out.Subject.Name = ev.Model.Name
	}
	if out.Subject.Version == "" {
		out.Subject.Version = ev.Model.Version
	}
	for _, p := range profiles {
		out.Results = append(out.Results, *d.result(p, 0))
	}
	return out, nil
}

type decider struct {
	ev    *Evidence
	given map[string]*Profile
	done  map[string]*Result
	busy  map[string]bool
	base  map[string]any
}

func (d *decider) baseActivation() map[string]any {
	ev := d.ev
	metrics := map[string]MetricView{}
	for k, m := range ev.Metrics {
		metrics[k] = view(m)
		for c, cm := range m.ByCategory {
			cm.Variant, cm.Checkpoint = m.Variant, m.Checkpoint
			metrics[k+"/"+c] = view(cm)
		}
		for d, dm := range m.ByDifficulty {
			dm.Variant, dm.Checkpoint = m.Variant, m.Checkpoint
			metrics[k+"/"+d] = view(dm)
		}
	}
	facts := sortedKeys(ev.Known)
	events := relevantEvents(ev.Events, ev.AsOf)
	recognised := ev.Recognised
	if recognised == nil {
		recognised = []Recognised{}
	}
	return map[string]any{
		"model": ev.Model, "developer": ev.Developer, "market": ev.Market,
		"designations": ev.Designations, "security": ev.Security, "service": ev.Service,
		"documents": ev.Documents, "release": ev.Release, "events": events,
		"metrics": metrics, "facts": facts, "now": ev.AsOf, "recognised": recognised,
		"references": referencesActivation(ev.References), "redteam": ev.RedTeam,
	}
}

func view(m MetricValue) MetricView {
	v := MetricView{Flagged: int64(m.Flagged), N: int64(m.N), Errors: int64(m.Errors), Rate: m.Rate, Low: m.CI.Low, High: m.CI.High,
		Variant: m.Variant, Checkpoint: m.Checkpoint}
	if m.Corrected != nil {
		v.HasCorrected, v.CorrectedRate = true, m.Corrected.Rate
	}
	return v
}

func (d *decider) resolve(id string) (*Profile, error) {
	if p, ok := d.given[id]; ok {
		return p, nil
	}
	return Builtin(id)
}

// result evaluates p once (memoised) so bound profiles are shared.
func (d *decider) result(p *Profile, depth int) *Result {
	if r, ok := d.done[p.ID]; ok {
		return r
	}
	r := d.evaluate(p, depth)
	r.Explanation = explain(p, r)
	d.done[p.ID] = r
	return r
}

func (d *decider) evaluate(p *Profile, depth int) *Result {
	ev, c := d.ev, p.c
	r := &Result{Profile: p.ID, Title: p.Title, ProfileVersion: p.Version, Status: p.Status, ProfileDigest: p.digest, Why: []Reason{}}
	act := make(map[string]any, len(d.base)+len(p.Constants)+16)
	for k, v := range d.base {
		act[k] = v
	}
	for n, k := range p.Constants {
		act["consts."+n] = k.Value
	}
	// Defaults for the derived variables, so that rules evaluated early
	// (applicability, tiers) see empty values rather than errors.
	act["tier"] = ""
	act["evals"] = map[string]EvalState{}
	act["clocks"] = map[string]ClockState{}
	act["bound"] = map[string]BoundState{}
	for _, k := range []string{"failed_evals", "missing_evals", "inconclusive_evals", "missing_artifacts", "pending_artifacts", "failed_safeguards", "open_incidents", "overdue_incidents"} {
		act[k] = []string{}
	}
	fail := func(where string, err error) {
		r.Errors = append(r.Errors, fmt.Sprintf("profile %s: rule %s: %v", p.ID, where, err))
	}
	missing := map[string]bool{}
	noteFacts := func(prg *program) {
		for _, f := range prg.facts {
			if !ev.Known[f] {
				missing[f] = true
			}
		}
	}

	// Bound profiles.
	bound := map[string]BoundState{}
	for _, id := range p.Binds {
		bp, err := d.resolve(id)
		if err != nil || depth >= maxExtendsDepth || d.busy[id] {
			if err == nil {
				err = fmt.Errorf("binding cycle through %q", id)
			}
			fail("binds["+id+"]", err)
			continue
		}
		d.busy[p.ID] = true
		br := d.result(bp, depth+1)
		delete(d.busy, p.ID)
		bound[id] = BoundState{Applicable: br.Applicable, Tier: br.Tier, Outcome: string(br.Outcome)}
		r.Bound = append(r.Bound, BoundResult{Profile: id, Applicable: br.Applicable, Tier: br.Tier, Outcome: br.Outcome})
	}
	act["bound"] = bound

	// Applicability, three-valued: a clause that turns on facts the
	// dossier does not declare is undetermined (Kleene logic: any of the
	// Any clauses, and all of the All clauses, and none of the
	// exemptions).
	applicable := triYes
	undetermined := map[string]bool{}
	and := func(v tri) {
		switch {
		case applicable == triNo || v == triNo:
			applicable = triNo
		case v == triUnknown:
			applicable = triUnknown
		}
	}
	if a := p.Applicability; a != nil {
		clause := func(sec string, k Clause, prg *program) (tri, []string) {
			if prg == nil {
				return triNo, nil
			}
			noteFacts(prg)
			v, facts, err := prg.evalTri(act, ev.Known)
			if err != nil {
				fail("applicability."+sec+"["+k.ID+"]", err)
				return triNo, nil
			}
			return v, facts
		}
		needs := func(facts []string) string { return " (needs " + strings.Join(facts, ", ") + ")" }
		anyHit := triNo
		if len(a.Any) == 0 {
			anyHit = triYes
		}
		var anyUnknown []Reason
		var anyFacts []string
		for i, k := range a.Any {
			v, facts := clause("any", k, c.any[i])
			switch v {
			case triYes:
				anyHit = triYes
				r.Why = append(r.Why, Reason{Clause: "any." + k.ID, Holds: true, Text: k.Why, Provenance: used(p, c.any[i].consts)})
			case triUnknown:
				anyUnknown = append(anyUnknown, Reason{Clause: "any." + k.ID, Undetermined: true, Text: "undetermined: " + k.Why + needs(facts), Provenance: used(p, c.any[i].consts)})
				anyFacts = append(anyFacts, facts...)
			}
		}
		if anyHit == triNo && len(anyUnknown) > 0 {
			anyHit = triUnknown
			r.Why = append(r.Why, anyUnknown...)
			for _, f := range anyFacts {
				undetermined[f] = true
			}
		}
		if anyHit == triNo {
			var names []string
			var prov []string
			for i, k := range a.Any {
				names = append(names, k.Why)
				if c.any[i] != nil {
					prov = append(prov, c.any[i].consts...)
				}
			}
			r.Why = append(r.Why, Reason{Clause: "any", Holds: false, Text: "none of: " + strings.Join(names, "; "), Provenance: used(p, dedupe(prov))})
		}
		and(anyHit)
		var allUnknown []string
		for i, k := range a.All {
			v, facts := clause("all", k, c.all[i])
			switch v {
			case triNo:
				txt := k.WhyNot
				if txt == "" {
					txt = "not: " + k.Why
				}
				r.Why = append(r.Why, Reason{Clause: "all." + k.ID, Holds: false, Text: txt, Provenance: used(p, c.all[i].consts)})
			case triUnknown:
				r.Why = append(r.Why, Reason{Clause: "all." + k.ID, Undetermined: true, Text: "undetermined: " + k.Why + needs(facts), Provenance: used(p, c.all[i].consts)})
				allUnknown = append(allUnknown, facts...)
			}
			and(v)
		}
		for _, f := range allUnknown {
			undetermined[f] = true
		}
		for i, k := range a.Exemptions {
			v, facts := clause("exemptions", k, c.exempt[i])
			switch v {
			case triYes:
				r.Why = append(r.Why, Reason{Clause: "exemptions." + k.ID, Holds: true, Text: "exempt: " + k.Why, Provenance: used(p, c.exempt[i].consts)})
				and(triNo)
			case triUnknown:
				r.Why = append(r.Why, Reason{Clause: "exemptions." + k.ID, Undetermined: true, Text: "undetermined exemption: " + k.Why + needs(facts), Provenance: used(p, c.exempt[i].consts)})
				for _, f := range facts {
					undetermined[f] = true
				}
				and(triUnknown)
			}
		}
		for i, k := range a.Notes {
			if v, _ := clause("notes", k, c.note[i]); v == triYes {
				r.Why = append(r.Why, Reason{Clause: "notes." + k.ID, Holds: true, Text: k.Why, Provenance: used(p, c.note[i].consts)})
			}
		}
	}
	r.MissingFacts = sortedSet(missing)
	inForce, notInForce := p.InForce(ev.AsOf)
	r.InForce, r.InForceFrom, r.InForceUntil, r.InForceNote = inForce, p.InForceFrom, p.InForceUntil, notInForce
	if inForce && p.InForceFrom != "" {
		r.InForceNote = "in force since " + p.InForceFrom
	}
	if len(r.Errors) > 0 {
		// An applicability that could not be evaluated is not "not covered".
		r.Applicable, r.Applicability, r.Outcome, r.Rationale = inForce, ApplicabilityUndetermined, Hold, "applicability could not be determined"
		if !inForce {
			r.Outcome, r.Rationale = NotInForce, notInForceRationale(notInForce, ev.AsOf)
		}
		return r
	}
	switch applicable {
	case triYes:
		r.Applicability = ApplicabilityYes
	case triNo:
		r.Applicability = ApplicabilityNo
	default:
		r.Applicability = ApplicabilityUndetermined
		r.UndeterminedFacts = sortedSet(undetermined)
	}
	r.Applicable = applicable != triNo && inForce
	if !inForce {
		r.Outcome, r.Rationale = NotInForce, notInForceRationale(notInForce, ev.AsOf)
		return r
	}
	switch applicable {
	case triNo:
		r.Outcome = NotApplicable
		r.Rationale = "the profile does not cover this model"
		return r
	case triUnknown:
		r.Outcome = Hold
		r.Rationale = "facts needed: " + strings.Join(r.UndeterminedFacts, ", ") + " (whether the profile covers this model turns on them; holding, fail closed)"
		return r
	}

	// Tier: the first tier that holds. A tier that turns on facts the
	// dossier lacks, before any tier holds, leaves the tier undetermined.
	var tierFacts []string
	for i, t := range p.Tiers {
		v, facts, err := c.tiers[i].evalTri(act, ev.Known)
		if err != nil {
			fail("tiers["+t.ID+"]", err)
			continue
		}
		if v == triUnknown {
			tierFacts = append(tierFacts, facts...)
			continue
		}
		if v == triYes {
			if len(tierFacts) == 0 {
				r.Tier = t.ID
			}
			break
		}
	}
	if len(tierFacts) > 0 {
		r.UndeterminedFacts = dedupe(tierFacts)
		r.Outcome = Hold
		r.Rationale = "facts needed: " + strings.Join(r.UndeterminedFacts, ", ") + " (the tier of obligations turns on them; holding, fail closed)"
		return r
	}
	act["tier"] = r.Tier
	inTier := func(tiers []string) bool { return len(tiers) == 0 || slices.Contains(tiers, r.Tier) }
	when := func(prg *program, where string) bool {
		if prg == nil {
			return true
		}
		ok, err := prg.evalBool(act)
		if err != nil {
			fail(where, err)
			return false
		}
		return ok
	}
	events := act["events"].([]Event)

	// Evaluations.
	evals := map[string]EvalState{}
	var failedE, missingE, inconclusiveE []string
	for i, e := range p.Evaluations {
		if !inTier(e.Tiers) || !when(c.evalWhen[i], "evaluations["+e.ID+"].when") {
			continue
		}
		cr := judgeEvaluation(p, e, ev.Metrics)
		r.Criteria = append(r.Criteria, cr)
		st := EvalState{Status: cr.Status}
		if cr.Observed != nil {
			st.Observed, st.N = cr.Observed.Rate, int64(cr.Observed.N)
		}
		evals[e.ID] = st
		switch cr.Status {
		case "fail":
			failedE = append(failedE, e.ID)
		case "missing", "insufficient":
			missingE = append(missingE, e.ID)
		case "inconclusive":
			inconclusiveE = append(inconclusiveE, e.ID)
		}
	}
	act["evals"], act["failed_evals"], act["missing_evals"], act["inconclusive_evals"] = evals, nonNil(failedE), nonNil(missingE), nonNil(inconclusiveE)

	// Artifacts.
	var missingA, pendingA []string
	for i, a := range p.Artifacts {
		if !inTier(a.Tiers) || !when(c.artWhen[i], "artifacts["+a.ID+"].when") {
			continue
		}
		doc, _ := ev.Documents.byName(a.Document)
		cr := Criterion{ID: a.ID, Kind: "artifact", Title: a.Title, Cite: a.Cite, Required: "document " + a.Document + " present"}
		due, rule, prov, known := d.dueDate(p, a.Due)
		cr.Provenance = prov
		if rule != "" {
			cr.Required += " (" + rule + ")"
		}
		cr.Due = rfc(due)
		switch {
		case doc.Present:
			cr.Status, cr.Judgement = "pass", "present"
			if !doc.Date.IsZero() {
				cr.Judgement += " since " + rfc(doc.Date)
			}
		case a.Due == nil || (known && !due.After(ev.AsOf)):
			cr.Status, cr.Judgement = "missing", "absent and due"
			missingA = append(missingA, a.ID)
		default:
			cr.Status, cr.Judgement = "pending", "absent, not yet due"
			pendingA = append(pendingA, a.ID)
		}
		r.Criteria = append(r.Criteria, cr)
	}
	act["missing_artifacts"], act["pending_artifacts"] = nonNil(missingA), nonNil(pendingA)

	// Safeguards.
	var failedS []string
	for i, s := range p.Safeguards {
		if !inTier(s.Tiers) || !when(c.sgWhen[i], "safeguards["+s.ID+"].when") {
			continue
		}
		cr := Criterion{ID: s.ID, Kind: "safeguard", Title: s.Title, Cite: s.Cite, Required: s.Require, Provenance: used(p, c.sgReq[i].consts)}
		ok, err := c.sgReq[i].evalBool(act)
		switch {
		case err != nil:
			fail("safeguards["+s.ID+"].require", err)
			cr.Status, cr.Judgement = "fail", "could not be evaluated: "+err.Error()
		case ok:
			cr.Status, cr.Judgement = "pass", "holds"
		default:
			cr.Status, cr.Judgement = "fail", "does not hold"
		}
		if cr.Status == "fail" {
			failedS = append(failedS, s.ID)
		}
		r.Criteria = append(r.Criteria, cr)
	}
	act["failed_safeguards"] = nonNil(failedS)

	// Clocks.
	clocks := map[string]ClockState{}
	for _, k := range p.Clocks {
		if !inTier(k.Tiers) {
			continue
		}
		length, prov := d.number(p, k.Length)
		ext := 0.0
		if k.Extension != nil {
			var ep []UsedConstant
			ext, ep = d.number(p, k.Extension.Length)
			prov = append(prov, ep...)
		}
		cr := runClock(k, length, ext, events, ev.AsOf)
		cr.Provenance = prov
		r.Clocks = append(r.Clocks, cr)
		clocks[k.ID] = ClockState{Status: cr.Status, Started: cr.Status != "not_started", Expired: cr.Status == "expired", Ended: cr.Status == "ended", Due: cr.due, DaysLeft: int64(cr.DaysLeft)}
	}
	act["clocks"] = clocks

	// Incidents.
	var openI, overdueI []string
	for _, k := range p.Incidents {
		n, prov := d.number(p, k.Deadline)
		unit := k.Unit
		if unit == "" {
			unit = CalendarDays
		}
		duty := IncidentDuty{ID: k.ID, Title: k.Title, Deadline: unitText(n, unit), To: k.To, Cite: k.Cite, Provenance: prov}
		for _, e := range events {
			if e.Type != "incident" || e.Class != k.ID {
				continue
			}
			due := addUnits(e.Date, n, unit)
			ic := IncidentCase{Ref: e.Ref, Occurred: rfc(e.Date), Due: rfc(due)}
			for _, rep := range events {
				if rep.Type == "incident_reported" && !rep.Date.Before(e.Date) && (rep.Ref == e.Ref || (e.Ref == "" && rep.Class == e.Class)) {
					ic.Reported = true
					break
				}
			}
			if !ic.Reported {
				if ev.AsOf.After(due) {
					ic.Overdue = true
					overdueI = append(overdueI, k.ID)
				} else {
					openI = append(openI, k.ID)
				}
			}
			duty.Cases = append(duty.Cases, ic)
		}
		r.Incidents = append(r.Incidents, duty)
	}
	act["open_incidents"], act["overdue_incidents"] = nonNil(openI), nonNil(overdueI)

	for _, cr := range r.Criteria {
		if cr.Status != "pass" && cr.Status != "pending" {
			r.FailedCriteria = append(r.FailedCriteria, cr)
		}
	}

	// Decision rules.
	matched := false
	for i, rule := range p.Decision {
		ok := true
		if c.rules[i] != nil {
			var err error
			ok, err = c.rules[i].evalBool(act)
			if err != nil {
				fail("decision["+rule.ID+"]", err)
				r.Outcome, r.Rule, r.Rationale = Hold, rule.ID, "decision rule "+rule.ID+" could not be evaluated; holding (fail closed)"
				matched = true
				break
			}
		}
		if !ok {
			continue
		}
		matched = true
		r.Outcome, r.Rule, r.Rationale = rule.Outcome, rule.ID, rule.Rationale
		for _, cid := range rule.Conditions {
			j := slices.IndexFunc(p.Conditions, func(t ConditionTemplate) bool { return t.ID == cid })
			if j < 0 {
				continue
			}
			t := p.Conditions[j]
			if !when(c.condWhen[j], "conditions["+t.ID+"].when") {
				continue
			}
			due, rule, prov, _ := d.dueDate(p, t.Due)
			r.Conditions = append(r.Conditions, Condition{ID: t.ID, Text: t.Text, Due: rfc(due), DueRule: rule, Provenance: prov})
		}
		break
	}
	if !matched {
		r.Outcome, r.Rationale = Hold, "no decision rule matched; holding (fail closed)"
	}
	if len(r.Errors) > 0 && r.Outcome != Refused {
		r.Outcome, r.Rationale = Hold, "a rule could not be evaluated; holding (fail closed)"
	}
	// Pending artifacts become conditions with their due dates.
	for _, cr := range r.Criteria {
		if cr.Kind == "artifact" && cr.Status == "pending" && !slices.ContainsFunc(r.Conditions, func(x Condition) bool { return x.ID == cr.ID }) {
			r.Conditions = append(r.Conditions, Condition{ID: cr.ID, Text: "Provide: " + cr.Title, Due: cr.Due, DueRule: strings.TrimPrefix(cr.Required, "document "), Provenance: cr.Provenance})
		}
	}

	// Disclosures.
	for _, ds := range p.Disclosures {
		if !inTier(ds.Tiers) {
			continue
		}
		due, rule, _, known := d.dueDate(p, ds.Due)
		dd := DisclosureDue{ID: ds.ID, Title: ds.Title, To: ds.To, Due: rfc(due), DueRule: rule, Cite: ds.Cite}
		doc, _ := ev.Documents.byName(ds.Document)
		switch {
		case ds.Document != "" && doc.Present:
			dd.Status = "done"
		case ds.Due != nil && !known:
			dd.Status = "unscheduled"
		case ds.Due != nil && due.Before(ev.AsOf):
			dd.Status = "overdue"
		default:
			dd.Status = "pending"
		}
		r.Disclosures = append(r.Disclosures, dd)
	}

	// Penalty.
	if p.Penalty != nil && c.penalty != nil {
		v, err := c.penalty.evalDouble(act)
		if err != nil {
			fail("penalty.max", err)
		} else {
			r.Penalty = &Exposure{Max: v, Currency: p.Penalty.Currency, Per: p.Penalty.Per, Text: p.Penalty.Text, Provenance: used(p, c.penalty.consts)}
			// A repeat maximum exists only where a first violation is
			// penalised: a developer outside the penalty's tier (New York's
			// non-large frontier developers) faces neither.
			if p.Penalty.Subsequent.Set && v > 0 {
				sv, sp := d.number(p, p.Penalty.Subsequent)
				r.Penalty.Subsequent = sv
				r.Penalty.Provenance = append(r.Penalty.Provenance, sp...)
			}
		}
	}
	return r
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func dedupe(s []string) []string {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return sortedSet(m)
}

// used returns the named constants with their provenance.
func used(p *Profile, names []string) []UsedConstant {
	var out []UsedConstant
	for _, n := range names {
		if k, ok := p.Constants[n]; ok {
			out = append(out, UsedConstant{Name: n, Value: k.Value, Unit: k.Unit, Provenance: k.Provenance})
		}
	}
	return out
}

// number resolves a ConstRef to its value and provenance.
func (d *decider) number(p *Profile, r ConstRef) (float64, []UsedConstant) {
	if r.Name == "" {
		return r.Literal, nil
	}
	k := p.Constants[r.Name]
	f, _ := k.Value.(float64)
	return f, used(p, []string{r.Name})
}

// dueDate computes a due rule; known is false when the event has no date.
func (d *decider) dueDate(p *Profile, due *Due) (time.Time, string, []UsedConstant, bool) {
	if due == nil {
		return time.Time{}, "", nil, false
	}
	n, prov := d.number(p, due.Days)
	unit := due.Unit
	if unit == "" {
		unit = CalendarDays
	}
	rel := "after"
	if due.Before {
		rel = "before"
	}
	rule := unitText(n, unit) + " " + rel + " " + due.Event
	if n == 0 {
		rule = "by " + due.Event
	}
	var at time.Time
	switch due.Event {
	case "planned_release":
		at = d.ev.Release.PlannedDate
	case "as_of":
		at = d.ev.AsOf
	default:
		for _, e := range relevantEvents(d.ev.Events, d.ev.AsOf) {
			if e.Type == due.Event {
				at = e.Date
				break
			}
		}
	}
	if at.IsZero() {
		return time.Time{}, rule + " (no date yet)", prov, false
	}
	if due.Before {
		n = -n
	}
	return addUnits(at, n, unit), rule, prov, true
}

// judgeEvaluation judges one required evaluation against the metrics.
func judgeEvaluation(p *Profile, e Evaluation, metrics map[string]MetricValue) (cr Criterion) {
	d := &decider{}
	cr = Criterion{ID: e.ID, Kind: "evaluation", Title: e.Title, Suite: e.Suite, Metric: e.Metric, Category: e.Category, Direction: e.Direction, Judge: e.Judge}
	var prov []UsedConstant
	val := func(r ConstRef, def float64) float64 {
		if !r.Set {
			return def
		}
		v, pr := d.number(p, r)
		prov = append(prov, pr...)
		return v
	}
	t := val(e.Threshold, math.NaN())
	minN := int(val(e.MinN, 1))
	level := val(e.Level, 0.95)
	cr.MinN = minN
	if e.Direction != "report" {
		cr.Threshold = &t
	}
	cr.Required = requiredText(e.Direction, t, minN, e.Judge, level)
	if e.Variant != "" {
		cr.Variant = e.Variant
		cr.Required += " on the " + e.Variant + " variant"
	}
	defer func() { cr.Provenance = prov }()

	key := e.Suite + "." + e.Metric
	m, ok := metrics[key]
	scorer := m.Scorer
	variant := variantLabel(m)
	if ok && e.Category != "" {
		sub, found := m.ByCategory[e.Category]
		if !found {
			// A difficulty level ("d3") of a capability rate.
			sub, found = m.ByDifficulty[e.Category]
		}
		m, ok = sub, found
		key += "/" + e.Category
		if m.Scorer != nil {
			scorer = m.Scorer
		}
	}
	if !ok {
		cr.Status, cr.Judgement = "missing", "no metric "+key+" in the evidence"
		return cr
	}
	if why, ok := variantMismatch(e, key, variant); !ok {
		cr.Status, cr.Judgement = "insufficient", why
		return cr
	}
	obs := &Observed{Rate: m.Rate, Flagged: m.Flagged, N: m.N, Variant: variant}
	ci := m.CI
	if e.Corrected && m.Corrected != nil {
		if why, ok := correctionUsable(scorer); !ok {
			cr.Observed = obs
			cr.Scorer = scorer
			cr.Status, cr.Judgement = "insufficient", why
			return cr
		}
		obs.Rate, obs.Corrected, ci = m.Corrected.Rate, true, m.Corrected.CI
	}
	if ci.Level != level && !obs.Corrected && m.N > 0 {
		ci = stats.Wilson(m.Flagged, m.N, level)
	}
	obs.CI = &ci
	cr.Observed = obs
	cr.Scorer = scorer
	minKappa := e.ScorerMinKappa
	if !minKappa.Set {
		minKappa = p.ScorerMinKappa
	}
	if minKappa.Set {
		k := val(minKappa, 0)
		switch {
		case scorer == nil:
			cr.Status = "insufficient"
			cr.Judgement = fmt.Sprintf("scorer not validated (no scorer named for %s; κ ≥ %.2f required)", key, k)
			return cr
		case scorer.Kappa == nil:
			cr.Status = "insufficient"
			cr.Judgement = fmt.Sprintf("scorer not validated (%s: κ not measured; κ ≥ %.2f required)", scorerName(scorer), k)
			return cr
		case *scorer.Kappa < k:
			cr.Status = "insufficient"
			cr.Judgement = fmt.Sprintf("scorer not validated (κ %.2f < %.2f)", *scorer.Kappa, k)
			return cr
		}
	}
	if m.N < minN || m.N == 0 {
		cr.Status = "insufficient"
		cr.Judgement = fmt.Sprintf("n = %d below the required %d", m.N, minN)
		return cr
	}
	if e.Direction == "report" {
		cr.Status, cr.Judgement = "pass", fmt.Sprintf("reported with n = %d", m.N)
		return cr
	}
	atMost := e.Direction == "at_most"
	cmp := "≤"
	if !atMost {
		cmp = "≥"
	}
	switch e.Judge {
	case "point":
		pass := (atMost && obs.Rate <= t) || (!atMost && obs.Rate >= t)
		cr.Status = passFail(pass)
		cr.Judgement = fmt.Sprintf("point estimate %s %s %s: %s", num4(obs.Rate), cmp, num4(t), cr.Status)
		return cr
	case "sequential":
		delta, alpha, beta := val(e.Delta, 0), val(e.Alpha, 0), val(e.Beta, 0)
		if s := m.Sequential; s != nil {
			p0 := t
			if atMost {
				p0 = 1 - t
			}
			if math.Abs(s.P0-p0) < 1e-9 && math.Abs(s.Delta-delta) < 1e-9 && math.Abs(s.Alpha-alpha) < 1e-9 && math.Abs(s.Beta-beta) < 1e-9 {
				obs.Sequential = fmt.Sprintf("%s: %s after %d samples (p0=%s, δ=%s, α=%s, β=%s)", s.Test, s.Decision, s.N, num4(s.P0), num4(s.Delta), num4(s.Alpha), num4(s.Beta))
				switch s.Decision {
				case "accept":
					cr.Status = "pass"
				case "reject":
					cr.Status = "fail"
				default:
					cr.Status = "inconclusive"
				}
				cr.Judgement = "sequential test " + s.Decision
				if s.Truncated {
					cr.Judgement += " at the truncation point, by the point estimate (no α/β guarantee)"
				} else if s.Decision != "continue" {
					cr.Judgement += fmt.Sprintf(": wrong-pass probability ≤ %s, wrong-fail ≤ %s outside ±%s of the gate", num4(beta), num4(alpha), num4(delta))
				}
				return cr
			}
			obs.Sequential = "recorded test does not match this gate's parameters; judged by the interval bound"
		} else {
			obs.Sequential = "no sequential record (fixed-n run); judged by the interval bound"
		}
	}
	// bound (and sequential without a usable record)
	var pass, failed bool
	var bound float64
	if atMost {
		pass, failed, bound = ci.High <= t, ci.Low > t, ci.High
	} else {
		pass, failed, bound = ci.Low >= t, ci.High < t, ci.Low
	}
	side := "upper"
	if !atMost {
		side = "lower"
	}
	switch {
	case pass:
		cr.Status = "pass"
	case failed:
		cr.Status = "fail"
	default:
		cr.Status = "inconclusive"
	}
	cr.Judgement = fmt.Sprintf("%s %s%% %s bound %s %s %s: %s (interval [%s, %s])", side, num(level*100), ci.Method, num4(bound), map[bool]string{true: cmp, false: "vs"}[pass], num4(t), cr.Status, num4(ci.Low), num4(ci.High))
	return cr
}

func scorerName(s *MetricScorer) string {
	switch {
	case strings.HasPrefix(s.Version, s.Name+"/"):
		return s.Version // "harm/1+w2", not "harm harm/1+w2"
	case s.Version != "":
		return s.Name + " " + s.Version
	}
	return s.Name
}

// CorrectedMinKappa is the agreement with human labels (Cohen's κ on the
// run's calibration batch) a scorer must be shown to reach before a
// criterion may judge its corrected rate: the lower bound of κ's 95%
// interval must be at least 0.60, HarmBench's classifier level and the
// lower edge of "substantial" agreement. The Rogan–Gladen correction
// divides by sensitivity + specificity − 1, so a poor scorer's correction
// swings wildly, and it holds only if the calibration batch is like the
// run's answers. The offline harm scorer, at κ 0.61 [0.50, 0.72] on its
// batch, would correct the reference simulator's vulnerable profile's
// 37.5% attack success to a few per cent: a point estimate over 0.60 on
// 200 items is not a validation. Below the bound, or unmeasured, the
// criterion is insufficient, never judged on the correction.
const CorrectedMinKappa = stats.ReliableKappa

// correctionUsable says whether a criterion may judge a rate corrected
// with scorer's measured error, and why not.
func correctionUsable(scorer *MetricScorer) (string, bool) {
	switch {
	case scorer == nil:
		return fmt.Sprintf("corrected rate not usable: no scorer named (κ ≥ %.2f required to correct)", CorrectedMinKappa), false
	case scorer.Kappa == nil:
		return fmt.Sprintf("corrected rate not usable: %s's κ not measured in the run (κ ≥ %.2f required to correct)", scorerName(scorer), CorrectedMinKappa), false
	case scorer.KappaCI == nil:
		return fmt.Sprintf("corrected rate not usable: %s's κ %.2f has no interval recorded (its lower bound must reach %.2f)", scorerName(scorer), *scorer.Kappa, CorrectedMinKappa), false
	case scorer.KappaCI.Low < CorrectedMinKappa:
		return fmt.Sprintf("corrected rate not usable: %s is not shown to agree with humans (κ %.2f, 95%% CI %.2f–%.2f; the lower bound must reach %.2f), so its correction is not evidence",
			scorerName(scorer), *scorer.Kappa, scorer.KappaCI.Low, scorer.KappaCI.High, CorrectedMinKappa), false
	}
	return "", true
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "fail"
}

func requiredText(dir string, t float64, minN int, judge string, level float64) string {
	var s string
	switch dir {
	case "at_most":
		s = "rate ≤ " + num4(t)
	case "at_least":
		s = "rate ≥ " + num4(t)
	default:
		s = "reported"
	}
	s += fmt.Sprintf(", n ≥ %d", minN)
	switch judge {
	case "bound":
		s += fmt.Sprintf(", judged on the %s%% interval bound", num(level*100))
	case "sequential":
		s += ", judged by a sequential test"
	case "point":
		s += ", judged on the point estimate"
	}
	return s
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func num4(f float64) string {
	if math.IsNaN(f) {
		return "n/a"
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}

// SortResults orders results by profile id (for stable side-by-side views).
func SortResults(rs []Result) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Profile < rs[j].Profile })
}
