package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// ErrInvalidConfig is returned (wrapped) by the client constructors when a
// configuration is incomplete or inconsistent.
var ErrInvalidConfig = errors.New("invalid target config")

// OpenAIConfig configures a client for an OpenAI-compatible chat completions
// endpoint (OpenAI, vLLM, Ollama, llama.cpp server, hosted gateways, the
// reference model's server).
type OpenAIConfig struct {
	// BaseURL is the API root, e.g. "https://api.openai.com/v1" or
	// "http://127.0.0.1:8000/v1"; "/chat/completions" is appended. Required.
	BaseURL string
	// Model is the model name sent with every request. Required.
	Model string
	// APIKey is sent as "Authorization: Bearer …" when not empty. The caller
	// resolves it (from an environment variable named in configuration);
	// it never appears in Identity or in errors.
	APIKey string
	// Headers are extra request headers (e.g. an organisation or gateway
	// header). Their values are not part of Identity.
	Headers map[string]string

	// Generation defaults, used when a Request leaves the parameter unset.
	Temperature *float64
	MaxTokens   int
	TopP        *float64
	Seed        *int64
	// MaxCompletionTokens sends the token limit as "max_completion_tokens"
	// (required by OpenAI's reasoning models) instead of "max_tokens"
	// (understood by every OpenAI-compatible server).
	MaxCompletionTokens bool

	// HTTPClient sends the requests; nil means a new client with default
	// transport settings. Its own Timeout, if any, also applies.
	HTTPClient *http.Client
	// Timeout bounds each request; 0 means only the caller's context does.
	Timeout time.Duration
	// Now is the clock used for HTTP-date Retry-After values; nil means
	// time.Now.
	Now func() time.Time
}

func (c *OpenAIConfig) validate() error {
	if c.Model == "" {
		return fmt.Errorf("%w: openai: model is required", ErrInvalidConfig)
	}
	if _, err := parseBaseURL(c.BaseURL); err != nil {
		return fmt.Errorf("%w: openai: %v", ErrInvalidConfig, err)
	}
	if c.MaxTokens < 0 {
		return fmt.Errorf("%w: openai: max tokens %d is negative", ErrInvalidConfig, c.MaxTokens)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: openai: timeout %v is negative", ErrInvalidConfig, c.Timeout)
	}
	return nil
}

// parseBaseURL checks that s is an absolute http(s) URL.
func parseBaseURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("base URL is required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parse base URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("base URL %q: scheme must be http or https", redactedURL(u))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("base URL %q: host is missing", redactedURL(u))
	}
	return u, nil
}

// OpenAI is a client for an OpenAI-compatible chat completions API. It is
// safe for concurrent use and never retries: the SDK's own retries are
// disabled.
type OpenAI struct {
	cfg      OpenAIConfig
	chat     openai.ChatCompletionService
	identity string
	now      func() time.Time
}

// NewOpenAI returns a client for cfg, or an error wrapping ErrInvalidConfig.
// The SDK's environment defaults (OPENAI_BASE_URL, OPENAI_API_KEY, …) are
// not consulted: configuration comes only from cfg.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Headers = cloneHeaders(cfg.Headers)
	hc := cfg.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	opts := []option.RequestOption{
		option.WithBaseURL(cfg.BaseURL),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0), // the runner retries, and must see every attempt
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	for k, v := range cfg.Headers {
		opts = append(opts, option.WithHeader(k, v))
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	c := &OpenAI{
		cfg:  cfg,
		chat: openai.NewChatCompletionService(opts...),
		now:  now,
	}
	u, _ := parseBaseURL(cfg.BaseURL)
	c.identity = fmt.Sprintf("openai base_url=%s model=%s temperature=%s max_tokens=%s top_p=%s seed=%s",
		strings.TrimRight(redactedURL(u), "/"), cfg.Model,
		formatOptFloat(cfg.Temperature), formatInt(cfg.MaxTokens), formatOptFloat(cfg.TopP), formatOptInt(cfg.Seed))
	return c, nil
}

// Identity names what this client talks to and how: kind, base URL (without
// credentials or query), model and generation defaults. It is stable across
// processes, never contains the API key or header values, and is meant for
// cache keys and run records.
func (c *OpenAI) Identity() string { return c.identity }

