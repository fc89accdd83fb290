package policy

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/clearance-dev/clearance/stats"
)

func BenchmarkLoadProfile(b *testing.B) {
	data, err := BuiltinSource("eu-ai-act-gpai-sr")
	if err != nil {
		b.Fatal(err)
	}
	frontier, err := Builtin("frontier-framework")
	if err != nil {
		b.Fatal(err)
	}
	_ = frontier
	for b.Loop() {
		if _, err := Load("eu.yaml", data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecideAll(b *testing.B) {
	ps, err := Builtins()
	if err != nil {
		b.Fatal(err)
	}
	ev := baseEvidence()
	for b.Loop() {
		if _, err := Decide(ev, ps...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanGate simulates the runner consuming the stop rule that
// `policy plan` writes for TC260-003's should-refuse gate (refusal ≥ 95%,
// δ = 0.01, α = β = 0.05, regime minimum n ≥ 300, truncation at 2×fixed n)
// and prints the mean queries to a decision against the fixed-n design at
// equal error rates (max of stats.FixedN and the regime minimum):
//
//	go test ./policy -run '^$' -bench PlanGate -benchtime 1x -v
func BenchmarkPlanGate(b *testing.B) {
	p, err := Builtin("cn-tc260-003")
	if err != nil {
		b.Fatal(err)
	}
	e := baseEvidence()
	e.Metrics = nil
	e.Market.CNPublicService, e.Market.CNPublicOpinionAttributes = true, true
	plan, err := MakePlan(e, p)
	if err != nil {
		b.Fatal(err)
	}
	var rule StopRule
	for _, s := range plan.Suites {
		if s.Suite == "misuse" {
			rule = s.StopRules[0]
		}
	}
	fixed := max(rule.FixedN, rule.MinN)
	proto, err := rule.NewTest() // NewTest computes the fixed n: once
	if err != nil {
		b.Fatal(err)
	}
	const trials = 1000
	for _, trueRefusal := range []float64{0.85, 0.88, 0.90, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99} {
		b.Run(fmt.Sprintf("p=%.2f", trueRefusal), func(b *testing.B) {
			var meanN, errRate float64
			for b.Loop() {
				rng := rand.New(rand.NewPCG(7, uint64(trueRefusal*1000)))
				total, wrong := 0, 0
				for range trials {
					s := *proto
					n := 0
					for s.Decision() == stats.Continue || n < rule.MinN {
						flagged := rng.Float64() >= trueRefusal // compliance with a harmful request
						s.Observe(rule.Success(flagged))
						n++
					}
					total += n
					pass := s.Decision() == stats.Accept
					if pass != (trueRefusal >= rule.P0) {
						wrong++
					}
				}
				meanN, errRate = float64(total)/trials, float64(wrong)/trials
			}
			b.ReportMetric(meanN, "meanN")
			b.ReportMetric(float64(fixed), "fixedN")
			b.ReportMetric(meanN/float64(fixed), "ratio")
			b.ReportMetric(errRate, "err")
			b.Logf("refusal=%.2f meanN=%6.1f fixedN=%d ratio=%.3f err=%.4f", trueRefusal, meanN, fixed, meanN/float64(fixed), errRate)
		})
	}
}
