// Package target reaches models under test. Each client (OpenAI-compatible
// chat, Anthropic Messages, templated HTTP, replay of recorded transcripts, and
// the built-in reference model, which is a seeded simulator with known ground
// truth rather than a model) turns a Request into a Response, and reports
// failures as *Error so a caller can tell a retryable fault (rate limit,
// overload, server error, timeout, broken connection) from a permanent one.
//
// Clients are safe for concurrent use. They never retry: retry policy belongs
// to the caller (the assess runner), which sees every attempt.
package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Message is one chat turn.
type Message struct {
	Role    string `json:"role"` // "system", "user", "assistant" or "tool"
	Content string `json:"content"`
	// ToolCalls are the tool calls an assistant message made (in order).
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID is, for a "tool" message (a tool's result), the ID of the
	// call it answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
}

// Tool is a function the model may call: a name, what it does, and its
// parameters as a JSON Schema object (OpenAI "function" tools, Anthropic
// custom tools).
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// ToolCall is one call the model made: an ID (echoed in the "tool"
// message that answers it), the tool's name and its arguments as JSON
// text, exactly as the model wrote them (possibly invalid JSON: the caller
// validates).
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Request is one completion request: a conversation and generation
// parameters. Zero values mean "the target's default".
type Request struct {
	Messages    []Message `json:"messages"`
	MaxTokens   int       `json:"max_tokens,omitempty"`
	Temperature *float64  `json:"temperature,omitempty"`
	TopP        *float64  `json:"top_p,omitempty"`
	Seed        *int64    `json:"seed,omitempty"`
	Stop        []string  `json:"stop,omitempty"`
	// Tools the model may call; empty means a plain chat request.
	Tools []Tool `json:"tools,omitempty"`
	// LogProbs asks for the log-probabilities of the answer's tokens
	// (OpenAI "logprobs": true). Only the OpenAI-compatible client sends
	// it; servers that do not offer them, and the other clients, leave
	// Response.LogProbs nil.
	LogProbs bool `json:"logprobs,omitempty"`
}

// MaxLogProbs bounds Response.LogProbs: the log-probabilities of at most
// the answer's first MaxLogProbs tokens are kept.
const MaxLogProbs = 4096

// Usage counts tokens as the target reported them (zero when it did not).
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// Response is a model's answer to a Request.
type Response struct {
	Content      string `json:"content"`
	FinishReason string `json:"finish_reason,omitempty"`
	Model        string `json:"model,omitempty"`
	Usage        Usage  `json:"usage"`
	// ToolCalls are the calls the model made, in order (FinishReason is
	// then usually "tool_calls" or "tool_use").
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// LogProbs are the natural-log probabilities of the answer's tokens,
	// in order, as the target reported them (at most MaxLogProbs), when
	// Request.LogProbs asked for them and the target offered them; nil
	// otherwise.
	LogProbs []float64 `json:"logprobs,omitempty"`
}

// ErrorKind classifies a failed request.
type ErrorKind string

const (
	KindRateLimited ErrorKind = "rate_limited" // HTTP 429
	KindOverloaded  ErrorKind = "overloaded"   // HTTP 503/529 or an "overloaded" error body
	KindServer      ErrorKind = "server"       // other HTTP 5xx
	KindTimeout     ErrorKind = "timeout"      // the request deadline passed
	KindConnection  ErrorKind = "connection"   // refused, reset, DNS, TLS
	KindMalformed   ErrorKind = "malformed"    // 2xx whose body is not a usable answer (invalid JSON, no choices)
	KindClient      ErrorKind = "client"       // HTTP 4xx other than 429: bad request, auth; not retryable
	KindUnknown     ErrorKind = "unknown"      // replay: no recorded answer for this prompt; not retryable
	KindRefused     ErrorKind = "refused"      // the caller's egress policy refused the address or a redirect; not retryable
)

// Error is the error every client returns for a failed request.
type Error struct {
	Kind       ErrorKind
	Status     int           // HTTP status, 0 when none
	RetryAfter time.Duration // from a Retry-After header, 0 when absent
	Msg        string
	Err        error // underlying cause (transport or context error), nil when none
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s (HTTP %d): %s", e.Kind, e.Status, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Msg)
}

// Unwrap returns the underlying cause, so errors.Is(err, context.Canceled)
// works on a client's error.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same request may succeed if sent again.
// Malformed answers are retried too: a truncated body is usually transient.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindRateLimited, KindOverloaded, KindServer, KindTimeout, KindConnection, KindMalformed:
		return true
	}
	return false
}

// AsError returns err as an *Error, classifying errors that are not one
// (context deadline → timeout, anything else → connection).
func AsError(err error) *Error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: KindTimeout, Msg: err.Error(), Err: err}
	}
	return &Error{Kind: KindConnection, Msg: err.Error(), Err: err}
}
