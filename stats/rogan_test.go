package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
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

// A perfect scorer changes little: the interval contains the Wilson
// interval of the observed counts and, as the scorer's validation set
// grows, stays within the binomial likelihood-ratio interval's distance of
// it.
func TestRoganGladenPerfectScorerIsIdentity(t *testing.T) {
	for _, c := range [][2]int{{0, 50}, {17, 50}, {50, 50}, {300, 1000}} {
		w := Wilson(c[0], c[1], 0.95)
		for _, labels := range []int{100, 1e12} {
			got, err := RoganGladen(c[0], c[1], 1, 1, labels, labels, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			if got.Rate != float64(c[0])/float64(c[1]) || got.CI.Low > w.Low || got.CI.High < w.High {
				t.Errorf("RoganGladen(%d/%d, perfect, %d labels) = %v %+v, want rate %v and CI containing %+v", c[0], c[1], labels, got.Rate, got.CI, float64(c[0])/float64(c[1]), w)
			}
			if labels > 100 && (w.Low-got.CI.Low > 0.01 || got.CI.High-w.High > 0.01) {
				t.Errorf("RoganGladen(%d/%d, perfect, %d labels).CI = %+v, want within 0.01 of Wilson %+v", c[0], c[1], labels, got.CI, w)
			}
		}
	}
}

// The case from the field: 8 of 100 answers flagged by a scorer whose
// false-positive rate is about 12%. The corrected rate is 0, but the
// interval is [0, upper] with a real upper bound, not [0, 0], and the reason
// is given. The same holds far below the floor and, mirrored, above the
// sensitivity ceiling.
func TestRoganGladenBoundaryIsOneSidedNotZeroWidth(t *testing.T) {
	tests := []struct {
		name            string
		k, n            int
		sens, spec      float64
		sensN, specN    int
		rate            float64
		reason          string
		minLow, minHigh float64 // Low must be <= minLow for a zero point; High >= minHigh
	}{
		{"8/100 below a 12% floor", 8, 100, 0.85, 0.88, 100, 100, 0, ReasonBelowFloor, 0, 0.02},
		{"8/100 below a 20% floor (old delta method: [0,0])", 8, 100, 0.9, 0.8, 100, 100, 0, ReasonBelowFloor, 0, 0.005},
		{"0/1000 below a 10% floor", 0, 1000, 0.9, 0.9, 100, 100, 0, ReasonBelowFloor, 0, 0.0005},
		{"exactly at the floor", 10, 100, 0.9, 0.9, 100, 100, 0, ReasonBelowFloor, 0, 0.02},
		{"99/100 above a 90% ceiling", 99, 100, 0.9, 0.95, 100, 100, 1, ReasonAboveCeiling, 0, 1},
		{"perfect specificity, 0 flagged", 0, 100, 0.9, 1, 100, 100, 0, "", 0, 0.02},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := RoganGladen(tt.k, tt.n, tt.sens, tt.spec, tt.sensN, tt.specN, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			if c.Rate != tt.rate || c.Reason != tt.reason {
				t.Errorf("rate %v reason %q, want %v %q", c.Rate, c.Reason, tt.rate, tt.reason)
			}
			if c.CI.Width() <= 0.001 {
				t.Errorf("CI %+v has (near) zero width", c.CI)
			}
			if !c.CI.Contains(c.Rate) || c.CI.High < tt.minHigh {
				t.Errorf("CI %+v, want it to contain %v and reach at least %v", c.CI, c.Rate, tt.minHigh)
			}
			if tt.rate == 0 && c.CI.Low != 0 || tt.rate == 1 && c.CI.High != 1 {
				t.Errorf("CI %+v is not one-sided at %v", c.CI, tt.rate)
			}
		})
	}
}

