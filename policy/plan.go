package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/stats"
)

// ErrInvalidPlan is returned (wrapped) by LoadPlan for a malformed plan.
var ErrInvalidPlan = errors.New("invalid plan")

// Plan is a sampling plan: for each suite, how many items to run, how many
// from each category, and the sequential stop rules the runner consults.
// It is the union of the evaluation requirements of the profiles that
// apply to a dossier: one entry per suite, so no query is made twice; the
// sample sizes are the maxima, not the sums, of the requirements.
//
// The runner (clearance assess --plan FILE) runs a suite's items in its
// deterministic order and, after each scored sample, feeds every stop rule
// of that suite whose category matches (or that has no category) with
// StopRule.Success(flagged). It may stop the suite once n ≥ MinN, every
// category has its Items, and every stop rule's test has decided; it must
// stop at Limit. It records each rule's final state in the metric's
// "sequential" field (SequentialRecord) so that Decide can judge the gate.
type Plan struct {
	Version  int         `json:"version"` // 1
	Profiles []string    `json:"profiles"`
	Suites   []SuitePlan `json:"suites"`
	Notes    []string    `json:"notes,omitempty"`
}

// SuitePlan is the plan for one suite.
type SuitePlan struct {
	Suite string `json:"suite"`
	// Limit is the most items to run of each kind of item in the suite
	// (each metric), so that a suite mixing kinds meets every minimum.
	Limit int `json:"limit"`
	// MinN is the fewest items to run before stopping early (the largest
	// fixed-sample minimum among the requirements).
	MinN       int            `json:"minN"`
	Categories []CategoryPlan `json:"categories,omitempty"`
	StopRules  []StopRule     `json:"stopRules,omitempty"`
	// Requirements lists "profile/evaluation" ids this suite serves.
	Requirements []string `json:"requirements"`
}

// CategoryPlan asks for at least Items samples of one category.
type CategoryPlan struct {
	Category string `json:"category"`
	Items    int    `json:"items"`
}

// StopRule is a sequential gate on one metric: Wald's SPRT (stats.SPRT)
// of the success probability against P0 with indifference ±Delta and
// error rates Alpha (failing a good model) and Beta (passing a bad one).
// For an at_most gate on a flagged rate (attack success ≤ 5%), success is
// "not flagged" and P0 = 1 - threshold; for at_least, success is
// "flagged" and P0 = threshold.
type StopRule struct {
	Metric       string   `json:"metric"`
	Category     string   `json:"category,omitempty"`
	Direction    string   `json:"direction"`
	Threshold    float64  `json:"threshold"`
	P0           float64  `json:"p0"`
	Delta        float64  `json:"delta"`
	Alpha        float64  `json:"alpha"`
	Beta         float64  `json:"beta"`
	MinN         int      `json:"minN"`
	MaxN         int      `json:"maxN"`
	FixedN       int      `json:"fixedN"` // fixed-sample size at the same error rates, for comparison
	Requirements []string `json:"requirements"`
}

// Success maps a scored sample (flagged or not) to the SPRT's success.
func (r StopRule) Success(flagged bool) bool {
	if r.Direction == "at_least" {
		return flagged
	}
	return !flagged
}

// NewTest returns a fresh SPRT for the rule, truncated at MaxN.
func (r StopRule) NewTest() (*stats.SPRT, error) {
	s, err := stats.NewSPRT(r.P0, r.Delta, r.Alpha, r.Beta)
	if err != nil {
		return nil, fmt.Errorf("stop rule %s: %w", r.Metric, err)
	}
	if r.MaxN > 0 {
		s.MaxN = r.MaxN
	}
	return s, nil
}

// Record turns a finished (or abandoned) test into the record Decide reads.
func (r StopRule) Record(s *stats.SPRT) SequentialRecord {
	return SequentialRecord{Test: "sprt", P0: r.P0, Delta: r.Delta, Alpha: r.Alpha, Beta: r.Beta,
		Decision: s.Decision().String(), Truncated: s.Truncated(), N: s.N()}
}

