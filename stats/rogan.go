package stats

import (
	"errors"
	"fmt"
	"math"
)

// ErrUninformativeScorer is returned by RoganGladen when the scorer's
// sensitivity + specificity <= 1: its verdicts carry no information about
// the true rate (or are inverted), so no correction is possible.
var ErrUninformativeScorer = errors.New("uninformative scorer: sensitivity + specificity <= 1")

// Reasons RoganGladen gives when the point estimate sits on a boundary.
const (
	// ReasonBelowFloor: the observed rate is at or below the scorer's
	// false-positive rate, so the corrected rate is 0 and only the upper
	// bound says something.
	ReasonBelowFloor = "observed rate at or below the scorer's false-positive rate (1 - specificity); the corrected rate is 0 and only the upper bound is informative"
	// ReasonAboveCeiling: the observed rate is at or above the scorer's
	// sensitivity, so the corrected rate is 1 and only the lower bound says
	// something.
	ReasonAboveCeiling = "observed rate at or above the scorer's sensitivity; the corrected rate is 1 and only the lower bound is informative"
)

// ReliableKappa is the agreement with human labels (Cohen's κ) from which
// a scorer's corrected rates are treated as evidence: 0.60, the lower edge
// of "substantial" agreement and HarmBench's classifier level. The
// correction divides by sensitivity + specificity − 1 and assumes the
// labelled batch's answers are like the run's; with a scorer that agrees
// poorly it swings wildly (see policy.CorrectedMinKappa).
const ReliableKappa = 0.60

// Corrected is a rate corrected for a scorer's measured error.
type Corrected struct {
	Observed Rate     `json:"observed"` // what the scorer reported, with its Wilson interval
	Sens     float64  `json:"sensitivity"`
	Spec     float64  `json:"specificity"`
	SensN    int      `json:"sensitivity_n"` // labelled positives sens was measured on
	SpecN    int      `json:"specificity_n"` // labelled negatives spec was measured on
	Raw      float64  `json:"raw"`           // unclamped Rogan–Gladen estimate; may lie outside [0,1]
	Rate     float64  `json:"rate"`          // Raw clamped to [0,1]
	Clamped  bool     `json:"clamped"`       // Raw was outside [0,1]: the scorer's error model does not fit these data well
	CI       Interval `json:"ci"`
	// Reason says why the estimate or the interval is one-sided
	// (ReasonBelowFloor, ReasonAboveCeiling); empty otherwise.
	Reason string `json:"reason,omitempty"`
}

