// Package targettest is an in-process fake of an OpenAI-compatible chat
// completions server for tests of code that calls models (the assess
// runner, the target clients). It listens on 127.0.0.1 only, answers with a
// function of the prompt, injects scripted or seeded-random faults (rate
// limits with Retry-After, 5xx, hangs, truncated or invalid JSON, empty
// choices, dropped connections) and counts what it saw: total requests,
// requests and successful answers per prompt, and the most requests in
// flight at once.
//
// A Server is safe for concurrent use. It does not import package target,
// so target's own tests can use it.
package targettest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fault is a failure the server can inject into one request.
type Fault string

const (
	FaultNone         Fault = ""
	FaultRateLimit    Fault = "rate_limit"    // 429 with Retry-After (Options.RetryAfter)
	FaultServer       Fault = "server"        // 500 with an OpenAI-style error body
	FaultOverloaded   Fault = "overloaded"    // 503 with Retry-After
	FaultHang         Fault = "hang"          // no answer until the client gives up or the server closes
	FaultTruncated    Fault = "truncated"     // 200, half of a valid body, then the connection is dropped
	FaultInvalidJSON  Fault = "invalid_json"  // 200, Content-Type JSON, a body that is not JSON
	FaultEmptyChoices Fault = "empty_choices" // 200, valid JSON with "choices": []
	FaultConnClose    Fault = "conn_close"    // the connection is closed without any response
)

// AllFaults lists every fault. The default set for random faults is this
// list without FaultHang, which needs a client timeout.
func AllFaults() []Fault {
	return []Fault{FaultRateLimit, FaultServer, FaultOverloaded, FaultHang, FaultTruncated, FaultInvalidJSON, FaultEmptyChoices, FaultConnClose}
}

// Options configures a Server. The zero value answers every request at
// once with Echo.
type Options struct {
	// Latency is waited before every answer or fault (except FaultHang,
	// which waits forever).
	Latency time.Duration
	// Answer maps the last user message to the answer; nil means Echo.
	Answer func(prompt string) string
	// Model is reported in responses and by /v1/models; "" means
	// "fake-model".
	Model string
	// RetryAfter is the Retry-After header sent with 429 and 503 faults;
	// "" means "1". Use an HTTP-date to test date parsing.
	RetryAfter string

	// Faults are chosen for a request, in order of precedence, by FaultFunc,
	// then Script, then at random with probability FaultRate.
	//
	// FaultFunc gets the 1-based request number, the prompt and the 1-based
	// attempt number for that prompt.
	FaultFunc func(n int, prompt string, attempt int) Fault
	// Script maps 1-based request numbers to faults.
	Script map[int]Fault
	// FaultRate is the probability that a request gets a random fault from
	// FaultKinds (default: every fault but FaultHang). The draw depends only
	// on Seed and the request number, so a run's fault count is
	// reproducible.
	FaultRate  float64
	FaultKinds []Fault
	Seed       int64
}

// Echo answers "Echo: " + prompt.
func Echo(prompt string) string { return "Echo: " + prompt }

// Refuse answers "I can't help with that." to everything.
func Refuse(string) string { return "I can't help with that." }

// Server is a running fake. URL is the API base ("http://127.0.0.1:port/v1"),
// to be used as an OpenAI client's base URL.
type Server struct {
	URL string

	opts Options
	srv  *httptest.Server
	quit chan struct{}
	once sync.Once

	n        atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64

	mu         sync.Mutex
	perPrompt  map[string]int
	answered   map[string]int
	faults     map[Fault]int
	lastHeader http.Header
}

// New starts a Server and closes it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

// NewServer starts a Server on 127.0.0.1; the caller must Close it.
func NewServer(opts Options) *Server {
	if opts.Answer == nil {
		opts.Answer = Echo
	}
	if opts.Model == "" {
		opts.Model = "fake-model"
	}
	if opts.RetryAfter == "" {
		opts.RetryAfter = "1"
	}
	if len(opts.FaultKinds) == 0 {
		opts.FaultKinds = []Fault{FaultRateLimit, FaultServer, FaultOverloaded, FaultTruncated, FaultInvalidJSON, FaultEmptyChoices, FaultConnClose}
	}
	s := &Server{
		opts:      opts,
		quit:      make(chan struct{}),
		perPrompt: map[string]int{},
		answered:  map[string]int{},
		faults:    map[Fault]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/chat/completions", s.chat)
	mux.HandleFunc("/v1/models", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []map[string]any{{"id": s.opts.Model, "object": "model", "owned_by": "targettest"}}})
	})
	s.srv = httptest.NewServer(mux) // httptest listens on 127.0.0.1
	s.URL = s.srv.URL + "/v1"
	return s
}

// Close releases hanging requests and shuts the server down. It is safe to
// call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.quit)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// Requests returns the number of chat completion requests received.
func (s *Server) Requests() int { return int(s.n.Load()) }

// PromptCount returns how many requests carried prompt as their last user
// message, faulted or not.
func (s *Server) PromptCount(prompt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perPrompt[prompt]
}

