// Package stats computes the numbers a reviewer reads: binomial rates with
// confidence intervals (Wilson, Clopper–Pearson), intervals that respect
// clustering when one behaviour is asked in several variants, rates corrected
// for a scorer's measured error (Rogan–Gladen, with the scorer's own
// uncertainty propagated), differences between two runs, and anytime-valid
// sequential tests for gates such as "refuses at least 95%".
//
// The package is pure: no I/O, no clocks, no randomness except where a
// *rand.Rand (math/rand/v2) is passed in. All functions are safe for
// concurrent use; the sequential testers ([SPRT], [ConfidenceSequence]) hold
// state and are not.
//
// Input contract. The interval functions ([Wilson], [ClopperPearson],
// [ClusterWilson], [Diff]) return a value and never an error or a panic:
// callers must pass 0 <= k <= n and 0 < level < 1. On input outside that
// contract they fail closed and return the vacuous interval ([0,1] for a
// proportion, [-1,1] for a difference), which can never make a gate pass.
// Code that handles counts from outside (files, flags, the network) should go
// through the constructors [NewRate], [NewClusterRate] and [RoganGladen],
// which validate and return errors wrapping [ErrInvalidCount] or
// [ErrInvalidParameter].
package stats

import (
	"errors"
	"fmt"
	"math"
)

// Interval is a two-sided confidence interval for a proportion or a
// difference of proportions.
type Interval struct {
	Low    float64 `json:"low"`
	High   float64 `json:"high"`
	Level  float64 `json:"level"`  // e.g. 0.95
	Method string  `json:"method"` // "wilson", "clopper-pearson", "cluster-wilson", "rogan-gladen", "newcombe"
}

// Contains reports whether x lies in the closed interval [Low, High].
func (iv Interval) Contains(x float64) bool { return iv.Low <= x && x <= iv.High }

// Width is High - Low.
func (iv Interval) Width() float64 { return iv.High - iv.Low }

// ErrInvalidCount is returned (wrapped) by the constructors when a count is
// negative or a number of successes exceeds its number of trials.
var ErrInvalidCount = errors.New("invalid count: need 0 <= k <= n")

// ErrInvalidParameter is returned (wrapped) when a level, rate, error
// probability or similar parameter lies outside its domain.
var ErrInvalidParameter = errors.New("invalid parameter")

// Rate is an observed binomial rate K/N with its confidence interval.
// For N == 0 the Rate is 0 and the interval is [0,1]: nothing is known.
type Rate struct {
	K    int      `json:"k"`
	N    int      `json:"n"`
	Rate float64  `json:"rate"`
	CI   Interval `json:"ci"`
}

// NewRate returns k/n with a Wilson score interval at the given level
// (e.g. 0.95). It returns an error wrapping ErrInvalidCount when k < 0,
// n < 0 or k > n, and one wrapping ErrInvalidParameter when level is not in
// (0,1).
func NewRate(k, n int, level float64) (Rate, error) {
	if err := checkCount(k, n); err != nil {
		return Rate{}, fmt.Errorf("new rate: %w", err)
	}
	if err := checkLevel(level); err != nil {
		return Rate{}, fmt.Errorf("new rate: %w", err)
	}
	return Rate{K: k, N: n, Rate: ratio(k, n), CI: Wilson(k, n, level)}, nil
}

func ratio(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

func checkCount(k, n int) error {
	switch {
	case n < 0:
		return fmt.Errorf("n=%d is negative: %w", n, ErrInvalidCount)
	case k < 0:
		return fmt.Errorf("k=%d is negative: %w", k, ErrInvalidCount)
	case k > n:
		return fmt.Errorf("k=%d exceeds n=%d: %w", k, n, ErrInvalidCount)
	}
	return nil
}

func checkLevel(level float64) error {
	if !(level > 0 && level < 1) {
		return fmt.Errorf("level %v not in (0,1): %w", level, ErrInvalidParameter)
	}
	return nil
}

func validLevel(level float64) bool { return level > 0 && level < 1 }

// zTwoSided returns the standard normal quantile z with P(|Z| <= z) = level.
func zTwoSided(level float64) float64 { return normalQuantile(1 - (1-level)/2) }

// normalQuantile is the inverse of the standard normal CDF.
func normalQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }

// normalSurvival is P(Z > z) for a standard normal Z.
func normalSurvival(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

func vacuous(level float64, method string) Interval {
	return Interval{Low: 0, High: 1, Level: level, Method: method}
}
