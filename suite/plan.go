package suite

import (
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// ErrEmptyPlan is returned by Plan, Each and Samples when the filters leave
// no sample to run.
var ErrEmptyPlan = errors.New("plan has no samples")

// PlanOptions select and order the samples of a plan.
type PlanOptions struct {
	// Limit caps the samples drawn from each suite; 0 means all. With a
	// limit, samples are drawn stratified: as evenly as possible across the
	// (category, transform) cells of the suite.
	Limit int
	// Seed drives which samples a limit keeps and the order of the plan. It
	// never changes how a sample is rendered.
	Seed int64
	// Categories, when set, keeps only items of these categories.
	Categories []string
	// Transforms, when set, keeps only these transforms.
	Transforms []string
	// Kinds, when set, keeps only items of these kinds (KindHarmful,
	// KindBenign, …): each kind is measured by its own metric, so a plan
	// that needs n samples per metric draws each kind with its own limit.
	Kinds []string
	// Attempts is how many independent episodes each exploit sample gets
	// (pass@k); 0 means 1. Other samples run once.
	Attempts int
}

// ref is a planned sample before rendering: 8 bytes instead of a few KiB, so
// that plans of any size can be selected and shuffled in memory.
type ref struct {
	suite, item int32
	tr          int16
}

// Plan renders the planned samples of suites in plan order. Plans are
// deterministic: the same suites and options always give the same samples in
// the same order. Plan holds every sample in memory; for large plans use
// Samples or Each, which render one sample at a time.
func Plan(suites []*Suite, opts PlanOptions) ([]Sample, error) {
	seq, n, err := Samples(suites, opts)
	if err != nil {
		return nil, err
	}
	out := make([]Sample, 0, n)
	for s := range seq {
		out = append(out, s)
	}
	return out, nil
}

// Each calls fn for every planned sample, in plan order, rendering one at a
// time. It stops at, and returns, the first error fn returns.
func Each(suites []*Suite, opts PlanOptions, fn func(Sample) error) error {
	seq, _, err := Samples(suites, opts)
	if err != nil {
		return err
	}
	for s := range seq {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

// Samples selects the plan and returns an iterator that renders its samples
// in plan order, and the number of samples. Selection errors (bad options,
// empty plan) are returned at once; rendering cannot fail. The iterator may
// be used more than once and yields the same samples each time.
func Samples(suites []*Suite, opts PlanOptions) (iter.Seq[Sample], int, error) {
	refs, err := selectRefs(suites, opts)
	if err != nil {
		return nil, 0, err
	}
	attempts := max(opts.Attempts, 1)
	n := 0
	for _, r := range refs {
		if suites[r.suite].items[r.item].task != nil {
			n += attempts
		} else {
			n++
		}
	}
	seq := func(yield func(Sample) bool) {
		for _, r := range refs {
			s := suites[r.suite].render(int(r.item), int(r.tr))
			if s.Task == nil {
				if !yield(s) {
					return
				}
				continue
			}
			for a := 1; a <= attempts; a++ {
				si := s
				instantiate(&si, opts.Seed, a, attempts)
				if !yield(si) {
					return
				}
			}
		}
	}
	return seq, n, nil
}

func selectRefs(suites []*Suite, opts PlanOptions) ([]ref, error) {
	if opts.Limit < 0 {
		return nil, fmt.Errorf("plan: negative limit %d", opts.Limit)
	}
	if opts.Attempts < 0 || opts.Attempts > 100 {
		return nil, fmt.Errorf("plan: attempts per task %d: want 1 to 100", opts.Attempts)
	}
	if len(suites) == 0 {
		return nil, fmt.Errorf("plan: %w: no suites", ErrEmptyPlan)
	}
	var allTr, allCat, allKinds []string
	for i, s := range suites {
		if s == nil {
			return nil, fmt.Errorf("plan: suite %d is nil", i)
		}
		for _, p := range suites[:i] {
			if p.Name == s.Name {
				return nil, fmt.Errorf("plan: suite %s given twice", s.Name)
			}
		}
		allTr = append(allTr, s.Transforms...)
		for _, it := range s.items {
			allCat = append(allCat, it.Category)
			allKinds = append(allKinds, it.Kind)
		}
	}
	if err := checkFilter("transform", opts.Transforms, allTr); err != nil {
		return nil, err
	}
	if err := checkFilter("category", opts.Categories, allCat); err != nil {
		return nil, err
	}
	if err := checkFilter("kind", opts.Kinds, allKinds); err != nil {
		return nil, err
	}
	var refs []ref
	for si, s := range suites {
		refs = append(refs, s.selectRefs(int32(si), opts)...)
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("plan: %w for the given categories and transforms", ErrEmptyPlan)
	}
	rng := planRNG(opts.Seed, "order")
	rng.Shuffle(len(refs), func(i, j int) { refs[i], refs[j] = refs[j], refs[i] })
	return refs, nil
}

func checkFilter(what string, want, have []string) error {
	for _, w := range want {
		if !slices.Contains(have, w) {
			slices.Sort(have)
			return fmt.Errorf("plan: unknown %s %q (the suites have: %s)", what, w, strings.Join(slices.Compact(have), ", "))
		}
	}
	return nil
}

func planRNG(seed int64, parts ...string) *rand.Rand {
	return rand.New(rand.NewPCG(seed64(append([]string{"plan", strconv.FormatInt(seed, 10)}, parts...)...)))
}

// selectRefs lists the applicable (item, transform) pairs of s that pass the
// filters and, with a limit, draws a stratified sample of them.
//
// The limit is shared out in two levels: first evenly across transforms,
// then, within each transform, evenly across categories (see waterfill).
// Within a (category, transform) cell the kept samples are a seeded random
// subset, drawn independently of the other cells.
func (s *Suite) selectRefs(si int32, opts PlanOptions) []ref {
	c := &tctx{res: s.res, pool: s.pool}
	var cats []string // categories in first-seen item order, then sorted
	for i := range s.items {
		if !slices.Contains(cats, s.items[i].Category) {
			cats = append(cats, s.items[i].Category)
		}
	}
	slices.Sort(cats)
	// cells[t][c] lists the pairs of transform t and category c.
	cells := make([][][]ref, len(s.tdefs))
	total := 0
	for ti := range s.tdefs {
		t := &s.tdefs[ti]
		cells[ti] = make([][]ref, len(cats))
		if len(opts.Transforms) > 0 && !slices.Contains(opts.Transforms, t.Name) {
			continue
		}
		for ii := range s.items {
			it := &s.items[ii]
			if len(opts.Categories) > 0 && !slices.Contains(opts.Categories, it.Category) {
				continue
			}
			if len(opts.Kinds) > 0 && !slices.Contains(opts.Kinds, it.Kind) {
				continue
			}
			if !t.applies(c, it) {
				continue
			}
			ci, _ := slices.BinarySearch(cats, it.Category)
			cells[ti][ci] = append(cells[ti][ci], ref{suite: si, item: int32(ii), tr: int16(ti)})
			total++
		}
	}
	capacity := total
	if opts.Limit > 0 {
		capacity = min(total, opts.Limit)
	}
	out := make([]ref, 0, capacity)
	if opts.Limit == 0 || total <= opts.Limit {
		for ti := range cells {
			for ci := range cells[ti] {
				out = append(out, cells[ti][ci]...)
			}
		}
		return out
	}
	trSizes := make([]int, len(cells))
	for ti := range cells {
		for ci := range cells[ti] {
			trSizes[ti] += len(cells[ti][ci])
		}
	}
	trQuota := waterfill(trSizes, opts.Limit, planRNG(opts.Seed, "transforms", s.planKey()))
	for ti := range cells {
		if trQuota[ti] == 0 {
			continue
		}
		sizes := make([]int, len(cats))
		for ci := range cells[ti] {
			sizes[ci] = len(cells[ti][ci])
		}
		q := waterfill(sizes, trQuota[ti], planRNG(opts.Seed, "categories", s.planKey(), s.tdefs[ti].Name))
		for ci, cell := range cells[ti] {
			if q[ci] == 0 {
				continue
			}
			r := planRNG(opts.Seed, "cell", s.planKey(), s.tdefs[ti].Name, cats[ci])
			r.Shuffle(len(cell), func(i, j int) { cell[i], cell[j] = cell[j], cell[i] })
			out = append(out, cell[:q[ci]]...)
		}
	}
	return out
}

// waterfill shares limit out among groups of the given sizes as evenly as
// possible: groups smaller than an even share are taken whole, the rest
// split what is left. The last few units that cannot be split evenly go to
// groups chosen by rng. The quotas sum to min(limit, sum of sizes).
func waterfill(sizes []int, limit int, rng *rand.Rand) []int {
	q := make([]int, len(sizes))
	var active []int
	for i, n := range sizes {
		if n > 0 {
			active = append(active, i)
		}
	}
	left := limit
	for len(active) > 0 {
		share := left / len(active)
		var rest []int
		for _, i := range active {
			if sizes[i] <= share {
				q[i] = sizes[i]
				left -= sizes[i]
			} else {
				rest = append(rest, i)
			}
		}
		if len(rest) == len(active) {
			for _, i := range active {
				q[i] = share
				left -= share
			}
			break
		}
		active = rest
	}
	// Fewer units are left than active groups, each of which has room for
	// one more: give them to groups drawn by rng.
	rng.Shuffle(len(active), func(a, b int) { active[a], active[b] = active[b], active[a] })
	for _, i := range active {
		if left <= 0 {
			break
		}
		q[i]++
		left--
	}
	return q
}

// render builds the sample for item ii under transform ti.
func (s *Suite) render(ii, ti int) Sample {
	it := &s.items[ii]
	t := &s.tdefs[ti]
	r, _ := t.apply(&tctx{res: s.res, pool: s.pool, rng: transformRNG(it.ID, t.Name)}, it)
	msgs := make([]Message, 0, 2+len(r.prior))
	if it.System != "" {
		msgs = append(msgs, Message{Role: "system", Content: it.System})
	}
	msgs = append(msgs, r.prior...)
	msgs = append(msgs, Message{Role: "user", Content: r.user})
	exp := it.Expect
	exp.Choices = slices.Clone(exp.Choices)
	return Sample{
		ID:        s.Name + "/" + it.ID + "/" + t.Name,
		Suite:     s.Name,
		Item:      it.ID,
		Behavior:  it.Behavior,
		Category:  it.Category,
		Transform: t.Name,
		Kind:      it.Kind,
		Messages:  msgs,
		FollowUps: r.followUps,
		Expect:    exp,
		Scorer:    it.Scorer,
		Task:      it.task,
	}
}

// Render renders one sample of s by item id and transform name, as a plan
// would: useful to resume a run from recorded sample ids. It fails if the
// item or transform is not in the suite, or the transform does not apply to
// the item.
func (s *Suite) Render(itemID, transform string) (Sample, error) {
	ii := slices.IndexFunc(s.items, func(it Item) bool { return it.ID == itemID })
	if ii < 0 {
		return Sample{}, fmt.Errorf("render %s/%s/%s: no such item", s.Name, itemID, transform)
	}
	ti := slices.IndexFunc(s.tdefs, func(t transformDef) bool { return t.Name == transform })
	if ti < 0 {
		return Sample{}, fmt.Errorf("render %s/%s/%s: transform not in suite (have: %s)", s.Name, itemID, transform, strings.Join(s.Transforms, ", "))
	}
	if !s.tdefs[ti].applies(&tctx{res: s.res, pool: s.pool}, &s.items[ii]) {
		return Sample{}, fmt.Errorf("render %s/%s/%s: transform does not apply to the item", s.Name, itemID, transform)
	}
	return s.render(ii, ti), nil
}
