package target_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/target"
	"github.com/clearance-dev/clearance/target/targettest"
	"github.com/google/go-cmp/cmp"
)

// fixedNow is the clock used for HTTP-date Retry-After tests.
var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }

// countingServer serves h on loopback and counts requests.
func countingServer(t *testing.T, h http.HandlerFunc) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		// Read the body first: net/http notices a client hanging up (and
		// cancels r.Context()) only once the body is consumed.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func reply(status int, header map[string]string, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		for k, v := range header {
			w.Header().Set(k, v)
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

const okCompletion = `{"id":"c1","object":"chat.completion","created":1,"model":"m-served","choices":[{"index":0,"message":{"role":"assistant","content":"hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`

func userReq(s string) target.Request {
	return target.Request{Messages: []target.Message{{Role: "user", Content: s}}}
}

// wantErr checks an error's kind, status and Retry-After.
type wantErr struct {
	kind       target.ErrorKind
	status     int
	retryAfter time.Duration
	msg        string // substring of Msg, "" to skip
}

func checkErr(t *testing.T, err error, w wantErr) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want kind %s", w.kind)
	}
	var te *target.Error
	if !errors.As(err, &te) {
		t.Fatalf("err = %T %v, want *target.Error", err, err)
	}
	if te.Kind != w.kind || te.Status != w.status || te.RetryAfter != w.retryAfter {
		t.Fatalf("err = {kind %s status %d retry-after %v} (%v), want {kind %s status %d retry-after %v}",
			te.Kind, te.Status, te.RetryAfter, te, w.kind, w.status, w.retryAfter)
	}
	if w.msg != "" && !strings.Contains(te.Msg, w.msg) {
		t.Fatalf("err msg = %q, want it to contain %q", te.Msg, w.msg)
	}
}

// errorCases is the status → kind table shared by the OpenAI and HTTP
// clients (both see plain HTTP responses).
func errorCases() []struct {
	name string
	h    http.HandlerFunc
	want wantErr
} {
	jsonErr := func(typ, msg string) string {
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ}})
		return string(b)
	}
	return []struct {
		name string
		h    http.HandlerFunc
		want wantErr
	}{
		{"429 seconds", reply(429, map[string]string{"Retry-After": "7"}, "application/json", jsonErr("rate_limit_error", "slow down")),
			wantErr{target.KindRateLimited, 429, 7 * time.Second, "slow down"}},
		{"429 http-date", reply(429, map[string]string{"Retry-After": fixedNow.Add(30 * time.Second).Format(http.TimeFormat)}, "application/json", jsonErr("rate_limit_error", "x")),
			wantErr{target.KindRateLimited, 429, 30 * time.Second, ""}},
		{"429 past date", reply(429, map[string]string{"Retry-After": fixedNow.Add(-time.Hour).Format(http.TimeFormat)}, "application/json", jsonErr("rate_limit_error", "x")),
			wantErr{target.KindRateLimited, 429, 0, ""}},
		{"429 retry-after-ms", reply(429, map[string]string{"Retry-After-Ms": "1500", "Retry-After": "9"}, "application/json", jsonErr("rate_limit_error", "x")),
			wantErr{target.KindRateLimited, 429, 1500 * time.Millisecond, ""}},
		{"429 garbage header", reply(429, map[string]string{"Retry-After": "soon"}, "application/json", jsonErr("rate_limit_error", "x")),
			wantErr{target.KindRateLimited, 429, 0, ""}},
		{"429 no body", reply(429, nil, "", ""), wantErr{target.KindRateLimited, 429, 0, "Too Many Requests"}},
		{"503", reply(503, map[string]string{"Retry-After": "2"}, "application/json", jsonErr("server_error", "busy")),
			wantErr{target.KindOverloaded, 503, 2 * time.Second, "busy"}},
		{"529", reply(529, nil, "application/json", jsonErr("overloaded_error", "Overloaded")),
			wantErr{target.KindOverloaded, 529, 0, "Overloaded"}},
		{"500 overloaded body", reply(500, nil, "application/json", jsonErr("overloaded_error", "Overloaded")),
			wantErr{target.KindOverloaded, 500, 0, ""}},
		{"500", reply(500, nil, "application/json", jsonErr("server_error", "boom")),
			wantErr{target.KindServer, 500, 0, "boom"}},
		{"502 html", reply(502, nil, "text/html", "<html>Bad Gateway</html>"),
			wantErr{target.KindServer, 502, 0, "Bad Gateway"}},
		{"400", reply(400, nil, "application/json", jsonErr("invalid_request_error", "max_tokens is too large")),
			wantErr{target.KindClient, 400, 0, "max_tokens is too large"}},
		{"401", reply(401, nil, "application/json", jsonErr("authentication_error", "bad key")),
			wantErr{target.KindClient, 401, 0, "bad key"}},
		{"404 plain", reply(404, nil, "text/plain", "no such model"),
			wantErr{target.KindClient, 404, 0, "no such model"}},
	}
}