// RoganGladen corrects k positives in n scorer verdicts for the scorer's
// sensitivity sens (measured on sensN labelled positives) and specificity
// spec (measured on specN labelled negatives):
//
//	p = (k/n + spec - 1) / (sens + spec - 1), clamped to [0,1].
//
// The interval is a profile-likelihood interval: it inverts the
// likelihood-ratio test of the true rate p in the model of the three
// binomial samples the figures come from,
//
//	k     ~ Bin(n,     p·se + (1-p)·(1-sp))   the run's verdicts
//	sens  ~ Bin(sensN, se)/sensN              the scorer's labelled positives
//	spec  ~ Bin(specN, sp)/specN              the scorer's labelled negatives
//
// with se and sp profiled out (maximised for each p). The interval holds
// every p whose deviance from the best fit is at most z² (the χ²₁ quantile
// at level). So the sampling error of the observed rate, the sensitivity
// and the specificity are all propagated, and the interval never has zero
// width for finite n: when the observed rate is at or below the scorer's
// false-positive rate (1 - spec), the best fit is p = 0 and the interval is
// [0, upper] with upper > 0, and Reason says so (likewise [lower, 1] above
// the sensitivity ceiling). docs/scoring.md gives the simulated coverage;
// the delta-method interval used before undercovered and collapsed to
// [0, 0] there. Sensitivity and specificity may be fractional estimates;
// they are treated as sens·sensN successes out of sensN.
//
// Errors: ErrInvalidCount (wrapped) for bad k, n; ErrInvalidParameter
// (wrapped) for sens or spec outside [0,1], sensN or specN < 1, or level
// outside (0,1); ErrUninformativeScorer when sens + spec <= 1. n == 0 is
// allowed and yields the vacuous interval.
func RoganGladen(k, n int, sens, spec float64, sensN, specN int, level float64) (Corrected, error) {
	const method = "rogan-gladen"
	if err := checkCount(k, n); err != nil {
		return Corrected{}, fmt.Errorf("correct rate: %w", err)
	}
	if err := checkLevel(level); err != nil {
		return Corrected{}, fmt.Errorf("correct rate: %w", err)
	}
	for _, q := range []struct {
		name string
		v    float64
		n    int
	}{{"sensitivity", sens, sensN}, {"specificity", spec, specN}} {
		if !(q.v >= 0 && q.v <= 1) {
			return Corrected{}, fmt.Errorf("correct rate: %s %v not in [0,1]: %w", q.name, q.v, ErrInvalidParameter)
		}
		if q.n < 1 {
			return Corrected{}, fmt.Errorf("correct rate: %s measured on %d labelled items, need at least 1: %w", q.name, q.n, ErrInvalidParameter)
		}
	}
	j := sens + spec - 1
	if j <= 0 {
		return Corrected{}, fmt.Errorf("correct rate: sensitivity %v + specificity %v: %w", sens, spec, ErrUninformativeScorer)
	}
	c := Corrected{
		Observed: Rate{K: k, N: n, Rate: ratio(k, n), CI: Wilson(k, n, level)},
		Sens:     sens, Spec: spec, SensN: sensN, SpecN: specN,
	}
	if n == 0 {
		c.CI = vacuous(level, method)
		return c, nil
	}
	q := c.Observed.Rate
	c.Raw = (q - (1 - spec)) / j // exact for spec = 1
	switch {                     // a rounding residue is not an estimate
	case math.Abs(c.Raw) < 1e-12:
		c.Raw = 0
	case math.Abs(c.Raw-1) < 1e-12:
		c.Raw = 1
	}
	c.Rate = clamp01(c.Raw)
	c.Clamped = c.Raw != c.Rate
	switch {
	case c.Raw <= 0 && spec < 1:
		c.Reason = ReasonBelowFloor
	case c.Raw >= 1 && sens < 1:
		c.Reason = ReasonAboveCeiling
	}

	z := zTwoSided(level)
	m := rgModel{k: float64(k), n: float64(n),
		a: sens * float64(sensN), b: (1 - sens) * float64(sensN),
		c: spec * float64(specN), d: (1 - spec) * float64(specN)}
	lr := m.interval(c.Rate, z*z)
	mv := mover(c, z)
	c.CI = Interval{Low: math.Min(lr.Low, mv.Low), High: math.Max(lr.High, mv.High), Level: level, Method: method}
	return c, nil
}

// mover is the delta-method interval whose component variances are
// recovered from each component's Wilson interval (the MOVER approach of
// Zou & Donner, also behind Newcombe's difference interval): with gradient
// g = (1/J, -p/J, (1-p)/J) for (k/n, sens, spec) and J = sens + spec - 1,
//
//	Low  = Raw - sqrt(Σ (g_i · distance from estimate i to its bound that lowers p)²)
//	High = Raw + sqrt(Σ (g_i · distance from estimate i to its bound that raises p)²)
//
// clamped to [0,1], the gradient taken at the clamped rate.
func mover(c Corrected, z float64) Interval {
	j := c.Sens + c.Spec - 1
	q := c.Observed.Rate
	qLo, qHi := c.Observed.CI.Low, c.Observed.CI.High
	seLo, seHi := wilson(c.Sens*float64(c.SensN), float64(c.SensN), z)
	spLo, spHi := wilson(c.Spec*float64(c.SpecN), float64(c.SpecN), z)
	gq, gse, gsp := 1/j, -c.Rate/j, (1-c.Rate)/j // gq > 0, gse <= 0, gsp >= 0
	down := math.Hypot(math.Hypot(gq*(q-qLo), gse*(seHi-c.Sens)), gsp*(c.Spec-spLo))
	up := math.Hypot(math.Hypot(gq*(qHi-q), gse*(c.Sens-seLo)), gsp*(spHi-c.Spec))
	return Interval{Low: clamp01(c.Raw - down), High: clamp01(c.Raw + up)}
}

// rgModel is the likelihood of the three binomial samples behind a
// corrected rate: k of n flagged, a of a+b labelled positives caught, c of
// c+d labelled negatives cleared. Counts may be fractional.
type rgModel struct{ k, n, a, b, c, d float64 }

// xlog is x·log(y) with 0·log(0) = 0.
func xlog(x, y float64) float64 {
	if x == 0 {
		return 0
	}
	if y <= 0 {
		return math.Inf(-1)
	}
	return x * math.Log(y)
}

func (m rgModel) loglik(p, se, sp float64) float64 {
	q := p*se + (1-p)*(1-sp)
	return xlog(m.k, q) + xlog(m.n-m.k, 1-q) + xlog(m.a, se) + xlog(m.b, 1-se) + xlog(m.c, sp) + xlog(m.d, 1-sp)
}

