package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
)

// MaxProfileBytes bounds a profile file.
const MaxProfileBytes = 1 << 20

const maxExtendsDepth = 8

// ErrInvalidProfile is returned (wrapped, inside a *ProfileError) when a
// profile fails its schema, names something that does not exist, or has a
// CEL rule that does not compile or type-check.
var ErrInvalidProfile = errors.New("invalid profile")

// ErrUnknownProfile is returned (wrapped) when a profile id is neither
// built in nor resolvable.
var ErrUnknownProfile = errors.New("unknown profile")

// ProfileError lists what is wrong with a profile, each problem with its
// file, line and field.
type ProfileError struct {
	File     string
	Problems []Problem
}

func (e *ProfileError) Error() string { return formatProblems("load profile", e.File, e.Problems) }

// Unwrap returns ErrInvalidProfile, or ErrRuleCost when a rule was
// rejected for its cost.
func (e *ProfileError) Unwrap() []error {
	errs := []error{ErrInvalidProfile}
	for _, p := range e.Problems {
		if strings.Contains(p.Msg, ErrRuleCost.Error()) {
			errs = append(errs, ErrRuleCost)
			break
		}
	}
	return errs
}

// Resolver returns the profile with the given id, for extends. It returns
// an error wrapping ErrUnknownProfile when there is none.
type Resolver func(id string) (*Profile, error)

// locator finds the line of an item of a profile (or of the profile it
// extends) by section and id.
type locator struct {
	file   string
	tree   map[string]any
	lines  map[string]int
	parent *locator
}

// find returns the file, pointer and line of field of the item with the
// given id in section ("evaluations", "constants", "applicability/any").
func (l *locator) find(section, id, field string) Problem {
	for cur := l; cur != nil; cur = cur.parent {
		ptr, ok := cur.pointer(section, id)
		if !ok {
			continue
		}
		full := ptr
		if field != "" {
			full += "/" + field
		}
		line, ok := cur.lines[full]
		if !ok {
			line = cur.lines[ptr]
		}
		p := Problem{Path: full, Line: line}
		if cur != l {
			p.File = cur.file
		}
		return p
	}
	return Problem{Path: "/" + section}
}

func (l *locator) pointer(section, id string) (string, bool) {
	var node any = l.tree
	for _, part := range strings.Split(section, "/") {
		m, ok := node.(map[string]any)
		if !ok {
			return "", false
		}
		node = m[part]
	}
	switch x := node.(type) {
	case map[string]any:
		if id == "" {
			return "/" + section, true
		}
		if _, ok := x[id]; ok {
			return "/" + section + "/" + escapePointer(id), true
		}
	case []any:
		if id == "" {
			return "/" + section, true
		}
		for i, e := range x {
			if m, ok := e.(map[string]any); ok && m["id"] == id {
				return "/" + section + "/" + strconv.Itoa(i), true
			}
		}
	case string:
		if id == "" {
			return "/" + section, true
		}
	}
	return "", false
}

// Load parses, validates, resolves and compiles one profile. name is the
// file name used in errors. parents resolves extends and binds ids; nil
// resolves built-in profiles only. Errors are a *ProfileError (wrapping
// ErrInvalidProfile) naming file, line and field.
func Load(name string, data []byte, parents Resolver) (*Profile, error) {
	if parents == nil {
		parents = Builtin
	}
	return load(name, data, parents, 0)
}

