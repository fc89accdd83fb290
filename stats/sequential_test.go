package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

func TestSPRTBoundaries(t *testing.T) {
	// p0 = 0.95, δ = 0.02, α = β = 0.05: hypotheses 0.97 vs 0.93.
	// Accept bound log(0.05/0.95) = -2.9444; a success adds log(0.93/0.97)
	// = -0.042111, so 70 straight successes accept (69 give -2.9057).
	// Reject bound 2.9444; a failure adds log(0.07/0.03) = 0.8473, so 4
	// straight failures reject (3 give 2.5419).
	tests := []struct {
		name     string
		outcomes func(i int) bool
		wantN    int
		want     Decision
	}{
		{"all successes", func(int) bool { return true }, 70, Accept},
		{"all failures", func(int) bool { return false }, 4, Reject},
		// After one failure, 0.8473+2.9444 = 3.7917 must be paid back at
		// 0.042111 per success: 91 successes, 92 observations.
		{"one early failure", func(i int) bool { return i != 0 }, 92, Accept},
	}
	for _, tt := range tests {
		s, err := NewSPRT(0.95, 0.02, 0.05, 0.05)
		if err != nil {
			t.Fatal(err)
		}
		var d Decision
		for i := 0; d == Continue && i < 10000; i++ {
			d = s.Observe(tt.outcomes(i))
		}
		if d != tt.want || s.N() != tt.wantN || s.Truncated() {
			t.Errorf("%s: decision %v after %d (truncated %v), want %v after %d", tt.name, d, s.N(), s.Truncated(), tt.want, tt.wantN)
		}
		// The decision is final.
		if again := s.Observe(!tt.outcomes(0)); again != d || s.N() != tt.wantN {
			t.Errorf("%s: Observe after decision = %v at n=%d, want %v unchanged", tt.name, again, s.N(), d)
		}
	}
}

func TestSPRTTruncation(t *testing.T) {
	s, err := NewSPRT(0.95, 0.02, 0.05, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxN != 2*309 {
		t.Errorf("default MaxN = %d, want 2·FixedN = 618", s.MaxN)
	}
	s.MaxN = 40
	// Alternate 19 successes and 1 failure: rate exactly 0.95, which sits
	// between the hypotheses, so the LLR drifts slowly and never crosses.
	var d Decision
	for i := 0; d == Continue; i++ {
		d = s.Observe(i%20 != 19)
	}
	if d != Accept || !s.Truncated() || s.N() != 40 || s.K() != 38 {
		t.Errorf("truncated SPRT = %v truncated=%v n=%d k=%d, want accept truncated n=40 k=38", d, s.Truncated(), s.N(), s.K())
	}
}

func TestNewSPRTErrors(t *testing.T) {
	for _, in := range [][4]float64{
		{0.95, 0, 0.05, 0.05},
		{0.95, 0.06, 0.05, 0.05},
		{0.02, 0.03, 0.05, 0.05},
		{0.95, 0.01, 0, 0.05},
		{0.95, 0.01, 0.05, 1},
		{0.95, 0.01, 0.6, 0.5},
		{math.NaN(), 0.01, 0.05, 0.05},
	} {
		if _, err := NewSPRT(in[0], in[1], in[2], in[3]); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("NewSPRT%v error = %v, want ErrInvalidParameter", in, err)
		}
		if _, err := FixedN(in[0], in[1], in[2], in[3]); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("FixedN%v error = %v, want ErrInvalidParameter", in, err)
		}
	}
}

// fixedTestOK reports whether some threshold c makes the n-sample test
// "accept iff X >= c" meet both error rates, using tails summed directly.
func fixedTestOK(n int, good, bad, alpha, beta float64) bool {
	tg, tb := binomTails(n, good), binomTails(n, bad)
	for c := 0; c <= n+1; c++ {
		if tb[c] <= beta && 1-tg[c] <= alpha {
			return true
		}
	}
	return false
}

// binomTails returns P(X >= c) for c = 0..n+1, X ~ Bin(n, p), summed from
// the top in log space.
func binomTails(n int, p float64) []float64 {
	t := make([]float64, n+2)
	for j := n; j >= 0; j-- {
		lc := lgamma(float64(n+1)) - lgamma(float64(j+1)) - lgamma(float64(n-j+1))
		t[j] = t[j+1] + math.Exp(lc+float64(j)*math.Log(p)+float64(n-j)*math.Log1p(-p))
	}
	return t
}