// PromptCounts returns a copy of the requests-per-prompt table.
func (s *Server) PromptCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.perPrompt))
	for k, v := range s.perPrompt {
		out[k] = v
	}
	return out
}

// Answered returns how many successful answers were sent for prompt; a
// value above 1 means a caller asked again after a success.
func (s *Server) Answered(prompt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answered[prompt]
}

// Repeated returns the prompts answered successfully more than once.
func (s *Server) Repeated() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for p, n := range s.answered {
		if n > 1 {
			out = append(out, p)
		}
	}
	return out
}

// Faults returns how many of each fault were injected.
func (s *Server) Faults() map[Fault]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[Fault]int, len(s.faults))
	for k, v := range s.faults {
		out[k] = v
	}
	return out
}

// MaxInFlight returns the most chat requests that were being handled at
// the same time.
func (s *Server) MaxInFlight() int { return int(s.maxIn.Load()) }

// LastHeader returns the headers of the most recent chat request.
func (s *Server) LastHeader() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastHeader.Clone()
}

type chatReq struct {
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	cur := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxIn.Load()
		if cur <= m || s.maxIn.CompareAndSwap(m, cur) {
			break
		}
	}
	n := int(s.n.Add(1))
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "use POST")
		return
	}
	// Read the body to EOF: only then does net/http watch the connection
	// and cancel r.Context() when the client goes away (FaultHang relies
	// on it).
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "read request: "+err.Error())
		return
	}
	var req chatReq
	if err := json.Unmarshal(raw, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "decode request: "+err.Error())
		return
	}
	prompt, all := "", 0
	for _, m := range req.Messages {
		text := contentText(m.Content)
		all += len([]rune(text))
		if m.Role == "user" {
			prompt = text
		}
	}
	s.mu.Lock()
	s.perPrompt[prompt]++
	attempt := s.perPrompt[prompt]
	s.lastHeader = r.Header.Clone()
	s.mu.Unlock()

	fault := s.pickFault(n, prompt, attempt)
	if fault != FaultNone {
		s.mu.Lock()
		s.faults[fault]++
		s.mu.Unlock()
	}
	if fault == FaultHang {
		select {
		case <-r.Context().Done():
		case <-s.quit:
		}
		return
	}
	if !s.wait(r) {
		return
	}
	answer := s.opts.Answer(prompt)
	body := completionBody(n, s.opts.Model, answer, all)
	switch fault {
	case FaultRateLimit:
		w.Header().Set("Retry-After", s.opts.RetryAfter)
		writeError(w, http.StatusTooManyRequests, "rate_limit_error", "rate limit reached, slow down")
	case FaultServer:
		writeError(w, http.StatusInternalServerError, "server_error", "internal server error")
	case FaultOverloaded:
		w.Header().Set("Retry-After", s.opts.RetryAfter)
		writeError(w, http.StatusServiceUnavailable, "overloaded_error", "the server is overloaded")
	case FaultTruncated:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		// Drop the connection with the body incomplete.
		panic(http.ErrAbortHandler)
	case FaultInvalidJSON:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("{this is not json"))
	case FaultEmptyChoices:
		writeJSON(w, http.StatusOK, map[string]any{"id": "chatcmpl-empty", "object": "chat.completion", "model": s.opts.Model, "choices": []any{}})
	case FaultConnClose:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(body)
		s.mu.Lock()
		s.answered[prompt]++
		s.mu.Unlock()
	}
}

// wait sleeps for the configured latency; false when the client left.
func (s *Server) wait(r *http.Request) bool {
	if s.opts.Latency <= 0 {
		return true
	}
	t := time.NewTimer(s.opts.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.quit:
		return false
	}
}

func (s *Server) pickFault(n int, prompt string, attempt int) Fault {
	if s.opts.FaultFunc != nil {
		if f := s.opts.FaultFunc(n, prompt, attempt); f != FaultNone {
			return f
		}
	}
	if f, ok := s.opts.Script[n]; ok {
		return f
	}
	if s.opts.FaultRate <= 0 {
		return FaultNone
	}
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(s.opts.Seed))
	binary.BigEndian.PutUint64(buf[8:], uint64(n))
	h := sha256.Sum256(buf[:])
	u := float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
	if u >= s.opts.FaultRate {
		return FaultNone
	}
	return s.opts.FaultKinds[binary.BigEndian.Uint64(h[8:16])%uint64(len(s.opts.FaultKinds))]
}

func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b bytes.Buffer
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}

func completionBody(n int, model, answer string, inputChars int) []byte {
	in := (inputChars + 3) / 4
	out := (len([]rune(answer)) + 3) / 4
	b, _ := json.Marshal(map[string]any{
		"id":      fmt.Sprintf("chatcmpl-fake-%d", n),
		"object":  "chat.completion",
		"created": 0,
		"model":   model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": answer},
			"finish_reason": "stop",
		}},
		"usage": map[string]int{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out},
	})
	return b
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
