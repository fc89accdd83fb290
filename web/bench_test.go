package web_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkAPI drives the API over real HTTP (loopback, keep-alive) on
// a SQLite store from parallel clients and reports throughput and
// latency percentiles:
//
//	go test -run '^$' -bench BenchmarkAPI -benchtime 3s ./web/
func BenchmarkAPI(b *testing.B) {
	e := newEnv(b)
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = e.submit(b, "devA")
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}

	run := func(b *testing.B, req func(i int) *http.Request, want int) {
		var mu sync.Mutex
		var lat []time.Duration
		var n int
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			i := 0
			for pb.Next() {
				r := req(i)
				i++
				t0 := time.Now()
				resp, err := client.Do(r)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				if resp.StatusCode != want {
					b.Errorf("status %d, want %d", resp.StatusCode, want)
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			n += len(mine)
			mu.Unlock()
		})
		elapsed := time.Since(start)
		b.StopTimer()
		if n == 0 {
			return
		}
		slices.Sort(lat)
		b.ReportMetric(float64(n)/elapsed.Seconds(), "req/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
	auth := "Bearer " + e.tokens["devA"]
	b.Run("read", func(b *testing.B) {
		run(b, func(i int) *http.Request {
			r, _ := http.NewRequest("GET", e.http.URL+"/api/v1/cases/"+ids[i%len(ids)], nil)
			r.Header.Set("Authorization", auth)
			return r
		}, http.StatusOK)
	})
	b.Run("list", func(b *testing.B) {
		run(b, func(int) *http.Request {
			r, _ := http.NewRequest("GET", e.http.URL+"/api/v1/cases?limit=20", nil)
			r.Header.Set("Authorization", auth)
			return r
		}, http.StatusOK)
	})
	b.Run("submit", func(b *testing.B) {
		run(b, func(int) *http.Request {
			r, _ := http.NewRequest("POST", e.http.URL+"/api/v1/cases", strings.NewReader(submissionBody))
			r.Header.Set("Authorization", auth)
			r.Header.Set("Content-Type", "application/json")
			return r
		}, http.StatusCreated)
	})
}
