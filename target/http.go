package target

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// DefaultMaxResponseBytes bounds the body the HTTP client reads.
const DefaultMaxResponseBytes = 16 << 20

// HTTPConfig configures a client for an arbitrary JSON-over-HTTP endpoint:
// a request body rendered from a template and the answer picked from the
// JSON response by a path.
type HTTPConfig struct {
	// URL is the endpoint. Required.
	URL string
	// Method defaults to POST.
	Method string
	// Headers are sent with every request; Content-Type defaults to
	// application/json. Their values are not part of Identity.
	Headers map[string]string
	// Body is a text/template rendered with a TemplateData. The template
	// function json encodes any value as JSON, so a body is written
	// {"q": {{json .Prompt}}, "history": {{json .Messages}}}. Empty means
	// no body.
	Body string
	// ResponsePath locates the answer text in the JSON response: keys and
	// array indexes separated by dots, e.g. "choices.0.message.content". A
	// literal dot or backslash in a key is written \. or \\. Required.
	ResponsePath string
	// InputTokensPath and OutputTokensPath optionally locate token counts
	// (numbers) in the response; when absent from a response, usage is 0.
	InputTokensPath  string
	OutputTokensPath string

	Model     string // passed to the template as .Model
	MaxTokens int    // passed to the template as .MaxTokens when the request sets none

	HTTPClient       *http.Client     // nil means a new default client
	Timeout          time.Duration    // per request; 0 means only the caller's context
	Now              func() time.Time // clock for HTTP-date Retry-After; nil means time.Now
	MaxResponseBytes int64            // 0 means DefaultMaxResponseBytes
}

// TemplateData is what an HTTPConfig.Body template sees.
type TemplateData struct {
	Messages  []Message // the whole conversation
	Prompt    string    // content of the last user message
	System    string    // system messages joined by blank lines
	Model     string
	MaxTokens int
}

// HTTP is a templated JSON-over-HTTP client. It is safe for concurrent use
// and never retries.
type HTTP struct {
	cfg      HTTPConfig
	method   string
	tmpl     *template.Template
	path     []string
	inPath   []string
	outPath  []string
	hc       *http.Client
	now      func() time.Time
	identity string
}

// NewHTTP returns a client for cfg, or an error wrapping ErrInvalidConfig
// that names the bad field (template syntax errors included).
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	u, err := parseBaseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: http: url: %v", ErrInvalidConfig, err)
	}
	c := &HTTP{cfg: cfg, method: strings.ToUpper(cfg.Method), hc: cfg.HTTPClient, now: cfg.Now}
	if c.method == "" {
		c.method = http.MethodPost
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.cfg.MaxResponseBytes <= 0 {
		c.cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: http: timeout %v is negative", ErrInvalidConfig, cfg.Timeout)
	}
	if cfg.ResponsePath == "" {
		return nil, fmt.Errorf("%w: http: response path is required", ErrInvalidConfig)
	}
	if c.path, err = ParsePath(cfg.ResponsePath); err != nil {
		return nil, fmt.Errorf("%w: http: response path: %v", ErrInvalidConfig, err)
	}
	if cfg.InputTokensPath != "" {
		if c.inPath, err = ParsePath(cfg.InputTokensPath); err != nil {
			return nil, fmt.Errorf("%w: http: input tokens path: %v", ErrInvalidConfig, err)
		}
	}
	if cfg.OutputTokensPath != "" {
		if c.outPath, err = ParsePath(cfg.OutputTokensPath); err != nil {
			return nil, fmt.Errorf("%w: http: output tokens path: %v", ErrInvalidConfig, err)
		}
	}
	if cfg.Body != "" {
		t, err := template.New("body").Funcs(template.FuncMap{"json": templateJSON}).Option("missingkey=error").Parse(cfg.Body)
		if err != nil {
			return nil, fmt.Errorf("%w: http: body template: %v", ErrInvalidConfig, err)
		}
		c.tmpl = t
	}
	c.cfg.Headers = cloneHeaders(cfg.Headers)
	bodySum := sha256.Sum256([]byte(cfg.Body))
	c.identity = fmt.Sprintf("http method=%s url=%s model=%s max_tokens=%s body_sha256=%s response_path=%s",
		c.method, redactedURL(u), cfg.Model, formatInt(cfg.MaxTokens), hex.EncodeToString(bodySum[:8]), cfg.ResponsePath)
	return c, nil
}

func templateJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Identity names the method, URL (without query or credentials), model,
// token limit, a digest of the body template and the response path.
func (c *HTTP) Identity() string { return c.identity }

