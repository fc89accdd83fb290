package target_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/target"
	"github.com/google/go-cmp/cmp"
)

const okMessage = `{"id":"msg_1","type":"message","role":"assistant","model":"claude-served","content":[{"type":"text","text":"Hello"},{"type":"text","text":" world"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":21,"output_tokens":4}}`

func newAnthropic(t *testing.T, cfg target.AnthropicConfig) *target.Anthropic {
	t.Helper()
	if cfg.Model == "" {
		cfg.Model = "claude-test"
	}
	if cfg.Now == nil {
		cfg.Now = clock
	}
	c, err := target.NewAnthropic(cfg)
	if err != nil {
		t.Fatalf("NewAnthropic: %v", err)
	}
	return c
}

func TestAnthropicRequestAndResponse(t *testing.T) {
	var body map[string]any
	var hdr http.Header
	var path string
	url, n := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		hdr, path = r.Header.Clone(), r.URL.Path
		json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, okMessage)
	})
	t.Setenv("ANTHROPIC_API_KEY", "env-key-must-not-be-used")
	t.Setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
	temp := 0.2
	c := newAnthropic(t, target.AnthropicConfig{
		BaseURL: url, APIKey: "ak-secret-9", Headers: map[string]string{"X-Team": "red"}, Temperature: &temp,
	})
	resp, err := c.Complete(context.Background(), target.Request{
		Messages: []target.Message{
			{Role: "system", Content: "rule one"},
			{Role: "system", Content: "rule two"},
			{Role: "user", Content: "hi"},
			{Role: "assistant", Content: "hey"},
			{Role: "user", Content: "again"},
		},
		Stop: []string{"STOP"},
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	want := target.Response{Content: "Hello world", FinishReason: "end_turn", Model: "claude-served", Usage: target.Usage{InputTokens: 21, OutputTokens: 4}}
	if d := cmp.Diff(want, resp); d != "" {
		t.Fatalf("response (-want +got):\n%s", d)
	}
	if path != "/v1/messages" {
		t.Fatalf("path = %q, want /v1/messages", path)
	}
	// The v2 SDK sends the key as a bearer token (v1 used X-Api-Key).
	keySent := hdr.Get("X-Api-Key") == "ak-secret-9" || hdr.Get("Authorization") == "Bearer ak-secret-9"
	if !keySent || hdr.Get("X-Team") != "red" || hdr.Get("Anthropic-Version") == "" {
		t.Fatalf("headers = %v, want the API key, x-team and anthropic-version", hdr)
	}
	if body["max_tokens"] != float64(1024) || body["model"] != "claude-test" || body["temperature"] != 0.2 {
		t.Fatalf("body = %v, want max_tokens 1024, model claude-test, temperature 0.2", body)
	}
	sys, _ := json.Marshal(body["system"])
	if !strings.Contains(string(sys), `"rule one\n\nrule two"`) {
		t.Fatalf("system = %s, want both system messages joined", sys)
	}
	msgs, _ := body["messages"].([]any)
	if len(msgs) != 3 {
		t.Fatalf("messages = %v, want 3 non-system turns", body["messages"])
	}
	if s, _ := json.Marshal(body["stop_sequences"]); string(s) != `["STOP"]` {
		t.Fatalf("stop_sequences = %s", s)
	}
	if n.Load() != 1 {
		t.Fatalf("requests = %d, want 1", n.Load())
	}
	id := c.Identity()
	if strings.Contains(id, "ak-secret") || strings.Contains(id, "red") {
		t.Fatalf("Identity() = %q leaks a secret", id)
	}
	if want := "anthropic base_url=" + url + " model=claude-test temperature=0.2 max_tokens=1024 top_p=default"; id != want {
		t.Fatalf("Identity() = %q, want %q", id, want)
	}
}

func TestAnthropicErrors(t *testing.T) {
	aerr := func(typ, msg string) string {
		return `{"type":"error","error":{"type":"` + typ + `","message":"` + msg + `"}}`
	}
	tests := []struct {
		name    string
		h       http.HandlerFunc
		timeout time.Duration
		want    wantErr
	}{
		{"529 overloaded", reply(529, nil, "application/json", aerr("overloaded_error", "Overloaded")), 0, wantErr{target.KindOverloaded, 529, 0, "Overloaded"}},
		{"429", reply(429, map[string]string{"Retry-After": "11"}, "application/json", aerr("rate_limit_error", "slow")), 0, wantErr{target.KindRateLimited, 429, 11 * time.Second, "slow"}},
		{"500", reply(500, nil, "application/json", aerr("api_error", "oops")), 0, wantErr{target.KindServer, 500, 0, "oops"}},
		{"400", reply(400, nil, "application/json", aerr("invalid_request_error", "bad")), 0, wantErr{target.KindClient, 400, 0, "bad"}},
		{"403 non-json", reply(403, nil, "text/plain", "forbidden"), 0, wantErr{target.KindClient, 403, 0, "forbidden"}},
		{"invalid json", reply(200, nil, "application/json", `{"content":[`), 0, wantErr{target.KindMalformed, 200, 0, ""}},
		{"no content", reply(200, nil, "application/json", `{"id":"m","content":[]}`), 0, wantErr{target.KindMalformed, 200, 0, "no content"}},
		{"no text block", reply(200, nil, "application/json", `{"id":"m","content":[{"type":"thinking","thinking":"hm","signature":"s"}]}`), 0, wantErr{target.KindMalformed, 200, 0, "no text"}},
		{"hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, 100 * time.Millisecond, wantErr{target.KindTimeout, 0, 0, ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, n := countingServer(t, tc.h)
			c := newAnthropic(t, target.AnthropicConfig{BaseURL: url, Timeout: tc.timeout})
			_, err := c.Complete(context.Background(), userReq("hi"))
			checkErr(t, err, tc.want)
			if got := n.Load(); got != 1 {
				t.Fatalf("server saw %d requests, want 1 (no retries)", got)
			}
		})
	}
}

func TestAnthropicLargeMaxTokensNotRefusedBySDK(t *testing.T) {
	url, _ := countingServer(t, reply(200, nil, "application/json", okMessage))
	c := newAnthropic(t, target.AnthropicConfig{BaseURL: url, MaxTokens: 200000})
	if _, err := c.Complete(context.Background(), userReq("x")); err != nil {
		t.Fatalf("Complete with a large max_tokens: %v", err)
	}
}

func TestAnthropicBadRequests(t *testing.T) {
	c := newAnthropic(t, target.AnthropicConfig{BaseURL: "http://127.0.0.1:1"})
	for _, req := range []target.Request{
		{},
		{Messages: []target.Message{{Role: "system", Content: "only"}}},
		{Messages: []target.Message{{Role: "tool", Content: "x"}}},
	} {
		_, err := c.Complete(context.Background(), req)
		checkErr(t, err, wantErr{target.KindClient, 0, 0, ""})
	}
	if _, err := target.NewAnthropic(target.AnthropicConfig{BaseURL: "http://x"}); !errors.Is(err, target.ErrInvalidConfig) {
		t.Fatalf("NewAnthropic without model = %v, want ErrInvalidConfig", err)
	}
}
