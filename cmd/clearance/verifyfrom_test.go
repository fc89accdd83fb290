package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/tlog"
	"golang.org/x/mod/sumdb/note"
)

const fromOrigin = "clearance.test/decisions"

// publicSite is an agency as a verifier meets it: a real log in a temp
// directory served over HTTP on 127.0.0.1 at /log/, and the public
// transparency paths serving each decision's exact bundle and receipt.
type publicSite struct {
	t        *testing.T
	dir      string
	url      string
	key      *ecdsa.PrivateKey
	logDir   string
	log      *tlog.Log
	logH     atomic.Pointer[tlog.Handler]
	mu       sync.Mutex
	bundles  map[string][]byte
	receipts map[string][]byte
	n        int
}

func (s *publicSite) path(name string) string { return filepath.Join(s.dir, name) }

func newPublicSite(t *testing.T) *publicSite {
	t.Helper()
	ctx := context.Background()
	s := &publicSite{t: t, dir: t.TempDir(), bundles: map[string][]byte{}, receipts: map[string][]byte{}}
	s.logDir = s.path("log")
	if _, err := tlog.Init(ctx, s.logDir, fromOrigin); err != nil {
		t.Fatal(err)
	}
	l, err := tlog.Open(ctx, s.logDir, tlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.log = l
	t.Cleanup(func() { l.Close(context.Background()) })
	s.serveLog(s.logDir)
	for _, name := range []string{"decider", "other"} {
		k, err := attest.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := attest.WriteKeyFiles(s.path(name), k, nil); err != nil {
			t.Fatal(err)
		}
		if name == "decider" {
			s.key = k
		}
	}
	mux := http.NewServeMux()
	file := func(m map[string][]byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			b, ok := m[r.PathValue("id")]
			s.mu.Unlock()
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
		}
	}
	mux.HandleFunc("GET /transparency/{id}/bundle.json", file(s.bundles))
	mux.HandleFunc("GET /transparency/{id}/receipt.json", file(s.receipts))
	mux.Handle("/log/", http.StripPrefix("/log", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.logH.Load().ServeHTTP(w, r)
	})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.url = "http://" + ln.Addr().String()
	return s
}

// serveLog makes /log/ serve the log in dir (another history, for forks).
func (s *publicSite) serveLog(dir string) {
	h, err := tlog.NewHandler(dir)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { h.Close() })
	s.logH.Store(h)
}

// decision signs a new decision with key; it logs it when logged and
// publishes the bundle (and its receipt) under its id.
func (s *publicSite) decision(key *ecdsa.PrivateKey, logged bool) string {
	s.t.Helper()
	return s.signed(logged, func(d *attest.Decision) ([]byte, error) {
		return attest.SignDecisionDigest(key, d, strings.Repeat("ab", 32))
	})
}

// signed makes a new decision under the next id, has sign sign it, logs
// it when logged and publishes it.
func (s *publicSite) signed(logged bool, sign func(*attest.Decision) ([]byte, error)) string {
	s.t.Helper()
	s.n++
	id := fmt.Sprintf("dec_%02d", s.n)
	var d attest.Decision
	if err := json.Unmarshal([]byte(cliDecision), &d); err != nil {
		s.t.Fatal(err)
	}
	d.DecisionID = id
	b, err := sign(&d)
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.bundles[id] = b
	s.mu.Unlock()
	if logged {
		s.appendEntry(id, b)
	}
	return id
}

func (s *publicSite) appendEntry(id string, entry []byte) {
	s.t.Helper()
	r, err := s.log.Append(context.Background(), entry)
	if err != nil {
		s.t.Fatal(err)
	}
	rb, err := r.Marshal()
	if err != nil {
		s.t.Fatal(err)
	}
	if id != "" {
		s.mu.Lock()
		s.receipts[id] = rb
		s.mu.Unlock()
	}
}

// fork makes a second log under the same log key holding other entries,
// and serves it at /log/ in place of the real one.
func (s *publicSite) fork(entries int) {
	s.t.Helper()
	ctx := context.Background()
	dir := s.path("fork")
	os.MkdirAll(dir, 0o755)
	for _, f := range []string{tlog.VerifierKeyFile, tlog.SignerKeyFile} {
		b, err := os.ReadFile(filepath.Join(s.logDir, f))
		if err != nil {
			s.t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o600)
	}
	l, err := tlog.Open(ctx, dir, tlog.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	defer l.Close(ctx)
	for i := range entries {
		if _, err := l.Append(ctx, []byte(fmt.Sprintf("forked entry %d", i))); err != nil {
			s.t.Fatal(err)
		}
	}
	s.serveLog(dir)
}

// clearance runs the command in-process and returns its exit code and
// output.
func clearanceRun(t *testing.T, vars map[string]string, args ...string) (int, string) {
	t.Helper()
	e, out, errb := attestEnv(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), vars)
	code := run(context.Background(), e, args)
	return code, out.String() + errb.String()
}

