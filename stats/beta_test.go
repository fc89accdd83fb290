package stats

import (
	"math"
	"testing"
)

// binomTailDirect sums P(X >= c) for X ~ Bin(n, p) term by term in log
// space: an independent check on the continued fraction.
func binomTailDirect(c, n int, p float64) float64 {
	var s float64
	for j := c; j <= n; j++ {
		lc := lgamma(float64(n+1)) - lgamma(float64(j+1)) - lgamma(float64(n-j+1))
		s += math.Exp(lc + float64(j)*math.Log(p) + float64(n-j)*math.Log1p(-p))
	}
	return s
}

func TestRegIncBetaClosedForms(t *testing.T) {
	for _, x := range []float64{1e-9, 0.001, 0.1, 0.37, 0.5, 0.8, 0.999} {
		for _, v := range []float64{0.5, 1, 2.5, 7, 40, 300} {
			if got, want := regIncBeta(x, 1, v), -math.Expm1(v*math.Log1p(-x)); !close(got, want, 1e-12) {
				t.Errorf("I_%v(1, %v) = %v, want %v", x, v, got, want)
			}
			if got, want := regIncBeta(x, v, 1), math.Pow(x, v); !close(got, want, 1e-12) {
				t.Errorf("I_%v(%v, 1) = %v, want %v", x, v, got, want)
			}
			if got := regIncBeta(0.5, v, v); !close(got, 0.5, 1e-12) {
				t.Errorf("I_0.5(%v, %v) = %v, want 0.5", v, v, got)
			}
		}
	}
}

func TestRegIncBetaMatchesBinomialSums(t *testing.T) {
	for _, n := range []int{1, 5, 20, 100, 500} {
		for _, p := range []float64{0.01, 0.3, 0.5, 0.93, 0.999} {
			for c := 1; c <= n; c += 1 + n/17 {
				got, want := binomUpperTail(c, n, p), binomTailDirect(c, n, p)
				if !close(got, want, 1e-11) {
					t.Errorf("P(Bin(%d, %v) >= %d) = %.15g, want %.15g", n, p, c, got, want)
				}
			}
		}
	}
}

func TestBetaQuantileRoundTrip(t *testing.T) {
	for _, ab := range [][2]float64{{1, 1}, {0.5, 0.5}, {3, 9}, {50, 2}, {1000, 60}} {
		for _, p := range []float64{1e-6, 0.025, 0.5, 0.975, 1 - 1e-6} {
			x := betaQuantile(p, ab[0], ab[1])
			if got := regIncBeta(x, ab[0], ab[1]); !close(got, p, 1e-9) {
				t.Errorf("I(betaQuantile(%v, %v, %v) = %v) = %v", p, ab[0], ab[1], x, got)
			}
		}
	}
}

// close reports |got-want| <= tol, absolutely or relative to |want|.
func close(got, want, tol float64) bool {
	d := math.Abs(got - want)
	return d <= tol || d <= tol*math.Abs(want)
}
