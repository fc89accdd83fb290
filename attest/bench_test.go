package attest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// benchModel writes a model of n files of size bytes each (random, so
// nothing compresses or dedups) and returns its directory.
func benchModel(b *testing.B, n int, size int64) string {
	b.Helper()
	dir := b.TempDir()
	buf := make([]byte, 1<<20)
	for i := range n {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, n)))
		if err != nil {
			b.Fatal(err)
		}
		for w := int64(0); w < size; w += int64(len(buf)) {
			rand.Read(buf)
			if _, err := f.Write(buf[:min(int64(len(buf)), size-w)]); err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	}
	return dir
}

// sequentialSHA256 hashes every file of dir one after another on one
// goroutine: the single-threaded baseline.
func sequentialSHA256(dir string) (int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var total int64
	buf := make([]byte, 1<<20)
	for _, e := range ents {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return 0, err
		}
		h := sha256.New()
		n, err := io.CopyBuffer(h, struct{ io.Reader }{f}, buf)
		f.Close()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// BenchmarkHashModel hashes a model of large files (warm page cache) with
// HashModel and with single-threaded SHA-256, and reports both rates and
// their ratio. CLEARANCE_BENCH_FILES and CLEARANCE_BENCH_MB size the model
// (default 4 files of 64 MiB).
func BenchmarkHashModel(b *testing.B) {
	files, mb := 4, 64
	if v, err := strconv.Atoi(os.Getenv("CLEARANCE_BENCH_FILES")); err == nil && v > 0 {
		files = v
	}
	if v, err := strconv.Atoi(os.Getenv("CLEARANCE_BENCH_MB")); err == nil && v > 0 {
		mb = v
	}
	dir := benchModel(b, files, int64(mb)<<20)
	ctx := context.Background()
	if _, err := sequentialSHA256(dir); err != nil { // warm the cache
		b.Fatal(err)
	}
	var par, seq time.Duration
	var bytes int64
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		m, err := HashModel(ctx, dir, HashOptions{})
		if err != nil {
			b.Fatal(err)
		}
		par += time.Since(t0)
		bytes = m.TotalSize()
		t1 := time.Now()
		if _, err := sequentialSHA256(dir); err != nil {
			b.Fatal(err)
		}
		seq += time.Since(t1)
	}
	n := float64(b.N)
	gbPar := float64(bytes) * n / par.Seconds() / 1e9
	gbSeq := float64(bytes) * n / seq.Seconds() / 1e9
	b.ReportMetric(gbPar, "GB/s")
	b.ReportMetric(gbSeq, "single-GB/s")
	b.ReportMetric(gbPar/gbSeq, "ratio")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "cores")
}

// BenchmarkVerifyDecision is the time to verify one decision bundle
// (signature through sigstore-go, statement and predicate checks), without
// hashing the model.
func BenchmarkVerifyDecision(b *testing.B) {
	f := newFixture(b)
	b.ResetTimer()
	for range b.N {
		if _, err := VerifyDecision(f.bundle, &f.key.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignDecision is the time to build and sign one decision bundle.
func BenchmarkSignDecision(b *testing.B) {
	f := newFixture(b)
	b.ResetTimer()
	for range b.N {
		if _, err := SignDecision(f.key, f.decision, f.manifest, f.omsSig); err != nil {
			b.Fatal(err)
		}
	}
}
