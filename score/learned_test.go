package score

// Experimental learned components (issue 11): a multinomial logistic
// regression over the structural features the rule scorers already
// compute, fitted and measured leave-one-source-out by
// TestRefusalModelExperiment and TestHarmModelExperiment. Neither beat the
// rules on held-out sources (docs/scoring.md, "Learned components: a
// negative result"), so none of this is used outside tests.

import (
	"hash/fnv"
	"math"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// linearModel is a multinomial logistic regression over a fixed feature
// vector: score_c = Bias[c] + Σ W[c][i]·x[i], class = argmax. Its weights
// are fitted offline by a test (see refusal_model_test.go) and embedded as
// JSON.
type linearModel struct {
	Version  string      `json:"version"`
	Features []string    `json:"features"`
	Classes  []string    `json:"classes"`
	Bias     []float64   `json:"bias"`
	W        [][]float64 `json:"w"`
}

// probs returns the class probabilities for x.
func (m *linearModel) probs(x []float64) []float64 {
	p := make([]float64, len(m.Classes))
	maxv := math.Inf(-1)
	for c := range m.Classes {
		s := m.Bias[c]
		for i, v := range x {
			if v != 0 {
				s += m.W[c][i] * v
			}
		}
		p[c] = s
		maxv = math.Max(maxv, s)
	}
	var z float64
	for c := range p {
		p[c] = math.Exp(p[c] - maxv)
		z += p[c]
	}
	for c := range p {
		p[c] /= z
	}
	return p
}

// hashBuckets is how many hashed n-gram features a vector carries.
const hashBuckets = 64

// addNgrams sets the hashed unigram and bigram features of the first
// maxWords words of s in x[off:off+hashBuckets].
func addNgrams(x []float64, off int, s string, maxWords int) {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
	if len(words) > maxWords {
		words = words[:maxWords]
	}
	add := func(g string) {
		h := fnv.New32a()
		h.Write([]byte(g))
		x[off+int(h.Sum32()%hashBuckets)] = 1
	}
	for i, w := range words {
		add(w)
		if i > 0 {
			add(words[i-1] + " " + w)
		}
	}
}

func log1p(n int) float64 { return math.Log1p(float64(n)) }

// example is one training row: features, class index, weight.
type example struct {
	x []float64
	y int
	w float64
}

// fitLinear fits a multinomial logistic regression by full-batch gradient
// descent with Adam steps and an L2 penalty lambda on the weights (not the
// biases). Deterministic: no randomness, fixed iterations. Each example's
// weight w scales its loss; the loss is divided by the total weight.
func fitLinear(rows []example, nFeat int, classes []string, lambda float64, iters int) *linearModel {
	k := len(classes)
	m := &linearModel{Classes: classes, Bias: make([]float64, k), W: make([][]float64, k)}
	for c := range m.W {
		m.W[c] = make([]float64, nFeat)
	}
	var total float64
	for _, r := range rows {
		total += r.w
	}
	const lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
	mw, vw := make([][]float64, k), make([][]float64, k)
	for c := range mw {
		mw[c], vw[c] = make([]float64, nFeat), make([]float64, nFeat)
	}
	mb, vb := make([]float64, k), make([]float64, k)
	gw := make([][]float64, k)
	for c := range gw {
		gw[c] = make([]float64, nFeat)
	}
	gb := make([]float64, k)
	for it := 1; it <= iters; it++ {
		for c := range gw {
			for i := range gw[c] {
				gw[c][i] = lambda * m.W[c][i]
			}
			gb[c] = 0
		}
		for _, r := range rows {
			p := m.probs(r.x)
			for c := range p {
				d := p[c]
				if c == r.y {
					d--
				}
				d *= r.w / total
				gb[c] += d
				for i, v := range r.x {
					if v != 0 {
						gw[c][i] += d * v
					}
				}
			}
		}
		c1, c2 := 1-math.Pow(b1, float64(it)), 1-math.Pow(b2, float64(it))
		for c := range gw {
			for i, g := range gw[c] {
				mw[c][i] = b1*mw[c][i] + (1-b1)*g
				vw[c][i] = b2*vw[c][i] + (1-b2)*g*g
				m.W[c][i] -= lr * (mw[c][i] / c1) / (math.Sqrt(vw[c][i]/c2) + eps)
			}
			mb[c] = b1*mb[c] + (1-b1)*gb[c]
			vb[c] = b2*vb[c] + (1-b2)*gb[c]*gb[c]
			m.Bias[c] -= lr * (mb[c] / c1) / (math.Sqrt(vb[c]/c2) + eps)
		}
	}
	return m
}

func argmax(p []float64) int {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}

// TestFitLinear: the fit separates separable classes, honours example
// weights, and is deterministic (the experiments' figures reproduce).
func TestFitLinear(t *testing.T) {
	var rows []example
	for i := 0; i < 40; i++ {
		v := float64(i%10) / 10
		rows = append(rows, example{x: []float64{v, 1 - v}, y: 0, w: 1}, example{x: []float64{v + 2, v}, y: 1, w: 1})
	}
	m := fitLinear(rows, 2, []string{"a", "b"}, 1e-3, 300)
	for i, r := range rows {
		if got := argmax(m.probs(r.x)); got != r.y {
			t.Fatalf("row %d %v: class %d, want %d", i, r.x, got, r.y)
		}
	}
	if diff := cmp.Diff(m, fitLinear(rows, 2, []string{"a", "b"}, 1e-3, 300)); diff != "" {
		t.Errorf("two fits differ (-first +second):\n%s", diff)
	}
	// The same point labelled both ways: the heavier label wins.
	tied := []example{{x: []float64{1, 0}, y: 0, w: 3}, {x: []float64{1, 0}, y: 1, w: 1}}
	if p := fitLinear(tied, 2, []string{"a", "b"}, 1e-2, 300).probs([]float64{1, 0}); p[0] < 0.6 || p[0] > 0.9 {
		t.Errorf("weights 3:1 on one point: p(a) = %.3f, want about 0.75", p[0])
	}
	x := make([]float64, hashBuckets)
	addNgrams(x, 0, "I can't help with that", 16)
	if n := countNonZero(x); n == 0 || n > 9 {
		t.Errorf("5 words: %d hashed n-grams set, want 1–9", n)
	}
}

func countNonZero(x []float64) int {
	n := 0
	for _, v := range x {
		if v != 0 {
			n++
		}
	}
	return n
}
