package conform

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/clearance-dev/clearance/stats"
)

// Options configure the tests of a check.
type Options struct {
	// Alpha is the family-wise false-alarm rate: the probability that a
	// check of the same model reports a difference. 0 means 0.05; it must
	// be in (0, 0.5].
	Alpha float64
	// Permutations for the MMD test; 0 means enough for the smallest
	// per-test level (at least 2000).
	Permutations int
	// Seed drives the permutations.
	Seed int64
	// Refused classifies an answer to a prompt (the last user message) as
	// a refusal. Nil skips the refusal tests.
	Refused func(prompt, answer string) bool
	// MinCategory is the fewest harmful probes a category needs for its
	// own refusal test; 0 means 20.
	MinCategory int
	// Contaminated, if set, reports whether an answer to a prompt carries
	// material the model should never have seen (an agency's private
	// canary the prompt did not carry). It does not enter the tests of
	// "same model": it is a separate signal (Result.Contaminated).
	Contaminated func(prompt, answer string) bool
}

func (o *Options) defaults() error {
	if o.Alpha == 0 {
		o.Alpha = 0.05
	}
	if !(o.Alpha > 0 && o.Alpha <= 0.5) {
		return fmt.Errorf("alpha %v: want a level in (0, 0.5]", o.Alpha)
	}
	if o.Permutations < 0 {
		return fmt.Errorf("permutations %d: negative", o.Permutations)
	}
	if o.MinCategory <= 0 {
		o.MinCategory = 20
	}
	return nil
}

// Test names.
const (
	TestExactMatch = "exact-match"
	TestRefusal    = "refusal" // all harmful probes; per category "refusal:CATEGORY"
	TestMMD        = "mmd"
	TestLogProb    = "logprob" // only when the fingerprint and the check both have log-probabilities
)

// MinLogProbProbes is the fewest probes with log-probabilities on both
// sides that the logprob test needs; with fewer it is not run.
const MinLogProbProbes = 10

// Test is one test of the family.
type Test struct {
	Name string `json:"name"`
	// Level is the test's own false-alarm rate: Alpha / number of tests.
	Level float64 `json:"level"`
	// PValue of the test (one-sided for exact-match and mmd).
	PValue float64 `json:"p_value"`
	// Statistic: the difference in rates (checked − recorded) for the
	// rate tests, the MMD² estimate for mmd, the energy-distance estimate
	// (in nats) for logprob.
	Statistic float64 `json:"statistic"`
	// Diff is the rate comparison (A = checked, B = recorded) for the
	// rate tests, with its Newcombe interval at level 1 − Level (two-sided)
	// or 1 − 2·Level (exact-match, whose decision is one-sided).
	Diff     *stats.DiffResult `json:"diff,omitempty"`
	Rejected bool              `json:"rejected"`
}

// Result is the outcome of a check.
type Result struct {
	Fingerprint string  `json:"fingerprint"` // the fingerprint's Digest
	Alpha       float64 `json:"alpha"`
	// Same is false when any test rejected "same model as fingerprinted".
	Same     bool   `json:"same"`
	Probes   int    `json:"probes"`
	Requests int    `json:"requests"` // requests the check sent
	Tests    []Test `json:"tests"`
	// Contaminated are the probes (ids, at most MaxContaminated) some
	// answer of which Options.Contaminated flagged.
	Contaminated []string `json:"contaminated,omitempty"`
}

// MaxContaminated bounds Result.Contaminated.
const MaxContaminated = 100

// Failed lists the names of the tests that rejected.
func (r *Result) Failed() []string {
	var out []string
	for _, t := range r.Tests {
		if t.Rejected {
			out = append(out, t.Name)
		}
	}
	return out
}

