package witness

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/tlog"
	"github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"
)

const origin = "clearance.test/decisions"

// testLog is an in-memory log: a Merkle tree and the log's signer.
type testLog struct {
	t      *testing.T
	origin string
	tree   *testonly.Tree
	signer note.Signer
	vkey   string
}

func newTestLog(t *testing.T, origin string, entries ...string) *testLog {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l := &testLog{t: t, origin: origin, tree: testonly.New(rfc6962.DefaultHasher), signer: s, vkey: vkey}
	l.add(entries...)
	return l
}

// fork returns a log with the same key and different entries.
func (l *testLog) fork(entries ...string) *testLog {
	f := &testLog{t: l.t, origin: l.origin, tree: testonly.New(rfc6962.DefaultHasher), signer: l.signer, vkey: l.vkey}
	f.add(entries...)
	return f
}

func (l *testLog) add(entries ...string) {
	for _, e := range entries {
		l.tree.AppendData([]byte(e))
	}
}

// checkpoint returns the log's signed checkpoint at size.
func (l *testLog) checkpoint(size uint64) []byte {
	l.t.Helper()
	text := log.Checkpoint{Origin: l.origin, Size: size, Hash: l.tree.HashAt(size)}.Marshal()
	b, err := note.Sign(&note.Note{Text: string(text)}, l.signer)
	if err != nil {
		l.t.Fatal(err)
	}
	return b
}

// request is the add-checkpoint request from old to size.
func (l *testLog) request(old, size uint64) *Request {
	l.t.Helper()
	r := &Request{OldSize: old, Proof: [][]byte{}, Checkpoint: l.checkpoint(size)}
	if old > 0 && old <= size {
		p, err := l.tree.ConsistencyProof(old, size)
		if err != nil {
			l.t.Fatal(err)
		}
		r.Proof = p
	}
	return r
}

func entries(prefix string, n int) []string {
	var es []string
	for i := range n {
		es = append(es, fmt.Sprintf("%s %d", prefix, i))
	}
	return es
}