func witnessKey(t *testing.T, name string) string {
	_, v, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTrustCLI(t *testing.T) {
	s := newPublicSite(t)
	tf := s.path("trust.json")
	vars := map[string]string{trustEnv: tf}
	wk := witnessKey(t, "witness.test")
	os.WriteFile(s.path("w2.vkey"), []byte(witnessKey(t, "w2.example/witness")+"\n"), 0o644)
	steps := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"trust", "add", "agency", "--key", s.path("decider.pub"), "--log-key", filepath.Join(s.logDir, "log.pub"), "--witness", "w1=" + wk, "--witness", s.path("w2.vkey"), "--witness-threshold", "1"}, 0, "1 of 2 witnesses"},
		{[]string{"trust", "add", "agency", "--key", s.path("decider.pub"), "--log-key", filepath.Join(s.logDir, "log.pub")}, 1, "already exists"},
		{[]string{"trust", "add", "bad", "--key", s.path("decider.pub"), "--log-key", filepath.Join(s.logDir, "log.pub"), "--witness", "w1=" + wk, "--witness-threshold", "2"}, 1, "threshold 2 of 1"},
		{[]string{"trust", "add", "nokey", "--log-key", filepath.Join(s.logDir, "log.pub")}, 2, "--key"},
		{[]string{"trust", "list"}, 0, "agency\tlog " + fromOrigin},
		{[]string{"trust", "show", "agency"}, 0, `"name": "w2.example_witness"`},
		{[]string{"trust", "show", "nobody"}, 1, "no such trust entry"},
		{[]string{"trust", "remove", "agency"}, 0, "removed agency"},
		{[]string{"trust", "list", "--trust", s.path("other.json")}, 0, ""},
	}
	for _, st := range steps {
		code, out := clearanceRun(t, vars, st.args...)
		if code != st.code || !strings.Contains(out, st.contains) {
			t.Fatalf("clearance %v: exit %d, want %d with %q:\n%s", st.args, code, st.code, st.contains, out)
		}
	}
	if st, err := os.Stat(tf); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("trust file: %v, %v; want mode 0600", st, err)
	}
	os.WriteFile(tf, []byte(`{"version":1,"entries":[{"name":"x","decisionKeys":[],"logKey":""}]}`), 0o600)
	if code, out := clearanceRun(t, vars, "trust", "list"); code != 1 || !strings.Contains(out, tf) || !strings.Contains(out, "decisionKeys") {
		t.Fatalf("trust list of a bad file: exit %d, want 1 naming the file and field:\n%s", code, out)
	}
}

