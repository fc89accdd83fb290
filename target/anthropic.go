package target

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/param"
)

// DefaultAnthropicMaxTokens is the max_tokens sent when neither the config
// nor the request sets one: the Messages API requires the field.
const DefaultAnthropicMaxTokens = 1024

// AnthropicConfig configures a client for the Anthropic Messages API (or a
// compatible endpoint).
type AnthropicConfig struct {
	// BaseURL is the API root without "/v1", e.g. "https://api.anthropic.com";
	// "/v1/messages" is appended. Required.
	BaseURL string
	// Model is the model name sent with every request. Required.
	Model string
	// APIKey is sent as the SDK sends it (v2: "Authorization: Bearer …")
	// when not empty; never part of Identity.
	APIKey string
	// Headers are extra request headers; their values are not in Identity.
	Headers map[string]string

	// Generation defaults, used when a Request leaves the parameter unset.
	// The v2 SDK has no typed sampling fields (the API is deprecating them);
	// Temperature and TopP, when set, are added to the JSON body as-is.
	Temperature *float64
	MaxTokens   int // 0 means DefaultAnthropicMaxTokens
	TopP        *float64

	HTTPClient *http.Client     // nil means a new default client
	Timeout    time.Duration    // per request; 0 means only the caller's context
	Now        func() time.Time // clock for HTTP-date Retry-After; nil means time.Now
}

func (c *AnthropicConfig) validate() error {
	if c.Model == "" {
		return fmt.Errorf("%w: anthropic: model is required", ErrInvalidConfig)
	}
	if _, err := parseBaseURL(c.BaseURL); err != nil {
		return fmt.Errorf("%w: anthropic: %v", ErrInvalidConfig, err)
	}
	if c.MaxTokens < 0 {
		return fmt.Errorf("%w: anthropic: max tokens %d is negative", ErrInvalidConfig, c.MaxTokens)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: anthropic: timeout %v is negative", ErrInvalidConfig, c.Timeout)
	}
	return nil
}

// Anthropic is a client for the Anthropic Messages API. It is safe for
// concurrent use and never retries.
type Anthropic struct {
	cfg      AnthropicConfig
	client   anthropic.Client
	identity string
	now      func() time.Time
}

// noTimeout is passed to the SDK when the config sets no timeout: the SDK
// otherwise refuses large max_tokens values for non-streaming calls, and the
// caller's context remains the real bound.
const noTimeout = 24 * time.Hour

// NewAnthropic returns a client for cfg, or an error wrapping
// ErrInvalidConfig. The SDK's environment defaults (ANTHROPIC_API_KEY,
// ANTHROPIC_BASE_URL, profiles, …) are not consulted.
func NewAnthropic(cfg AnthropicConfig) (*Anthropic, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.MaxTokens == 0 {
		cfg.MaxTokens = DefaultAnthropicMaxTokens
	}
	cfg.Headers = cloneHeaders(cfg.Headers)
	hc := cfg.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
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
	u, _ := parseBaseURL(cfg.BaseURL)
	return &Anthropic{
		cfg:    cfg,
		client: anthropic.NewClient(opts...),
		now:    now,
		identity: fmt.Sprintf("anthropic base_url=%s model=%s temperature=%s max_tokens=%d top_p=%s",
			strings.TrimRight(redactedURL(u), "/"), cfg.Model,
			formatOptFloat(cfg.Temperature), cfg.MaxTokens, formatOptFloat(cfg.TopP)),
	}, nil
}

// Identity names the endpoint, model and generation defaults; it never
// contains the API key or header values.
func (c *Anthropic) Identity() string { return c.identity }

