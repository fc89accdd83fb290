package stats

import "math"

// Wilson returns the Wilson score interval for k successes in n trials at
// the given two-sided level (e.g. 0.95). It is the package's default
// interval: close to nominal coverage for all p and never outside [0,1].
//
// Callers must pass 0 <= k <= n and 0 < level < 1; otherwise, and for
// n == 0, the result is the vacuous interval [0,1].
func Wilson(k, n int, level float64) Interval {
	if checkCount(k, n) != nil || !validLevel(level) || n == 0 {
		return vacuous(level, "wilson")
	}
	lo, hi := wilson(float64(k), float64(n), zTwoSided(level))
	if k == 0 {
		lo = 0 // exact, instead of a rounding residue
	}
	if k == n {
		hi = 1
	}
	return Interval{Low: lo, High: hi, Level: level, Method: "wilson"}
}

// wilson accepts fractional counts so that design-effect and Rogan–Gladen
// computations can use an effective sample size.
func wilson(k, n, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	p := k / n
	z2 := z * z
	den := 1 + z2/n
	centre := (p + z2/(2*n)) / den
	half := z / den * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	return clamp01(centre - half), clamp01(centre + half)
}

// ClopperPearson returns the exact (Clopper–Pearson) interval for k
// successes in n trials, from beta quantiles:
// Low = B(α/2; k, n-k+1), High = B(1-α/2; k+1, n-k), α = 1-level.
// Its coverage is at least level for every p, at the price of width.
//
// Callers must pass 0 <= k <= n and 0 < level < 1; otherwise, and for
// n == 0, the result is the vacuous interval [0,1].
func ClopperPearson(k, n int, level float64) Interval {
	if checkCount(k, n) != nil || !validLevel(level) || n == 0 {
		return vacuous(level, "clopper-pearson")
	}
	a := 1 - level
	iv := Interval{Low: 0, High: 1, Level: level, Method: "clopper-pearson"}
	if k > 0 {
		iv.Low = betaQuantile(a/2, float64(k), float64(n-k+1))
	}
	if k < n {
		iv.High = betaQuantile(1-a/2, float64(k+1), float64(n-k))
	}
	return iv
}
