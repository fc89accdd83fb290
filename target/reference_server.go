package target

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// maxServerRequest bounds a request body the reference server accepts.
const maxServerRequest = 8 << 20

// ServerOptions configures NewReferenceServer.
type ServerOptions struct {
	// Latency is added before every chat completion answer (to exercise a
	// runner's concurrency); the wait ends early if the client goes away.
	Latency time.Duration
	// Logger receives one debug line per request and warnings for bad
	// requests; nil discards.
	Logger *slog.Logger
	// Now stamps "created" in responses; nil means time.Now.
	Now func() time.Time
}

// referenceServer serves a Reference over the OpenAI chat completions
// protocol.
type referenceServer struct {
	ref  *Reference
	opts ServerOptions
	mux  *http.ServeMux
}

// NewReferenceServer returns an http.Handler that serves ref with an
// OpenAI-compatible API (non-streaming):
//
//	POST /v1/chat/completions   answer a conversation
//	GET  /v1/models             list the one model, "reference-<profile>"
//	GET  /healthz               {"status":"ok"}
//
// Any model name is accepted and echoed. "logprobs": true gets the
// reference model's SYNTHETIC token log-probabilities (see Reference;
// "top_logprobs" is ignored and always empty). Malformed requests, and
// "stream": true, get an OpenAI-style JSON error with status 400. The
// handler is safe for concurrent use.
func NewReferenceServer(ref *Reference, opts ServerOptions) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &referenceServer{ref: ref, opts: opts, mux: http.NewServeMux()}
	s.mux.HandleFunc("/v1/chat/completions", s.method(http.MethodPost, s.chat))
	s.mux.HandleFunc("/v1/models", s.method(http.MethodGet, s.models))
	s.mux.HandleFunc("/healthz", s.method(http.MethodGet, s.health))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, http.StatusNotFound, "not_found_error", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	})
	return s.mux
}

func (s *referenceServer) method(m string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != m && !(m == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", m)
			writeAPIError(w, http.StatusMethodNotAllowed, "invalid_request_error", fmt.Sprintf("method %s not allowed on %s; use %s", r.Method, r.URL.Path, m))
			return
		}
		h(w, r)
	}
}

// apiErrorBody is the OpenAI error shape.
type apiErrorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	var b apiErrorBody
	b.Error.Message, b.Error.Type = msg, typ
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (s *referenceServer) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *referenceServer) models(w http.ResponseWriter, _ *http.Request) {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data":   []model{{ID: s.ref.ModelName(), Object: "model", OwnedBy: "clearance-reference-simulator"}},
	})
}

// chatRequest is the subset of the chat completions request the reference
// server reads; other fields are accepted and ignored.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCallID string          `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Type     string `json:"type"`
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"messages"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
	Stream   bool `json:"stream"`
	N        *int `json:"n"`
	LogProbs bool `json:"logprobs"`
}

// ErrBadChatRequest is returned (wrapped) by ParseChatRequest for a request
// body the reference server cannot answer.
var ErrBadChatRequest = errors.New("bad chat completion request")

// ParseChatRequest decodes an OpenAI chat completions request body into
// the model name and messages. Content may be a string, null, or an array
// of {"type":"text","text":…} parts (joined). Streaming, n > 1, unknown
// roles and non-text parts are errors wrapping ErrBadChatRequest.
func ParseChatRequest(body []byte) (model string, msgs []Message, err error) {
	model, req, err := ParseChatCompletion(body)
	return model, req.Messages, err
}

