package policy

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
)

// Limits on CEL expressions. A rule that could cost more than
// maxEstimatedCost (with every list and map assumed to hold up to
// costSizeHint entries) is rejected when the profile loads; at run time a
// program stops at runtimeCostLimit.
const (
	maxExprLen       = 4096
	maxExprDepth     = 32
	costSizeHint     = 1000
	maxEstimatedCost = 5_000_000
	runtimeCostLimit = 1_000_000
)

// ErrRuleCost is returned (wrapped) when a rule is too expensive, either
// by estimate when the profile loads or when its run-time cost limit is hit.
var ErrRuleCost = errors.New("rule too expensive")

// MetricView is how a metric appears in CEL: metrics['misuse.attack_success_rate'],
// per category metrics['misuse.attack_success_rate/cyber'], and per
// difficulty level metrics['cyber-exploit.solve_rate/d3'].
type MetricView struct {
	Flagged       int64   `json:"flagged"`
	N             int64   `json:"n"`
	Errors        int64   `json:"errors"`
	Rate          float64 `json:"rate"`
	Low           float64 `json:"low"`
	High          float64 `json:"high"`
	HasCorrected  bool    `json:"has_corrected"`
	CorrectedRate float64 `json:"corrected_rate"`
	// Variant is the variant of the model the metric was measured on
	// (Variants; "" when the evidence records none) and Checkpoint the
	// checkpoint's name for variant "checkpoint"; a category's or
	// difficulty's view has its metric's.
	Variant    string `json:"variant"`
	Checkpoint string `json:"checkpoint"`
}

// EvalState is a required evaluation's result in CEL: evals['id'].
type EvalState struct {
	Status   string  `json:"status"` // pass, fail, inconclusive, insufficient, missing
	Observed float64 `json:"observed"`
	N        int64   `json:"n"`
}

// ClockState is a clock's state in CEL: clocks['id'].
type ClockState struct {
	Status   string    `json:"status"` // not_started, running, paused, ended, expired
	Started  bool      `json:"started"`
	Expired  bool      `json:"expired"`
	Ended    bool      `json:"ended"`
	Due      time.Time `json:"due"`
	DaysLeft int64     `json:"days_left"`
}

// BoundState is a bound profile's result in CEL: bound['frontier-framework'].
type BoundState struct {
	Applicable bool   `json:"applicable"`
	Tier       string `json:"tier"`
	Outcome    string `json:"outcome"`
}

// The variables of the evidence environment, with their CEL types. Order
// matters only for documentation.
func envVariables() []cel.EnvOption {
	obj := func(t any) *cel.Type { return cel.ObjectType("policy." + reflect.TypeOf(t).Name()) }
	strList := cel.ListType(cel.StringType)
	return []cel.EnvOption{
		cel.Variable("model", obj(Model{})),
		cel.Variable("developer", obj(Developer{})),
		cel.Variable("market", obj(Market{})),
		cel.Variable("designations", obj(Designations{})),
		cel.Variable("security", obj(Security{})),
		cel.Variable("service", obj(Service{})),
		cel.Variable("documents", obj(Documents{})),
		cel.Variable("release", obj(Release{})),
		cel.Variable("events", cel.ListType(obj(Event{}))),
		cel.Variable("metrics", cel.MapType(cel.StringType, obj(MetricView{}))),
		cel.Variable("facts", strList),
		cel.Variable("now", cel.TimestampType),
		cel.Variable("tier", cel.StringType),
		cel.Variable("evals", cel.MapType(cel.StringType, obj(EvalState{}))),
		cel.Variable("failed_evals", strList),
		cel.Variable("missing_evals", strList),
		cel.Variable("inconclusive_evals", strList),
		cel.Variable("missing_artifacts", strList),
		cel.Variable("pending_artifacts", strList),
		cel.Variable("failed_safeguards", strList),
		cel.Variable("clocks", cel.MapType(cel.StringType, obj(ClockState{}))),
		cel.Variable("open_incidents", strList),
		cel.Variable("overdue_incidents", strList),
		cel.Variable("bound", cel.MapType(cel.StringType, obj(BoundState{}))),
		cel.Variable("recognised", cel.ListType(obj(Recognised{}))),
		cel.Variable("references", cel.MapType(cel.StringType, obj(ReferenceView{}))),
		cel.Variable("redteam", obj(RedTeam{})),
	}
}

