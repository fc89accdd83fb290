package web_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// importBenchBytes is the size of the run BenchmarkImport imports: about
// the 256 MiB an import may be.
const importBenchBytes = 250 << 20

// BenchmarkImport imports a 250 MB run (some 110,000 samples of about
// 2 KB) through the API into a SQLite store and reports the peak Go heap
// (live and unswept objects, sampled every millisecond) over the
// request, which must stay under 100 MB however large the run:
//
//	go test -run '^$' -bench BenchmarkImport -benchtime 1x -benchmem ./web/
func BenchmarkImport(b *testing.B) {
	e := newEnvWith(b, envOptions{tempDir: b.TempDir()})
	c := e.submit(b, "devA")
	e.must(b, http.StatusOK, nil, "assessor", "POST", "/api/v1/cases/"+c+"/transitions", `{"to":"in_assessment"}`)
	path := filepath.Join(b.TempDir(), "import.json")
	n := writeImport(b, path, importBenchBytes)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ResetTimer()
	var peak, base uint64
	for range b.N {
		b.StopTimer()
		runtime.GC()
		base = heapObjects()
		stop := sampleHeap(&peak)
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		req, err := http.NewRequest("POST", e.http.URL+"/api/v1/cases/"+c+"/imports", f)
		if err != nil {
			b.Fatal(err)
		}
		req.ContentLength = st.Size()
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.tokens["assessor"])
		b.StartTimer()
		resp, err := e.http.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b.StopTimer()
		stop()
		f.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("import = %d %.300s", resp.StatusCode, body)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
	b.ReportMetric(float64(base)/1e6, "base-heap-MB")
	b.ReportMetric(float64(n), "samples")
	if peak > 100e6 {
		b.Errorf("peak heap %.1f MB importing %d MB, want under 100 MB", float64(peak)/1e6, st.Size()/1e6)
	}
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sampleHeap records the largest heapObjects in *peak until stop is
// called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			*peak = max(*peak, heapObjects())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// writeImport writes an import document of about size bytes to path and
// returns its number of samples: harmful and benign samples of about
// 2 KB, as clearance assess writes them.
func writeImport(tb testing.TB, path string, size int) int {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, `{"run":{"schema":"https://clearance.dev/schemas/run/v1"},"metrics":{"schema":"https://clearance.dev/schemas/metrics/v1","status":"complete","samples":0,"usage":{},"groups":[]},"samples":[`)
	answer := strings.Repeat("Step by step, the answer goes on. ", 50)
	written, n := 0, 0
	for ; written < size; n++ {
		kind, label := "harmful", "compliance"
		if n%2 == 1 {
			kind, label = "benign", "refusal"
		}
		if n > 0 {
			w.WriteByte(',')
		}
		k, _ := fmt.Fprintf(w, `{"id":"misuse/hb-%d/direct","suite":"misuse","item":"hb-%d","behavior":"b","category":"cyber","transform":"direct","kind":%q,"scorer":"refusal","messages":[{"role":"user","content":"question %d"}],"response":%q,"verdict":{"label":%q,"flagged":%v},"requests":1,"cached":false,"usage":{},"latency_ms":1,"started_at":"2026-03-02T09:00:00Z"}`,
			n, n, kind, n, answer, label, kind == "harmful")
		written += k
	}
	fmt.Fprint(w, `]}`)
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	return n
}
