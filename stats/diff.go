package stats

import "math"

// DiffResult compares two independent rates A and B.
type DiffResult struct {
	A    Rate     `json:"a"`
	B    Rate     `json:"b"`
	Diff float64  `json:"diff"` // A.Rate - B.Rate
	CI   Interval `json:"ci"`   // Newcombe hybrid score interval for the difference
	Z    float64  `json:"z"`    // pooled two-proportion z statistic
	// PValue is the two-sided p-value of the pooled z test of equal rates;
	// 1 when the test is undefined (no trials, or pooled rate 0 or 1).
	PValue float64 `json:"p_value"`
	// Significant is true only when the p-value is below 1-level AND the
	// interval excludes 0. The two criteria agree almost always; where they
	// do not, the package declines to call a difference.
	Significant bool `json:"significant"`
}

// Diff compares k1/n1 (A) with k2/n2 (B), two independent binomial samples.
// The interval for p1 - p2 is Newcombe's hybrid score interval (method 10 of
// Newcombe 1998), built from the two Wilson intervals (l_i, u_i):
//
//	Low  = d - sqrt((p1-l1)² + (u2-p2)²)
//	High = d + sqrt((u1-p1)² + (p2-l2)²)
//
// Callers must pass 0 <= k_i <= n_i and 0 < level < 1. On input outside
// that contract, or when either n is 0, the interval is the vacuous [-1,1],
// PValue is 1 and Significant is false.
func Diff(k1, n1, k2, n2 int, level float64) DiffResult {
	r := DiffResult{
		A:      Rate{K: k1, N: n1, Rate: ratio(k1, n1), CI: Wilson(k1, n1, level)},
		B:      Rate{K: k2, N: n2, Rate: ratio(k2, n2), CI: Wilson(k2, n2, level)},
		CI:     Interval{Low: -1, High: 1, Level: level, Method: "newcombe"},
		PValue: 1,
	}
	if checkCount(k1, n1) != nil || checkCount(k2, n2) != nil || !validLevel(level) || n1 == 0 || n2 == 0 {
		r.A.Rate, r.B.Rate = 0, 0
		return r
	}
	p1, p2 := r.A.Rate, r.B.Rate
	r.Diff = p1 - p2
	l1, u1 := r.A.CI.Low, r.A.CI.High
	l2, u2 := r.B.CI.Low, r.B.CI.High
	r.CI.Low = math.Max(-1, r.Diff-math.Hypot(p1-l1, u2-p2))
	r.CI.High = math.Min(1, r.Diff+math.Hypot(u1-p1, p2-l2))

	pool := float64(k1+k2) / float64(n1+n2)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(n1) + 1/float64(n2)))
	if se > 0 {
		r.Z = r.Diff / se
		r.PValue = math.Min(1, 2*normalSurvival(math.Abs(r.Z)))
	}
	r.Significant = r.PValue < 1-level && (r.CI.Low > 0 || r.CI.High < 0)
	return r
}