func load(name string, data []byte, parents Resolver, depth int) (*Profile, error) {
	fail := func(p ...Problem) error { return &ProfileError{File: name, Problems: p} }
	if len(data) > MaxProfileBytes {
		return nil, fail(Problem{Msg: fmt.Sprintf("file is %d bytes, over the %d limit", len(data), MaxProfileBytes)})
	}
	tree, lines, err := parseDocument(data)
	if err != nil {
		return nil, fail(problemFromParse(err))
	}
	sch, err := profileSchema()
	if err != nil {
		return nil, fmt.Errorf("load profile %s: %w", name, err)
	}
	if probs := validateTree(sch, tree, lines); len(probs) > 0 {
		return nil, fail(probs...)
	}
	obj := tree.(map[string]any) // the schema requires an object
	buf, err := json.Marshal(obj)
	if err != nil {
		return nil, fail(Problem{Msg: err.Error()})
	}
	var p Profile
	dec := json.NewDecoder(bytes.NewReader(buf))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fail(Problem{Msg: err.Error()})
	}
	loc := &locator{file: name, tree: obj, lines: lines}
	if p.Extends != "" {
		if depth >= maxExtendsDepth {
			return nil, fail(Problem{Path: "/extends", Line: lines["/extends"], Msg: fmt.Sprintf("extends chain deeper than %d", maxExtendsDepth)})
		}
		if p.Extends == p.ID {
			return nil, fail(Problem{Path: "/extends", Line: lines["/extends"], Msg: "a profile cannot extend itself"})
		}
		parent, err := parents(p.Extends)
		if err != nil {
			return nil, fail(Problem{Path: "/extends", Line: lines["/extends"], Msg: fmt.Sprintf("resolve %q: %v", p.Extends, err)})
		}
		p = merge(parent, &p)
		if parent.c != nil {
			loc.parent = parent.c.loc
		}
	}
	p.file = name
	if probs := p.compile(loc); len(probs) > 0 {
		return nil, fail(probs...)
	}
	canon, err := json.Marshal(&p)
	if err != nil {
		return nil, fmt.Errorf("load profile %s: canonical form: %w", name, err)
	}
	sum := sha256.Sum256(canon)
	p.digest = "sha256:" + hex.EncodeToString(sum[:])
	return &p, nil
}

// Canonical returns the canonical JSON of the resolved profile, the bytes
// its digest is computed over.
func (p *Profile) Canonical() ([]byte, error) { return json.Marshal(p) }

// merge returns child laid over parent: scalars and maps are overridden
// key by key, lists merged by id (a child item replaces the parent's item
// with the same id, new items are appended), decision rules replaced as a
// whole, and ids in child.Remove dropped.
func merge(parent, child *Profile) Profile {
	out := *parent
	out.file, out.digest, out.c = "", "", nil
	out.ID, out.Extends = child.ID, child.Extends
	setStr := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setStr(&out.Title, child.Title)
	setStr(&out.Version, child.Version)
	setStr(&out.Status, child.Status)
	setStr(&out.Jurisdiction, child.Jurisdiction)
	setStr(&out.Summary, child.Summary)
	setStr(&out.InForceFrom, child.InForceFrom)
	setStr(&out.InForceUntil, child.InForceUntil)
	if child.ScorerMinKappa.Set {
		out.ScorerMinKappa = child.ScorerMinKappa
	}
	out.Remove = child.Remove
	if child.Binds != nil {
		out.Binds = child.Binds
	}
	out.Sources = mergeMap(parent.Sources, child.Sources)
	out.Constants = mergeMap(parent.Constants, child.Constants)
	if child.Applicability != nil {
		out.Applicability = child.Applicability
	}
	out.Tiers = mergeByID(parent.Tiers, child.Tiers, func(t Tier) string { return t.ID })
	out.Evaluations = mergeByID(parent.Evaluations, child.Evaluations, func(t Evaluation) string { return t.ID })
	out.Artifacts = mergeByID(parent.Artifacts, child.Artifacts, func(t Artifact) string { return t.ID })
	out.Safeguards = mergeByID(parent.Safeguards, child.Safeguards, func(t Safeguard) string { return t.ID })
	out.Clocks = mergeByID(parent.Clocks, child.Clocks, func(t Clock) string { return t.ID })
	out.Conditions = mergeByID(parent.Conditions, child.Conditions, func(t ConditionTemplate) string { return t.ID })
	out.Incidents = mergeByID(parent.Incidents, child.Incidents, func(t IncidentClass) string { return t.ID })
	if child.Modification != nil {
		out.Modification = child.Modification
	}
	out.Duties = mergeByID(parent.Duties, child.Duties, func(t ScheduledDuty) string { return t.ID })
	out.Disclosures = mergeByID(parent.Disclosures, child.Disclosures, func(t Disclosure) string { return t.ID })
	out.Crosswalk = mergeByID(parent.Crosswalk, child.Crosswalk, func(t Crosswalk) string { return t.Profile })
	if len(child.Decision) > 0 {
		out.Decision = child.Decision
	}
	if child.Penalty != nil {
		out.Penalty = child.Penalty
	}
	if child.Concurrence != nil {
		out.Concurrence = child.Concurrence
	}
	if len(child.Remove) > 0 {
		drop := func(s string) bool { return slices.Contains(child.Remove, s) }
		out.Tiers = slices.DeleteFunc(out.Tiers, func(t Tier) bool { return drop(t.ID) })
		out.Evaluations = slices.DeleteFunc(out.Evaluations, func(t Evaluation) bool { return drop(t.ID) })
		out.Artifacts = slices.DeleteFunc(out.Artifacts, func(t Artifact) bool { return drop(t.ID) })
		out.Safeguards = slices.DeleteFunc(out.Safeguards, func(t Safeguard) bool { return drop(t.ID) })
		out.Clocks = slices.DeleteFunc(out.Clocks, func(t Clock) bool { return drop(t.ID) })
		out.Conditions = slices.DeleteFunc(out.Conditions, func(t ConditionTemplate) bool { return drop(t.ID) })
		out.Incidents = slices.DeleteFunc(out.Incidents, func(t IncidentClass) bool { return drop(t.ID) })
		out.Duties = slices.DeleteFunc(out.Duties, func(t ScheduledDuty) bool { return drop(t.ID) })
		out.Disclosures = slices.DeleteFunc(out.Disclosures, func(t Disclosure) bool { return drop(t.ID) })
		out.Crosswalk = slices.DeleteFunc(out.Crosswalk, func(t Crosswalk) bool { return drop(t.Profile) })
		for _, r := range child.Remove {
			delete(out.Constants, r)
		}
	}
	return out
}

