package tlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/transparency-dev/tessera/api/layout"
)

const testOrigin = "clearance.test/decisions"

func entry(i int) []byte { return []byte(fmt.Sprintf("decision bundle %04d", i)) }

// newLog creates a log in a temp dir with n entries appended concurrently
// and returns its dir, verifier key and receipts by index.
func newLog(t testing.TB, n int) (string, string, map[uint64]*Receipt) {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "log")
	vkey, err := Init(ctx, dir, testOrigin)
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	receipts := appendAll(t, dir, 0, n)
	return dir, vkey, receipts
}

func appendAll(t testing.TB, dir string, from, n int) map[uint64]*Receipt {
	t.Helper()
	ctx := context.Background()
	l, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer l.Close(ctx)
	var mu sync.Mutex
	receipts := map[uint64]*Receipt{}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := from; i < from+n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := l.Append(ctx, entry(i))
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			receipts[r.Index] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append: %v", err)
	}
	return receipts
}

func TestInit(t *testing.T) {
	dir, vkey, _ := newLog(t, 0)
	st, err := os.Stat(filepath.Join(dir, SignerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("signer key mode %v, want 0600", st.Mode().Perm())
	}
	got, err := ReadVerifierKey(filepath.Join(dir, VerifierKeyFile))
	if err != nil || got != vkey {
		t.Fatalf("ReadVerifierKey = %q, %v; want %q", got, err, vkey)
	}
	if !strings.HasPrefix(vkey, testOrigin+"+") {
		t.Errorf("verifier key %q does not name the origin", vkey)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := ParseCheckpoint(raw, vkey)
	if err != nil || cp.Size != 0 || cp.Origin != testOrigin {
		t.Fatalf("empty checkpoint = %+v, %v", cp, err)
	}
	if _, err := Init(context.Background(), dir, testOrigin); !errors.Is(err, ErrExists) {
		t.Errorf("Init twice = %v, want ErrExists", err)
	}
	if _, err := Init(context.Background(), t.TempDir(), "bad origin"); err == nil {
		t.Error("Init accepted an origin with a space")
	}
}

func TestReceipts(t *testing.T) {
	dir, vkey, receipts := newLog(t, 5)
	if len(receipts) != 5 {
		t.Fatalf("got %d receipts, want 5", len(receipts))
	}
	byEntry := map[string]*Receipt{}
	for _, r := range receipts {
		// Find which entry this receipt is for.
		for i := range 5 {
			if _, err := VerifyReceipt(entry(i), r, vkey); err == nil {
				byEntry[string(entry(i))] = r
			}
		}
		data, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseReceipt(data)
		if err != nil {
			t.Fatalf("ParseReceipt: %v", err)
		}
		if back.Index != r.Index || back.Checkpoint != r.Checkpoint {
			t.Errorf("receipt round trip changed it: %+v", back)
		}
	}
	if len(byEntry) != 5 {
		t.Fatalf("%d entries verified against a receipt, want 5", len(byEntry))
	}

	// A later receipt for entry 0 from Prove, against a bigger checkpoint.
	appendAll(t, dir, 5, 3)
	src, _ := OpenSource(dir, nil)
	r0 := byEntry[string(entry(0))]
	later, got, err := Prove(context.Background(), src, vkey, r0.Index)
	if err != nil {
		t.Fatalf("Prove: %v", err)
	}
	if !bytes.Equal(got, entry(0)) {
		t.Fatalf("Prove returned entry %q, want %q", got, entry(0))
	}
	if _, err := CheckLive(context.Background(), src, entry(0), r0, vkey); err != nil {
		t.Errorf("CheckLive: %v", err)
	}

	other, _, _ := newLog(t, 1)
	otherKey, _ := ReadVerifierKey(filepath.Join(other, VerifierKeyFile))
	tests := []struct {
		name  string
		entry []byte
		r     func() *Receipt
		key   string
		want  error
	}{
		{"other entry", entry(1), func() *Receipt { return r0 }, vkey, ErrNotIncluded},
		{"proof against a different checkpoint", entry(0), func() *Receipt {
			c := *r0
			c.Checkpoint = later.Checkpoint
			return &c
		}, vkey, ErrNotIncluded},
		{"other index", entry(0), func() *Receipt { c := *r0; c.Index = (c.Index + 1) % 5; return &c }, vkey, ErrNotIncluded},
		{"edited checkpoint", entry(0), func() *Receipt {
			c := *r0
			c.Checkpoint = strings.Replace(c.Checkpoint, "\n5\n", "\n6\n", 1)
			return &c
		}, vkey, ErrCheckpoint},
		{"other log key", entry(0), func() *Receipt { return r0 }, otherKey, ErrCheckpoint},
		{"flipped proof hash", entry(0), func() *Receipt {
			c := *r0
			c.InclusionProof = [][]byte{bytes.Clone(r0.InclusionProof[0])}
			c.InclusionProof = append(c.InclusionProof, r0.InclusionProof[1:]...)
			c.InclusionProof[0][3] ^= 1
			return &c
		}, vkey, ErrNotIncluded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := VerifyReceipt(tt.entry, tt.r(), tt.key); !errors.Is(err, tt.want) {
				t.Fatalf("VerifyReceipt = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMonitor(t *testing.T) {
	const n = 300 // one full tile and bundle, one partial, and a level-1 tile
	dir, vkey, _ := newLog(t, n)
	src, _ := OpenSource(dir, nil)
	ctx := context.Background()
	var seen int
	rep, err := Monitor(ctx, src, vkey, MonitorOptions{CheckEntry: func(i uint64, e []byte) error { seen++; return nil }})
	if err != nil {
		t.Fatalf("Monitor: %v", err)
	}
	if rep.Checkpoint.Size != n || seen != n || rep.Tiles != 3 {
		t.Errorf("Monitor = size %d, %d entries checked, %d tiles; want %d, %d, 3", rep.Checkpoint.Size, seen, rep.Tiles, n, n)
	}
	sinceCP := rep.Checkpoint.Raw
	rejectAll := errors.New("bad entry")
	if _, err := Monitor(ctx, src, vkey, MonitorOptions{CheckEntry: func(i uint64, e []byte) error {
		if i == 7 {
			return rejectAll
		}
		return nil
	}}); !errors.Is(err, rejectAll) || !strings.Contains(err.Error(), "entry 7") {
		t.Errorf("Monitor with a rejected entry = %v, want it named", err)
	}

	tests := []struct {
		name string
		file string
		edit func(b []byte) []byte
		want error
	}{
		{"edited entry", layout.EntriesPath(1, n%256), func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, ErrTampered},
		{"edited full entry bundle", layout.EntriesPath(0, 0), func(b []byte) []byte { b[10] ^= 1; return b }, ErrTampered},
		{"edited tile", layout.TilePath(0, 0, 0), func(b []byte) []byte { b[100] ^= 1; return b }, ErrTampered},
		{"edited level-1 tile", layout.TilePath(1, 0, 1), func(b []byte) []byte { b[0] ^= 1; return b }, ErrTampered},
		{"edited checkpoint", layout.CheckpointPath, func(b []byte) []byte { return bytes.Replace(b, []byte("\n300\n"), []byte("\n299\n"), 1) }, ErrCheckpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.file)
			orig, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, tt.edit(bytes.Clone(orig)), 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(p, orig, 0o644)
			if _, err := Monitor(ctx, src, vkey, MonitorOptions{}); !errors.Is(err, tt.want) {
				t.Fatalf("Monitor = %v, want %v", err, tt.want)
			}
		})
	}

	// Rewritten history: the same key signs a log whose early entries differ.
	forged := filepath.Join(t.TempDir(), "forged")
	if err := os.MkdirAll(forged, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{SignerKeyFile, VerifierKeyFile} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		os.WriteFile(filepath.Join(forged, f), b, 0o600)
	}
	appendAll(t, forged, 1000, n+5)
	fsrc, _ := OpenSource(forged, nil)
	if _, err := Monitor(ctx, fsrc, vkey, MonitorOptions{}); err != nil {
		t.Fatalf("Monitor(forged, no since) = %v; a lone forged log is self-consistent", err)
	}
	if _, err := Monitor(ctx, fsrc, vkey, MonitorOptions{Since: sinceCP}); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("Monitor(forged, since) = %v, want ErrInconsistent", err)
	}
	// The genuine log, grown, is consistent with its past.
	appendAll(t, dir, n, 10)
	rep, err = Monitor(ctx, src, vkey, MonitorOptions{Since: sinceCP})
	if err != nil || rep.SinceSize != n || rep.Checkpoint.Size != n+10 {
		t.Fatalf("Monitor(grown, since) = %+v, %v", rep, err)
	}
}

func TestHandler(t *testing.T) {
	dir, vkey, receipts := newLog(t, 3)
	h, err := NewHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()

	tests := []struct {
		method, path string
		status       int
		cache        string
	}{
		{"GET", "/checkpoint", 200, cacheCheckpoint},
		{"HEAD", "/checkpoint", 200, cacheCheckpoint},
		{"GET", "/" + layout.TilePath(0, 0, 3), 200, cachePartial},
		{"GET", "/" + layout.EntriesPath(0, 3), 200, cachePartial},
		{"GET", "/log.key", 404, ""},
		{"GET", "/log.pub", 404, ""},
		{"GET", "/.state/treeState", 404, ""},
		{"GET", "/tile/../log.key", 404, ""},
		{"GET", "/tile/0/x999", 404, ""},
		{"POST", "/checkpoint", 405, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
		if got := resp.Header.Get("Cache-Control"); tt.cache != "" && got != tt.cache {
			t.Errorf("%s %s Cache-Control = %q, want %q", tt.method, tt.path, got, tt.cache)
		}
	}
	if got := cacheFor(t, srv.URL, dir); got != cacheImmutable {
		t.Errorf("full tile Cache-Control = %q, want %q", got, cacheImmutable)
	}

	src, err := OpenSource(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Monitor(context.Background(), src, vkey, MonitorOptions{}); err != nil {
		t.Errorf("Monitor over HTTP: %v", err)
	}
	for _, r := range receipts {
		e, err := readEntry(context.Background(), src, r.Index, 3)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := CheckLive(context.Background(), src, e, r, vkey); err != nil {
			t.Errorf("CheckLive over HTTP: %v", err)
		}
	}
}

// cacheFor grows the log to a full tile and returns the Cache-Control of
// tile 0/000.
func cacheFor(t *testing.T, url, dir string) string {
	appendAll(t, dir, 3, 253)
	resp, err := http.Get(url + "/" + layout.TilePath(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("full tile: %d", resp.StatusCode)
	}
	return resp.Header.Get("Cache-Control")
}

func TestAppendTooLarge(t *testing.T) {
	dir, _, _ := newLog(t, 0)
	l, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	if _, err := l.Append(context.Background(), make([]byte, MaxEntrySize+1)); !errors.Is(err, ErrEntryTooLarge) {
		t.Errorf("Append(too large) = %v, want ErrEntryTooLarge", err)
	}
}