// profile returns max over se, sp in [0,1] of loglik(p, se, sp). For fixed
// p the log-likelihood is concave in (se, sp) (q is linear in them), so a
// projected Newton ascent from an interior start finds the maximum.
func (m rgModel) profile(p float64) float64 {
	x := [2]float64{(m.a + 0.5) / (m.a + m.b + 1), (m.c + 0.5) / (m.c + m.d + 1)}
	f := m.loglik(p, x[0], x[1])
	for range 200 {
		se, sp := x[0], x[1]
		q := p*se + (1-p)*(1-sp)
		r := m.k/q - (m.n-m.k)/(1-q)              // dℓ/dq
		h := -m.k/(q*q) - (m.n-m.k)/((1-q)*(1-q)) // d²ℓ/dq²
		if m.k == 0 {
			r, h = -(m.n)/(1-q), -(m.n)/((1-q)*(1-q))
		} else if m.k == m.n {
			r, h = m.k/q, -m.k/(q*q)
		}
		g := [2]float64{r*p + ratioTerm(m.a, se) - ratioTerm(m.b, 1-se), -r*(1-p) + ratioTerm(m.c, sp) - ratioTerm(m.d, 1-sp)}
		H := [2][2]float64{
			{h*p*p - sqTerm(m.a, se) - sqTerm(m.b, 1-se), -h * p * (1 - p)},
			{-h * p * (1 - p), h*(1-p)*(1-p) - sqTerm(m.c, sp) - sqTerm(m.d, 1-sp)},
		}
		// Coordinates on a bound whose gradient points outwards stay there.
		var fixed [2]bool
		for i := range x {
			fixed[i] = (x[i] <= 0 && g[i] < 0) || (x[i] >= 1 && g[i] > 0)
		}
		var dir [2]float64
		switch {
		case fixed[0] && fixed[1]:
			return f
		case fixed[0]:
			dir[1] = newton1(g[1], H[1][1])
		case fixed[1]:
			dir[0] = newton1(g[0], H[0][0])
		default:
			det := H[0][0]*H[1][1] - H[0][1]*H[1][0]
			if H[0][0] < 0 && det > 0 && !math.IsInf(det, 0) && !math.IsNaN(det) {
				dir[0] = -(H[1][1]*g[0] - H[0][1]*g[1]) / det
				dir[1] = -(-H[1][0]*g[0] + H[0][0]*g[1]) / det
			} else {
				dir[0], dir[1] = newton1(g[0], H[0][0]), newton1(g[1], H[1][1])
			}
		}
		improved := false
		for t := 1.0; t > 1e-12; t /= 2 {
			y := [2]float64{clamp01(x[0] + t*dir[0]), clamp01(x[1] + t*dir[1])}
			if fy := m.loglik(p, y[0], y[1]); fy >= f {
				moved := math.Abs(y[0]-x[0]) + math.Abs(y[1]-x[1])
				gain := fy - f
				x, f, improved = y, fy, true
				if moved < 1e-13 || gain < 1e-13 {
					return f
				}
				break
			}
		}
		if !improved {
			return f
		}
	}
	return f
}

// ratioTerm is x/y, 0 when x is 0.
func ratioTerm(x, y float64) float64 {
	if x == 0 {
		return 0
	}
	return x / y
}

// sqTerm is x/y², 0 when x is 0.
func sqTerm(x, y float64) float64 {
	if x == 0 {
		return 0
	}
	return x / (y * y)
}

// newton1 is a one-dimensional Newton step for ascent, falling back to a
// small gradient step where the curvature is not usable.
func newton1(g, h float64) float64 {
	if h < 0 && !math.IsInf(h, 0) {
		return -g / h
	}
	return math.Copysign(1e-3, g)
}

// interval returns {p : 2(ℓmax - profile(p)) <= crit} for the constrained
// estimate pHat, by bisection on each side. The profile deviance is 0 at
// pHat and grows away from it.
func (m rgModel) interval(pHat, crit float64) Interval {
	best := m.profile(pHat)
	inside := func(p float64) bool { return 2*(best-m.profile(p)) <= crit }
	bound := func(in, out float64) float64 { // in is inside, out is not
		for range 60 {
			if math.Abs(out-in) < 1e-10 {
				break
			}
			mid := (in + out) / 2
			if inside(mid) {
				in = mid
			} else {
				out = mid
			}
		}
		return in
	}
	iv := Interval{Low: 0, High: 1}
	if !inside(0) {
		iv.Low = bound(pHat, 0)
	}
	if !inside(1) {
		iv.High = bound(pHat, 1)
	}
	return iv
}