func newOpenAI(t *testing.T, cfg target.OpenAIConfig) *target.OpenAI {
	t.Helper()
	if cfg.Model == "" {
		cfg.Model = "m"
	}
	if cfg.Now == nil {
		cfg.Now = clock
	}
	c, err := target.NewOpenAI(cfg)
	if err != nil {
		t.Fatalf("NewOpenAI: %v", err)
	}
	return c
}

func TestOpenAIErrorMapping(t *testing.T) {
	for _, tc := range errorCases() {
		t.Run(tc.name, func(t *testing.T) {
			url, n := countingServer(t, tc.h)
			c := newOpenAI(t, target.OpenAIConfig{BaseURL: url + "/v1"})
			_, err := c.Complete(context.Background(), userReq("hi"))
			checkErr(t, err, tc.want)
			if got := n.Load(); got != 1 {
				t.Fatalf("server saw %d requests, want 1 (the client must not retry)", got)
			}
		})
	}
}

func TestOpenAIMalformedAndTransport(t *testing.T) {
	tests := []struct {
		name    string
		h       http.HandlerFunc
		timeout time.Duration
		want    wantErr
	}{
		{"invalid json", reply(200, nil, "application/json", "{nope"), 0, wantErr{target.KindMalformed, 200, 0, ""}},
		{"not json", reply(200, nil, "text/plain", "hello"), 0, wantErr{target.KindMalformed, 200, 0, ""}},
		{"empty object", reply(200, nil, "application/json", "{}"), 0, wantErr{target.KindMalformed, 200, 0, "no choices"}},
		{"empty choices", reply(200, nil, "application/json", `{"choices":[]}`), 0, wantErr{target.KindMalformed, 200, 0, "no choices"}},
		{"hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, 100 * time.Millisecond, wantErr{target.KindTimeout, 0, 0, ""}},
		{"slow body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			io.WriteString(w, `{"choices":[`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, 100 * time.Millisecond, wantErr{target.KindTimeout, 0, 0, ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, n := countingServer(t, tc.h)
			c := newOpenAI(t, target.OpenAIConfig{BaseURL: url + "/v1", Timeout: tc.timeout})
			_, err := c.Complete(context.Background(), userReq("hi"))
			checkErr(t, err, tc.want)
			if got := n.Load(); got != 1 {
				t.Fatalf("server saw %d requests, want 1", got)
			}
		})
	}
}

