package stats

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestWilsonKnownValues(t *testing.T) {
	// Published values (textbook, quoted from memory) and closed forms:
	// for k = 0 the upper bound is z²/(n+z²).
	z2 := math.Pow(normalQuantile(0.975), 2)
	tests := []struct {
		k, n      int
		level     float64
		low, high float64
		tol       float64
	}{
		{5, 10, 0.95, 0.2366, 0.7634, 1e-4},
		{0, 10, 0.95, 0, z2 / (10 + z2), 1e-12},
		{10, 10, 0.95, 10 / (10 + z2), 1, 1e-12},
		{0, 0, 0.95, 0, 1, 0},
	}
	for _, tt := range tests {
		got := Wilson(tt.k, tt.n, tt.level)
		if !close(got.Low, tt.low, tt.tol) || !close(got.High, tt.high, tt.tol) || got.Method != "wilson" || got.Level != tt.level {
			t.Errorf("Wilson(%d, %d, %v) = %+v, want [%v, %v]", tt.k, tt.n, tt.level, got, tt.low, tt.high)
		}
	}
}

// The Wilson bounds are the two roots of (k/n - p)² = z² p(1-p)/n.
func TestWilsonSolvesScoreEquation(t *testing.T) {
	for _, level := range []float64{0.8, 0.9, 0.95, 0.99} {
		z := zTwoSided(level)
		for _, c := range [][2]int{{1, 3}, {7, 19}, {180, 200}, {999, 1000}} {
			k, n := float64(c[0]), float64(c[1])
			iv := Wilson(c[0], c[1], level)
			for _, p := range []float64{iv.Low, iv.High} {
				if r := math.Pow(k/n-p, 2) - z*z*p*(1-p)/n; math.Abs(r) > 1e-12 {
					t.Errorf("Wilson(%v, %v, %v) bound %v: score residual %v", k, n, level, p, r)
				}
			}
		}
	}
}

func TestClopperPearsonKnownValues(t *testing.T) {
	tests := []struct {
		k, n      int
		level     float64
		low, high float64
		tol       float64
	}{
		{5, 10, 0.95, 0.1871, 0.8129, 1e-4}, // textbook, from memory
		{1, 20, 0.95, 0.0013, 0.2487, 1e-4},
		{0, 10, 0.95, 0, 1 - math.Pow(0.025, 0.1), 1e-9}, // closed form
		{10, 10, 0.95, math.Pow(0.025, 0.1), 1, 1e-9},
		{0, 50, 0.90, 0, 1 - math.Pow(0.05, 1.0/50), 1e-9},
		{3, 0, 0.95, 0, 1, 0}, // k > n: vacuous
	}
	for _, tt := range tests {
		got := ClopperPearson(tt.k, tt.n, tt.level)
		if !close(got.Low, tt.low, tt.tol) || !close(got.High, tt.high, tt.tol) || got.Method != "clopper-pearson" {
			t.Errorf("ClopperPearson(%d, %d, %v) = %+v, want [%v, %v]", tt.k, tt.n, tt.level, got, tt.low, tt.high)
		}
	}
}

// Exact definition: P(X >= k | Low) = α/2 and P(X <= k | High) = α/2,
// checked with direct binomial sums to 1e-9.
func TestClopperPearsonDefinition(t *testing.T) {
	for _, c := range [][2]int{{1, 7}, {5, 10}, {37, 120}, {199, 200}} {
		k, n := c[0], c[1]
		iv := ClopperPearson(k, n, 0.95)
		if got := binomTailDirect(k, n, iv.Low); !close(got, 0.025, 1e-9) {
			t.Errorf("P(Bin(%d, %v) >= %d) = %v, want 0.025", n, iv.Low, k, got)
		}
		if got := 1 - binomTailDirect(k+1, n, iv.High); !close(got, 0.025, 1e-9) {
			t.Errorf("P(Bin(%d, %v) <= %d) = %v, want 0.025", n, iv.High, k, got)
		}
	}
}

// exactCoverage is Σ_k P(X = k) · 1[p ∈ f(k, n)] for X ~ Bin(n, p).
func exactCoverage(n int, p float64, f func(k, n int) Interval) float64 {
	var cov float64
	for k := 0; k <= n; k++ {
		if f(k, n).Contains(p) {
			lc := lgamma(float64(n+1)) - lgamma(float64(k+1)) - lgamma(float64(n-k+1))
			cov += math.Exp(lc + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
		}
	}
	return cov
}

// Coverage is computed exactly by enumerating every outcome, which is
// deterministic and stronger than a seeded simulation.
func TestCoverage(t *testing.T) {
	wilson := func(k, n int) Interval { return Wilson(k, n, 0.95) }
	cp := func(k, n int) Interval { return ClopperPearson(k, n, 0.95) }
	for _, p := range []float64{0.05, 0.5, 0.9} {
		if got := exactCoverage(200, p, wilson); got < 0.93 {
			t.Errorf("Wilson 95%% coverage at n=200, p=%v = %.4f, want >= 0.93", p, got)
		}
	}
	for p := 0.01; p < 1; p += 0.0437 {
		if got := exactCoverage(50, p, cp); got < 0.95 {
			t.Errorf("Clopper-Pearson 95%% coverage at n=50, p=%v = %.4f, want >= 0.95", p, got)
		}
	}
}

func TestIntervalsFailClosed(t *testing.T) {
	for _, in := range []struct {
		k, n  int
		level float64
	}{{-1, 5, 0.95}, {6, 5, 0.95}, {0, -1, 0.95}, {1, 5, 0}, {1, 5, 1}, {1, 5, math.NaN()}} {
		for name, f := range map[string]func(int, int, float64) Interval{"Wilson": Wilson, "ClopperPearson": ClopperPearson} {
			if iv := f(in.k, in.n, in.level); iv.Low != 0 || iv.High != 1 {
				t.Errorf("%s(%d, %d, %v) = %+v, want vacuous [0,1]", name, in.k, in.n, in.level, iv)
			}
		}
	}
}

func TestNewRate(t *testing.T) {
	got, err := NewRate(5, 10, 0.95)
	if err != nil {
		t.Fatalf("NewRate(5, 10, 0.95): %v", err)
	}
	want := Rate{K: 5, N: 10, Rate: 0.5, CI: Wilson(5, 10, 0.95)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NewRate(5, 10, 0.95) mismatch (-want +got):\n%s", diff)
	}
	zero, err := NewRate(0, 0, 0.95)
	if err != nil {
		t.Fatalf("NewRate(0, 0, 0.95): %v", err)
	}
	if diff := cmp.Diff(Rate{CI: Interval{Low: 0, High: 1, Level: 0.95, Method: "wilson"}}, zero, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("NewRate(0, 0, 0.95) mismatch (-want +got):\n%s", diff)
	}

	bad := []struct {
		k, n  int
		level float64
		want  error
	}{
		{-1, 10, 0.95, ErrInvalidCount},
		{11, 10, 0.95, ErrInvalidCount},
		{0, -3, 0.95, ErrInvalidCount},
		{1, 10, 95, ErrInvalidParameter},
		{1, 10, math.NaN(), ErrInvalidParameter},
	}
	for _, tt := range bad {
		if _, err := NewRate(tt.k, tt.n, tt.level); !errors.Is(err, tt.want) {
			t.Errorf("NewRate(%d, %d, %v) error = %v, want %v", tt.k, tt.n, tt.level, err, tt.want)
		}
	}
}
