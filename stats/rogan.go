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
}

// RoganGladen corrects k positives in n scorer verdicts for the scorer's
// sensitivity sens (measured on sensN labelled positives) and specificity
// spec (measured on specN labelled negatives):
//
//	p = (k/n + spec - 1) / (sens + spec - 1), clamped to [0,1].
//
// The interval propagates three independent sources of sampling error: the
// observed rate, the sensitivity and the specificity. It is a delta-method
// interval whose component variances are recovered from each component's
// Wilson interval (the MOVER approach of Zou & Donner, also behind
// Newcombe's difference interval): with gradient g = (1/J, -p/J, (1-p)/J)
// for (k/n, sens, spec) and J = sens + spec - 1,
//
//	Low  = Raw - sqrt(Σ (g_i · distance from estimate i to its bound that lowers p)²)
//	High = Raw + sqrt(Σ (g_i · distance from estimate i to its bound that raises p)²)
//
// clamped to [0,1]. Using Wilson bounds instead of plain binomial variances
// keeps the interval honest when a component sits at 0 or 1 (a scorer that
// was right on all 50 labelled positives is not known to be perfect).
// Sensitivity and specificity may be fractional estimates; they are treated
// as sens·sensN successes out of sensN. The gradient is taken at the
// clamped rate so that its signs stay meaningful.
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
	c.Rate = clamp01(c.Raw)
	c.Clamped = c.Raw != c.Rate

	z := zTwoSided(level)
	qLo, qHi := c.Observed.CI.Low, c.Observed.CI.High
	seLo, seHi := wilson(sens*float64(sensN), float64(sensN), z)
	spLo, spHi := wilson(spec*float64(specN), float64(specN), z)
	gq, gse, gsp := 1/j, -c.Rate/j, (1-c.Rate)/j // gq > 0, gse <= 0, gsp >= 0

	down := math.Hypot(math.Hypot(gq*(q-qLo), gse*(seHi-sens)), gsp*(spec-spLo))
	up := math.Hypot(math.Hypot(gq*(qHi-q), gse*(sens-seLo)), gsp*(spHi-spec))
	c.CI = Interval{Low: clamp01(c.Raw - down), High: clamp01(c.Raw + up), Level: level, Method: method}
	return c, nil
}
