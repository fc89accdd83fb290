package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestRoganGladenPointEstimate(t *testing.T) {
	tests := []struct {
		k, n       int
		sens, spec float64
		raw, rate  float64
		clamped    bool
	}{
		{30, 100, 1, 1, 0.3, 0.3, false},                      // perfect scorer: identity
		{30, 100, 0.9, 0.95, 0.25 / 0.85, 0.25 / 0.85, false}, // (0.3+0.95-1)/(0.9+0.95-1)
		{2, 100, 0.9, 0.95, -0.03 / 0.85, 0, true},            // below the false-positive floor
		{99, 100, 0.9, 0.95, 0.94 / 0.85, 1, true},            // above the sensitivity ceiling
		{0, 0, 0.9, 0.95, 0, 0, false},                        // nothing observed
		{50, 100, 0.6, 0.6, 0.1 / 0.2, 0.5, false},            // weak but informative scorer
	}
	for _, tt := range tests {
		got, err := RoganGladen(tt.k, tt.n, tt.sens, tt.spec, 200, 200, 0.95)
		if err != nil {
			t.Fatalf("RoganGladen(%d, %d, %v, %v): %v", tt.k, tt.n, tt.sens, tt.spec, err)
		}
		if !close(got.Raw, tt.raw, 1e-12) || !close(got.Rate, tt.rate, 1e-12) || got.Clamped != tt.clamped {
			t.Errorf("RoganGladen(%d, %d, %v, %v) = raw %v rate %v clamped %v, want %v %v %v",
				tt.k, tt.n, tt.sens, tt.spec, got.Raw, got.Rate, got.Clamped, tt.raw, tt.rate, tt.clamped)
		}
		if !got.CI.Contains(got.Rate) || got.CI.Low < 0 || got.CI.High > 1 || got.CI.Method != "rogan-gladen" {
			t.Errorf("RoganGladen(%d, %d, %v, %v).CI = %+v, want inside [0,1] around %v", tt.k, tt.n, tt.sens, tt.spec, got.CI, got.Rate)
		}
	}
}

// A perfect scorer changes nothing: the interval contains the Wilson
// interval of the observed counts and converges to it as the scorer's
// validation set grows.
func TestRoganGladenPerfectScorerIsIdentity(t *testing.T) {
	for _, c := range [][2]int{{0, 50}, {17, 50}, {50, 50}, {300, 1000}} {
		w := Wilson(c[0], c[1], 0.95)
		small, err := RoganGladen(c[0], c[1], 1, 1, 100, 100, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		if small.Rate != float64(c[0])/float64(c[1]) || small.CI.Low > w.Low || small.CI.High < w.High {
			t.Errorf("RoganGladen(%d/%d, perfect, 100 labels) = %v %+v, want rate %v and CI containing %+v", c[0], c[1], small.Rate, small.CI, float64(c[0])/float64(c[1]), w)
		}
		huge, err := RoganGladen(c[0], c[1], 1, 1, 1e12, 1e12, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(huge.CI.Low-w.Low) > 1e-6 || math.Abs(huge.CI.High-w.High) > 1e-6 {
			t.Errorf("RoganGladen(%d/%d, perfect, 1e12 labels).CI = %+v, want ≈ Wilson %+v", c[0], c[1], huge.CI, w)
		}
	}
}

// Fewer labelled items to measure the scorer on must mean a wider interval.
func TestRoganGladenPropagatesScorerUncertainty(t *testing.T) {
	prev := math.Inf(1)
	for _, labels := range []int{20, 50, 200, 1000, 100000} {
		c, err := RoganGladen(120, 500, 0.85, 0.9, labels, labels, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		if w := c.CI.Width(); w >= prev {
			t.Errorf("width with %d labels = %v, not below %v with fewer", labels, w, prev)
		} else {
			prev = w
		}
	}
}

// Coverage of the true prevalence when the scorer's sensitivity and
// specificity are themselves estimated from labelled sets each trial.
func TestRoganGladenCoverage(t *testing.T) {
	const (
		trials            = 2000
		trueP, sens, spec = 0.2, 0.85, 0.9
		n, sensN, specN   = 500, 100, 200
	)
	rng := rand.New(rand.NewPCG(3, 5))
	binom := func(n int, p float64) int {
		k := 0
		for range n {
			k += b2i(rng.Float64() < p)
		}
		return k
	}
	var covered, plain int
	pObs := trueP*sens + (1-trueP)*(1-spec)
	for range trials {
		k := binom(n, pObs)
		se := float64(binom(sensN, sens)) / sensN
		sp := float64(binom(specN, spec)) / specN
		c, err := RoganGladen(k, n, se, sp, sensN, specN, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		covered += b2i(c.CI.Contains(trueP))
		// The same estimate with only the observed rate's uncertainty.
		lo, hi := (c.Observed.CI.Low+sp-1)/(se+sp-1), (c.Observed.CI.High+sp-1)/(se+sp-1)
		plain += b2i(lo <= trueP && trueP <= hi)
	}
	got, naive := float64(covered)/trials, float64(plain)/trials
	if got < 0.93 {
		t.Errorf("Rogan-Gladen coverage = %.3f (ignoring scorer error: %.3f), want >= 0.93", got, naive)
	}
	if naive > got-0.03 {
		t.Errorf("ignoring scorer error covered %.3f vs %.3f: simulation does not exercise propagation", naive, got)
	}
}

func TestRoganGladenErrors(t *testing.T) {
	tests := []struct {
		name         string
		k, n         int
		sens, spec   float64
		sensN, specN int
		level        float64
		want         error
	}{
		{"coin flip", 5, 10, 0.5, 0.5, 100, 100, 0.95, ErrUninformativeScorer},
		{"inverted", 5, 10, 0.3, 0.6, 100, 100, 0.95, ErrUninformativeScorer},
		{"k > n", 11, 10, 0.9, 0.9, 100, 100, 0.95, ErrInvalidCount},
		{"negative n", 0, -1, 0.9, 0.9, 100, 100, 0.95, ErrInvalidCount},
		{"sens > 1", 5, 10, 1.1, 0.9, 100, 100, 0.95, ErrInvalidParameter},
		{"spec NaN", 5, 10, 0.9, math.NaN(), 100, 100, 0.95, ErrInvalidParameter},
		{"no sens labels", 5, 10, 0.9, 0.9, 0, 100, 0.95, ErrInvalidParameter},
		{"no spec labels", 5, 10, 0.9, 0.9, 100, -4, 0.95, ErrInvalidParameter},
		{"level", 5, 10, 0.9, 0.9, 100, 100, 1.5, ErrInvalidParameter},
	}
	for _, tt := range tests {
		_, err := RoganGladen(tt.k, tt.n, tt.sens, tt.spec, tt.sensN, tt.specN, tt.level)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: RoganGladen error = %v, want %v", tt.name, err, tt.want)
		}
	}
}