// Complete sends req as one chat completion request. Failures are *Error.
func (c *OpenAI) Complete(ctx context.Context, req Request) (Response, error) {
	msgs, err := openAIMessages(req.Messages)
	if err != nil {
		return Response{}, err
	}
	params := openai.ChatCompletionNewParams{
		Messages: msgs,
		Model:    shared.ChatModel(c.cfg.Model),
	}
	if t := pickFloat(req.Temperature, c.cfg.Temperature); t != nil {
		params.Temperature = openai.Float(*t)
	}
	if p := pickFloat(req.TopP, c.cfg.TopP); p != nil {
		params.TopP = openai.Float(*p)
	}
	if s := req.Seed; s != nil {
		params.Seed = openai.Int(*s)
	} else if c.cfg.Seed != nil {
		params.Seed = openai.Int(*c.cfg.Seed)
	}
	if n := pickInt(req.MaxTokens, c.cfg.MaxTokens); n > 0 {
		if c.cfg.MaxCompletionTokens {
			params.MaxCompletionTokens = openai.Int(int64(n))
		} else {
			params.MaxTokens = openai.Int(int64(n))
		}
	}
	if len(req.Stop) > 0 {
		params.Stop = openai.ChatCompletionNewParamsStopUnion{OfStringArray: req.Stop}
	}
	if req.LogProbs {
		params.Logprobs = openai.Bool(true)
	}
	if len(req.Tools) > 0 {
		tools, err := openAITools(req.Tools)
		if err != nil {
			return Response{}, err
		}
		params.Tools = tools
	}

	if c.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	var httpResp *http.Response
	comp, err := c.chat.New(ctx, params, option.WithResponseInto(&httpResp))
	if err != nil {
		return Response{}, classifySDKError(ctx, err, httpResp, c.now())
	}
	if comp == nil || len(comp.Choices) == 0 {
		return Response{}, malformed(http.StatusOK, "chat completion has no choices")
	}
	ch := comp.Choices[0]
	content := ch.Message.Content
	lps := ch.Logprobs.Content
	if content == "" && ch.Message.Refusal != "" {
		content = ch.Message.Refusal
		lps = ch.Logprobs.Refusal
	}
	var logProbs []float64
	if req.LogProbs && len(lps) > 0 {
		logProbs = make([]float64, 0, min(len(lps), MaxLogProbs))
		for _, lp := range lps[:min(len(lps), MaxLogProbs)] {
			logProbs = append(logProbs, lp.Logprob)
		}
	}
	var calls []ToolCall
	for _, tc := range ch.Message.ToolCalls {
		switch tc.Type {
		case "custom":
			calls = append(calls, ToolCall{ID: tc.ID, Name: tc.Custom.Name, Arguments: tc.Custom.Input})
		default: // "function"; some servers omit the type
			calls = append(calls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
	}
	return Response{
		Content:      content,
		FinishReason: ch.FinishReason,
		Model:        comp.Model,
		Usage: Usage{
			InputTokens:  int(comp.Usage.PromptTokens),
			OutputTokens: int(comp.Usage.CompletionTokens),
		},
		ToolCalls: calls,
		LogProbs:  logProbs,
	}, nil
}

// openAITools converts tools to function tools. A tool needs a name, and
// its parameters, when given, must be a JSON object.
func openAITools(in []Tool) ([]openai.ChatCompletionToolUnionParam, error) {
	out := make([]openai.ChatCompletionToolUnionParam, 0, len(in))
	for i, t := range in {
		params, err := toolSchema(i, t)
		if err != nil {
			return nil, err
		}
		def := shared.FunctionDefinitionParam{Name: t.Name, Parameters: params}
		if t.Description != "" {
			def.Description = openai.String(t.Description)
		}
		out = append(out, openai.ChatCompletionFunctionTool(def))
	}
	return out, nil
}

// toolSchema decodes a tool's parameters schema (nil when absent).
func toolSchema(i int, t Tool) (map[string]any, error) {
	if t.Name == "" {
		return nil, &Error{Kind: KindClient, Msg: fmt.Sprintf("tools[%d]: name is required", i)}
	}
	if len(t.Parameters) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(t.Parameters, &m); err != nil || m == nil {
		return nil, &Error{Kind: KindClient, Msg: fmt.Sprintf("tools[%d] (%s): parameters must be a JSON Schema object", i, t.Name)}
	}
	return m, nil
}

// classifySDKError turns an error from either SDK into *Error, using the
// HTTP response the SDK saw (nil when none arrived).
func classifySDKError(ctx context.Context, err error, resp *http.Response, now time.Time) *Error {
	if resp != nil && resp.StatusCode >= 300 {
		var body []byte
		if resp.Body != nil {
			body = readErrorBody(resp.Body)
		}
		e := statusError(resp.StatusCode, resp.Header, body, now)
		// The cause may be the HTTP client's own refusal (a redirect it
		// does not follow); keep it inspectable with errors.Is.
		e.Err = err
		return e
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return transportError(ctx, err)
	}
	if resp != nil {
		// A 2xx arrived but its body could not be read or decoded:
		// truncated, not JSON, or not the expected shape.
		return &Error{Kind: KindMalformed, Status: resp.StatusCode, Msg: "decode response: " + snippet(redactURL(err).Error()), Err: err}
	}
	return transportError(ctx, err)
}

func openAIMessages(in []Message) ([]openai.ChatCompletionMessageParamUnion, error) {
	if len(in) == 0 {
		return nil, &Error{Kind: KindClient, Msg: "request has no messages"}
	}
	out := make([]openai.ChatCompletionMessageParamUnion, 0, len(in))
	for i, m := range in {
		switch m.Role {
		case "system":
			out = append(out, openai.SystemMessage(m.Content))
		case "developer":
			out = append(out, openai.DeveloperMessage(m.Content))
		case "user":
			out = append(out, openai.UserMessage(m.Content))
		case "assistant":
			if len(m.ToolCalls) == 0 {
				out = append(out, openai.AssistantMessage(m.Content))
				continue
			}
			var a openai.ChatCompletionAssistantMessageParam
			if m.Content != "" {
				a.Content.OfString = openai.String(m.Content)
			}
			for _, tc := range m.ToolCalls {
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID:       tc.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: tc.Arguments},
					},
				})
			}
			out = append(out, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		case "tool":
			if m.ToolCallID == "" {
				return nil, &Error{Kind: KindClient, Msg: fmt.Sprintf("message %d: tool message has no tool_call_id", i)}
			}
			out = append(out, openai.ToolMessage(m.Content, m.ToolCallID))
		default:
			return nil, &Error{Kind: KindClient, Msg: fmt.Sprintf("message %d: unknown role %q", i, m.Role)}
		}
	}
	return out, nil
}

func pickFloat(req, def *float64) *float64 {
	if req != nil {
		return req
	}
	return def
}

func pickInt(req, def int) int {
	if req > 0 {
		return req
	}
	return def
}

func cloneHeaders(h map[string]string) map[string]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = v
	}
	return out
}