// TestVerifyFrom: a decision verifies from its public URL with keys pinned
// by hand, and each kind of failure has its own exit code.
func TestVerifyFrom(t *testing.T) {
	s := newPublicSite(t)
	good := s.decision(s.key, true)
	unlogged := s.decision(s.key, false)
	tampered := s.decision(s.key, true)
	s.mu.Lock()
	b := bytes.Clone(s.bundles[tampered])
	// One signature character changed to another base64 character, so
	// that the bundle still parses and only the signature fails.
	i := bytes.Index(b, []byte(`"sig":"`)) + len(`"sig":"`) + 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	s.bundles[tampered] = b
	s.mu.Unlock()

	logPub := filepath.Join(s.logDir, "log.pub")
	trustAdd := func(file string, extra ...string) {
		args := append([]string{"trust", "add", "agency", "--trust", file, "--log-key", logPub}, extra...)
		if code, out := clearanceRun(t, nil, args...); code != 0 {
			t.Fatalf("clearance %v: exit %d\n%s", args, code, out)
		}
	}
	trustAdd(s.path("trust.json"), "--key", s.path("decider.pub"))
	trustAdd(s.path("wrong.json"), "--key", s.path("other.pub"))
	trustAdd(s.path("witnessed.json"), "--key", s.path("decider.pub"), "--witness", "w1="+witnessKey(t, "witness.test"), "--witness-threshold", "1")
	vars := map[string]string{trustEnv: s.path("trust.json")}

	cases := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"page url", []string{"--from", s.url + "/transparency/" + good}, 0, []string{"signature by", "trust entry agency", "index 0", "consistent with the receipt", "verified: decision " + good}},
		{"base and id", []string{"--from", s.url, "--decision", good, "--require-outcome", "cleared_with_conditions"}, 0, []string{"verified"}},
		{"by origin with explicit name", []string{"--from", s.url + "/transparency/", "--decision", good, "--trust-name", "agency"}, 0, []string{"verified"}},
		{"tampered byte", []string{"--from", s.url + "/transparency/" + tampered}, exitVerifySignature, []string{"signature"}},
		{"wrong key in trust file", []string{"--from", s.url + "/transparency/" + good, "--trust", s.path("wrong.json")}, exitVerifyUntrusted, []string{"not by any decision key of trust entry agency"}},
		{"unlogged", []string{"--from", s.url + "/transparency/" + unlogged}, exitVerifyLog, []string{"no receipt"}},
		// The real site serves neither bundle nor receipt until logged.
		{"unknown", []string{"--from", s.url + "/transparency/dec_99"}, exitVerifyLog, []string{"no logged decision dec_99"}},
		{"witness policy", []string{"--from", s.url + "/transparency/" + good, "--trust", s.path("witnessed.json")}, exitVerifyWitness, []string{"witness policy not met", "wants 1 of 1"}},
		{"no trust entry", []string{"--from", s.url + "/transparency/" + good, "--trust", s.path("empty.json")}, 1, []string{"no entry in trust file", fromOrigin}},
		{"no keys on the command line", []string{"--from", s.url + "/transparency/" + good, "--key", s.path("decider.pub")}, 2, []string{"trust file"}},
		{"bad id", []string{"--from", s.url + "/transparency/../etc"}, 2, []string{"decision id"}},
		{"not a page", []string{"--from", s.url + "/elsewhere"}, 2, []string{"…/transparency/ID"}},
	}
	for _, tc := range cases {
		code, out := clearanceRun(t, vars, append([]string{"verify"}, tc.args...)...)
		if code != tc.code {
			t.Fatalf("%s: verify %v: exit %d, want %d\n%s", tc.name, tc.args, code, tc.code, out)
		}
		for _, w := range tc.contains {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
	}

	// The offline mode is unchanged: the same bundle and receipt, as files.
	os.WriteFile(s.path("good.bundle"), s.bundles[good], 0o644)
	os.WriteFile(s.path("good.bundle.receipt.json"), s.receipts[good], 0o644)
	if code, out := clearanceRun(t, nil, "verify", "--bundle", s.path("good.bundle"), "--key", s.path("decider.pub"), "--log-key", logPub); code != 0 {
		t.Fatalf("offline verify: exit %d\n%s", code, out)
	}

	// The log forks after the receipt: same log key, another history.
	s.fork(4)
	code, out := clearanceRun(t, vars, "verify", "--from", s.url+"/transparency/"+good)
	if code != exitVerifyInconsistent || !strings.Contains(out, "forked") {
		t.Fatalf("forked log: exit %d, want %d\n%s", code, exitVerifyInconsistent, out)
	}
}

func TestVerifyFromHelp(t *testing.T) {
	code, out := clearanceRun(t, nil, "verify", "--help")
	if code != 0 || !strings.Contains(out, "16 log inconsistent") || !strings.Contains(out, "17 witness policy not met") || !strings.Contains(out, "--from") {
		t.Fatalf("verify --help: exit %d\n%s", code, out)
	}
}

// TestFetchLimits: a hostile server cannot make verify --from read
// without end.
func TestVerifyFromFetchLimits(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/transparency/dec_1/bundle.json", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), tlog.MaxEntrySize+10))
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 1<<16)
		for range (maxFetch >> 16) + 4 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	code, out := clearanceRun(t, nil, "verify", "--from", base+"/transparency/dec_1", "--trust", filepath.Join(t.TempDir(), "t.json"))
	if code != 1 || !strings.Contains(out, "more than") {
		t.Fatalf("oversized bundle: exit %d, want 1\n%s", code, out)
	}
	resp, err := fetchClient().Get(base + "/huge")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("ReadAll of an endless body = %v, want a size error", err)
	}
}

var checkedRE = regexp.MustCompile(`(?m)^checked entry (\d+): `)

func checkedIndices(t *testing.T, out string) []int {
	var out2 []int
	for _, m := range checkedRE.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		out2 = append(out2, n)
	}
	return out2
}

