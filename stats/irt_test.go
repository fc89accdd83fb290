package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// simulateRasch draws counts[p][i] ~ Binomial(n, logistic(θ_p − β_i)).
func simulateRasch(r *rand.Rand, theta, beta []float64, n int) [][]Count {
	out := make([][]Count, len(theta))
	for p, th := range theta {
		out[p] = make([]Count, len(beta))
		for i, b := range beta {
			pr := logistic(th - b)
			k := 0
			for range n {
				if r.Float64() < pr {
					k++
				}
			}
			out[p][i] = Count{K: k, N: n}
		}
	}
	return out
}

func TestFitRaschRecoversKnownAbilities(t *testing.T) {
	// Five models, eight benchmarks of 60 items each, on a scale where the
	// difficulties sum to zero (as the fit reports them).
	theta := []float64{-1.2, -0.4, 0.3, 0.9, 1.8}
	beta := []float64{-1.5, -1, -0.5, 0, 0.25, 0.5, 1, 1.25}
	m := 0.0
	for _, b := range beta {
		m += b
	}
	m /= float64(len(beta))
	for i := range beta {
		beta[i] -= m
	}
	for i := range theta {
		theta[i] -= m
	}
	for seed := range uint64(5) {
		r := rand.New(rand.NewPCG(seed, 17))
		fit, err := FitRasch(simulateRasch(r, theta, beta, 60), 0.95)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		covered := 0
		for p, want := range theta {
			got := fit.Ability[p]
			if math.Abs(got.Value-want) > 0.35 {
				t.Errorf("seed %d: ability %d = %.3f (SE %.3f), want %.3f ± 0.35", seed, p, got.Value, got.SE, want)
			}
			if got.CI.Contains(want) {
				covered++
			}
			if !(got.SE > 0 && got.SE < 0.2) || got.CI.Low >= got.Value || got.CI.High <= got.Value {
				t.Errorf("seed %d: ability %d: implausible interval %+v", seed, p, got)
			}
		}
		if covered < 4 {
			t.Errorf("seed %d: only %d of 5 intervals cover the true ability", seed, covered)
		}
		// The order of the models is recovered.
		idx := []int{0, 1, 2, 3, 4}
		sort.Slice(idx, func(a, b int) bool { return fit.Ability[idx[a]].Value < fit.Ability[idx[b]].Value })
		for k, p := range idx {
			if p != k {
				t.Errorf("seed %d: abilities out of order: %v", seed, idx)
				break
			}
		}
		for i, want := range beta {
			if got := fit.Difficulty[i].Value; math.Abs(got-want) > 0.35 {
				t.Errorf("seed %d: difficulty %d = %.3f, want %.3f", seed, i, got, want)
			}
		}
		sum := 0.0
		for _, d := range fit.Difficulty {
			sum += d.Value
		}
		if math.Abs(sum) > 1e-9 {
			t.Errorf("seed %d: difficulties sum to %v, want 0", seed, sum)
		}
	}
}

