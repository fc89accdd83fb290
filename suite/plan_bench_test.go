package suite

import (
	"runtime"
	"testing"
)

// BenchmarkPlanJailbreak plans the full jailbreak suite (every behaviour
// under every transform), holding all samples in memory, and reports the
// heap bytes each rendered sample keeps alive.
func BenchmarkPlanJailbreak(b *testing.B) {
	s := builtin(b, "jailbreak")
	var n int
	var perSample float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ss, err := Plan([]*Suite{s}, PlanOptions{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		n = len(ss)
		perSample = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
		runtime.KeepAlive(ss)
	}
	b.ReportMetric(float64(n), "samples")
	b.ReportMetric(perSample, "heap-bytes/sample")
}

// BenchmarkEachJailbreak streams the same plan one sample at a time: memory
// stays flat, whatever the size of the plan.
func BenchmarkEachJailbreak(b *testing.B) {
	s := builtin(b, "jailbreak")
	var n, bytes int
	for b.Loop() {
		n, bytes = 0, 0
		err := Each([]*Suite{s}, PlanOptions{Seed: 1}, func(x Sample) error {
			n++
			for _, m := range x.Messages {
				bytes += len(m.Content)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "samples")
	b.ReportMetric(float64(bytes)/float64(n), "content-bytes/sample")
}

// BenchmarkSelect measures selecting (not rendering) a stratified plan.
func BenchmarkSelect(b *testing.B) {
	s := builtin(b, "jailbreak")
	for b.Loop() {
		if _, err := selectRefs([]*Suite{s}, PlanOptions{Seed: 1, Limit: 5000}); err != nil {
			b.Fatal(err)
		}
	}
}
