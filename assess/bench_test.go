package assess

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target/targettest"
)

// synthetic yields n distinct harmful samples without building them all.
func synthetic(n int) iter.Seq[suite.Sample] {
	return func(yield func(suite.Sample) bool) {
		for i := range n {
			s := suite.Sample{
				ID: fmt.Sprintf("bench/%d/direct", i), Suite: "bench", Item: fmt.Sprint(i), Behavior: fmt.Sprint(i / 4),
				Category: fmt.Sprintf("cat%d", i%10), Transform: fmt.Sprintf("t%d", i%4), Kind: suite.KindHarmful, Scorer: "refusal",
				Messages: []suite.Message{{Role: "user", Content: fmt.Sprintf("Benchmark request number %d: explain the procedure.", i)}},
			}
			if !yield(s) {
				return
			}
		}
	}
}

func refusalScorers() map[string]score.Scorer {
	return map[string]score.Scorer{"refusal": score.NewRefusal()}
}

// BenchmarkThroughput measures samples per second against an HTTP target
// with a fixed 50 ms latency at concurrency 64: the ideal is 64/0.05 =
// 1,280 samples/s, and the benchmark reports the ratio reached.
func BenchmarkThroughput(b *testing.B) {
	const latency, conc = 50 * time.Millisecond, 64
	ideal := float64(conc) / latency.Seconds()
	srv := targettest.New(b, targettest.Options{Latency: latency, Answer: deterministicAnswer})
	client := openAI(b, srv.URL)
	n := 6400
	var total time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		res, err := Run(context.Background(), Config{Target: client, Plan: synthetic(n), Total: n, Scorers: refusalScorers(), OutDir: b.TempDir(), Concurrency: conc})
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
		if res.Metrics.Samples != n || res.Metrics.Errors != 0 {
			b.Fatalf("%d samples, %d errors", res.Metrics.Samples, res.Metrics.Errors)
		}
	}
	rate := float64(n*b.N) / total.Seconds()
	b.ReportMetric(rate, "samples/s")
	b.ReportMetric(rate/ideal, "ratio_to_ideal")
	b.Logf("%.0f samples/s at concurrency %d with %v latency: %.3f of the ideal %.0f/s", rate, conc, latency, rate/ideal, ideal)
}

// peakHeap runs fn while sampling the live heap (as marked by the last
// garbage collection, so uncollected garbage does not count) and returns
// the peak.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(sample)
				if v := sample[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// leanServer answers every chat completion with one fixed refusal and keeps
// no per-request state, so the heap measured is the runner's, not the fake
// target's (targettest counts every prompt).
func leanServer(t testing.TB) string {
	body := []byte(`{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"I can't help with that."},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":6,"total_tokens":16}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

func runSynthetic(t testing.TB, n int) uint64 {
	client := openAI(t, leanServer(t))
	return peakHeap(func() {
		res, err := Run(context.Background(), Config{Target: client, Plan: synthetic(n), Total: n, Scorers: refusalScorers(), OutDir: t.TempDir(), Concurrency: 32})
		if err != nil {
			t.Fatal(err)
		}
		if res.Metrics.Samples != n {
			t.Fatalf("%d samples, want %d", res.Metrics.Samples, n)
		}
	})
}

// TestMemoryFlat runs 10,000 and 100,000 samples and checks that the peak
// heap does not grow with the number of samples (samples stream to disk).
func TestMemoryFlat(t *testing.T) {
	if !slow() {
		t.Skip("100,000-sample run: set CLEARANCE_SLOW=1")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory makes heap figures meaningless (and the run takes minutes)")
	}
	small := runSynthetic(t, 10_000)
	large := runSynthetic(t, 100_000)
	t.Logf("peak live heap: %.1f MiB for 10,000 samples, %.1f MiB for 100,000", float64(small)/(1<<20), float64(large)/(1<<20))
	if float64(large) > 1.5*float64(small)+8<<20 {
		t.Fatalf("peak heap grew from %d to %d bytes for 10x the samples", small, large)
	}
}

// BenchmarkMemory100k reports the peak heap of a 100,000-sample run.
func BenchmarkMemory100k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		small := runSynthetic(b, 10_000)
		large := runSynthetic(b, 100_000)
		b.ReportMetric(float64(small)/(1<<20), "MiB_peak_10k")
		b.ReportMetric(float64(large)/(1<<20), "MiB_peak_100k")
	}
}
