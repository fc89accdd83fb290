package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestClusterWilson(t *testing.T) {
	// Perfectly correlated: every behaviour all-or-nothing. The clusters are
	// 10 observations, so the interval is Wilson(3, 10).
	var allOrNothing []Cluster
	for i := range 10 {
		k := 0
		if i < 3 {
			k = 5
		}
		allOrNothing = append(allOrNothing, Cluster{K: k, N: 5})
	}
	lo, hi := wilson(0.5, 1, zTwoSided(0.95)) // Wilson for 0.5 successes of 1
	singleCluster := Interval{lo, hi, 0.95, "cluster-wilson"}
	tests := []struct {
		name     string
		clusters []Cluster
		want     Interval
	}{
		{"perfect correlation", allOrNothing, withMethod(Wilson(3, 10, 0.95), "cluster-wilson")},
		{"no successes", []Cluster{{0, 4}, {0, 6}}, withMethod(Wilson(0, 10, 0.95), "cluster-wilson")},
		{"all successes", []Cluster{{4, 4}, {6, 6}}, withMethod(Wilson(10, 10, 0.95), "cluster-wilson")},
		{"single cluster", []Cluster{{3, 6}}, singleCluster}, // n_eff = 1: wide but not vacuous
		{"empty clusters ignored", []Cluster{{0, 0}, {2, 4}, {2, 4}, {0, 0}}, ClusterWilson([]Cluster{{2, 4}, {2, 4}}, 0.95)},
		{"none", nil, Interval{0, 1, 0.95, "cluster-wilson"}},
		{"invalid cluster", []Cluster{{2, 4}, {5, 4}}, Interval{0, 1, 0.95, "cluster-wilson"}},
	}
	for _, tt := range tests {
		got := ClusterWilson(tt.clusters, 0.95)
		if !close(got.Low, tt.want.Low, 1e-12) || !close(got.High, tt.want.High, 1e-12) || got.Method != tt.want.Method {
			t.Errorf("%s: ClusterWilson(%v) = %+v, want %+v", tt.name, tt.clusters, got, tt.want)
		}
	}
}

func withMethod(iv Interval, m string) Interval { iv.Method = m; return iv }

// Independent variants (clusters of 1) give almost exactly Wilson: the
// design effect is m/(m-1) from the finite-sample factor alone.
func TestClusterWilsonIndependentIsWilson(t *testing.T) {
	var cs []Cluster
	for i := range 400 {
		cs = append(cs, Cluster{K: b2i(i%4 == 0), N: 1})
	}
	got, w := ClusterWilson(cs, 0.95), Wilson(100, 400, 0.95)
	if got.Width() < w.Width() || got.Width() > w.Width()*1.01 {
		t.Errorf("ClusterWilson(400 singletons) width %v, Wilson width %v: want within 1%% above", got.Width(), w.Width())
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sampleClusters draws m behaviours of size variants each: with
// probability rho a behaviour's variants all share one Bernoulli(p)
// outcome, otherwise they are independent. The intra-cluster correlation
// is rho.
func sampleClusters(rng *rand.Rand, m, size int, p, rho float64) []Cluster {
	cs := make([]Cluster, m)
	for i := range cs {
		cs[i].N = size
		if rng.Float64() < rho {
			cs[i].K = size * b2i(rng.Float64() < p)
			continue
		}
		for range size {
			cs[i].K += b2i(rng.Float64() < p)
		}
	}
	return cs
}

// With positively correlated variants plain Wilson on the pooled counts
// under-covers badly; the cluster interval restores near-nominal coverage
// and is never narrower. At small p it still under-covers (see the
// ClusterWilson doc), so the floor there is lower.
func TestClusterWilsonCoverage(t *testing.T) {
	const trials = 2000
	tests := []struct {
		p, rho, minCover float64
	}{
		{0.3, 0.05, 0.93},
		{0.3, 0.3, 0.93},
		{0.3, 0.6, 0.93},
		{0.1, 0.3, 0.85},
	}
	for _, tt := range tests {
		rng := rand.New(rand.NewPCG(7, 11))
		var coverC, coverW int
		for range trials {
			cs := sampleClusters(rng, 40, 10, tt.p, tt.rho)
			var k, n int
			for _, c := range cs {
				k, n = k+c.K, n+c.N
			}
			ci, w := ClusterWilson(cs, 0.95), Wilson(k, n, 0.95)
			if ci.Low > w.Low+1e-12 || ci.High < w.High-1e-12 {
				t.Fatalf("ClusterWilson(%v) = %+v narrower than Wilson %+v", cs, ci, w)
			}
			coverC += b2i(ci.Contains(tt.p))
			coverW += b2i(w.Contains(tt.p))
		}
		gotC, gotW := float64(coverC)/trials, float64(coverW)/trials
		if gotC < tt.minCover || gotC < gotW+0.04 {
			t.Errorf("p=%v rho=%v: ClusterWilson coverage %.3f (plain Wilson %.3f), want >= %v and clearly above Wilson", tt.p, tt.rho, gotC, gotW, tt.minCover)
		}
	}
}

func TestNewClusterRate(t *testing.T) {
	got, err := NewClusterRate([]Cluster{{0, 0}, {5, 5}, {0, 5}, {5, 5}, {0, 5}}, 0.95)
	if err != nil {
		t.Fatalf("NewClusterRate: %v", err)
	}
	if got.K != 10 || got.N != 20 || got.Rate.Rate != 0.5 || got.Clusters != 4 || got.EffectiveN != 4 || got.DesignEffect != 5 {
		t.Errorf("NewClusterRate = %+v, want K=10 N=20 Rate=0.5 Clusters=4 EffectiveN=4 DesignEffect=5", got)
	}
	_, err = NewClusterRate([]Cluster{{1, 2}, {3, 2}}, 0.95)
	if !errors.Is(err, ErrInvalidCount) || err.Error() != "new cluster rate: cluster 1: k=3 exceeds n=2: invalid count: need 0 <= k <= n" {
		t.Errorf("NewClusterRate(bad cluster 1) error = %v", err)
	}
	if _, err := NewClusterRate(nil, math.Inf(1)); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("NewClusterRate(level=+Inf) error = %v, want ErrInvalidParameter", err)
	}
}