// newWitness creates a witness directory following the logs and serves it.
func newWitness(t *testing.T, name string, logs ...*testLog) (dir string, vkey string, url string) {
	t.Helper()
	dir = t.TempDir()
	vkey, err := Init(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logs {
		if err := AddLog(dir, l.origin, l.vkey); err != nil {
			t.Fatal(err)
		}
	}
	return dir, vkey, serve(t, dir)
}

func serve(t *testing.T, dir string) string {
	t.Helper()
	s, err := Open(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

type response struct {
	code  int
	ctype string
	body  string
}

func post(t *testing.T, url string, body []byte) response {
	t.Helper()
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}

// mustCosign submits r and checks that the witness cosigned it.
func mustCosign(t *testing.T, url, wkey string, l *testLog, r *Request) {
	t.Helper()
	got := post(t, url, r.Encode())
	if got.code != http.StatusOK {
		t.Fatalf("add-checkpoint old %d: %d %q, want 200", r.OldSize, got.code, got.body)
	}
	if !strings.HasPrefix(got.body, "— ") || !strings.HasSuffix(got.body, "\n") {
		t.Fatalf("cosignature %q is not a signature line", got.body)
	}
	cosigned := append(bytes.Clone(r.Checkpoint), got.body...)
	if _, err := tlog.VerifyCosigned(cosigned, l.vkey, tlog.WitnessPolicy{Threshold: 1, Keys: []string{wkey}}); err != nil {
		t.Fatalf("cosigned checkpoint: %v", err)
	}
}

func TestAddCheckpoint(t *testing.T) {
	a := newTestLog(t, origin, entries("a", 7)...)
	other := newTestLog(t, "other.test/log", "x")
	_, wkey, url := newWitness(t, "w1.test", a)

	// The witness follows history A up to size 5.
	mustCosign(t, url, wkey, a, a.request(0, 3))
	mustCosign(t, url, wkey, a, a.request(3, 5))
	// The same checkpoint again is cosigned again (a fresh timestamp).
	mustCosign(t, url, wkey, a, a.request(5, 5))

	fork := a.fork(entries("b", 7)...)
	tampered := a.request(5, 7)
	tampered.Proof[0] = bytes.Clone(tampered.Proof[0])
	tampered.Proof[0][0] ^= 1
	wrongKey := newTestLog(t, origin, entries("a", 7)...)
	unsigned := &Request{OldSize: 5, Checkpoint: log.Checkpoint{Origin: origin, Size: 7, Hash: a.tree.HashAt(7)}.Marshal()}

	for _, tc := range []struct {
		name      string
		body      []byte
		code      int
		ctype     string
		bodyMatch string
	}{
		{"stale old size", a.request(3, 7).Encode(), http.StatusConflict, "text/x.tlog.size", "5\n"},
		{"old size zero", a.request(0, 7).Encode(), http.StatusConflict, "text/x.tlog.size", "5\n"},
		{"tampered proof", tampered.Encode(), http.StatusUnprocessableEntity, "text/plain", "does not verify"},
		{"fork, larger", fork.request(5, 7).Encode(), http.StatusUnprocessableEntity, "text/plain", "does not verify"},
		{"fork, same size", fork.request(5, 5).Encode(), http.StatusConflict, "text/plain", "root hash differs"},
		{"unknown log", other.request(0, 1).Encode(), http.StatusNotFound, "text/plain", `unknown log origin "other.test/log"`},
		{"wrong log key", wrongKey.request(5, 7).Encode(), http.StatusForbidden, "text/plain", "not signed by the key"},
		{"unsigned checkpoint", unsigned.Encode(), http.StatusBadRequest, "text/plain", "checkpoint: malformed note"},
		{"old size over checkpoint size", a.request(9, 7).Encode(), http.StatusBadRequest, "text/plain", "old size 9 is larger"},
		{"malformed", []byte("bogus\n\ncheckpoint"), http.StatusBadRequest, "text/plain", `line 1: want "old <size>"`},
		{"proof with old size zero", func() []byte { r := a.request(5, 7); r.OldSize = 0; return r.Encode() }(), http.StatusUnprocessableEntity, "text/plain", "must be empty"},
		{"too large", bytes.Repeat([]byte("x"), MaxRequestSize+1), http.StatusRequestEntityTooLarge, "text/plain", "over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := post(t, url, tc.body)
			if got.code != tc.code || !strings.HasPrefix(got.ctype, tc.ctype) || !strings.Contains(got.body, tc.bodyMatch) {
				t.Errorf("got %d %s %q, want %d %s containing %q", got.code, got.ctype, got.body, tc.code, tc.ctype, tc.bodyMatch)
			}
		})
	}

	// None of the refusals moved the witness off size 5 of history A.
	mustCosign(t, url, wkey, a, a.request(5, 7))
}

func TestAddCheckpointFirstWithOldSize(t *testing.T) {
	a := newTestLog(t, origin, entries("a", 3)...)
	_, _, url := newWitness(t, "w1.test", a)
	got := post(t, url, a.request(2, 3).Encode())
	if got.code != http.StatusConflict || got.ctype != "text/x.tlog.size" || got.body != "0\n" {
		t.Fatalf("got %d %s %q, want 409 text/x.tlog.size \"0\\n\"", got.code, got.ctype, got.body)
	}
}

func TestMethodAndPath(t *testing.T) {
	a := newTestLog(t, origin)
	_, _, url := newWitness(t, "w1.test", a)
	resp, err := http.Get(url + "/add-checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /add-checkpoint: %d, want 405", resp.StatusCode)
	}
	resp, err = http.Post(url+"/other", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /other: %d, want 404", resp.StatusCode)
	}
}

// TestRestartKeepsState: a witness reopened on its directory still
// refuses what it refused before and remembers the size it cosigned.
func TestRestartKeepsState(t *testing.T) {
	a := newTestLog(t, origin, entries("a", 6)...)
	dir, wkey, url := newWitness(t, "w1.test", a)
	mustCosign(t, url, wkey, a, a.request(0, 4))

	url = serve(t, dir)
	if got := post(t, url, a.request(0, 6).Encode()); got.code != http.StatusConflict || got.body != "4\n" {
		t.Fatalf("after restart, old 0: %d %q, want 409 \"4\\n\"", got.code, got.body)
	}
	if got := post(t, url, a.fork(entries("b", 6)...).request(4, 6).Encode()); got.code != http.StatusUnprocessableEntity {
		t.Fatalf("after restart, fork: %d %q, want 422", got.code, got.body)
	}
	mustCosign(t, url, wkey, a, a.request(4, 6))

	s, err := Open(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := s.Latest(context.Background(), origin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.VerifyCosigned(latest, a.vkey, tlog.WitnessPolicy{Threshold: 1, Keys: []string{wkey}}); err != nil {
		t.Fatalf("stored checkpoint: %v", err)
	}
	if cp, _ := tlog.ParseCheckpoint(latest, a.vkey); cp.Size != 6 {
		t.Errorf("stored size %d, want 6", cp.Size)
	}
}

func TestInit(t *testing.T) {
	dir := t.TempDir()
	vkey, err := Init(dir, "w1.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fnote.NewVerifierForCosignatureV1(vkey); err != nil {
		t.Errorf("verifier key %q: %v", vkey, err)
	}
	if got, _ := ReadVerifierKey(dir); got != vkey {
		t.Errorf("ReadVerifierKey = %q, want %q", got, vkey)
	}
	fi, err := os.Stat(filepath.Join(dir, SignerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("signer key mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := Init(dir, "w1.test"); !errors.Is(err, ErrExists) {
		t.Errorf("second Init: %v, want ErrExists", err)
	}
	if _, err := Init(t.TempDir(), "bad name"); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("Init with a space in the name: %v", err)
	}

	l := newTestLog(t, origin)
	for _, tc := range []struct {
		name, origin, key, want string
	}{
		{"bad key", origin, "not-a-key", "key"},
		{"empty origin", "", l.vkey, "origin"},
	} {
		if err := AddLog(dir, tc.origin, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: AddLog = %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
	if err := AddLog(dir, origin, l.vkey); err != nil {
		t.Fatal(err)
	}
	if err := AddLog(dir, origin, l.vkey); !errors.Is(err, ErrExists) {
		t.Errorf("AddLog twice: %v, want ErrExists", err)
	}
	logs, err := ReadLogs(dir)
	if err != nil || len(logs) != 1 || logs[0].Origin != origin {
		t.Errorf("ReadLogs = %v, %v", logs, err)
	}
}