// baseEnv is built once; it is immutable and extended per profile.
var baseEnv = sync.OnceValues(func() (*cel.Env, error) {
	opts := []cel.EnvOption{
		ext.NativeTypes(
			ext.ParseStructTag("json"),
			reflect.TypeOf(Model{}), reflect.TypeOf(Developer{}), reflect.TypeOf(Market{}),
			reflect.TypeOf(Designations{}), reflect.TypeOf(Security{}), reflect.TypeOf(Service{}),
			reflect.TypeOf(Documents{}), reflect.TypeOf(Document{}), reflect.TypeOf(Release{}),
			reflect.TypeOf(Event{}), reflect.TypeOf(MetricView{}), reflect.TypeOf(EvalState{}),
			reflect.TypeOf(ClockState{}), reflect.TypeOf(BoundState{}), reflect.TypeOf(Recognised{}),
			reflect.TypeOf(ReferenceView{}), reflect.TypeOf(DeltaView{}), reflect.TypeOf(RedTeam{}),
		),
		ext.Math(),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserRecursionLimit(maxExprDepth),
		cel.ParserExpressionSizeLimit(maxExprLen),
	}
	opts = append(opts, envVariables()...)
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("build cel environment: %w", err)
	}
	return env, nil
})

// profileEnv extends the base environment with the profile's constants as
// variables consts.<name>.
func profileEnv(consts map[string]*Constant) (*cel.Env, error) {
	base, err := baseEnv()
	if err != nil {
		return nil, err
	}
	names := sortedKeys(consts)
	opts := make([]cel.EnvOption, 0, len(names))
	for _, n := range names {
		var t *cel.Type
		switch consts[n].Value.(type) {
		case float64:
			t = cel.DoubleType
		case string:
			t = cel.StringType
		case bool:
			t = cel.BoolType
		case []string:
			t = cel.ListType(cel.StringType)
		default:
			return nil, fmt.Errorf("constant %s: value must be a number, string, bool or list of strings", n)
		}
		opts = append(opts, cel.Variable("consts."+n, t))
	}
	return base.Extend(opts...)
}

// program is one compiled CEL expression.
type program struct {
	src string
	prg cel.Program
	// partial is prg planned for partial evaluation (facts the dossier
	// does not declare are unknown); nil when the expression reads no
	// dossier fact.
	partial cel.Program
	consts  []string // constant names referenced
	facts   []string // dossier fields referenced, "model.training_compute_flop"
	vars    []string // top-level variables referenced (besides constants)
	lit     *bool    // the expression is the literal true or false
}

// compileExpr parses, type-checks and cost-checks src, which must have
// type want.
func compileExpr(env *cel.Env, src string, want *cel.Type) (*program, error) {
	if len(src) > maxExprLen {
		return nil, fmt.Errorf("expression is %d characters, over the %d limit", len(src), maxExprLen)
	}
	checked, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, errors.New(strings.TrimSpace(iss.Err().Error()))
	}
	if !checked.OutputType().IsExactType(want) && !(want == cel.DoubleType && checked.OutputType().IsExactType(cel.IntType)) {
		return nil, fmt.Errorf("expression has type %s, want %s", checked.OutputType(), want)
	}
	native := checked.NativeRep()
	if ast.ExceedsDepth(native, maxExprDepth) {
		return nil, fmt.Errorf("expression nested deeper than %d", maxExprDepth)
	}
	est, err := env.EstimateCost(checked, sizeHints{})
	if err != nil {
		return nil, fmt.Errorf("estimate cost: %w", err)
	}
	if est.Max > maxEstimatedCost {
		return nil, fmt.Errorf("estimated cost %d exceeds %d: %w", est.Max, maxEstimatedCost, ErrRuleCost)
	}
	prg, err := env.Program(checked, cel.CostLimit(runtimeCostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("plan program: %w", err)
	}
	p := &program{src: src, prg: prg}
	cs, fs, vs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range native.ReferenceMap() {
		if n, ok := strings.CutPrefix(r.Name, "consts."); ok {
			cs[n] = true
		} else if len(r.OverloadIDs) == 0 && r.Name != "" {
			vs[r.Name] = true
		}
	}
	ast.PreOrderVisit(native.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() != ast.SelectKind {
			return
		}
		sel := e.AsSelect()
		if sel.Operand().Kind() == ast.IdentKind {
			for _, sec := range dossierSections {
				if sel.Operand().AsIdent() == sec {
					fs[sec+"."+sel.FieldName()] = true
				}
			}
		}
	}))
	p.consts, p.facts, p.vars = sortedSet(cs), sortedSet(fs), sortedSet(vs)
	if len(p.facts) > 0 {
		if p.partial, err = env.Program(checked, cel.CostLimit(runtimeCostLimit), cel.EvalOptions(cel.OptOptimize, cel.OptPartialEval)); err != nil {
			return nil, fmt.Errorf("plan program: %w", err)
		}
	}
	if native.Expr().Kind() == ast.LiteralKind {
		if b, ok := native.Expr().AsLiteral().(types.Bool); ok {
			v := bool(b)
			p.lit = &v
		}
	}
	return p, nil
}