func TestFixedN(t *testing.T) {
	tests := []struct {
		p0, delta, alpha, beta float64
		want                   int
	}{
		{0.95, 0.02, 0.05, 0.05, 309},
		{0.95, 0.01, 0.05, 0.05, 1288},
		{0.5, 0.1, 0.05, 0.2, 0}, // checked by definition below
	}
	for _, tt := range tests {
		got, err := FixedN(tt.p0, tt.delta, tt.alpha, tt.beta)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want != 0 && got != tt.want {
			t.Errorf("FixedN(%v, %v, %v, %v) = %d, want %d", tt.p0, tt.delta, tt.alpha, tt.beta, got, tt.want)
		}
		good, bad := tt.p0+tt.delta, tt.p0-tt.delta
		if !fixedTestOK(got, good, bad, tt.alpha, tt.beta) || fixedTestOK(got-1, good, bad, tt.alpha, tt.beta) {
			t.Errorf("FixedN(%v, %v, %v, %v) = %d is not the smallest n meeting both error rates", tt.p0, tt.delta, tt.alpha, tt.beta, got)
		}
	}
}

// The gate goal: far from the gate (here 0.85 and 0.99 around 0.95) the
// SPRT needs at most half the fixed sample size, and at the edges of the
// indifference region (0.94, 0.96) its error rates stay within α and β up
// to Monte Carlo error (3 standard errors).
func TestSimulateGate(t *testing.T) {
	const p0, delta, alpha, beta = 0.95, 0.01, 0.05, 0.05
	tests := []struct {
		trueP    float64
		trials   int
		maxRatio float64
		maxErr   float64
	}{
		{0.85, 500, 0.5, alpha},
		{0.99, 500, 0.5, beta},
		{0.94, 1000, 1, beta + 3*math.Sqrt(beta*(1-beta)/1000)},
		{0.96, 1000, 1, alpha + 3*math.Sqrt(alpha*(1-alpha)/1000)},
	}
	for _, tt := range tests {
		g, err := SimulateGate(p0, delta, alpha, beta, tt.trueP, tt.trials, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if g.Ratio > tt.maxRatio || g.ErrRate > tt.maxErr || g.FixedN != 1288 || g.Trials != tt.trials {
			t.Errorf("SimulateGate(p=%v) = %+v, want ratio <= %v, error rate <= %.3f", tt.trueP, g, tt.maxRatio, tt.maxErr)
		}
	}
	if _, err := SimulateGate(p0, delta, alpha, beta, 0.9, 0, rand.New(rand.NewPCG(1, 2))); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("SimulateGate(trials=0) error = %v, want ErrInvalidParameter", err)
	}
	if _, err := SimulateGate(p0, delta, alpha, beta, 0.9, 10, nil); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("SimulateGate(nil rng) error = %v, want ErrInvalidParameter", err)
	}
}

var gateRates = []float64{0.85, 0.87, 0.89, 0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99}