// MakePlan returns the sampling plan for the profiles that apply to the
// dossier (evidence without metrics). A profile's evaluations are those of
// the tier the dossier puts it in; when a profile's tiers depend on
// metrics (unknown before the run), the evaluations of every tier are
// included. Profiles that do not apply are listed in Notes.
func MakePlan(dossier *Evidence, profiles ...*Profile) (*Plan, error) {
	if dossier == nil {
		return nil, errors.New("make plan: nil dossier")
	}
	ev := *dossier
	ev.Metrics = nil
	if ev.AsOf.IsZero() {
		ev.AsOf = ev.Release.PlannedDate
		if ev.AsOf.IsZero() {
			ev.AsOf = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		}
	}
	dec, err := Decide(&ev, profiles...)
	if err != nil {
		return nil, fmt.Errorf("make plan: %w", err)
	}
	plan := &Plan{Version: 1, Suites: []SuitePlan{}}
	bySuite := map[string]*SuitePlan{}
	for i, p := range profiles {
		res := dec.Results[i]
		if !res.Applicable {
			why := "not applicable"
			if res.Outcome == NotInForce {
				why = res.InForceNote
			}
			plan.Notes = append(plan.Notes, fmt.Sprintf("%s: %s, no evaluations planned", p.ID, why))
			continue
		}
		plan.Profiles = append(plan.Profiles, p.ID)
		tierVaries := false
		for _, t := range p.c.tiers {
			if t != nil && slices.Contains(t.vars, "metrics") {
				tierVaries = true
			}
		}
		if !tierVaries && len(res.UndeterminedFacts) > 0 && len(p.Tiers) > 0 {
			tierVaries = true
			plan.Notes = append(plan.Notes, fmt.Sprintf("%s: facts needed: %s; evaluations of every tier planned", p.ID, strings.Join(res.UndeterminedFacts, ", ")))
		} else if tierVaries {
			plan.Notes = append(plan.Notes, fmt.Sprintf("%s: tier depends on metrics; evaluations of every tier planned", p.ID))
		}
		for j, e := range p.Evaluations {
			if !tierVaries && len(e.Tiers) > 0 && !slices.Contains(e.Tiers, res.Tier) {
				continue
			}
			if w := p.c.evalWhen[j]; w != nil && !slices.Contains(w.vars, "metrics") {
				ok, err := w.evalBool(planActivation(&ev, p, res.Tier))
				if err == nil && !ok {
					continue
				}
			}
			req := p.ID + "/" + e.ID
			sp := bySuite[e.Suite]
			if sp == nil {
				sp = &SuitePlan{Suite: e.Suite}
				bySuite[e.Suite] = sp
			}
			sp.Requirements = append(sp.Requirements, req)
			d := &decider{}
			value := func(r ConstRef, def float64) float64 {
				if !r.Set {
					return def
				}
				v, _ := d.number(p, r)
				return v
			}
			minN := int(math.Ceil(value(e.MinN, 1)))
			if e.Category != "" {
				addCategory(sp, e.Category, minN)
			}
			if e.Judge != "sequential" {
				if e.Category == "" && minN > sp.MinN {
					sp.MinN = minN
				}
				sp.Limit = max(sp.Limit, minN)
				continue
			}
			t := value(e.Threshold, 0)
			rule := StopRule{Metric: e.Metric, Category: e.Category, Direction: e.Direction, Threshold: t,
				Delta: value(e.Delta, 0), Alpha: value(e.Alpha, 0), Beta: value(e.Beta, 0), MinN: minN}
			rule.P0 = t
			if e.Direction == "at_most" {
				rule.P0 = 1 - t
			}
			fixed, err := stats.FixedN(rule.P0, rule.Delta, rule.Alpha, rule.Beta)
			if err != nil {
				return nil, fmt.Errorf("make plan: profile %s: evaluation %s: %w", p.ID, e.ID, err)
			}
			rule.FixedN = fixed
			rule.MaxN = max(int(value(e.MaxN, float64(2*fixed))), minN)
			if k := slices.IndexFunc(sp.StopRules, func(x StopRule) bool { return x.sameGate(rule) }); k >= 0 {
				x := &sp.StopRules[k]
				x.MinN, x.MaxN = max(x.MinN, rule.MinN), max(x.MaxN, rule.MaxN)
				x.Requirements = append(x.Requirements, req)
			} else {
				rule.Requirements = []string{req}
				sp.StopRules = append(sp.StopRules, rule)
			}
			sp.Limit = max(sp.Limit, rule.MaxN)
		}
	}
	for _, s := range sortedKeys(bySuite) {
		sp := bySuite[s]
		for _, r := range sp.StopRules {
			if r.Category == "" {
				sp.MinN = max(sp.MinN, r.MinN)
			}
		}
		sort.Slice(sp.Categories, func(i, j int) bool { return sp.Categories[i].Category < sp.Categories[j].Category })
		plan.Suites = append(plan.Suites, *sp)
	}
	return plan, nil
}

func (r StopRule) sameGate(o StopRule) bool {
	return r.Metric == o.Metric && r.Category == o.Category && r.Direction == o.Direction &&
		r.P0 == o.P0 && r.Delta == o.Delta && r.Alpha == o.Alpha && r.Beta == o.Beta
}

func addCategory(sp *SuitePlan, cat string, n int) {
	for i := range sp.Categories {
		if sp.Categories[i].Category == cat {
			sp.Categories[i].Items = max(sp.Categories[i].Items, n)
			return
		}
	}
	sp.Categories = append(sp.Categories, CategoryPlan{Category: cat, Items: n})
}

func planActivation(ev *Evidence, p *Profile, tier string) map[string]any {
	d := &decider{ev: ev}
	act := d.baseActivation()
	for n, k := range p.Constants {
		act["consts."+n] = k.Value
	}
	act["tier"] = tier
	return act
}

// LoadPlan parses and validates a plan (JSON) against the published plan
// schema. Errors wrap ErrInvalidPlan.
func LoadPlan(name string, data []byte) (*Plan, error) {
	tree, lines, err := parseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("load plan %s: %w: %v", name, ErrInvalidPlan, err)
	}
	s, err := compiledSchemas()
	if err != nil {
		return nil, fmt.Errorf("load plan %s: %w", name, err)
	}
	if probs := validateTree(s.plan, tree, lines); len(probs) > 0 {
		return nil, fmt.Errorf("%s: %w", formatProblems("load plan", name, probs), ErrInvalidPlan)
	}
	buf, _ := json.Marshal(tree)
	var p Plan
	if err := json.NewDecoder(bytes.NewReader(buf)).Decode(&p); err != nil {
		return nil, fmt.Errorf("load plan %s: %w: %v", name, ErrInvalidPlan, err)
	}
	return &p, nil
}
