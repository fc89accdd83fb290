package tlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/witness"
	"github.com/transparency-dev/tessera/client"
)

const witnessedOrigin = "clearance.test/witnessed"

// testWitness is a witness directory and, when up, its server.
type testWitness struct {
	dir, vkey, url string
}

// startWitnesses creates n witnesses following the log with key logKey
// and serves the first up of them on 127.0.0.1; the others' URLs refuse
// connections (a witness that is down).
func startWitnesses(t *testing.T, n, up int, logKey string) []testWitness {
	t.Helper()
	var ws []testWitness
	for i := range n {
		dir := t.TempDir()
		vkey, err := witness.Init(dir, fmt.Sprintf("w%d.test", i+1))
		if err != nil {
			t.Fatal(err)
		}
		if err := witness.AddLog(dir, witnessedOrigin, logKey); err != nil {
			t.Fatal(err)
		}
		s, err := witness.Open(t.Context(), dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s)
		if i < up {
			t.Cleanup(srv.Close)
		} else {
			srv.Close()
		}
		ws = append(ws, testWitness{dir: dir, vkey: vkey, url: srv.URL})
	}
	return ws
}

func witnessOptions(ws []testWitness, threshold int) tlog.Options {
	o := tlog.Options{WitnessThreshold: threshold, WitnessTimeout: 5 * time.Second}
	for i, w := range ws {
		u := w.url
		if i == 1 {
			u += "/add-checkpoint" // the full endpoint is accepted too
		}
		o.Witnesses = append(o.Witnesses, tlog.WitnessConfig{Name: fmt.Sprintf("w%d", i+1), Key: w.vkey, URL: u})
	}
	return o
}

func policy(ws []testWitness, threshold int) tlog.WitnessPolicy {
	p := tlog.WitnessPolicy{Threshold: threshold}
	for _, w := range ws {
		p.Keys = append(p.Keys, w.vkey)
	}
	return p
}

func appendN(t *testing.T, l *tlog.Log, prefix string, n int) *tlog.Receipt {
	t.Helper()
	var r *tlog.Receipt
	for i := range n {
		var err error
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		r, err = l.Append(ctx, fmt.Appendf(nil, "%s %d", prefix, i))
		cancel()
		if err != nil {
			t.Fatalf("append %s %d: %v", prefix, i, err)
		}
	}
	return r
}

func closeLog(t *testing.T, l *tlog.Log) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestWitnessedLog: a log with three witnesses on 127.0.0.1, one of them
// down, and a threshold of 2 publishes checkpoints that meet a 2-of-3
// policy and not a 3-of-3 one.
func TestWitnessedLog(t *testing.T) {
	dir := t.TempDir()
	vkey, err := tlog.Init(t.Context(), dir, witnessedOrigin)
	if err != nil {
		t.Fatal(err)
	}
	ws := startWitnesses(t, 3, 2, vkey)
	l, err := tlog.Open(t.Context(), dir, witnessOptions(ws, 2))
	if err != nil {
		t.Fatal(err)
	}
	r := appendN(t, l, "decision", 3)
	closeLog(t, l)

	for name, raw := range map[string][]byte{"receipt": []byte(r.Checkpoint), "published": mustRead(t, filepath.Join(dir, "checkpoint"))} {
		c, err := tlog.VerifyCosigned(raw, vkey, policy(ws, 2))
		if err != nil {
			t.Fatalf("%s checkpoint, 2 of 3: %v\n%s", name, err, raw)
		}
		if len(c.Witnesses) != 2 || c.Size == 0 {
			t.Errorf("%s checkpoint: size %d cosigned by %v, want 2 witnesses", name, c.Size, c.Witnesses)
		}
		if _, err := tlog.VerifyCosigned(raw, vkey, policy(ws, 3)); !errors.Is(err, tlog.ErrWitnessPolicy) {
			t.Errorf("%s checkpoint, 3 of 3: %v, want ErrWitnessPolicy", name, err)
		}
	}
}

// TestWitnessPolicyUnmetFailsClosed: with fewer witnesses up than the
// threshold, no checkpoint is published and appends wait.
func TestWitnessPolicyUnmetFailsClosed(t *testing.T) {
	dir := t.TempDir()
	vkey, err := tlog.Init(t.Context(), dir, witnessedOrigin)
	if err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, filepath.Join(dir, "checkpoint"))
	ws := startWitnesses(t, 3, 1, vkey)
	l, err := tlog.Open(t.Context(), dir, witnessOptions(ws, 2))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	_, err = l.Append(ctx, []byte("decision"))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("append with 1 of 2 witnesses: %v, want a deadline", err)
	}
	// Close waits for the entry's checkpoint, which never comes.
	cctx, ccancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	l.Close(cctx)
	ccancel()
	if after := mustRead(t, filepath.Join(dir, "checkpoint")); !bytes.Equal(before, after) {
		t.Errorf("checkpoint published below the witness policy:\n%s", after)
	}
}