// TestSimulateGateFull checks the goal over the whole range with many
// trials. Set CLEARANCE_SLOW=1 to run it (about 10 s).
func TestSimulateGateFull(t *testing.T) {
	if os.Getenv("CLEARANCE_SLOW") != "1" {
		t.Skip("set CLEARANCE_SLOW=1")
	}
	const p0, alpha, beta, trials = 0.95, 0.05, 0.05, 20000
	for _, delta := range []float64{0.01, 0.02} {
		for _, p := range gateRates {
			g, err := SimulateGate(p0, delta, alpha, beta, p, trials, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("delta=%.2f p=%.2f meanN=%7.1f fixedN=%d ratio=%.3f accept=%.4f err=%.4f trunc=%.4f",
				delta, p, g.MeanN, g.FixedN, g.Ratio, g.AcceptRate, g.ErrRate, g.TruncRate)
			slack := 3 * math.Sqrt(alpha*(1-alpha)/trials)
			if (p >= p0+delta-1e-9 && g.ErrRate > alpha+slack) || (p <= p0-delta+1e-9 && g.ErrRate > beta+slack) {
				t.Errorf("delta=%v p=%v: error rate %.4f above bound", delta, p, g.ErrRate)
			}
			if delta == 0.01 && math.Abs(p-p0) >= 0.02-1e-9 && g.Ratio > 0.5 {
				t.Errorf("delta=%v p=%v: mean N / fixed N = %.3f, want <= 0.5", delta, p, g.Ratio)
			}
		}
	}
}

// BenchmarkGateSimulation prints the SPRT-versus-fixed-n table for the
// 0.95 refusal gate (δ = 0.01, α = β = 0.05):
//
//	go test ./stats -run '^$' -bench GateSimulation -benchtime 1x -v
func BenchmarkGateSimulation(b *testing.B) {
	const p0, delta, alpha, beta, trials = 0.95, 0.01, 0.05, 0.05, 2000
	for _, p := range gateRates {
		b.Run(fmt.Sprintf("p=%.2f", p), func(b *testing.B) {
			var g GateSim
			for b.Loop() {
				var err error
				g, err = SimulateGate(p0, delta, alpha, beta, p, trials, rand.New(rand.NewPCG(1, 2)))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(g.MeanN, "meanN")
			b.ReportMetric(float64(g.FixedN), "fixedN")
			b.ReportMetric(g.Ratio, "ratio")
			b.ReportMetric(g.ErrRate, "err")
			b.Logf("p=%.2f meanN=%7.1f fixedN=%d ratio=%.3f err=%.4f trunc=%.4f", p, g.MeanN, g.FixedN, g.Ratio, g.ErrRate, g.TruncRate)
		})
	}
}

func TestConfidenceSequenceCoverage(t *testing.T) {
	// Time-uniform coverage: the truth must stay inside at every one of the
	// 300 steps. Betting CSs are conservative in practice, so the observed
	// miscoverage is far below alpha; the check allows alpha plus MC slack.
	const runs, steps, alpha = 40, 300, 0.1
	rng := rand.New(rand.NewPCG(9, 9))
	for _, p := range []float64{0.5, 0.93} {
		misses := 0
		for range runs {
			cs, err := NewConfidenceSequence(alpha)
			if err != nil {
				t.Fatal(err)
			}
			for range steps {
				if err := cs.Observe(float64(b2i(rng.Float64() < p))); err != nil {
					t.Fatal(err)
				}
				if !cs.Interval().Contains(p) {
					misses++
					break
				}
			}
		}
		if got := float64(misses) / runs; got > alpha+3*math.Sqrt(alpha*(1-alpha)/runs) {
			t.Errorf("p=%v: time-uniform miscoverage %.3f, want <= %v", p, got, alpha)
		}
	}
}

func TestConfidenceSequence(t *testing.T) {
	cs, err := NewConfidenceSequence(0.05)
	if err != nil {
		t.Fatal(err)
	}
	if iv := cs.Interval(); iv.Low != 0 || iv.High != 1 || iv.Level != 0.95 || iv.Method != "betting-cs" {
		t.Errorf("initial Interval() = %+v, want [0,1] at 0.95", iv)
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN(), math.Inf(1)} {
		if err := cs.Observe(bad); !errors.Is(err, ErrInvalidParameter) || cs.N() != 0 {
			t.Errorf("Observe(%v) error = %v n=%d, want ErrInvalidParameter and nothing recorded", bad, err, cs.N())
		}
	}
	// All successes: the gate at 0.95 must eventually be accepted, never
	// rejected, and the interval must shrink monotonically.
	prev := cs.Interval()
	var acceptAt int
	for i := 1; i <= 400; i++ {
		if err := cs.Observe(1); err != nil {
			t.Fatal(err)
		}
		iv := cs.Interval()
		if iv.Low < prev.Low || iv.High > prev.High {
			t.Fatalf("step %d: interval %+v grew from %+v", i, iv, prev)
		}
		prev = iv
		if d := cs.Decide(0.95); d == Reject {
			t.Fatalf("step %d: Decide(0.95) = reject on all successes", i)
		} else if d == Accept && acceptAt == 0 {
			acceptAt = i
		}
	}
	if acceptAt == 0 || acceptAt > 300 || cs.Mean() != 1 {
		t.Errorf("all successes: accepted at %d, mean %v; want acceptance within 300", acceptAt, cs.Mean())
	}
	// All failures after that: the interval must move down and reject.
	for range 2000 {
		if err := cs.Observe(0); err != nil {
			t.Fatal(err)
		}
	}
	if cs.Decide(0.95) == Continue {
		t.Errorf("400 successes then 2000 failures: Decide(0.95) = continue, interval %+v", cs.Interval())
	}
	if _, err := NewConfidenceSequence(1); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("NewConfidenceSequence(1) error = %v, want ErrInvalidParameter", err)
	}
}
