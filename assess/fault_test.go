package assess

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/target"
	"github.com/clearance-dev/clearance/target/targettest"
	"github.com/google/go-cmp/cmp"
)

func bucket(prompt string, n uint32) uint32 {
	h := fnv.New32a()
	h.Write([]byte(prompt))
	return h.Sum32() % n
}

// deterministicAnswer refuses about half the prompts and answers the rest,
// the same way every time.
func deterministicAnswer(prompt string) string {
	if bucket(prompt, 2) == 0 {
		return "I can't help with that."
	}
	return "Sure, here is an overview:\nStep 1: gather the materials.\nStep 2: follow the procedure carefully."
}

func openAI(t testing.TB, url string) *target.OpenAI {
	t.Helper()
	c, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: url, Model: "fake-model"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readAll(t testing.TB, dir string) []*Record {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "samples.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*Record
	if err := ReadRecords(f, func(_ int, r *Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFaultInjection runs against a target that answers 429 with
// Retry-After, 500s, hangs past the request timeout, truncated and invalid
// JSON and empty choices. The run must complete, record every failure on its
// sample, never count a failure as a refusal or a pass, and bound retries.
func TestFaultInjection(t *testing.T) {
	const attempts = 3
	faultFor := func(prompt string, attempt int) targettest.Fault {
		switch bucket(prompt, 16) {
		case 0:
			return targettest.FaultServer // always
		case 1:
			return targettest.FaultTruncated // always
		case 2:
			return targettest.FaultInvalidJSON // always
		case 3:
			return targettest.FaultEmptyChoices // always
		case 4:
			if attempt == 1 {
				return targettest.FaultRateLimit
			}
		case 5:
			if attempt == 1 {
				return targettest.FaultHang
			}
		case 6:
			if attempt == 1 {
				return targettest.FaultOverloaded
			}
		case 7:
			if attempt == 1 {
				return targettest.FaultConnClose
			}
		case 8:
			return targettest.FaultHang // always: times out every attempt
		}
		return targettest.FaultNone
	}
	srv := targettest.New(t, targettest.Options{
		Answer: deterministicAnswer, RetryAfter: "1",
		FaultFunc: func(_ int, prompt string, attempt int) targettest.Fault { return faultFor(prompt, attempt) },
	})
	seq, n, info := plan(t, []string{"misuse"}, 160, 7)
	dir := t.TempDir()
	res, err := Run(context.Background(), Config{
		Target: openAI(t, srv.URL), Plan: seq, Total: n, PlanKey: info, Scorers: scorersFor(t, seq), OutDir: dir,
		Attempts: attempts, RequestTimeout: 300 * time.Millisecond, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Metrics.Status != "complete" || res.Metrics.Samples != n {
		t.Fatalf("status %s with %d of %d samples", res.Metrics.Status, res.Metrics.Samples, n)
	}
	wantKind := map[uint32]target.ErrorKind{0: target.KindServer, 1: target.KindMalformed, 2: target.KindMalformed, 3: target.KindMalformed, 8: target.KindTimeout}
	seen := map[uint32]int{}
	for _, r := range readAll(t, dir) {
		prompt := lastUser(r.Messages)
		b := bucket(prompt, 16)
		seen[b]++
		if r.Requests > attempts {
			t.Errorf("%s: %d requests, want at most %d", r.ID, r.Requests, attempts)
		}
		if k, failing := wantKind[b]; failing {
			if r.Error == nil || r.Error.Kind != string(k) || r.Verdict != nil {
				t.Errorf("%s (bucket %d): error %+v verdict %+v, want a %s error and no verdict", r.ID, b, r.Error, r.Verdict, k)
			}
			if r.Requests != attempts {
				t.Errorf("%s: %d requests for a persistent fault, want exactly %d", r.ID, r.Requests, attempts)
			}
			continue
		}
		if r.Error != nil || r.Verdict == nil {
			t.Errorf("%s (bucket %d): error %+v, want a verdict after retrying a transient fault", r.ID, b, r.Error)
			continue
		}
		if wantFlag := bucket(prompt, 2) != 0; r.Verdict.Flagged != wantFlag {
			t.Errorf("%s: flagged %v, want %v for answer %q", r.ID, r.Verdict.Flagged, wantFlag, r.Response)
		}
	}
	for b := range uint32(9) {
		if seen[b] == 0 {
			t.Errorf("no sample fell in fault bucket %d: the test exercises nothing there", b)
		}
	}
	m := res.Metrics
	if m.Scored+m.Errors != m.Samples {
		t.Fatalf("scored %d + errors %d != samples %d", m.Scored, m.Errors, m.Samples)
	}
	g := m.Groups[0]
	if g.Overall.N != m.Scored || g.Overall.Errors != m.Errors {
		t.Fatalf("group counts n=%d errors=%d, want %d and %d: errors leaked into the rate", g.Overall.N, g.Overall.Errors, m.Scored, m.Errors)
	}
	if got := int64(srv.Requests()); got > int64(n*attempts) || got != res.Run.Stats.Requests {
		t.Fatalf("server saw %d requests, runner counted %d, bound %d", got, res.Run.Stats.Requests, n*attempts)
	}
}

// TestResumeAfterKill kills a run with SIGKILL half way, runs it again in
// the same directory, and checks that no completed sample is asked again
// and that the metrics equal those of an uninterrupted run.
func TestResumeAfterKill(t *testing.T) {
	if os.Getenv("CLEARANCE_RESUME_CHILD") != "" {
		t.Skip("parent only")
	}
	srv := targettest.New(t, targettest.Options{Answer: deterministicAnswer, Latency: 15 * time.Millisecond})
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestResumeChild$", "-test.v")
	cmd.Env = append(os.Environ(), "CLEARANCE_RESUME_CHILD=1", "CHILD_URL="+srv.URL, "CHILD_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	samples := filepath.Join(dir, "samples.jsonl")
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(samples)
		if strings.Count(string(b), "\n") >= 120 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("child wrote too few samples in 60s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	if _, err := repairTail(samples); err != nil {
		t.Fatal(err)
	}
	before := readAll(t, dir)
	if len(before) < 120 {
		t.Fatalf("only %d samples survived the kill", len(before))
	}
	seq, n, info := plan(t, []string{"misuse"}, 400, 3)
	if len(before) >= n {
		t.Fatalf("the child finished all %d samples before the kill; the test needs a partial run", n)
	}
	res, err := Run(context.Background(), Config{Target: openAI(t, srv.URL), Plan: seq, Total: n, PlanKey: info, Scorers: scorersFor(t, seq), OutDir: dir, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Stats.Resumed != len(before) {
		t.Fatalf("resumed %d samples, want %d", res.Run.Stats.Resumed, len(before))
	}
	for _, r := range before {
		if c := srv.PromptCount(lastUser(r.Messages)); c != 1 {
			t.Fatalf("sample %s completed before the kill was requested %d times", r.ID, c)
		}
	}

	fresh := targettest.New(t, targettest.Options{Answer: deterministicAnswer})
	res2, err := Run(context.Background(), Config{Target: openAI(t, fresh.URL), Plan: seq, Total: n, PlanKey: info, Scorers: scorersFor(t, seq), OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(res.Metrics)
	b, _ := json.Marshal(res2.Metrics)
	if string(a) != string(b) {
		t.Fatalf("resumed metrics differ from an uninterrupted run:\n%s", cmp.Diff(res2.Metrics, res.Metrics))
	}
	if res.Metrics.Samples != n {
		t.Fatalf("resumed run has %d samples, want %d", res.Metrics.Samples, n)
	}
}

// TestResumeChild is the process TestResumeAfterKill kills.
func TestResumeChild(t *testing.T) {
	if os.Getenv("CLEARANCE_RESUME_CHILD") == "" {
		t.Skip("run by TestResumeAfterKill")
	}
	seq, n, info := plan(t, []string{"misuse"}, 400, 3)
	_, err := Run(context.Background(), Config{Target: openAI(t, os.Getenv("CHILD_URL")), Plan: seq, Total: n, PlanKey: info, Scorers: scorersFor(t, seq), OutDir: os.Getenv("CHILD_DIR"), Concurrency: 8})
	t.Fatalf("child run ended before it was killed: %v", err)
}