// TestSplitView: two histories under one log key. Witnesses that cosigned
// history A refuse history B, so B's checkpoint, which the log's
// signature alone would accept, fails the witness policy.
func TestSplitView(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	vkey, err := tlog.Init(t.Context(), dirA, witnessedOrigin)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{tlog.SignerKeyFile, tlog.VerifierKeyFile} {
		b := mustRead(t, filepath.Join(dirA, f))
		if err := os.WriteFile(filepath.Join(dirB, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// B starts like A: an empty log, published without witnesses.
	lb, err := tlog.Open(t.Context(), dirB, tlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	closeLog(t, lb)

	ws := startWitnesses(t, 3, 3, vkey)
	la, err := tlog.Open(t.Context(), dirA, witnessOptions(ws, 2))
	if err != nil {
		t.Fatal(err)
	}
	ra := appendN(t, la, "history A", 3)
	closeLog(t, la)
	if _, err := tlog.VerifyCosigned([]byte(ra.Checkpoint), vkey, policy(ws, 2)); err != nil {
		t.Fatalf("history A: %v", err)
	}

	// B is published anyway (fail-open) so that a reader can be shown it.
	opts := witnessOptions(ws, 2)
	opts.WitnessFailOpen = true
	lb, err = tlog.Open(t.Context(), dirB, opts)
	if err != nil {
		t.Fatal(err)
	}
	rb := appendN(t, lb, "history B", 4)
	closeLog(t, lb)

	cpB, err := tlog.ParseCheckpoint([]byte(rb.Checkpoint), vkey)
	if err != nil {
		t.Fatalf("history B under the log key alone: %v (a split view needs it to verify)", err)
	}
	if _, err := tlog.VerifyCosigned([]byte(rb.Checkpoint), vkey, policy(ws, 2)); !errors.Is(err, tlog.ErrWitnessPolicy) {
		t.Fatalf("history B, 2 of 3 witnesses: %v, want ErrWitnessPolicy", err)
	}

	// Each witness still holds history A, and refuses B's checkpoint
	// however it is presented.
	cpA, _ := tlog.ParseCheckpoint([]byte(ra.Checkpoint), vkey)
	src, err := tlog.OpenSource(dirB, nil)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := client.NewProofBuilder(t.Context(), cpB.Size, src.ReadTile)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := pb.ConsistencyProof(t.Context(), cpA.Size, cpB.Size)
	if err != nil {
		t.Fatal(err)
	}
	req := &witness.Request{OldSize: cpA.Size, Proof: proof, Checkpoint: []byte(rb.Checkpoint)}
	for _, w := range ws {
		code, body := postCheckpoint(t, w.url, req.Encode())
		if code != http.StatusUnprocessableEntity {
			t.Errorf("witness %s, B from A's size: %d %q, want 422", w.url, code, body)
		}
		s, err := witness.Open(t.Context(), w.dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		latest, err := s.Latest(t.Context(), witnessedOrigin)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := tlog.ParseCheckpoint(latest, vkey); got == nil || got.Size != cpA.Size || !bytes.Equal(got.Hash, cpA.Hash) {
			t.Errorf("witness %s holds %+v, want history A's %+v", w.url, got, cpA)
		}
	}
}

func postCheckpoint(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(strings.TrimSuffix(url, "/")+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWitnessOptionsInvalid: a bad witness configuration stops Open with
// a message naming the witness and the problem.
func TestWitnessOptionsInvalid(t *testing.T) {
	dir := t.TempDir()
	vkey, err := tlog.Init(t.Context(), dir, witnessedOrigin)
	if err != nil {
		t.Fatal(err)
	}
	ws := startWitnesses(t, 2, 0, vkey)
	good := tlog.WitnessConfig{Name: "w1", Key: ws[0].vkey, URL: "http://127.0.0.1:1"}
	for _, tc := range []struct {
		name string
		opts tlog.Options
		want string
	}{
		{"threshold over witnesses", tlog.Options{Witnesses: []tlog.WitnessConfig{good}, WitnessThreshold: 2}, "threshold 2 of 1"},
		{"threshold without witnesses", tlog.Options{WitnessThreshold: 1}, "without witnesses"},
		{"bad key", tlog.Options{Witnesses: []tlog.WitnessConfig{{Name: "w9", Key: "nonsense", URL: "http://127.0.0.1:1"}}}, "w9: key"},
		{"bad URL", tlog.Options{Witnesses: []tlog.WitnessConfig{{Key: ws[0].vkey, URL: "127.0.0.1:1"}}}, "witness 1: URL"},
		{"listed twice", tlog.Options{Witnesses: []tlog.WitnessConfig{good, good}}, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := tlog.Open(t.Context(), dir, tc.opts)
			if err == nil {
				closeLog(t, l)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
