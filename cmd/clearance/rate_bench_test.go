package main

// Fixed-rate load benchmarks of the review service (docs/benchmarks.md):
//
//	go test ./cmd/clearance -run '^$' -bench ServiceRate -benchtime 3000x
//
// BenchmarkServiceAPI (load_bench_test.go) measures how fast the server
// can go with clients waiting on each answer (a closed loop). An agency
// needs the other figure too: the latency at a given offered load. Here
// requests are sent on a schedule, one every 1/rate seconds whether or
// not earlier ones have been answered (an open loop), and each latency
// is counted from the moment the request was due, not from when it was
// sent, so a stalled server cannot hide its stall by sending less (no
// coordinated omission). b.N is the number of requests; at 500 req/s,
// -benchtime 3000x is six seconds of load.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// rateReadCase and rateSubmit are the offered loads, in requests per
// second, that the service must carry (issue 10's figures).
const (
	rateReadCase = 500
	rateSubmit   = 200
)

func BenchmarkServiceRate(b *testing.B) {
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			base, st := startLoadServer(b, store)
			token, ids := seedLoad(b, st.svc)
			tr := &http.Transport{MaxIdleConnsPerHost: 1024}
			b.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			b.Run(fmt.Sprintf("read-case@%d", rateReadCase), func(b *testing.B) {
				measureRate(b, client, rateReadCase, http.StatusOK, func(i int) *http.Request {
					r, err := http.NewRequest(http.MethodGet, base+"/api/v1/cases/"+ids[i%len(ids)], nil)
					if err != nil {
						b.Fatal(err)
					}
					r.Header.Set("Authorization", "Bearer "+token)
					return r
				})
			})
			b.Run(fmt.Sprintf("submit@%d", rateSubmit), func(b *testing.B) {
				measureRate(b, client, rateSubmit, http.StatusCreated, func(i int) *http.Request {
					body, err := json.Marshal(loadSubmission(b, fmt.Sprintf("rate-%d-%d", b.N, i)))
					if err != nil {
						b.Fatal(err)
					}
					r, err := http.NewRequest(http.MethodPost, base+"/api/v1/cases", bytes.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					r.Header.Set("Authorization", "Bearer "+token)
					r.Header.Set("Content-Type", "application/json")
					return r
				})
			})
		})
	}
}

// measureRate sends b.N requests at rate per second on a fixed schedule,
// each from its own goroutine, checks every status, and reports the rate
// achieved and the latency percentiles counted from each request's due
// time.
func measureRate(b *testing.B, client *http.Client, rate int, want int, req func(i int) *http.Request) {
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = req(i)
	}
	lat := make([]time.Duration, b.N)
	interval := time.Second / time.Duration(rate)
	var wg sync.WaitGroup
	var errOnce sync.Once
	b.ResetTimer()
	start := time.Now()
	for i, r := range reqs {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			resp, err := client.Do(r)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			lat[i] = time.Since(due)
			if err == nil && resp.StatusCode != want {
				err = fmt.Errorf("status %d, want %d", resp.StatusCode, want)
			}
			if err != nil {
				errOnce.Do(func() { b.Errorf("%s %s: %v", r.Method, r.URL.Path, err) })
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(percentileMS(lat, 50), "p50_ms")
	b.ReportMetric(percentileMS(lat, 99), "p99_ms")
	b.ReportMetric(0, "ns/op")
}
