package stats

import (
	"errors"
	"fmt"
	"math"
)

// This file fits a Rasch model (the one-parameter logistic item-response
// model) to binomial counts, to place several models on one capability
// scale from their results on several benchmarks.
//
// The model. Person p (a model under test or a reference model) has an
// ability θ_p; item i (a benchmark, or a single benchmark item) has a
// difficulty β_i. Each of the N_pi trials of p on i succeeds independently
// with probability
//
//	P(success) = 1 / (1 + exp(-(θ_p - β_i)))
//
// and K_pi of them succeed. The scale is fixed by making the difficulties
// of the items sum to zero, so an ability of 0 is "even odds on an item of
// average difficulty", and a difference of 1 between two abilities
// multiplies the odds of success on every item by e.
//
// Assumptions (see docs/cohorts.md): one latent capability explains
// success on every item (unidimensionality); trials are independent given
// the ability (no clustering); every item discriminates equally (no
// per-item slope); no guessing floor.
//
// Estimation is joint maximum likelihood by alternating Newton steps on
// the abilities and the difficulties. Intervals are Wald intervals from
// the Fisher information of each parameter with the others held at their
// estimates: θ ± z/sqrt(Σ_i N_pi p_pi (1 − p_pi)). They are conditional
// on the item difficulties and so somewhat narrow when the items are few.

// ErrNotEstimable is returned (wrapped) when the data cannot place a
// person or item on the scale: a perfect or zero score (its estimate is
// infinite), too few persons or items, or a disconnected design.
var ErrNotEstimable = errors.New("not estimable")

// Count is K successes in N trials. N == 0 means "not observed".
type Count struct {
	K int `json:"k"`
	N int `json:"n"`
}

// Estimate is one fitted parameter on the logit scale with its standard
// error and Wald interval.
type Estimate struct {
	Value float64  `json:"value"`
	SE    float64  `json:"se"`
	CI    Interval `json:"ci"`
}

// RaschFit is the result of FitRasch.
type RaschFit struct {
	// Ability has one estimate per person (row of the counts).
	Ability []Estimate `json:"ability"`
	// Difficulty has one estimate per item (column); they sum to zero.
	Difficulty []Estimate `json:"difficulty"`
	// Iterations is the number of Newton rounds taken.
	Iterations int `json:"iterations"`
	// LogLik is the log-likelihood at the estimate (without the binomial
	// coefficients).
	LogLik float64 `json:"loglik"`
}

const (
	raschMaxIter = 500
	raschTol     = 1e-9
	raschMaxStep = 1.0 // largest Newton step in logits, for stability
	// maxRaschTrials bounds one cell's trials so that totals cannot overflow.
	maxRaschTrials = 1 << 31
)

