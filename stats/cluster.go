package stats

import (
	"fmt"
	"math"
)

// Cluster is the outcome of one behaviour asked in N variants (for example
// N jailbreak transforms of one harmful request), K of which succeeded.
type Cluster struct {
	K int `json:"k"`
	N int `json:"n"`
}

// ClusterWilson returns a Wilson interval for the pooled rate ΣK/ΣN that
// accounts for the correlation between variants of one behaviour.
//
// Method: the pooled rate is a ratio estimator under one-stage cluster
// sampling. Its variance is estimated with the usual linearisation
//
//	v = m/(m-1) · Σ (K_i - p·N_i)² / (ΣN)²     (m clusters with N_i > 0)
//
// and compared with the binomial variance p(1-p)/ΣN; their ratio is the
// design effect deff. The Wilson interval is then computed with effective
// sample size n_eff = ΣN/deff and k_eff = p·n_eff.
//
// Two deliberate conservative choices: deff is floored at 1, so the
// interval is never narrower than plain [Wilson] on the pooled counts (a
// negative intra-cluster correlation estimate is almost always noise), and
// n_eff is floored at m, the number of behaviours (perfect correlation makes
// each behaviour one observation). When p is 0 or 1 the data carry no
// information about the correlation and deff is taken as 1. With a single
// cluster n_eff is 1: one behaviour says little about behaviours in general.
//
// Limitation: the design effect is estimated from the data. When successes
// are rare and concentrated in a few behaviours, samples that happen to miss
// those behaviours show no clustering, and coverage falls below nominal. In
// simulation (40 behaviours × 10 variants, 95% level) coverage was 0.95 at
// p = 0.3 for intra-cluster correlation 0.05–0.6, but 0.87 at p = 0.1 with
// correlation 0.3 and 0.72 at p = 0.03 with correlation 0.6; plain Wilson on
// the pooled counts covered 0.70 and 0.51 in those two cases.
//
// Clusters with N == 0 are ignored. Callers must pass 0 <= K <= N for every
// cluster and 0 < level < 1; otherwise, and when ΣN == 0, the result is the
// vacuous interval [0,1].
func ClusterWilson(clusters []Cluster, level float64) Interval {
	iv, _ := clusterWilson(clusters, level)
	return iv
}

// clusterWilson also returns the design effect, for tests and NewClusterRate.
func clusterWilson(clusters []Cluster, level float64) (Interval, float64) {
	const method = "cluster-wilson"
	if !validLevel(level) {
		return vacuous(level, method), math.NaN()
	}
	var k, n, m int
	for _, c := range clusters {
		if checkCount(c.K, c.N) != nil {
			return vacuous(level, method), math.NaN()
		}
		if c.N == 0 {
			continue
		}
		k += c.K
		n += c.N
		m++
	}
	if n == 0 {
		return vacuous(level, method), math.NaN()
	}
	p := float64(k) / float64(n)
	deff := 1.0
	switch {
	case k == 0 || k == n:
		// no variance to compare: keep deff = 1
	case m == 1:
		deff = float64(n)
	default:
		var ss float64
		for _, c := range clusters {
			if c.N == 0 {
				continue
			}
			r := float64(c.K) - p*float64(c.N)
			ss += r * r
		}
		nf := float64(n)
		vCluster := float64(m) / float64(m-1) * ss / (nf * nf)
		vBinom := p * (1 - p) / nf
		deff = math.Max(1, vCluster/vBinom)
	}
	nEff := math.Max(float64(n)/deff, float64(m))
	nEff = math.Min(nEff, float64(n))
	deff = float64(n) / nEff
	lo, hi := wilson(p*nEff, nEff, zTwoSided(level))
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return Interval{Low: lo, High: hi, Level: level, Method: method}, deff
}

// ClusterRate is a pooled rate over clustered observations with its
// design-effect-adjusted interval.
type ClusterRate struct {
	Rate
	Clusters     int     `json:"clusters"` // clusters with N > 0
	DesignEffect float64 `json:"design_effect"`
	EffectiveN   float64 `json:"effective_n"`
}

// NewClusterRate validates the clusters and level and returns the pooled
// rate with [ClusterWilson]'s interval. Errors wrap ErrInvalidCount (naming
// the offending cluster's index) or ErrInvalidParameter.
func NewClusterRate(clusters []Cluster, level float64) (ClusterRate, error) {
	if err := checkLevel(level); err != nil {
		return ClusterRate{}, fmt.Errorf("new cluster rate: %w", err)
	}
	var out ClusterRate
	for i, c := range clusters {
		if err := checkCount(c.K, c.N); err != nil {
			return ClusterRate{}, fmt.Errorf("new cluster rate: cluster %d: %w", i, err)
		}
		out.K += c.K
		out.N += c.N
		if c.N > 0 {
			out.Clusters++
		}
	}
	out.Rate.Rate = ratio(out.K, out.N)
	var deff float64
	out.CI, deff = clusterWilson(clusters, level)
	if out.N > 0 {
		out.DesignEffect = deff
		out.EffectiveN = float64(out.N) / deff
	}
	return out, nil
}