// TestWatch follows a log: a clean run, an audit anchor recognised, a bad
// entry signature and a rewritten log each reported (with the webhook),
// and the state only moving over fully checked entries.
func TestWatch(t *testing.T) {
	s := newPublicSite(t)
	tf := s.path("trust.json")
	if code, out := clearanceRun(t, nil, "trust", "add", "agency", "--trust", tf, "--key", s.path("decider.pub"), "--log-key", filepath.Join(s.logDir, "log.pub")); code != 0 {
		t.Fatal(out)
	}
	var hooks []anomaly
	var hmu sync.Mutex
	hook := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a anomaly
		json.NewDecoder(r.Body).Decode(&a)
		hmu.Lock()
		hooks = append(hooks, a)
		hmu.Unlock()
	})}
	hl, _ := net.Listen("tcp", "127.0.0.1:0")
	go hook.Serve(hl)
	defer hook.Close()

	vars := map[string]string{trustEnv: tf}
	state := s.path("watch.json")
	watch := func() (int, string) {
		return clearanceRun(t, vars, "log", "watch", "--url", s.url+"/log/", "--state", state, "--once", "--webhook", "http://"+hl.Addr().String()+"/hook")
	}

	s.decision(s.key, true)
	anchor, _ := json.Marshal(review.AnchorStatement{Type: review.AnchorType, Seq: 7, Hash: strings.Repeat("0", 64)})
	s.appendEntry("", anchor)
	s.decision(s.key, true)
	code, out := watch()
	if code != 0 || !strings.Contains(out, "checked entry 1: audit anchor at sequence 7") || !strings.Contains(out, "checked entry 2: decision dec_02") {
		t.Fatalf("clean watch: exit %d\n%s", code, out)
	}
	if code, out := watch(); code != 0 || len(checkedIndices(t, out)) != 0 {
		t.Fatalf("watch with nothing new: exit %d, want 0 checking nothing\n%s", code, out)
	}

	// An entry signed by a key the trust file does not hold.
	s.decision(s.key, true)
	other, err := attest.ParsePrivateKey(must(os.ReadFile(s.path("other.key"))), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.decision(other, true)
	code, out = watch()
	if code != exitLogEntry || !strings.Contains(out, "ANOMALY entry") || !strings.Contains(out, "entry 4") {
		t.Fatalf("bad entry: exit %d, want %d\n%s", code, exitLogEntry, out)
	}
	if got := checkedIndices(t, out); fmt.Sprint(got) != "[3 4]" {
		t.Fatalf("bad entry run checked %v, want [3 4]", got)
	}

	// The log is rewritten under the same key: reported, state kept.
	before, _ := os.ReadFile(state)
	s.fork(6)
	code, out = watch()
	if code != exitLogInconsistent || !strings.Contains(out, "ANOMALY inconsistent") {
		t.Fatalf("rewritten log: exit %d, want %d\n%s", code, exitLogInconsistent, out)
	}
	if after, _ := os.ReadFile(state); !bytes.Equal(before, after) {
		t.Fatal("state moved over a rewritten log")
	}
	hmu.Lock()
	defer hmu.Unlock()
	if len(hooks) != 2 || hooks[0].Kind != "entry" || hooks[0].Index == nil || *hooks[0].Index != 4 || hooks[1].Kind != "inconsistent" || hooks[1].Log != fromOrigin {
		t.Fatalf("webhook got %+v, want the entry anomaly at 4 then the inconsistency", hooks)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestWatchCrashRestart kills the watcher (SIGKILL of a real process)
// after it checked some new entries and before it recorded them, then
// restarts it, with appends in between: every index is reported checked
// exactly once.
func TestWatchCrashRestart(t *testing.T) {
	s := newPublicSite(t)
	tf := s.path("trust.json")
	if code, out := clearanceRun(t, nil, "trust", "add", "agency", "--trust", tf, "--key", s.path("decider.pub"), "--log-key", filepath.Join(s.logDir, "log.pub")); code != 0 {
		t.Fatal(out)
	}
	state := s.path("watch.json")
	args := []string{"log", "watch", "--url", s.url + "/log/", "--state", state, "--once", "--trust", tf}
	var all []int
	inProcess := func() {
		code, out := clearanceRun(t, nil, args...)
		if code != 0 {
			t.Fatalf("watch: exit %d\n%s", code, out)
		}
		all = append(all, checkedIndices(t, out)...)
	}
	s.decision(s.key, true)
	s.decision(s.key, true)
	inProcess()
	for range 3 {
		s.decision(s.key, true)
	}
	before, _ := os.ReadFile(state)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CLEARANCE_TEST_EXEC=1", watchDieEnv+"=2")
	out, err := cmd.CombinedOutput()
	var xe *exec.ExitError
	if !errors.As(err, &xe) || xe.ExitCode() != -1 {
		t.Fatalf("watcher with %s=2: %v, want killed by a signal\n%s", watchDieEnv, err, out)
	}
	all = append(all, checkedIndices(t, string(out))...)
	if after, _ := os.ReadFile(state); !bytes.Equal(before, after) {
		t.Fatal("the killed watcher moved the state")
	}
	inProcess()
	s.decision(s.key, true)
	inProcess()
	inProcess()
	if fmt.Sprint(all) != "[0 1 2 3 4 5]" {
		t.Fatalf("checked indices over the runs = %v, want each of 0..5 once", all)
	}
}