// sizeHints bounds the size of every list, map and string for cost
// estimation: evidence has at most costSizeHint events, metrics, etc.
type sizeHints struct{}

func (sizeHints) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if n.ComputedSize() != nil {
		return nil
	}
	return &cost.SizeEstimate{Min: 0, Max: costSizeHint}
}

func (sizeHints) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	return nil
}

func (p *program) eval(act map[string]any) (ref.Val, error) {
	v, _, err := p.prg.Eval(act)
	if err != nil {
		if strings.Contains(err.Error(), "cost limit") {
			return nil, fmt.Errorf("%v: %w", err, ErrRuleCost)
		}
		return nil, err
	}
	return v, nil
}

func (p *program) evalBool(act map[string]any) (bool, error) {
	v, err := p.eval(act)
	if err != nil {
		return false, err
	}
	b, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("expression gave %v, not a bool", v)
	}
	return b, nil
}

// tri is a three-valued truth: a condition holds, does not hold, or
// cannot be decided because it depends on facts the dossier lacks.
type tri int

const (
	triNo tri = iota
	triYes
	triUnknown
)

// evalTri evaluates a boolean expression with the facts not in known
// treated as unknown (CEL partial evaluation: "true || unknown" is true,
// "false && unknown" is false). It returns triUnknown, with the unknown
// facts the expression reads, when the result depends on them.
func (p *program) evalTri(act map[string]any, known map[string]bool) (tri, []string, error) {
	var unknown []string
	for _, f := range p.facts {
		if !known[f] {
			unknown = append(unknown, f)
		}
	}
	if len(unknown) == 0 || p.partial == nil {
		ok, err := p.evalBool(act)
		if ok {
			return triYes, nil, err
		}
		return triNo, nil, err
	}
	pats := make([]*cel.AttributePatternType, 0, len(unknown))
	for _, f := range unknown {
		sec, field, _ := strings.Cut(f, ".")
		pats = append(pats, cel.AttributePattern(sec).QualString(field))
	}
	pa, err := cel.PartialVars(act, pats...)
	if err != nil {
		return triNo, nil, err
	}
	v, _, err := p.partial.Eval(pa)
	if err != nil {
		if strings.Contains(err.Error(), "cost limit") {
			return triNo, nil, fmt.Errorf("%v: %w", err, ErrRuleCost)
		}
		return triNo, nil, err
	}
	if types.IsUnknown(v) {
		return triUnknown, unknown, nil
	}
	b, ok := v.Value().(bool)
	if !ok {
		return triNo, nil, fmt.Errorf("expression gave %v, not a bool", v)
	}
	if b {
		return triYes, nil, nil
	}
	return triNo, nil, nil
}

func (p *program) evalDouble(act map[string]any) (float64, error) {
	v, err := p.eval(act)
	if err != nil {
		return 0, err
	}
	switch x := v.Value().(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	}
	return 0, fmt.Errorf("expression gave %v, not a number", v)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sortedSet(m map[string]bool) []string {
	return sortedKeys(m)
}
