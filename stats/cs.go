package stats

import (
	"fmt"
	"math"
)

// csGrid is the number of grid steps on [0,1] on which the confidence
// sequence tracks its capital processes; reported bounds are conservative
// by at most 1/csGrid.
const csGrid = 1000

// csTruncation caps bets at c/m (c/(1-m)) so that wealth can never fall
// below (1-c) times its previous value in one step.
const csTruncation = 0.5

// ConfidenceSequence is an anytime-valid confidence sequence for the mean
// of observations in [0,1] (for a rate: 1 for a success, 0 otherwise).
// With probability at least 1-alpha, the true mean lies in Interval() at
// every time simultaneously, so the data may be inspected after every
// observation and collection stopped at any (data-dependent) time.
//
// Method: betting (Waudby-Smith & Ramdas, "Estimating means of bounded
// random variables by betting", JRSS-B 2024; method as recalled, not
// copied). For each candidate mean m on a grid, two gamblers bet that the
// mean is above and below m; their wealth processes
//
//	K+_t(m) = Π (1 + λ+_i(m)(x_i - m)),  K-_t(m) = Π (1 - λ-_i(m)(x_i - m))
//
// are nonnegative martingales when m is the true mean. The hedged wealth
// (K+ + K-)/2 is one too, so by Ville's inequality it exceeds 1/alpha with
// probability at most alpha; m is excluded once that happens and stays
// excluded (running intersection). Bets use the predictable plug-in
//
//	λ_t = sqrt(2 log(2/alpha) / (σ̂²_{t-1} · t · log(1+t))),
//	λ+_t(m) = min(λ_t, c/m),  λ-_t(m) = min(λ_t, c/(1-m)),  c = 1/2,
//
// with σ̂²_t = (1/4 + Σ_{i<=t} (x_i - μ̂_i)²)/(t+1), μ̂_t = (1/2 + Σ x_i)/(t+1).
//
// A ConfidenceSequence is not safe for concurrent use. Memory is O(1000)
// and each observation costs O(1000) logarithms.
type ConfidenceSequence struct {
	alpha     float64
	t         int
	sum       float64 // Σ x_i
	sqDev     float64 // Σ (x_i - μ̂_i)²
	logKp     [csGrid + 1]float64
	logKm     [csGrid + 1]float64
	excluded  [csGrid + 1]bool
	threshold float64 // log(1/alpha)
	betNumer  float64 // 2 log(2/alpha)
	lo, hi    int     // first and last grid index not excluded
}

// NewConfidenceSequence returns a confidence sequence with miscoverage
// alpha (level 1-alpha), starting at [0,1]. It returns an error wrapping
// ErrInvalidParameter unless 0 < alpha < 1.
func NewConfidenceSequence(alpha float64) (*ConfidenceSequence, error) {
	if !(alpha > 0 && alpha < 1) {
		return nil, fmt.Errorf("new confidence sequence: alpha %v not in (0,1): %w", alpha, ErrInvalidParameter)
	}
	return &ConfidenceSequence{
		alpha:     alpha,
		threshold: math.Log(1 / alpha),
		betNumer:  2 * math.Log(2/alpha),
		lo:        0,
		hi:        csGrid,
	}, nil
}

// Observe adds one observation x in [0,1]. It returns an error wrapping
// ErrInvalidParameter, and changes nothing, for x outside [0,1] or NaN.
func (cs *ConfidenceSequence) Observe(x float64) error {
	if !(x >= 0 && x <= 1) {
		return fmt.Errorf("observe %v: outside [0,1]: %w", x, ErrInvalidParameter)
	}
	t := float64(cs.t + 1)
	sigma2 := (0.25 + cs.sqDev) / t // σ̂²_{t-1}
	lambda := math.Sqrt(cs.betNumer / (sigma2 * t * math.Log(1+t)))

	lo, hi := -1, -1
	for i := 0; i <= csGrid; i++ {
		if cs.excluded[i] {
			continue
		}
		m := float64(i) / csGrid
		lp, lm := lambda, lambda
		if m > 0 {
			lp = math.Min(lp, csTruncation/m)
		}
		if m < 1 {
			lm = math.Min(lm, csTruncation/(1-m))
		}
		cs.logKp[i] += math.Log1p(lp * (x - m))
		cs.logKm[i] += math.Log1p(-lm * (x - m))
		// (e^a+e^b)/2 <= e^max(a,b): skip the exact test while both are low.
		if math.Max(cs.logKp[i], cs.logKm[i]) >= cs.threshold &&
			logMeanExp(cs.logKp[i], cs.logKm[i]) >= cs.threshold {
			cs.excluded[i] = true
			continue
		}
		if lo < 0 {
			lo = i
		}
		hi = i
	}
	cs.t++
	cs.sum += x
	mu := (0.5 + cs.sum) / (t + 1)
	cs.sqDev += (x - mu) * (x - mu)
	if lo >= 0 {
		cs.lo, cs.hi = lo, hi
	}
	return nil
}

// logMeanExp returns log((e^a + e^b)/2) without overflow.
func logMeanExp(a, b float64) float64 {
	m := math.Max(a, b)
	return m + math.Log((math.Exp(a-m)+math.Exp(b-m))/2)
}

// N returns the number of observations so far.
func (cs *ConfidenceSequence) N() int { return cs.t }

// Mean returns the sample mean so far (0 before any observation).
func (cs *ConfidenceSequence) Mean() float64 {
	if cs.t == 0 {
		return 0
	}
	return cs.sum / float64(cs.t)
}

// Interval returns the current confidence interval, valid at any stopping
// time. Bounds are widened outward to the neighbouring grid point, so they
// are conservative by at most 0.001. Should every candidate mean ever be
// excluded (an event of probability at most alpha), the interval stays at
// the last non-empty one.
func (cs *ConfidenceSequence) Interval() Interval {
	return Interval{
		Low:    math.Max(0, float64(cs.lo-1)/csGrid),
		High:   math.Min(1, float64(cs.hi+1)/csGrid),
		Level:  1 - cs.alpha,
		Method: "betting-cs",
	}
}

// Decide turns the confidence sequence into an anytime-valid test of the
// gate p >= p0: Accept once the interval lies at or above p0, Reject once it
// lies entirely below p0, Continue otherwise. With probability at least
// 1-alpha it never returns the wrong answer, however often it is called.
func (cs *ConfidenceSequence) Decide(p0 float64) Decision {
	iv := cs.Interval()
	switch {
	case iv.Low >= p0:
		return Accept
	case iv.High < p0:
		return Reject
	}
	return Continue
}