// Check asks the endpoint every probe of f again, with f's decoding
// settings and Repeats per probe, and compares the answers with f
// (Compare). It returns an error when a request still fails after
// retries (the check then says nothing about the model) or the options
// are invalid.
func Check(ctx context.Context, c Completer, f *Fingerprint, opts Options, concurrency int) (*Result, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("check conformance: %w", err)
	}
	probes := make([]Probe, len(f.Probes))
	for i, p := range f.Probes {
		probes[i] = p.Probe
	}
	answers, lps, err := ask(ctx, c, probes, f, f.hasLogProbs(), concurrency)
	if err != nil {
		return nil, fmt.Errorf("check conformance: %w", err)
	}
	res, err := CompareLogProbs(f, answers, lps, opts)
	if err != nil {
		return nil, err
	}
	res.Requests = f.Requests()
	res.Contaminated = contaminated(probes, answers, opts.Contaminated)
	return res, nil
}

// contaminated lists the probes whose answers is flags, at most
// MaxContaminated.
func contaminated(probes []Probe, answers [][]string, is func(prompt, answer string) bool) []string {
	if is == nil {
		return nil
	}
	var out []string
	for i, p := range probes {
		var b strings.Builder
		for _, m := range p.Messages { // everything the model was shown
			b.WriteString(m.Content)
			b.WriteByte('\n')
		}
		prompt := b.String()
		if slices.ContainsFunc(answers[i], func(a string) bool { return is(prompt, a) }) {
			out = append(out, p.ID)
			if len(out) == MaxContaminated {
				break
			}
		}
	}
	return out
}

// Compare tests the checked answers (answers[i] for f.Probes[i], at
// least two each) against f. It is pure and deterministic given
// opts.Seed. It returns an error for a malformed fingerprint, answers that
// do not match it, or invalid options.
func Compare(f *Fingerprint, answers [][]string, opts Options) (*Result, error) {
	return CompareLogProbs(f, answers, nil, opts)
}