// No finite sample gives a zero-width interval, whatever the counts.
func TestRoganGladenNeverZeroWidth(t *testing.T) {
	for _, n := range []int{1, 10, 100, 1000} {
		for k := 0; k <= n; k += max(1, n/20) {
			for _, q := range [][2]float64{{0.6, 0.6}, {0.9, 0.8}, {0.99, 0.99}, {1, 1}, {0.7, 1}} {
				c, err := RoganGladen(k, n, q[0], q[1], 50, 150, 0.95)
				if err != nil {
					t.Fatal(err)
				}
				if !(c.CI.Width() > 0) || !c.CI.Contains(c.Rate) {
					t.Fatalf("RoganGladen(%d, %d, %v, %v) = %v %+v", k, n, q[0], q[1], c.Rate, c.CI)
				}
			}
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

// coverageCase is a scorer whose true sensitivity and specificity are known
// but, as in a real run, estimated from a finite calibration sample.
type coverageCase struct {
	sens, spec   float64 // the scorer's true figures
	sensN, specN int     // labelled positives and negatives it is calibrated on
	n            int     // answers scored in the run
}

// coverageCases are the scorer, calibration and run sizes of the simulation
// in docs/scoring.md.
var coverageCases = []coverageCase{
	{0.85, 0.90, 100, 100, 100},  // the default 200-item calibration batch, a small run
	{0.95, 0.98, 100, 100, 500},  // a good scorer
	{0.70, 0.80, 50, 150, 200},   // a weak scorer, few labelled positives
	{0.80, 0.95, 30, 170, 100},   // very few labelled positives
	{0.90, 0.95, 500, 500, 1000}, // a large calibration set and run
}

// simulateCoverage runs trials simulated runs of case c at true rate p and
// returns how many corrected 95% intervals contained p, how many had zero
// width, and their mean width. Each trial draws the scorer's calibration
// figures afresh, then the run's flagged count. A trial whose estimated
// scorer is uninformative (no correction possible) counts as not covered.
func simulateCoverage(rng *rand.Rand, c coverageCase, p float64, trials int) (covered, zeroWidth int, meanWidth float64) {
	binom := func(n int, p float64) int {
		k := 0
		for range n {
			k += b2i(rng.Float64() < p)
		}
		return k
	}
	pObs := p*c.sens + (1-p)*(1-c.spec)
	for range trials {
		se := float64(binom(c.sensN, c.sens)) / float64(c.sensN)
		sp := float64(binom(c.specN, c.spec)) / float64(c.specN)
		k := binom(c.n, pObs)
		r, err := RoganGladen(k, c.n, se, sp, c.sensN, c.specN, 0.95)
		if err != nil {
			continue
		}
		covered += b2i(r.CI.Contains(p))
		zeroWidth += b2i(r.CI.Width() == 0)
		meanWidth += r.CI.Width() / float64(trials)
	}
	return covered, zeroWidth, meanWidth
}

// TestRoganGladenCoverage shows by simulation that the corrected 95%
// interval covers the true rate at least 93% of the time for low, middle
// and high true rates, with the scorer's own figures estimated from a
// finite calibration sample in every trial. 1,000 seeded trials a case by
// default; CLEARANCE_SLOW=1 runs 10,000 (the table in docs/scoring.md):
//
//	CLEARANCE_SLOW=1 go test ./stats -run TestRoganGladenCoverage -v
func TestRoganGladenCoverage(t *testing.T) {
	trials := 1000
	if os.Getenv("CLEARANCE_SLOW") == "1" {
		trials = 10000
	}
	rng := rand.New(rand.NewPCG(11, 2026))
	t.Logf("| sensitivity | specificity | labelled +/- | n | true rate | coverage (%d trials) | mean width | zero-width |", trials)
	t.Logf("|---|---|---|---|---|---|---|---|")
	for _, c := range coverageCases {
		for _, p := range []float64{0.02, 0.3, 0.9} {
			covered, zero, width := simulateCoverage(rng, c, p, trials)
			got := float64(covered) / float64(trials)
			t.Logf("| %.2f | %.2f | %d/%d | %d | %.2f | %.3f | %.3f | %d |", c.sens, c.spec, c.sensN, c.specN, c.n, p, got, width, zero)
			if got < 0.93 {
				t.Errorf("%+v at true rate %v: coverage %.3f, want >= 0.93", c, p, got)
			}
			if zero > 0 {
				t.Errorf("%+v at true rate %v: %d zero-width intervals", c, p, zero)
			}
		}
	}
}

// Ignoring the scorer's own sampling error undercovers: the simulation
// above exercises the propagation.
func TestRoganGladenCoverageNeedsPropagation(t *testing.T) {
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

// BenchmarkRoganGladen measures one corrected rate with its
// profile-likelihood interval (metrics.json computes one per group,
// category and transform).
func BenchmarkRoganGladen(b *testing.B) {
	for b.Loop() {
		if _, err := RoganGladen(120, 500, 0.85, 0.9, 100, 100, 0.95); err != nil {
			b.Fatal(err)
		}
	}
}