func TestOpenAIFakeServerFaults(t *testing.T) {
	tests := []struct {
		fault targettest.Fault
		want  wantErr
	}{
		{targettest.FaultRateLimit, wantErr{target.KindRateLimited, 429, 3 * time.Second, ""}},
		{targettest.FaultServer, wantErr{target.KindServer, 500, 0, ""}},
		{targettest.FaultOverloaded, wantErr{target.KindOverloaded, 503, 3 * time.Second, ""}},
		{targettest.FaultHang, wantErr{target.KindTimeout, 0, 0, ""}},
		{targettest.FaultTruncated, wantErr{target.KindMalformed, 200, 0, ""}},
		{targettest.FaultInvalidJSON, wantErr{target.KindMalformed, 200, 0, ""}},
		{targettest.FaultEmptyChoices, wantErr{target.KindMalformed, 200, 0, ""}},
		{targettest.FaultConnClose, wantErr{target.KindConnection, 0, 0, ""}},
	}
	for _, tc := range tests {
		t.Run(string(tc.fault), func(t *testing.T) {
			fake := targettest.New(t, targettest.Options{RetryAfter: "3", Script: map[int]targettest.Fault{1: tc.fault}})
			c := newOpenAI(t, target.OpenAIConfig{BaseURL: fake.URL, Timeout: 150 * time.Millisecond})
			_, err := c.Complete(context.Background(), userReq("q"))
			checkErr(t, err, tc.want)
			var te *target.Error
			errors.As(err, &te)
			if !te.Retryable() {
				t.Fatalf("%s: Retryable() = false, want true", tc.fault)
			}
			if got := fake.Requests(); got != 1 {
				t.Fatalf("fake saw %d requests, want 1 (no retries)", got)
			}
			// The next request succeeds: the fault was one-off.
			resp, err := c.Complete(context.Background(), userReq("q"))
			if err != nil || resp.Content != "Echo: q" {
				t.Fatalf("second Complete = %q, %v; want the echo", resp.Content, err)
			}
		})
	}
}

func TestOpenAIConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := newOpenAI(t, target.OpenAIConfig{BaseURL: url + "/v1"})
	_, err := c.Complete(context.Background(), userReq("hi"))
	checkErr(t, err, wantErr{target.KindConnection, 0, 0, ""})
}

func TestOpenAICanceled(t *testing.T) {
	url, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c := newOpenAI(t, target.OpenAIConfig{BaseURL: url + "/v1"})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err := c.Complete(ctx, userReq("hi"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want one wrapping context.Canceled", err)
	}
}

func TestOpenAIRequestAndUsage(t *testing.T) {
	var got map[string]any
	var hdr http.Header
	url, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		hdr = r.Header.Clone()
		if r.URL.Path != "/v1/chat/completions" {
			t.Errorf("path = %q, want /v1/chat/completions", r.URL.Path)
		}
		json.NewDecoder(r.Body).Decode(&got)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, okCompletion)
	})
	temp, topP, seed := 0.0, 0.9, int64(42)
	c := newOpenAI(t, target.OpenAIConfig{
		BaseURL: url + "/v1", Model: "gpt-test", APIKey: "sk-secret-123",
		Headers:     map[string]string{"X-Gateway": "g1"},
		Temperature: &temp, MaxTokens: 256, TopP: &topP, Seed: &seed,
	})
	reqTemp := 0.5
	resp, err := c.Complete(context.Background(), target.Request{
		Messages: []target.Message{
			{Role: "system", Content: "be brief"},
			{Role: "user", Content: "hi"},
			{Role: "assistant", Content: "hello"},
			{Role: "user", Content: "again"},
		},
		Temperature: &reqTemp,
		Stop:        []string{"END"},
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	want := target.Response{Content: "hello there", FinishReason: "stop", Model: "m-served", Usage: target.Usage{InputTokens: 12, OutputTokens: 3}}
	if d := cmp.Diff(want, resp); d != "" {
		t.Fatalf("response (-want +got):\n%s", d)
	}
	if a := hdr.Get("Authorization"); a != "Bearer sk-secret-123" {
		t.Fatalf("Authorization = %q, want the bearer key", a)
	}
	if g := hdr.Get("X-Gateway"); g != "g1" {
		t.Fatalf("X-Gateway = %q, want g1", g)
	}
	if hdr.Get("X-Stainless-Retry-Count") != "0" {
		t.Fatalf("X-Stainless-Retry-Count = %q, want 0", hdr.Get("X-Stainless-Retry-Count"))
	}
	wantBody := map[string]any{
		"model": "gpt-test", "temperature": 0.5, "top_p": 0.9, "seed": float64(42), "max_tokens": float64(256),
		"stop": []any{"END"},
		"messages": []any{
			map[string]any{"role": "system", "content": "be brief"},
			map[string]any{"role": "user", "content": "hi"},
			map[string]any{"role": "assistant", "content": "hello"},
			map[string]any{"role": "user", "content": "again"},
		},
	}
	if d := cmp.Diff(wantBody, got); d != "" {
		t.Fatalf("request body (-want +got):\n%s", d)
	}
	id := c.Identity()
	if strings.Contains(id, "sk-secret") || strings.Contains(id, "g1") {
		t.Fatalf("Identity() = %q leaks a secret", id)
	}
	wantID := "openai base_url=" + url + "/v1 model=gpt-test temperature=0 max_tokens=256 top_p=0.9 seed=42"
	if id != wantID {
		t.Fatalf("Identity() = %q, want %q", id, wantID)
	}
}

func TestOpenAIMaxCompletionTokensAndDefaults(t *testing.T) {
	var got map[string]any
	url, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, okCompletion)
	})
	c := newOpenAI(t, target.OpenAIConfig{BaseURL: url + "/v1", MaxTokens: 100, MaxCompletionTokens: true})
	if _, err := c.Complete(context.Background(), target.Request{Messages: userReq("x").Messages, MaxTokens: 7}); err != nil {
		t.Fatal(err)
	}
	if got["max_completion_tokens"] != float64(7) || got["max_tokens"] != nil || got["temperature"] != nil || got["seed"] != nil {
		t.Fatalf("body = %v, want max_completion_tokens 7 and no max_tokens/temperature/seed", got)
	}
}