// CompareLogProbs is Compare with the checked answers' mean token
// log-probabilities: logProbs is nil, or has one entry per probe, each nil
// (none offered) or one value in [MinLogProb, 0] per answer. The logprob
// test joins the family when at least MinLogProbProbes probes have
// log-probabilities both in f and in the check.
func CompareLogProbs(f *Fingerprint, answers [][]string, logProbs [][]float64, opts Options) (*Result, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("compare conformance: %w", err)
	}
	if err := opts.defaults(); err != nil {
		return nil, fmt.Errorf("compare conformance: %w", err)
	}
	if len(answers) != len(f.Probes) {
		return nil, fmt.Errorf("compare conformance: %d answer sets for %d probes", len(answers), len(f.Probes))
	}
	for i, a := range answers {
		if len(a) < 2 {
			return nil, fmt.Errorf("compare conformance: probe %s: %d answers, want at least 2", f.Probes[i].ID, len(a))
		}
	}
	if logProbs != nil && len(logProbs) != len(answers) {
		return nil, fmt.Errorf("compare conformance: %d log-probability sets for %d probes", len(logProbs), len(answers))
	}
	for i, lp := range logProbs {
		if lp != nil && len(lp) != len(answers[i]) {
			return nil, fmt.Errorf("compare conformance: probe %s: %d mean log-probabilities for %d answers", f.Probes[i].ID, len(lp), len(answers[i]))
		}
		for _, x := range lp {
			if !validLogProb(x) {
				return nil, fmt.Errorf("compare conformance: probe %s: mean log-probability %v, want %g…0", f.Probes[i].ID, x, MinLogProb)
			}
		}
	}
	n := len(f.Probes)
	// Probes with log-probabilities on both sides.
	var lpProbes []int
	for i, p := range f.Probes {
		if len(p.MeanLogProbs) > 0 && i < len(logProbs) && logProbs[i] != nil {
			lpProbes = append(lpProbes, i)
		}
	}
	if len(lpProbes) < MinLogProbProbes {
		lpProbes = nil
	}

	// The refusal family: overall, then each category with enough probes.
	type rateTest struct {
		name   string
		probes []int
	}
	var refusal []rateTest
	if opts.Refused != nil {
		var all []int
		byCat := map[string][]int{}
		for i, p := range f.Probes {
			if p.Kind == KindHarmful {
				all = append(all, i)
				byCat[p.Category] = append(byCat[p.Category], i)
			}
		}
		if len(all) > 0 {
			refusal = append(refusal, rateTest{TestRefusal, all})
		}
		cats := make([]string, 0, len(byCat))
		for c, ps := range byCat {
			if len(ps) >= opts.MinCategory && len(ps) < len(all) {
				cats = append(cats, c)
			}
		}
		slices.Sort(cats)
		for _, c := range cats {
			refusal = append(refusal, rateTest{TestRefusal + ":" + c, byCat[c]})
		}
	}
	m := 2 + len(refusal)
	if lpProbes != nil {
		m++
	}
	level := opts.Alpha / float64(m)
	res := &Result{Fingerprint: f.Digest(), Alpha: opts.Alpha, Probes: n}

	// Exact match: cross (recorded[0] = checked[0]) against self
	// (recorded[0] = recorded[1]); reject when the upper one-sided bound
	// of cross − self is below 0.
	cross, self := 0, 0
	for i, p := range f.Probes {
		if p.Answers[0] == answers[i][0] {
			cross++
		}
		if p.Answers[0] == p.Answers[1] {
			self++
		}
	}
	d := stats.Diff(cross, n, self, n, 1-2*level)
	p := d.PValue / 2 // one-sided: cross below self
	if d.Diff > 0 {
		p = 1 - p
	}
	res.Tests = append(res.Tests, Test{Name: TestExactMatch, Level: level, PValue: p, Statistic: d.Diff, Diff: &d, Rejected: d.CI.High < 0})

	// Refusal rates, checked (first answers) against recorded (first
	// answers): the first answers alone are independent across probes.
	for _, rt := range refusal {
		kc, kr := 0, 0
		for _, i := range rt.probes {
			prompt := lastUser(f.Probes[i].Probe)
			if opts.Refused(prompt, answers[i][0]) {
				kc++
			}
			if opts.Refused(prompt, f.Probes[i].Answers[0]) {
				kr++
			}
		}
		k := len(rt.probes)
		d := stats.Diff(kc, k, kr, k, 1-level)
		res.Tests = append(res.Tests, Test{Name: rt.name, Level: level, PValue: d.PValue, Statistic: d.Diff, Diff: &d,
			Rejected: d.CI.Low > 0 || d.CI.High < 0})
	}

	// MMD with permutations.
	perms := opts.Permutations
	if perms == 0 {
		perms = max(2000, int(math.Ceil(20/level)))
	}
	stat, pv := mmdTest(f, answers, perms, opts.Seed)
	res.Tests = append(res.Tests, Test{Name: TestMMD, Level: level, PValue: pv, Statistic: stat, Rejected: pv <= level})

	if lpProbes != nil {
		stat, pv := logProbTest(f, logProbs, lpProbes, perms, opts.Seed)
		res.Tests = append(res.Tests, Test{Name: TestLogProb, Level: level, PValue: pv, Statistic: stat, Rejected: pv <= level})
	}

	res.Same = len(res.Failed()) == 0
	return res, nil
}

func lastUser(p Probe) string {
	for i := len(p.Messages) - 1; i >= 0; i-- {
		if p.Messages[i].Role == "user" {
			return p.Messages[i].Content
		}
	}
	return ""
}