// ParseChatCompletion decodes an OpenAI chat completions request body into
// the model name and a Request holding the messages (with assistant
// tool_calls and "tool" messages), the function tools and "logprobs".
// Other generation parameters are not read. Errors wrap ErrBadChatRequest
// and name the field.
func ParseChatCompletion(body []byte) (model string, out Request, err error) {
	var req chatRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return "", Request{}, fmt.Errorf("%w: decode JSON: %v", ErrBadChatRequest, err)
	}
	if dec.More() {
		return "", Request{}, fmt.Errorf("%w: trailing data after the JSON object", ErrBadChatRequest)
	}
	if req.Stream {
		return "", Request{}, fmt.Errorf("%w: streaming is not supported by the reference model; send \"stream\": false", ErrBadChatRequest)
	}
	if req.N != nil && *req.N != 1 {
		return "", Request{}, fmt.Errorf("%w: n must be 1, got %d", ErrBadChatRequest, *req.N)
	}
	if len(req.Messages) == 0 {
		return "", Request{}, fmt.Errorf("%w: messages: must not be empty", ErrBadChatRequest)
	}
	msgs := make([]Message, 0, len(req.Messages))
	for i, m := range req.Messages {
		role := m.Role
		switch role {
		case "system", "user", "assistant", "tool":
		case "developer":
			role = "system"
		default:
			return "", Request{}, fmt.Errorf("%w: messages[%d].role: unsupported role %q", ErrBadChatRequest, i, m.Role)
		}
		text, err := contentText(m.Content)
		if err != nil {
			return "", Request{}, fmt.Errorf("%w: messages[%d].content: %v", ErrBadChatRequest, i, err)
		}
		msg := Message{Role: role, Content: text}
		if role == "tool" {
			if m.ToolCallID == "" {
				return "", Request{}, fmt.Errorf("%w: messages[%d].tool_call_id: required for a tool message", ErrBadChatRequest, i)
			}
			msg.ToolCallID = m.ToolCallID
		}
		for j, tc := range m.ToolCalls {
			if role != "assistant" {
				return "", Request{}, fmt.Errorf("%w: messages[%d].tool_calls: only assistant messages have tool calls", ErrBadChatRequest, i)
			}
			if tc.Type != "" && tc.Type != "function" {
				return "", Request{}, fmt.Errorf("%w: messages[%d].tool_calls[%d].type: only \"function\" is supported, got %q", ErrBadChatRequest, i, j, tc.Type)
			}
			if tc.ID == "" || tc.Function.Name == "" {
				return "", Request{}, fmt.Errorf("%w: messages[%d].tool_calls[%d]: id and function.name are required", ErrBadChatRequest, i, j)
			}
			msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		msgs = append(msgs, msg)
	}
	var tools []Tool
	for i, t := range req.Tools {
		if t.Type != "function" {
			return "", Request{}, fmt.Errorf("%w: tools[%d].type: only \"function\" is supported, got %q", ErrBadChatRequest, i, t.Type)
		}
		if t.Function.Name == "" {
			return "", Request{}, fmt.Errorf("%w: tools[%d].function.name: required", ErrBadChatRequest, i)
		}
		tools = append(tools, Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	return req.Model, Request{Messages: msgs, Tools: tools, LogProbs: req.LogProbs}, nil
}

func contentText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case '[':
		var parts []struct {
			Type string  `json:"type"`
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(raw, &parts); err != nil {
			return "", err
		}
		var b bytes.Buffer
		for j, p := range parts {
			if p.Type != "text" || p.Text == nil {
				return "", fmt.Errorf("part %d: only text parts are supported, got type %q", j, p.Type)
			}
			b.WriteString(*p.Text)
		}
		return b.String(), nil
	}
	return "", errors.New("must be a string, null or an array of text parts")
}

func (s *referenceServer) chat(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxServerRequest))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeAPIError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", fmt.Sprintf("request body exceeds %d bytes", maxServerRequest))
			return
		}
		writeAPIError(w, http.StatusBadRequest, "invalid_request_error", "read request body: "+err.Error())
		return
	}
	model, creq, err := ParseChatCompletion(buf.Bytes())
	msgs := creq.Messages
	if err != nil {
		s.opts.Logger.Warn("reference: bad request", "err", err)
		writeAPIError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	if s.opts.Latency > 0 {
		t := time.NewTimer(s.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	resp, err := s.ref.Complete(r.Context(), creq)
	if err != nil {
		writeAPIError(w, http.StatusServiceUnavailable, "server_error", err.Error())
		return
	}
	key := PromptKey(msgs)
	if model == "" {
		model = resp.Model
	}
	s.opts.Logger.Debug("reference: answered", "model", model, "prompt_key", hex.EncodeToString(key[:6]), "output_tokens", resp.Usage.OutputTokens)
	type function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	type toolCall struct {
		ID       string   `json:"id"`
		Type     string   `json:"type"`
		Function function `json:"function"`
	}
	type message struct {
		Role      string     `json:"role"`
		Content   *string    `json:"content"` // null when the answer is only tool calls
		ToolCalls []toolCall `json:"tool_calls,omitempty"`
	}
	am := message{Role: "assistant", Content: &resp.Content}
	for _, tc := range resp.ToolCalls {
		am.ToolCalls = append(am.ToolCalls, toolCall{ID: tc.ID, Type: "function", Function: function{tc.Name, tc.Arguments}})
	}
	if resp.Content == "" && len(am.ToolCalls) > 0 {
		am.Content = nil
	}
	type tokenLogProb struct {
		Token       string     `json:"token"`
		LogProb     float64    `json:"logprob"`
		Bytes       []int      `json:"bytes"`
		TopLogProbs []struct{} `json:"top_logprobs"` // always empty
	}
	type logProbs struct {
		Content []tokenLogProb `json:"content"`
		Refusal []tokenLogProb `json:"refusal"`
	}
	type choice struct {
		Index        int       `json:"index"`
		Message      message   `json:"message"`
		LogProbs     *logProbs `json:"logprobs"`
		FinishReason string    `json:"finish_reason"`
	}
	var lp *logProbs
	if creq.LogProbs {
		lp = &logProbs{Content: []tokenLogProb{}}
		toks := logProbTokens(resp.Content)
		for i, tok := range toks[:min(len(toks), len(resp.LogProbs))] {
			b := make([]int, len(tok))
			for j := range len(tok) {
				b[j] = int(tok[j])
			}
			lp.Content = append(lp.Content, tokenLogProb{Token: tok, LogProb: resp.LogProbs[i], Bytes: b, TopLogProbs: []struct{}{}})
		}
	}
	type usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
	writeJSON(w, http.StatusOK, struct {
		ID      string   `json:"id"`
		Object  string   `json:"object"`
		Created int64    `json:"created"`
		Model   string   `json:"model"`
		Choices []choice `json:"choices"`
		Usage   usage    `json:"usage"`
	}{
		ID:      "chatcmpl-ref-" + hex.EncodeToString(key[:12]),
		Object:  "chat.completion",
		Created: s.opts.Now().Unix(),
		Model:   model,
		Choices: []choice{{Message: am, LogProbs: lp, FinishReason: resp.FinishReason}},
		Usage:   usage{resp.Usage.InputTokens, resp.Usage.OutputTokens, resp.Usage.InputTokens + resp.Usage.OutputTokens},
	})
}