func mergeMap[V any](a, b map[string]V) map[string]V {
	if a == nil && b == nil {
		return nil
	}
	out := make(map[string]V, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func mergeByID[T any](a, b []T, id func(T) string) []T {
	out := slices.Clone(a)
	for _, item := range b {
		if i := slices.IndexFunc(out, func(x T) bool { return id(x) == id(item) }); i >= 0 {
			out[i] = item
		} else {
			out = append(out, item)
		}
	}
	return out
}

// compiled holds a profile's CEL programs, parallel to its lists.
type compiled struct {
	loc                    *locator
	any, all, exempt, note []*program
	tiers                  []*program
	evalWhen               []*program
	artWhen                []*program
	sgReq, sgWhen          []*program
	condWhen               []*program
	rules                  []*program // nil entry: always holds
	penalty                *program
	// refs counts uses of each constant, for lint.
	refs map[string]int
}

// compile checks references and compiles every CEL expression, returning
// the problems found.
func (p *Profile) compile(loc *locator) []Problem {
	c := &compiled{loc: loc, refs: map[string]int{}}
	var probs []Problem
	bad := func(section, id, field, msg string) {
		pr := loc.find(section, id, field)
		pr.Msg = msg
		probs = append(probs, pr)
	}
	for _, n := range sortedKeys(p.Constants) {
		k := p.Constants[n]
		if k == nil {
			bad("constants", n, "", "constant has no body")
			continue
		}
		if f, ok := k.Value.(json.Number); ok {
			v, err := f.Float64()
			if err != nil {
				bad("constants", n, "value", "bad number")
			}
			k.Value = v
		}
		if l, ok := k.Value.([]any); ok {
			strs := make([]string, 0, len(l))
			for _, x := range l {
				if str, ok := x.(string); ok {
					strs = append(strs, str)
				} else {
					bad("constants", n, "value", "a list constant holds strings only")
				}
			}
			k.Value = strs
		}
		if k.Tag == "I" && !k.Inference {
			bad("constants", n, "inference", "tag I (our inference) requires inference: true")
		}
	}
	env, err := profileEnv(p.Constants)
	if err != nil {
		return append(probs, Problem{Path: "/constants", Msg: err.Error()})
	}
	comp := func(section, id, field, src string, want *cel.Type) *program {
		if src == "" {
			return nil
		}
		prg, err := compileExpr(env, src, want)
		if err != nil {
			bad(section, id, field, fmt.Sprintf("profile %s: rule %s: %v", p.ID, ruleName(section, id, field), err))
			return nil
		}
		for _, n := range prg.consts {
			c.refs[n]++
		}
		return prg
	}
	ref := func(section, id, field string, r ConstRef, required bool) {
		if !r.Set {
			if required {
				bad(section, id, field, "required")
			}
			return
		}
		if r.Name == "" {
			return
		}
		k, ok := p.Constants[r.Name]
		if !ok {
			bad(section, id, field, fmt.Sprintf("unknown constant %q", r.Name))
			return
		}
		if _, ok := k.Value.(float64); !ok {
			bad(section, id, field, fmt.Sprintf("constant %q is not a number", r.Name))
			return
		}
		c.refs[r.Name]++
	}
	kappa := func(section, id string, r ConstRef) {
		field := "scorer_min_kappa"
		if section == field {
			field = "" // the top-level key
		}
		ref(section, id, field, r, false)
		if !r.Set {
			return
		}
		v := r.Literal
		if r.Name != "" {
			k, ok := p.Constants[r.Name]
			if !ok {
				return
			}
			if v, ok = k.Value.(float64); !ok {
				return
			}
		}
		if v <= 0 || v > 1 {
			bad(section, id, field, fmt.Sprintf("scorer_min_kappa %v: want a kappa in (0, 1]", v))
		}
	}
	kappa("scorer_min_kappa", "", p.ScorerMinKappa)
	var from, until time.Time
	for _, f := range []struct {
		name, v string
		t       *time.Time
	}{{"in_force_from", p.InForceFrom, &from}, {"in_force_until", p.InForceUntil, &until}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, f.v)
		if err != nil {
			bad(f.name, "", "", fmt.Sprintf("%s %q: want a date YYYY-MM-DD", f.name, f.v))
			continue
		}
		*f.t = t
	}
	if !from.IsZero() && !until.IsZero() && !until.After(from) {
		bad("in_force_until", "", "", fmt.Sprintf("in_force_until %s must be after in_force_from %s", p.InForceUntil, p.InForceFrom))
	}
	tierIDs := map[string]bool{}
	unique := func(section string, ids []string) {
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				bad(section, id, "id", fmt.Sprintf("duplicate id %q", id))
			}
			seen[id] = true
		}
	}
	checkTiers := func(section, id string, tiers []string) {
		for _, t := range tiers {
			if !tierIDs[t] {
				bad(section, id, "tiers", fmt.Sprintf("unknown tier %q", t))
			}
		}
	}
	checkDoc := func(section, id, doc string) {
		if doc != "" && !slices.Contains(DocumentNames(), doc) {
			bad(section, id, "document", fmt.Sprintf("unknown document %q (want one of %s)", doc, strings.Join(DocumentNames(), ", ")))
		}
	}
	checkDue := func(section, id string, d *Due) {
		if d != nil {
			ref(section, id, "due", d.Days, false)
		}
	}

	if a := p.Applicability; a != nil {
		clauses := func(sec string, cl []Clause) []*program {
			out := make([]*program, len(cl))
			ids := make([]string, len(cl))
			for i, k := range cl {
				out[i] = comp("applicability/"+sec, k.ID, "when", k.When, cel.BoolType)
				ids[i] = k.ID
			}
			unique("applicability/"+sec, ids)
			return out
		}
		c.any, c.all, c.exempt, c.note = clauses("any", a.Any), clauses("all", a.All), clauses("exemptions", a.Exemptions), clauses("notes", a.Notes)
	}
	var ids []string
	for _, t := range p.Tiers {
		tierIDs[t.ID] = true
		ids = append(ids, t.ID)
		c.tiers = append(c.tiers, comp("tiers", t.ID, "when", t.When, cel.BoolType))
	}
	unique("tiers", ids)
	ids = nil
	for _, e := range p.Evaluations {
		ids = append(ids, e.ID)
		ref("evaluations", e.ID, "threshold", e.Threshold, e.Direction != "report")
		ref("evaluations", e.ID, "min_n", e.MinN, false)
		ref("evaluations", e.ID, "level", e.Level, false)
		ref("evaluations", e.ID, "max_n", e.MaxN, false)
		kappa("evaluations", e.ID, e.ScorerMinKappa)
		seq := e.Judge == "sequential"
		ref("evaluations", e.ID, "delta", e.Delta, seq)
		ref("evaluations", e.ID, "alpha", e.Alpha, seq)
		ref("evaluations", e.ID, "beta", e.Beta, seq)
		if seq && e.Direction == "report" {
			bad("evaluations", e.ID, "judge", "a sequential judgement needs direction at_most or at_least")
		}
		checkTiers("evaluations", e.ID, e.Tiers)
		c.evalWhen = append(c.evalWhen, comp("evaluations", e.ID, "when", e.When, cel.BoolType))
	}
	unique("evaluations", ids)
	ids = nil
	for _, a := range p.Artifacts {
		ids = append(ids, a.ID)
		checkDoc("artifacts", a.ID, a.Document)
		checkDue("artifacts", a.ID, a.Due)
		checkTiers("artifacts", a.ID, a.Tiers)
		c.artWhen = append(c.artWhen, comp("artifacts", a.ID, "when", a.When, cel.BoolType))
	}
	unique("artifacts", ids)
	ids = nil
	for _, s := range p.Safeguards {
		ids = append(ids, s.ID)
		checkTiers("safeguards", s.ID, s.Tiers)
		c.sgReq = append(c.sgReq, comp("safeguards", s.ID, "require", s.Require, cel.BoolType))
		c.sgWhen = append(c.sgWhen, comp("safeguards", s.ID, "when", s.When, cel.BoolType))
	}
	unique("safeguards", ids)
	ids = nil
	for _, k := range p.Clocks {
		ids = append(ids, k.ID)
		ref("clocks", k.ID, "length", k.Length, true)
		if k.Extension != nil {
			ref("clocks", k.ID, "extension", k.Extension.Length, true)
		}
		checkTiers("clocks", k.ID, k.Tiers)
	}
	unique("clocks", ids)
	condIDs := map[string]bool{}
	ids = nil
	for _, k := range p.Conditions {
		ids = append(ids, k.ID)
		condIDs[k.ID] = true
		checkDue("conditions", k.ID, k.Due)
		c.condWhen = append(c.condWhen, comp("conditions", k.ID, "when", k.When, cel.BoolType))
	}
	unique("conditions", ids)
	ids = nil
	for _, r := range p.Decision {
		ids = append(ids, r.ID)
		c.rules = append(c.rules, comp("decision", r.ID, "when", r.When, cel.BoolType))
		for _, cid := range r.Conditions {
			if !condIDs[cid] {
				bad("decision", r.ID, "conditions", fmt.Sprintf("unknown condition %q", cid))
			}
		}
	}
	unique("decision", ids)
	ids = nil
	for _, k := range p.Incidents {
		ids = append(ids, k.ID)
		ref("incidents", k.ID, "deadline", k.Deadline, true)
		ref("incidents", k.ID, "intermediate", k.Intermediate, false)
		ref("incidents", k.ID, "final", k.Final, false)
		for _, c := range k.Covers {
			if !slices.Contains(IncidentKinds, c) {
				bad("incidents", k.ID, "covers", fmt.Sprintf("unknown incident class %q: want one of %v", c, IncidentKinds))
			}
		}
	}
	unique("incidents", ids)
	if p.Modification != nil {
		ref("modification", "modification", "compute_fraction", p.Modification.ComputeFraction, true)
	}
	ids = nil
	for _, k := range p.Duties {
		ids = append(ids, k.ID)
		ref("duties", k.ID, "first", k.First, false)
		ref("duties", k.ID, "every", k.Every, false)
		checkDoc("duties", k.ID, k.Document)
		checkTiers("duties", k.ID, k.Tiers)
		if k.Unit != "" && k.Unit != Months && k.Unit != CalendarDays {
			bad("duties", k.ID, "unit", fmt.Sprintf("unknown unit %q: want %s or %s", k.Unit, Months, CalendarDays))
		}
		for field, r := range map[string]ConstRef{"first": k.First, "every": k.Every} {
			if v, ok := p.ConstNumber(r); ok && (v < 0 || v != float64(int(v)) || v > 1200) {
				bad("duties", k.ID, field, fmt.Sprintf("%v: want a whole number of units from 0 to 1200", v))
			}
		}
	}
	unique("duties", ids)
	ids = nil
	for _, d := range p.Disclosures {
		ids = append(ids, d.ID)
		checkDoc("disclosures", d.ID, d.Document)
		checkDue("disclosures", d.ID, d.Due)
		checkTiers("disclosures", d.ID, d.Tiers)
	}
	unique("disclosures", ids)
	if p.Penalty != nil {
		c.penalty = comp("penalty", "", "max", p.Penalty.Max, cel.DoubleType)
		ref("penalty", "", "subsequent", p.Penalty.Subsequent, false)
	}
	if k := p.Concurrence; k != nil {
		switch {
		case k.Rule == ConcurKOfN && k.K < 1:
			bad("concurrence", "", "k", "rule k_of_n needs k, the number of agencies that must concur (1 or more)")
		case k.Rule != ConcurKOfN && k.K != 0:
			bad("concurrence", "", "k", fmt.Sprintf("k is for rule k_of_n only (rule is %s)", k.Rule))
		}
	}
	for _, b := range p.Binds {
		if b == p.ID {
			bad("binds", "", "", "a profile cannot bind to itself")
		}
	}
	p.c = c
	return probs
}

func ruleName(section, id, field string) string {
	s := strings.ReplaceAll(section, "/", ".")
	if id != "" {
		s += "[" + id + "]"
	}
	return s + "." + field
}
