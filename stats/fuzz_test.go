package stats

import (
	"math"
	"testing"
)

// FuzzIntervals feeds arbitrary counts and levels to every interval
// function. The package reads no untrusted text, but counts do come from
// outside; whatever they are, the functions must not panic and must return
// ordered intervals inside their range that contain the point estimate
// whenever the input is valid.
func FuzzIntervals(f *testing.F) {
	f.Add(5, 10, 3, 10, 0.95, 0.9, 0.95)
	f.Add(0, 0, 0, 0, 0.95, 1.0, 1.0)
	f.Add(10, 10, 0, 20, 0.99, 0.6, 0.41)
	f.Add(-1, 5, 7, 3, 1.5, 0.5, 0.5)
	f.Add(1, 1000000, 999999, 1000000, 0.5, 0.999, 0.001)
	f.Fuzz(func(t *testing.T, k1, n1, k2, n2 int, level, sens, spec float64) {
		valid := k1 >= 0 && k1 <= n1 && level > 0 && level < 1
		for _, iv := range []Interval{Wilson(k1, n1, level), ClopperPearson(k1, n1, level), ClusterWilson([]Cluster{{k1, n1}, {k2, n2}}, level)} {
			if !(iv.Low >= 0 && iv.Low <= iv.High && iv.High <= 1) {
				t.Fatalf("%s(%d, %d, %v) = %+v: not an ordered subset of [0,1]", iv.Method, k1, n1, level, iv)
			}
			if valid && n1 > 0 && iv.Method != "cluster-wilson" && !iv.Contains(float64(k1)/float64(n1)) {
				t.Fatalf("%s(%d, %d, %v) = %+v excludes the estimate", iv.Method, k1, n1, level, iv)
			}
		}
		d := Diff(k1, n1, k2, n2, level)
		if !(d.CI.Low >= -1 && d.CI.Low <= d.CI.High && d.CI.High <= 1) || !(d.PValue >= 0 && d.PValue <= 1) {
			t.Fatalf("Diff(%d, %d, %d, %d, %v) = %+v", k1, n1, k2, n2, level, d)
		}
		if valid && n1 > 0 && k2 >= 0 && k2 <= n2 && n2 > 0 && !d.CI.Contains(d.Diff) {
			t.Fatalf("Diff(%d, %d, %d, %d, %v) = %+v excludes the estimate", k1, n1, k2, n2, level, d)
		}
		c, err := RoganGladen(k1, n1, sens, spec, n2, n2, level)
		if err == nil && (!(c.CI.Low >= 0 && c.CI.Low <= c.CI.High && c.CI.High <= 1) || !c.CI.Contains(c.Rate) || math.IsNaN(c.Raw)) {
			t.Fatalf("RoganGladen(%d, %d, %v, %v, %d, %d, %v) = %+v", k1, n1, sens, spec, n2, n2, level, c)
		}
	})
}