// FitRasch fits the Rasch model to counts[p][i] (person p, item i) and
// returns abilities and difficulties with intervals at level. Every row
// must have the same length. It returns an error wrapping ErrInvalidCount
// for a bad count, ErrInvalidParameter for a bad level or ragged rows, and
// ErrNotEstimable, naming the person or item, when fewer than 2 persons or
// 2 items are observed, when a person or item has all successes or none
// (its maximum-likelihood estimate is infinite: drop it, or add items that
// separate it), or when the observed cells do not connect every person to
// every item.
func FitRasch(counts [][]Count, level float64) (*RaschFit, error) {
	if err := checkLevel(level); err != nil {
		return nil, fmt.Errorf("fit rasch: %w", err)
	}
	P := len(counts)
	if P < 2 {
		return nil, fmt.Errorf("fit rasch: %d persons: need at least 2 to compare: %w", P, ErrNotEstimable)
	}
	I := len(counts[0])
	if I < 2 {
		return nil, fmt.Errorf("fit rasch: %d items: need at least 2 to fix the scale: %w", I, ErrNotEstimable)
	}
	for p, row := range counts {
		if len(row) != I {
			return nil, fmt.Errorf("fit rasch: person %d has %d items, person 0 has %d: %w", p, len(row), I, ErrInvalidParameter)
		}
		for i, c := range row {
			if err := checkCount(c.K, c.N); err != nil {
				return nil, fmt.Errorf("fit rasch: person %d item %d: %w", p, i, err)
			}
			if c.N > maxRaschTrials {
				return nil, fmt.Errorf("fit rasch: person %d item %d: n=%d exceeds %d: %w", p, i, c.N, maxRaschTrials, ErrInvalidCount)
			}
		}
	}
	// Totals: a person or item with no observation, all successes or
	// none has no finite estimate.
	for p, row := range counts {
		k, n := 0, 0
		for _, c := range row {
			k, n = k+c.K, n+c.N
		}
		if err := extreme("person", p, k, n); err != nil {
			return nil, err
		}
	}
	for i := range I {
		k, n := 0, 0
		for p := range P {
			k, n = k+counts[p][i].K, n+counts[p][i].N
		}
		if err := extreme("item", i, k, n); err != nil {
			return nil, err
		}
	}
	if !connected(counts) {
		return nil, fmt.Errorf("fit rasch: the observed cells do not link every person to every item: %w", ErrNotEstimable)
	}

	theta := make([]float64, P)
	beta := make([]float64, I)
	// Start from the log-odds of the raw rates.
	for p, row := range counts {
		k, n := 0, 0
		for _, c := range row {
			k, n = k+c.K, n+c.N
		}
		theta[p] = logit(float64(k) / float64(n))
	}
	for i := range I {
		k, n := 0, 0
		for p := range P {
			k, n = k+counts[p][i].K, n+counts[p][i].N
		}
		beta[i] = -logit(float64(k) / float64(n))
	}
	center(beta, theta)

	iter := 0
	for ; iter < raschMaxIter; iter++ {
		change := 0.0
		for p, row := range counts {
			g, h := 0.0, 0.0
			for i, c := range row {
				if c.N == 0 {
					continue
				}
				pr := logistic(theta[p] - beta[i])
				g += float64(c.K) - float64(c.N)*pr
				h += float64(c.N) * pr * (1 - pr)
			}
			step := clampStep(g / h)
			theta[p] += step
			change = math.Max(change, math.Abs(step))
		}
		for i := range I {
			g, h := 0.0, 0.0
			for p := range P {
				c := counts[p][i]
				if c.N == 0 {
					continue
				}
				pr := logistic(theta[p] - beta[i])
				g += float64(c.N)*pr - float64(c.K)
				h += float64(c.N) * pr * (1 - pr)
			}
			step := clampStep(g / h)
			beta[i] += step
			change = math.Max(change, math.Abs(step))
		}
		center(beta, theta)
		if change < raschTol {
			break
		}
	}
	if iter == raschMaxIter {
		return nil, fmt.Errorf("fit rasch: no convergence in %d iterations: %w", raschMaxIter, ErrNotEstimable)
	}

	z := zTwoSided(level)
	fit := &RaschFit{Iterations: iter + 1, Ability: make([]Estimate, P), Difficulty: make([]Estimate, I)}
	infoI := make([]float64, I)
	for p, row := range counts {
		info := 0.0
		for i, c := range row {
			if c.N == 0 {
				continue
			}
			pr := logistic(theta[p] - beta[i])
			v := float64(c.N) * pr * (1 - pr)
			info += v
			infoI[i] += v
			fit.LogLik += float64(c.K)*math.Log(pr) + float64(c.N-c.K)*math.Log1p(-pr)
		}
		fit.Ability[p] = wald(theta[p], info, z, level)
	}
	for i := range I {
		fit.Difficulty[i] = wald(beta[i], infoI[i], z, level)
	}
	for _, e := range append(append([]Estimate(nil), fit.Ability...), fit.Difficulty...) {
		if math.IsNaN(e.Value) || math.IsInf(e.Value, 0) || math.IsNaN(e.SE) || math.IsInf(e.SE, 0) {
			return nil, fmt.Errorf("fit rasch: an estimate is not finite: %w", ErrNotEstimable)
		}
	}
	return fit, nil
}

func extreme(what string, idx, k, n int) error {
	switch {
	case n == 0:
		return fmt.Errorf("fit rasch: %s %d has no observations: %w", what, idx, ErrNotEstimable)
	case k == 0:
		return fmt.Errorf("fit rasch: %s %d has no successes in %d trials (estimate is -∞ for a person, +∞ for an item): %w", what, idx, n, ErrNotEstimable)
	case k == n:
		return fmt.Errorf("fit rasch: %s %d has all %d trials successful (estimate is +∞ for a person, -∞ for an item): %w", what, idx, n, ErrNotEstimable)
	}
	return nil
}

// connected reports whether the bipartite graph of persons and items,
// with an edge for each observed cell, is connected.
func connected(counts [][]Count) bool {
	P, I := len(counts), len(counts[0])
	seenP, seenI := make([]bool, P), make([]bool, I)
	stack := []int{0} // persons as p, items as P+i
	seenP[0] = true
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if v < P {
			for i, c := range counts[v] {
				if c.N > 0 && !seenI[i] {
					seenI[i] = true
					stack = append(stack, P+i)
				}
			}
			continue
		}
		i := v - P
		for p := range P {
			if counts[p][i].N > 0 && !seenP[p] {
				seenP[p] = true
				stack = append(stack, p)
			}
		}
	}
	for _, s := range seenP {
		if !s {
			return false
		}
	}
	for _, s := range seenI {
		if !s {
			return false
		}
	}
	return true
}

// center shifts the difficulties to sum to zero and the abilities with
// them, which leaves every θ − β unchanged.
func center(beta, theta []float64) {
	m := 0.0
	for _, b := range beta {
		m += b
	}
	m /= float64(len(beta))
	for i := range beta {
		beta[i] -= m
	}
	for p := range theta {
		theta[p] -= m
	}
}

func wald(v, info, z, level float64) Estimate {
	se := math.Inf(1)
	if info > 0 {
		se = 1 / math.Sqrt(info)
	}
	return Estimate{Value: v, SE: se, CI: Interval{Low: v - z*se, High: v + z*se, Level: level, Method: "wald-fisher"}}
}

func clampStep(s float64) float64 {
	if math.IsNaN(s) {
		return 0
	}
	return math.Max(-raschMaxStep, math.Min(raschMaxStep, s))
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func logit(p float64) float64 { return math.Log(p / (1 - p)) }