// mmdTest returns the MMD² estimate between recorded and checked answers
// and its permutation p-value.
//
// For each probe the four answers a, b (recorded) and c, d (checked) give
// the probe's term k(a,b) + k(c,d) − (k(a,c) + k(a,d) + k(b,c) + k(b,d))/2,
// the unbiased MMD² estimate with the kernel k((x,y),(x',y')) =
// 1[x = x']·h(y, y') of Gao, Liang and Guestrin (2025), which compares
// answers only to answers to the same prompt. The statistic is the mean
// term. Under the null hypothesis the four answers to a probe are
// exchangeable, so relabelling them — one of the three ways to split four
// answers into two pairs, independently per probe — is an exact
// permutation test. p = (1 + #{permuted ≥ observed}) / (1 + permutations).
func mmdTest(f *Fingerprint, answers [][]string, perms int, seed int64) (float64, float64) {
	n := len(f.Probes)
	// terms[i][s] is probe i's term under split s; split 0 is observed.
	terms := make([][3]float64, n)
	for i, p := range f.Probes {
		w := [4][]string{words(p.Answers[0]), words(p.Answers[1]), words(answers[i][0]), words(answers[i][1])}
		var k [4][4]float64
		total := 0.0
		for x := 0; x < 4; x++ {
			for y := x + 1; y < 4; y++ {
				k[x][y] = hamming(w[x], w[y])
				total += k[x][y]
			}
		}
		// Pairs {01|23}, {02|13}, {03|12}: within − (total − within)/2.
		for s, within := range [3]float64{k[0][1] + k[2][3], k[0][2] + k[1][3], k[0][3] + k[1][2]} {
			terms[i][s] = within - (total-within)/2
		}
	}
	return permute(terms, perms, rand.New(rand.NewPCG(uint64(seed), 0x6d6d64))) // "mmd"
}

// permute returns the mean of the observed terms (split 0) and the
// p-value of the exact permutation test that draws one of the three
// splits per probe, independently: p = (1 + #{permuted ≥ observed}) /
// (1 + perms).
func permute(terms [][3]float64, perms int, rng *rand.Rand) (float64, float64) {
	obs := 0.0
	for i := range terms {
		obs += terms[i][0]
	}
	ge := 0
	for range perms {
		t := 0.0
		for i := range terms {
			t += terms[i][rng.IntN(3)]
		}
		if t >= obs-1e-9 {
			ge++
		}
	}
	return obs / float64(len(terms)), float64(1+ge) / float64(1+perms)
}

// logProbTest returns the energy-distance estimate between the recorded
// and the checked mean token log-probabilities of the first two answers
// to each probe in idx, and its permutation p-value.
//
// It is mmdTest with the distance kernel k(x, y) = −|x − y| on the mean
// log-probabilities (the energy distance of Székely and Rizzo, an MMD
// with a distance-induced kernel, Sejdinovic et al. 2013): a probe's term
// is the mean distance between a recorded and a checked answer minus the
// mean distance within the recorded pair and within the checked pair. It
// detects a change in either direction, and two models that give the
// same text different probabilities. Under the null hypothesis the four
// answers to a probe are exchangeable, so the same split permutation is
// exact.
func logProbTest(f *Fingerprint, logProbs [][]float64, idx []int, perms int, seed int64) (float64, float64) {
	terms := make([][3]float64, len(idx))
	for j, i := range idx {
		v := [4]float64{f.Probes[i].MeanLogProbs[0], f.Probes[i].MeanLogProbs[1], logProbs[i][0], logProbs[i][1]}
		var k [4][4]float64
		total := 0.0
		for x := 0; x < 4; x++ {
			for y := x + 1; y < 4; y++ {
				k[x][y] = -math.Abs(v[x] - v[y])
				total += k[x][y]
			}
		}
		for s, within := range [3]float64{k[0][1] + k[2][3], k[0][2] + k[1][3], k[0][3] + k[1][2]} {
			terms[j][s] = within - (total-within)/2
		}
	}
	return permute(terms, perms, rand.New(rand.NewPCG(uint64(seed), 0x6c70))) // "lp"
}

// kernelWords is how many leading words the Hamming kernel compares.
const kernelWords = 64

func words(s string) []string {
	w := strings.Fields(s)
	if len(w) > kernelWords {
		w = w[:kernelWords]
	}
	return w
}

// hamming is the normalised Hamming similarity of two word sequences
// (the shorter padded): the fraction of positions, up to the longer
// length, where both have the same word; 1 for two empty answers. The
// permutation test is exact whatever the similarity; this one follows the
// Hamming kernel of Gao, Liang and Guestrin on words instead of tokens.
func hamming(a, b []string) float64 {
	l := max(len(a), len(b))
	if l == 0 {
		return 1
	}
	same := 0
	for i := range min(len(a), len(b)) {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / float64(l)
}