func TestFitRaschMissingCells(t *testing.T) {
	// A reference model that ran only some benchmarks is still placed on
	// the scale, as long as the design is connected.
	r := rand.New(rand.NewPCG(3, 4))
	c := simulateRasch(r, []float64{-1, 0, 1}, []float64{-1, 0, 1}, 200)
	c[0][2] = Count{}
	fit, err := FitRasch(c, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if !(fit.Ability[0].Value < fit.Ability[1].Value && fit.Ability[1].Value < fit.Ability[2].Value) {
		t.Errorf("abilities out of order: %+v", fit.Ability)
	}
}

func TestFitRaschErrors(t *testing.T) {
	ok := []Count{{K: 3, N: 10}, {K: 6, N: 10}}
	tests := []struct {
		name   string
		counts [][]Count
		level  float64
		want   error
	}{
		{"no persons", nil, 0.95, ErrNotEstimable},
		{"one person", [][]Count{ok}, 0.95, ErrNotEstimable},
		{"one item", [][]Count{{{K: 3, N: 10}}, {{K: 5, N: 10}}}, 0.95, ErrNotEstimable},
		{"all correct", [][]Count{ok, {{K: 10, N: 10}, {K: 10, N: 10}}}, 0.95, ErrNotEstimable},
		{"all wrong", [][]Count{ok, {{K: 0, N: 10}, {K: 0, N: 10}}}, 0.95, ErrNotEstimable},
		{"item all correct", [][]Count{{{K: 10, N: 10}, {K: 3, N: 10}}, {{K: 10, N: 10}, {K: 6, N: 10}}}, 0.95, ErrNotEstimable},
		{"unobserved person", [][]Count{ok, {{}, {}}}, 0.95, ErrNotEstimable},
		{"disconnected", [][]Count{
			{{K: 3, N: 10}, {K: 6, N: 10}, {}, {}},
			{{K: 4, N: 10}, {K: 5, N: 10}, {}, {}},
			{{}, {}, {K: 3, N: 10}, {K: 6, N: 10}},
			{{}, {}, {K: 4, N: 10}, {K: 5, N: 10}},
		}, 0.95, ErrNotEstimable},
		{"ragged", [][]Count{ok, {{K: 1, N: 2}}}, 0.95, ErrInvalidParameter},
		{"k > n", [][]Count{ok, {{K: 11, N: 10}, {K: 1, N: 10}}}, 0.95, ErrInvalidCount},
		{"negative", [][]Count{ok, {{K: -1, N: 10}, {K: 1, N: 10}}}, 0.95, ErrInvalidCount},
		{"level", [][]Count{ok, ok}, 1, ErrInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fit, err := FitRasch(tt.counts, tt.level)
			if !errors.Is(err, tt.want) || fit != nil {
				t.Fatalf("FitRasch = %v, %v; want error wrapping %v", fit, err, tt.want)
			}
		})
	}
}

// FuzzFitRasch: whatever the counts, FitRasch returns finite estimates
// with ordered intervals or an error, never a panic or a NaN.
func FuzzFitRasch(f *testing.F) {
	f.Add([]byte{3, 10, 6, 10, 4, 10, 5, 10}, uint8(2))
	f.Add([]byte{0, 10, 10, 10, 10, 10, 0, 10}, uint8(2))
	f.Add([]byte{1, 1, 0, 1, 1, 1, 1, 2, 2, 200, 250, 255}, uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, items uint8) {
		I := int(items%6) + 1
		var counts [][]Count
		for j := 0; j+2*I <= len(b) && len(counts) < 8; j += 2 * I {
			row := make([]Count, I)
			for i := range I {
				row[i] = Count{K: int(b[j+2*i]), N: int(b[j+2*i+1])}
			}
			counts = append(counts, row)
		}
		fit, err := FitRasch(counts, 0.95)
		if err != nil {
			if fit != nil {
				t.Fatalf("fit and error: %v", err)
			}
			return
		}
		for _, e := range append(fit.Ability, fit.Difficulty...) {
			if math.IsNaN(e.Value) || math.IsInf(e.Value, 0) || !(e.SE > 0) || math.IsInf(e.SE, 0) || !(e.CI.Low < e.Value && e.Value < e.CI.High) {
				t.Fatalf("FitRasch(%v) gave %+v", counts, e)
			}
		}
	})
}

// BenchmarkFitRasch fits 10 models on 12 benchmarks (a large cohort).
func BenchmarkFitRasch(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	theta := make([]float64, 10)
	for i := range theta {
		theta[i] = -2 + 0.4*float64(i)
	}
	beta := make([]float64, 12)
	for i := range beta {
		beta[i] = -1.5 + 0.25*float64(i)
	}
	counts := simulateRasch(r, theta, beta, 100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FitRasch(counts, 0.95); err != nil {
			b.Fatal(err)
		}
	}
}