// Complete sends req to the Messages API. System messages (anywhere in the
// conversation) are joined into the system field; Request.Seed is ignored,
// the API has none. Failures are *Error.
func (c *Anthropic) Complete(ctx context.Context, req Request) (Response, error) {
	if len(req.Messages) == 0 {
		return Response{}, &Error{Kind: KindClient, Msg: "request has no messages"}
	}
	var system []string
	var msgs []anthropic.MessageParam
	// lastToolResults reports whether the last message is a user message
	// holding tool results, which a following tool or user message joins:
	// the API wants the results of one assistant turn in one user message.
	lastToolResults := false
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "developer":
			system = append(system, m.Content)
		case "user":
			if lastToolResults {
				last := &msgs[len(msgs)-1]
				last.OfUser.Content = append(last.OfUser.Content, anthropic.NewTextBlock(m.Content))
				lastToolResults = false
				continue
			}
			msgs = append(msgs, anthropic.NewUserMessage(anthropic.NewTextBlock(m.Content)))
		case "assistant":
			lastToolResults = false
			var blocks []anthropic.ContentBlockParamUnion
			if m.Content != "" || len(m.ToolCalls) == 0 {
				blocks = append(blocks, anthropic.NewTextBlock(m.Content))
			}
			for _, tc := range m.ToolCalls {
				blocks = append(blocks, anthropic.NewToolUseBlock(tc.ID, toolInput(tc.Arguments), tc.Name))
			}
			msgs = append(msgs, anthropic.NewAssistantMessage(blocks...))
		case "tool":
			if m.ToolCallID == "" {
				return Response{}, &Error{Kind: KindClient, Msg: fmt.Sprintf("message %d: tool message has no tool_call_id", i)}
			}
			b := anthropic.NewToolResultBlock(m.ToolCallID, m.Content, false)
			b.OfToolResult.IsError = param.Opt[bool]{} // omitted: the harness reports failures in the text
			if lastToolResults {
				last := &msgs[len(msgs)-1]
				last.OfUser.Content = append(last.OfUser.Content, b)
				continue
			}
			msgs = append(msgs, anthropic.NewUserMessage(b))
			lastToolResults = true
		default:
			return Response{}, &Error{Kind: KindClient, Msg: fmt.Sprintf("message %d: unknown role %q", i, m.Role)}
		}
	}
	if len(msgs) == 0 {
		return Response{}, &Error{Kind: KindClient, Msg: "request has only system messages"}
	}
	params := anthropic.MessageNewParams{
		Model:     c.cfg.Model,
		MaxTokens: int64(pickInt(req.MaxTokens, c.cfg.MaxTokens)),
		Messages:  msgs,
	}
	if len(system) > 0 {
		params.System = []anthropic.TextBlockParam{{Text: strings.Join(system, "\n\n")}}
	}
	if len(req.Stop) > 0 {
		params.StopSequences = req.Stop
	}
	for i, t := range req.Tools {
		schema, err := toolSchema(i, t)
		if err != nil {
			return Response{}, err
		}
		in := anthropic.ToolInputSchemaParam{}
		for k, v := range schema {
			switch k {
			case "type":
			case "properties":
				in.Properties = v
			case "required":
				for _, r := range asSlice(v) {
					if s, ok := r.(string); ok {
						in.Required = append(in.Required, s)
					}
				}
			default:
				if in.ExtraFields == nil {
					in.ExtraFields = map[string]any{}
				}
				in.ExtraFields[k] = v
			}
		}
		tp := anthropic.ToolParam{Name: t.Name, InputSchema: in}
		if t.Description != "" {
			tp.Description = anthropic.String(t.Description)
		}
		params.Tools = append(params.Tools, anthropic.ToolUnionParam{OfTool: &tp})
	}
	timeout := noTimeout
	if c.cfg.Timeout > 0 {
		timeout = c.cfg.Timeout
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	var httpResp *http.Response
	opts := []option.RequestOption{option.WithRequestTimeout(timeout), option.WithResponseInto(&httpResp)}
	if t := pickFloat(req.Temperature, c.cfg.Temperature); t != nil {
		opts = append(opts, option.WithJSONSet("temperature", *t))
	}
	if p := pickFloat(req.TopP, c.cfg.TopP); p != nil {
		opts = append(opts, option.WithJSONSet("top_p", *p))
	}
	msg, err := c.client.Messages.New(ctx, params, opts...)
	if err != nil {
		return Response{}, classifySDKError(ctx, err, httpResp, c.now())
	}
	if msg == nil || len(msg.Content) == 0 {
		return Response{}, malformed(http.StatusOK, "message has no content blocks")
	}
	var text strings.Builder
	found := false
	var calls []ToolCall
	for _, b := range msg.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
			found = true
		case "tool_use":
			args := string(b.Input)
			if args == "" || args == "null" {
				args = "{}"
			}
			calls = append(calls, ToolCall{ID: b.ID, Name: b.Name, Arguments: args})
		}
	}
	if !found && len(calls) == 0 {
		return Response{}, malformed(http.StatusOK, "message has no text or tool_use content block")
	}
	return Response{
		Content:      text.String(),
		FinishReason: string(msg.StopReason),
		Model:        msg.Model,
		Usage: Usage{
			InputTokens:  int(msg.Usage.InputTokens),
			OutputTokens: int(msg.Usage.OutputTokens),
		},
		ToolCalls: calls,
	}, nil
}

// toolInput is a tool_use block's input: the call's arguments when they
// are a JSON object, else an empty object (the Messages API accepts only
// objects; a model's malformed arguments were already answered by the
// harness with an error message).
func toolInput(args string) any {
	var m map[string]any
	if err := json.Unmarshal([]byte(args), &m); err != nil || m == nil {
		return map[string]any{}
	}
	return json.RawMessage(args)
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
