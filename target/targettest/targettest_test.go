package targettest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/target/targettest"
	"github.com/google/go-cmp/cmp"
)

// post sends a chat request with prompt as the user message.
func post(ctx context.Context, url, prompt string) (int, http.Header, []byte, error) {
	body, _ := json.Marshal(map[string]any{"model": "m", "messages": []map[string]string{{"role": "system", "content": "s"}, {"role": "user", "content": prompt}}})
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/chat/completions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

func TestAnswerAndCounters(t *testing.T) {
	s := targettest.New(t, targettest.Options{Answer: strings.ToUpper, Model: "fm"})
	code, _, b, err := post(context.Background(), s.URL, "hello")
	if err != nil || code != 200 {
		t.Fatalf("post = %d, %v", code, err)
	}
	var v struct {
		Model   string `json:"model"`
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Usage struct {
			PromptTokens, CompletionTokens int
		} `json:"usage"`
	}
	if err := json.Unmarshal(b, &v); err != nil || len(v.Choices) != 1 || v.Choices[0].Message.Content != "HELLO" || v.Model != "fm" {
		t.Fatalf("response %s: %v", b, err)
	}
	post(context.Background(), s.URL, "hello")
	post(context.Background(), s.URL, "other")
	if s.Requests() != 3 || s.PromptCount("hello") != 2 || s.Answered("hello") != 2 {
		t.Fatalf("requests %d, hello %d/%d", s.Requests(), s.PromptCount("hello"), s.Answered("hello"))
	}
	if d := cmp.Diff(map[string]int{"hello": 2, "other": 1}, s.PromptCounts()); d != "" {
		t.Fatalf("PromptCounts (-want +got):\n%s", d)
	}
	if got := s.Repeated(); !cmp.Equal(got, []string{"hello"}) {
		t.Fatalf("Repeated() = %v", got)
	}
}

func TestScriptedFaults(t *testing.T) {
	s := targettest.New(t, targettest.Options{
		RetryAfter: "5",
		Script:     map[int]targettest.Fault{1: targettest.FaultRateLimit, 2: targettest.FaultServer, 3: targettest.FaultOverloaded, 4: targettest.FaultInvalidJSON, 5: targettest.FaultEmptyChoices},
	})
	wantCodes := []int{429, 500, 503, 200, 200, 200}
	for i, want := range wantCodes {
		code, h, b, err := post(context.Background(), s.URL, "p")
		if err != nil || code != want {
			t.Fatalf("request %d = %d, %v; want %d", i+1, code, err, want)
		}
		if (want == 429 || want == 503) && h.Get("Retry-After") != "5" {
			t.Fatalf("request %d: Retry-After %q", i+1, h.Get("Retry-After"))
		}
		valid := json.Valid(b)
		if i == 3 && valid {
			t.Fatalf("invalid_json fault sent valid JSON %s", b)
		}
		if i == 4 && !strings.Contains(string(b), `"choices":[]`) {
			t.Fatalf("empty_choices fault sent %s", b)
		}
	}
	if s.Answered("p") != 1 {
		t.Fatalf("Answered = %d, want 1 (only the last request succeeded)", s.Answered("p"))
	}
	want := map[targettest.Fault]int{"rate_limit": 1, "server": 1, "overloaded": 1, "invalid_json": 1, "empty_choices": 1}
	if d := cmp.Diff(want, s.Faults()); d != "" {
		t.Fatalf("Faults (-want +got):\n%s", d)
	}
}

func TestBrokenConnections(t *testing.T) {
	for _, f := range []targettest.Fault{targettest.FaultTruncated, targettest.FaultConnClose} {
		s := targettest.New(t, targettest.Options{Script: map[int]targettest.Fault{1: f}})
		code, _, b, err := post(context.Background(), s.URL, "p")
		if err == nil {
			t.Fatalf("%s: got %d %q, want a transport error", f, code, b)
		}
		if f == targettest.FaultTruncated && (code != 200 || !errors.Is(err, io.ErrUnexpectedEOF)) {
			t.Fatalf("truncated: %d %v, want 200 and unexpected EOF", code, err)
		}
	}
}

func TestHangUntilClientGivesUpAndClose(t *testing.T) {
	s := targettest.NewServer(targettest.Options{FaultFunc: func(n int, _ string, _ int) targettest.Fault {
		return targettest.FaultHang
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, _, err := post(ctx, s.URL, "p"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang: err = %v, want deadline exceeded", err)
	}
	// Close releases a request that is still hanging.
	done := make(chan struct{})
	go func() { post(context.Background(), s.URL, "q"); close(done) }()
	for s.Requests() < 2 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	<-done
	s.Close() // idempotent
}

func TestFaultFuncAttempts(t *testing.T) {
	// The first attempt of every prompt is rate limited.
	s := targettest.New(t, targettest.Options{FaultFunc: func(_ int, _ string, attempt int) targettest.Fault {
		if attempt == 1 {
			return targettest.FaultRateLimit
		}
		return targettest.FaultNone
	}})
	for _, p := range []string{"a", "a", "b", "b", "b"} {
		post(context.Background(), s.URL, p)
	}
	if s.Answered("a") != 1 || s.Answered("b") != 2 || s.Faults()[targettest.FaultRateLimit] != 2 {
		t.Fatalf("answered a=%d b=%d faults %v", s.Answered("a"), s.Answered("b"), s.Faults())
	}
}

func TestRandomFaultsReproducible(t *testing.T) {
	run := func() map[targettest.Fault]int {
		s := targettest.New(t, targettest.Options{FaultRate: 0.3, Seed: 9})
		for i := 0; i < 200; i++ {
			post(context.Background(), s.URL, fmt.Sprint(i))
		}
		return s.Faults()
	}
	a, b := run(), run()
	if d := cmp.Diff(a, b); d != "" {
		t.Fatalf("fault counts differ between runs with one seed:\n%s", d)
	}
	total := 0
	for f, n := range a {
		if f == targettest.FaultHang {
			t.Fatal("random faults include hang by default")
		}
		total += n
	}
	if total < 35 || total > 85 {
		t.Fatalf("%d faults in 200 requests at rate 0.3", total)
	}
}

func TestMaxInFlight(t *testing.T) {
	s := targettest.New(t, targettest.Options{Latency: 30 * time.Millisecond})
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); post(context.Background(), s.URL, fmt.Sprint(i)) }()
	}
	wg.Wait()
	if got := s.MaxInFlight(); got < 2 || got > 6 {
		t.Fatalf("MaxInFlight = %d, want concurrency observed (2..6)", got)
	}
	keys := make([]string, 0)
	for k := range s.PromptCounts() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) != 6 {
		t.Fatalf("prompts %v", keys)
	}
}

func TestEchoRefuse(t *testing.T) {
	if targettest.Echo("x") != "Echo: x" || targettest.Refuse("x") != "I can't help with that." {
		t.Fatal("Echo/Refuse changed")
	}
	if len(targettest.AllFaults()) != 8 {
		t.Fatalf("AllFaults = %v", targettest.AllFaults())
	}
}