// Complete renders the body for req, sends it and extracts the answer.
// Failures are *Error; a response without the configured path is
// KindMalformed naming the path.
func (c *HTTP) Complete(ctx context.Context, req Request) (Response, error) {
	if len(req.Messages) == 0 {
		return Response{}, &Error{Kind: KindClient, Msg: "request has no messages"}
	}
	var body io.Reader
	if c.tmpl != nil {
		data := TemplateData{
			Messages:  req.Messages,
			Prompt:    LastUserContent(req.Messages),
			System:    systemText(req.Messages),
			Model:     c.cfg.Model,
			MaxTokens: pickInt(req.MaxTokens, c.cfg.MaxTokens),
		}
		var buf bytes.Buffer
		if err := c.tmpl.Execute(&buf, data); err != nil {
			return Response{}, &Error{Kind: KindClient, Msg: "render body template: " + err.Error()}
		}
		body = &buf
	}
	if c.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	hreq, err := http.NewRequestWithContext(ctx, c.method, c.cfg.URL, body)
	if err != nil {
		return Response{}, &Error{Kind: KindClient, Msg: "build request: " + redactURL(err).Error()}
	}
	if body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	hreq.Header.Set("Accept", "application/json")
	for k, v := range c.cfg.Headers {
		hreq.Header.Set(k, v)
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return Response{}, transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Response{}, statusError(resp.StatusCode, resp.Header, readErrorBody(resp.Body), c.now())
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return Response{}, transportError(ctx, err)
		}
		return Response{}, &Error{Kind: KindMalformed, Status: resp.StatusCode, Msg: "read response body: " + err.Error(), Err: err}
	}
	if int64(len(raw)) > c.cfg.MaxResponseBytes {
		return Response{}, malformed(resp.StatusCode, "response body exceeds %d bytes", c.cfg.MaxResponseBytes)
	}
	doc, err := decodeJSON(raw)
	if err != nil {
		return Response{}, malformed(resp.StatusCode, "decode response: %v", err)
	}
	v, err := Walk(doc, c.path)
	if err != nil {
		return Response{}, malformed(resp.StatusCode, "response path %q: %v", c.cfg.ResponsePath, err)
	}
	content, ok := v.(string)
	if !ok {
		return Response{}, malformed(resp.StatusCode, "response path %q: want a string, found %s", c.cfg.ResponsePath, jsonKind(v))
	}
	out := Response{Content: content, Model: c.cfg.Model}
	out.Usage.InputTokens = tokenCount(doc, c.inPath)
	out.Usage.OutputTokens = tokenCount(doc, c.outPath)
	return out, nil
}

// tokenCount reads a non-negative integer at path, or 0.
func tokenCount(doc any, path []string) int {
	if path == nil {
		return 0
	}
	v, err := Walk(doc, path)
	if err != nil {
		return 0
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0
	}
	i, err := strconv.ParseInt(string(n), 10, 32)
	if err != nil || i < 0 {
		return 0
	}
	return int(i)
}

// decodeJSON decodes exactly one JSON value, numbers as json.Number.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

// ErrBadPath is returned (wrapped) by ParsePath for a malformed path.
var ErrBadPath = errors.New("bad response path")

// ParsePath splits a dot path ("choices.0.message.content") into its
// segments. A backslash escapes a dot or a backslash inside a key. Empty
// segments, a trailing backslash and other escapes are errors wrapping
// ErrBadPath.
func ParsePath(s string) ([]string, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrBadPath)
	}
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\\':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("%w: trailing backslash at offset %d", ErrBadPath, i)
			}
			if n := s[i+1]; n != '.' && n != '\\' {
				return nil, fmt.Errorf("%w: unknown escape \\%c at offset %d", ErrBadPath, n, i)
			}
			i++
			cur.WriteByte(s[i])
		case '.':
			if cur.Len() == 0 {
				return nil, fmt.Errorf("%w: empty segment at offset %d", ErrBadPath, i)
			}
			segs = append(segs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(ch)
		}
	}
	if cur.Len() == 0 {
		return nil, fmt.Errorf("%w: empty final segment", ErrBadPath)
	}
	return append(segs, cur.String()), nil
}

// Walk follows path through a value decoded by encoding/json
// (map[string]any, []any, string, json.Number or float64, bool, nil). A
// segment indexes an object by key, or an array when it is a decimal index.
// The error names the prefix of the path where the walk stopped.
func Walk(v any, path []string) (any, error) {
	for i, seg := range path {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[seg]
			if !ok {
				return nil, fmt.Errorf("key %q not found at %s", seg, pathPrefix(path, i))
			}
			v = next
		case []any:
			idx, err := strconv.Atoi(seg)
			if err != nil || idx < 0 || seg != strconv.Itoa(idx) {
				return nil, fmt.Errorf("segment %q is not an array index at %s", seg, pathPrefix(path, i))
			}
			if idx >= len(x) {
				return nil, fmt.Errorf("index %d out of range (length %d) at %s", idx, len(x), pathPrefix(path, i))
			}
			v = x[idx]
		default:
			return nil, fmt.Errorf("cannot take %q of %s at %s", seg, jsonKind(v), pathPrefix(path, i))
		}
	}
	return v, nil
}

func pathPrefix(path []string, n int) string {
	if n == 0 {
		return "the root"
	}
	esc := make([]string, n)
	for i, s := range path[:n] {
		esc[i] = strings.NewReplacer(`\`, `\\`, `.`, `\.`).Replace(s)
	}
	return strconv.Quote(strings.Join(esc, "."))
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

// LastUserContent returns the content of the last user message, or "" when
// there is none. It is the key Replay looks answers up by.
func LastUserContent(msgs []Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	return ""
}

func systemText(msgs []Message) string {
	var parts []string
	for _, m := range msgs {
		if m.Role == "system" || m.Role == "developer" {
			parts = append(parts, m.Content)
		}
	}
	return strings.Join(parts, "\n\n")
}