func TestOpenAIIgnoresEnvironment(t *testing.T) {
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
	t.Setenv("OPENAI_API_KEY", "sk-from-env")
	t.Setenv("OPENAI_ORG_ID", "org-env")
	fake := targettest.New(t, targettest.Options{})
	c := newOpenAI(t, target.OpenAIConfig{BaseURL: fake.URL})
	if _, err := c.Complete(context.Background(), userReq("x")); err != nil {
		t.Fatalf("Complete: %v (environment leaked into the client?)", err)
	}
	h := fake.LastHeader()
	if h.Get("Authorization") != "" || h.Get("OpenAI-Organization") != "" {
		t.Fatalf("headers %v carry environment credentials", h)
	}
}

func TestOpenAIConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  target.OpenAIConfig
		want string
	}{
		{target.OpenAIConfig{BaseURL: "http://x/v1"}, "model is required"},
		{target.OpenAIConfig{Model: "m"}, "base URL is required"},
		{target.OpenAIConfig{Model: "m", BaseURL: "ftp://x"}, "scheme must be http or https"},
		{target.OpenAIConfig{Model: "m", BaseURL: "http:///v1"}, "host is missing"},
		{target.OpenAIConfig{Model: "m", BaseURL: "http://x", MaxTokens: -1}, "negative"},
	}
	for _, tc := range tests {
		_, err := target.NewOpenAI(tc.cfg)
		if !errors.Is(err, target.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewOpenAI(%+v) = %v, want ErrInvalidConfig containing %q", tc.cfg, err, tc.want)
		}
	}
}

func TestOpenAIBadRequestRoles(t *testing.T) {
	c := newOpenAI(t, target.OpenAIConfig{BaseURL: "http://127.0.0.1:1/v1"})
	for _, req := range []target.Request{{}, {Messages: []target.Message{{Role: "tool", Content: "x"}}}} {
		_, err := c.Complete(context.Background(), req)
		checkErr(t, err, wantErr{target.KindClient, 0, 0, ""})
	}
}

// completer is the shape the assess runner consumes; every client has it.
type completer interface {
	Complete(ctx context.Context, req target.Request) (target.Response, error)
	Identity() string
}

var (
	_ completer = (*target.OpenAI)(nil)
	_ completer = (*target.Anthropic)(nil)
	_ completer = (*target.HTTP)(nil)
	_ completer = (*target.Replay)(nil)
	_ completer = (*target.Reference)(nil)
)
