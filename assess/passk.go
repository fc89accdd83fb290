package assess

import (
	"sort"

	"github.com/clearance-dev/clearance/stats"
)

// passAtK estimates pass@k for k = 1 … n from instances attempted n times
// each (the most common n, when instances differ), and nil when no
// instance had more than one attempt.
func passAtK(instances map[string]*instanceAcc) []PassAt {
	freq := map[int]int{}
	for _, in := range instances {
		freq[in.n]++
	}
	n, best := 0, 0
	for k, f := range freq {
		if f > best || (f == best && k > n) {
			n, best = k, f
		}
	}
	if n < 2 {
		return nil
	}
	names := make([]string, 0, len(instances))
	for name, in := range instances {
		if in.n == n {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := make([]PassAt, 0, n)
	for k := 1; k <= n; k++ {
		sum := 0.0
		for _, name := range names {
			sum += passEstimate(n, instances[name].k, k)
		}
		p := PassAt{K: k, Rate: sum / float64(len(names)), Instances: len(names)}
		if k == n {
			byGen := map[string]*stats.Cluster{}
			var gens []string
			for _, name := range names {
				in := instances[name]
				c := byGen[in.generator]
				if c == nil {
					c = &stats.Cluster{}
					byGen[in.generator] = c
					gens = append(gens, in.generator)
				}
				c.N++
				if in.k > 0 {
					c.K++
				}
			}
			sort.Strings(gens)
			cl := make([]stats.Cluster, 0, len(gens))
			solved := 0
			for _, g := range gens {
				cl = append(cl, *byGen[g])
				solved += byGen[g].K
			}
			ci := stats.Wilson(solved, len(names), Level)
			if len(cl) > 1 && len(cl) < len(names) {
				ci = stats.ClusterWilson(cl, Level)
			}
			p.CI = &ci
		}
		out = append(out, p)
	}
	return out
}

// passEstimate is the unbiased estimator of pass@k from n attempts with c
// successes: 1 − C(n−c, k)/C(n, k), computed as a product to stay exact
// in floating point for small n.
func passEstimate(n, c, k int) float64 {
	if n-c < k {
		return 1
	}
	p := 1.0
	for i := n - c + 1; i <= n; i++ {
		p *= 1 - float64(k)/float64(i)
	}
	return 1 - p
}
