package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Decision is the state of a sequential gate test of H: p >= p0.
type Decision int

const (
	// Continue: not enough evidence yet; observe more.
	Continue Decision = iota
	// Accept: the data support p >= p0; the gate passes.
	Accept
	// Reject: the data support p < p0; the gate fails.
	Reject
)

func (d Decision) String() string {
	switch d {
	case Continue:
		return "continue"
	case Accept:
		return "accept"
	case Reject:
		return "reject"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// SPRT is Wald's sequential probability ratio test for a Bernoulli rate
// p with an indifference region: it tests p = p0+δ (good: the gate should
// pass) against p = p0-δ (bad: the gate should fail), with
//
//	Alpha = P(Reject | p >= p0+δ)   wrongly failing a good model,
//	Beta  = P(Accept | p <= p0-δ)   wrongly passing a bad model.
//
// Rates inside (p0-δ, p0+δ) may be decided either way. The bounds are
// Wald's, A = (1-β)/α and B = β/(1-α) on the likelihood ratio
// L(bad)/L(good); they hold up to the overshoot of the last step (in
// practice the achieved error rates are at or below the nominal ones).
//
// Because an SPRT's length is unbounded near p0, the test is truncated at
// MaxN observations: if no boundary has been crossed by then it decides by
// the point estimate (Accept iff k/n >= p0) and Truncated reports true.
// A truncated decision does not carry the α/β guarantee and should be shown
// as such.
//
// The SPRT is valid when evaluated after every observation and stopped at
// the first boundary crossing; it is not a confidence sequence. Use
// [ConfidenceSequence] for an estimate that is valid at any stopping time.
//
// An SPRT is not safe for concurrent use.
type SPRT struct {
	// P0, Delta, Alpha and Beta record the construction parameters; the
	// boundaries are computed by NewSPRT, so changing them has no effect.
	P0, Delta   float64
	Alpha, Beta float64
	// MaxN is the truncation point. NewSPRT sets it to twice the fixed
	// sample size [FixedN] for the same error rates; change it before the
	// first observation. Zero means no truncation.
	MaxN int

	n, k       int
	llr        float64 // log L(bad)/L(good)
	logA, logB float64 // reject when llr >= logA, accept when llr <= logB
	stepS      float64 // llr increment for a success (negative)
	stepF      float64 // llr increment for a failure (positive)
	decision   Decision
	truncated  bool
	fixedN     int
}

// NewSPRT returns an SPRT for the gate p >= p0 with indifference half-width
// delta and error rates alpha, beta. It returns an error wrapping
// ErrInvalidParameter unless 0 < p0-delta < p0+delta < 1, delta > 0,
// alpha and beta are in (0,1) and alpha+beta < 1.
//
// Choosing delta: the savings over a fixed sample are largest for true
// rates well outside the indifference region and smallest inside it. For a
// 0.95 gate with α = β = 0.05, simulation (see BenchmarkGateSimulation)
// gave an average of at most 0.28 × FixedN for true rates 0.85–0.93 and
// 0.97–0.99 with delta = 0.01, but up to 0.57 × FixedN at 0.97 with
// delta = 0.02, because 0.97 is then the hypothesis itself. Pick delta at
// most half the distance from p0 at which a decision should be cheap.
func NewSPRT(p0, delta, alpha, beta float64) (*SPRT, error) {
	if err := checkGate(p0, delta, alpha, beta); err != nil {
		return nil, fmt.Errorf("new sprt: %w", err)
	}
	good, bad := p0+delta, p0-delta
	fixed, err := FixedN(p0, delta, alpha, beta)
	if err != nil {
		return nil, fmt.Errorf("new sprt: %w", err)
	}
	return &SPRT{
		P0: p0, Delta: delta, Alpha: alpha, Beta: beta,
		MaxN:   2 * fixed,
		fixedN: fixed,
		logA:   math.Log((1 - beta) / alpha),
		logB:   math.Log(beta / (1 - alpha)),
		stepS:  math.Log(bad / good),
		stepF:  math.Log((1 - bad) / (1 - good)),
	}, nil
}

func checkGate(p0, delta, alpha, beta float64) error {
	switch {
	case !(delta > 0):
		return fmt.Errorf("delta %v not positive: %w", delta, ErrInvalidParameter)
	case !(p0-delta > 0 && p0+delta < 1):
		return fmt.Errorf("p0±delta = %v±%v not inside (0,1): %w", p0, delta, ErrInvalidParameter)
	case !(alpha > 0 && alpha < 1):
		return fmt.Errorf("alpha %v not in (0,1): %w", alpha, ErrInvalidParameter)
	case !(beta > 0 && beta < 1):
		return fmt.Errorf("beta %v not in (0,1): %w", beta, ErrInvalidParameter)
	case !(alpha+beta < 1):
		return fmt.Errorf("alpha+beta = %v not below 1: %w", alpha+beta, ErrInvalidParameter)
	}
	return nil
}

// Observe records one Bernoulli outcome (success = the behaviour the gate
// counts, e.g. a refusal) and returns the current decision. Once the
// decision is Accept or Reject it is final: further observations are
// ignored and the same decision is returned.
func (s *SPRT) Observe(success bool) Decision {
	if s.decision != Continue {
		return s.decision
	}
	s.n++
	if success {
		s.k++
		s.llr += s.stepS
	} else {
		s.llr += s.stepF
	}
	switch {
	case s.llr >= s.logA:
		s.decision = Reject
	case s.llr <= s.logB:
		s.decision = Accept
	case s.MaxN > 0 && s.n >= s.MaxN:
		s.truncated = true
		if float64(s.k) >= s.P0*float64(s.n) {
			s.decision = Accept
		} else {
			s.decision = Reject
		}
	}
	return s.decision
}

// Decision returns the current decision.
func (s *SPRT) Decision() Decision { return s.decision }

// Truncated reports whether the decision was forced at MaxN by the point
// estimate rather than by a boundary crossing.
func (s *SPRT) Truncated() bool { return s.truncated }

// N returns the number of observations used.
func (s *SPRT) N() int { return s.n }

// K returns the number of successes observed.
func (s *SPRT) K() int { return s.k }

// LogLR returns the log likelihood ratio log L(p0-δ)/L(p0+δ) so far.
func (s *SPRT) LogLR() float64 { return s.llr }

// FixedN returns the smallest n for which a fixed-sample test "accept
// iff at least c successes out of n" has P(Reject | p = p0+δ) <= alpha and
// P(Accept | p = p0-δ) <= beta, searching exactly with binomial tails. It is
// the baseline an SPRT saves queries against. (Because of discreteness a
// few slightly larger n may fail where this n succeeds.) Errors wrap
// ErrInvalidParameter as in [NewSPRT].
func FixedN(p0, delta, alpha, beta float64) (int, error) {
	if err := checkGate(p0, delta, alpha, beta); err != nil {
		return 0, fmt.Errorf("fixed n: %w", err)
	}
	good, bad := p0+delta, p0-delta
	za, zb := normalQuantile(1-alpha), normalQuantile(1-beta)
	approx := (za*math.Sqrt(good*(1-good)) + zb*math.Sqrt(bad*(1-bad))) / (good - bad)
	approx *= approx
	start := 1
	if approx > 2000 {
		start = int(approx / 2)
	}
	const limit = 1 << 26
	for n := start; n < limit; n++ {
		// c: smallest threshold that passes a bad model with prob <= beta.
		lo, hi := 0, n+1 // P(X >= n+1 | bad) = 0 <= beta
		for lo < hi {
			mid := (lo + hi) / 2
			if binomUpperTail(mid, n, bad) <= beta {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		if 1-binomUpperTail(lo, n, good) <= alpha {
			return n, nil
		}
	}
	return 0, fmt.Errorf("fixed n: no n below %d meets alpha=%v beta=%v: %w", limit, alpha, beta, ErrInvalidParameter)
}

// GateSim summarises a Monte Carlo run of the SPRT gate at one true rate.
type GateSim struct {
	TrueP      float64 `json:"true_p"`
	Trials     int     `json:"trials"`
	MeanN      float64 `json:"mean_n"`      // average observations to a decision
	FixedN     int     `json:"fixed_n"`     // FixedN for the same p0, delta, alpha, beta
	Ratio      float64 `json:"ratio"`       // MeanN / FixedN
	AcceptRate float64 `json:"accept_rate"` // fraction of trials that accepted (passed the gate)
	// ErrRate is the fraction of wrong decisions: Reject when TrueP >= p0,
	// Accept when TrueP < p0. Only for TrueP outside (p0-δ, p0+δ) is it
	// bounded by alpha (TrueP >= p0+δ) or beta (TrueP <= p0-δ).
	ErrRate   float64 `json:"err_rate"`
	TruncRate float64 `json:"trunc_rate"` // fraction of trials decided at MaxN
}

// SimulateGate runs trials independent SPRTs (as returned by NewSPRT) on
// Bernoulli(trueP) data drawn from rng and reports the average sample size
// and error rate next to FixedN. Errors wrap ErrInvalidParameter for bad
// gate parameters, trueP outside [0,1], trials < 1 or a nil rng.
func SimulateGate(p0, delta, alpha, beta, trueP float64, trials int, rng *rand.Rand) (GateSim, error) {
	switch {
	case !(trueP >= 0 && trueP <= 1):
		return GateSim{}, fmt.Errorf("simulate gate: true p %v not in [0,1]: %w", trueP, ErrInvalidParameter)
	case trials < 1:
		return GateSim{}, fmt.Errorf("simulate gate: trials %d below 1: %w", trials, ErrInvalidParameter)
	case rng == nil:
		return GateSim{}, fmt.Errorf("simulate gate: nil rng: %w", ErrInvalidParameter)
	}
	proto, err := NewSPRT(p0, delta, alpha, beta)
	if err != nil {
		return GateSim{}, fmt.Errorf("simulate gate: %w", err)
	}
	fixed := proto.fixedN
	var totalN, accepts, wrong, truncs int
	for range trials {
		s := *proto
		for s.Observe(rng.Float64() < trueP) == Continue {
		}
		totalN += s.N()
		if s.Decision() == Accept {
			accepts++
		}
		if (s.Decision() == Accept) != (trueP >= p0) {
			wrong++
		}
		if s.Truncated() {
			truncs++
		}
	}
	t := float64(trials)
	g := GateSim{
		TrueP:      trueP,
		Trials:     trials,
		MeanN:      float64(totalN) / t,
		FixedN:     fixed,
		AcceptRate: float64(accepts) / t,
		ErrRate:    float64(wrong) / t,
		TruncRate:  float64(truncs) / t,
	}
	g.Ratio = g.MeanN / float64(fixed)
	return g, nil
}
