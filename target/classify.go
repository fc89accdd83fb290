package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxErrorBody bounds how much of an error response is read for its message.
const maxErrorBody = 64 << 10

// maxSnippet bounds the provider text quoted in an Error's Msg.
const maxSnippet = 300

// statusError classifies a non-2xx HTTP response. body is the response body
// (possibly empty), now the current time for HTTP-date Retry-After values.
func statusError(status int, h http.Header, body []byte, now time.Time) *Error {
	msg := errorMessage(body)
	if msg == "" {
		msg = http.StatusText(status)
	}
	e := &Error{Status: status, Msg: msg}
	lower := strings.ToLower(string(body))
	switch {
	case status == http.StatusTooManyRequests:
		e.Kind = KindRateLimited
	case status == http.StatusServiceUnavailable || status == 529:
		e.Kind = KindOverloaded
	case status >= 500 && strings.Contains(lower, "overloaded"):
		e.Kind = KindOverloaded
	case status >= 500:
		e.Kind = KindServer
	case status >= 400:
		e.Kind = KindClient
	default:
		// A 1xx or 3xx final response: the body cannot be an answer.
		e.Kind = KindMalformed
		e.Msg = "unexpected HTTP status: " + msg
	}
	if e.Kind == KindRateLimited || e.Kind == KindOverloaded || e.Kind == KindServer {
		e.RetryAfter = parseRetryAfter(h, now)
	}
	return e
}

// parseRetryAfter reads Retry-After-Ms (milliseconds, sent by some
// OpenAI-compatible servers) or Retry-After (delta seconds or an HTTP-date,
// RFC 9110 §10.2.3). It returns 0 when neither is present or parseable, or
// when the date is already past.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < float64(math.MaxInt64/int64(time.Millisecond)) {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	// RFC 9110 says delta-seconds is an integer, but fractional values are
	// seen in the wild; accept both.
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || math.IsNaN(secs) || secs > float64(math.MaxInt64/int64(time.Second)) {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// errorMessage extracts a human-readable message from an error body: the
// OpenAI/Anthropic shape {"error":{"message":...}}, {"error":"..."},
// {"message":...}, or else the start of the raw text.
func errorMessage(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil {
		if len(v.Error) > 0 {
			var inner struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			}
			if json.Unmarshal(v.Error, &inner) == nil && inner.Message != "" {
				if inner.Type != "" {
					return snippet(inner.Type + ": " + inner.Message)
				}
				return snippet(inner.Message)
			}
			var s string
			if json.Unmarshal(v.Error, &s) == nil && s != "" {
				return snippet(s)
			}
		}
		if v.Message != "" {
			return snippet(v.Message)
		}
	}
	return snippet(string(body))
}

// snippet makes provider text safe and short for an error message.
func snippet(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > maxSnippet {
		cut := maxSnippet
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// transportError classifies a failure that produced no usable HTTP
// response. ctx is the context of the attempt (with the client's timeout).
func transportError(ctx context.Context, err error) *Error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Kind: KindTimeout, Msg: "request deadline exceeded", Err: context.DeadlineExceeded}
	}
	if errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled) {
		return &Error{Kind: KindConnection, Msg: "request canceled", Err: context.Canceled}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &Error{Kind: KindTimeout, Msg: redactURL(err).Error(), Err: err}
	}
	return &Error{Kind: KindConnection, Msg: redactURL(err).Error(), Err: err}
}

// redactURL drops the query and user info from a *url.Error's URL: a
// templated endpoint may carry a key in its query string.
func redactURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return fmt.Errorf("%s %s: %w", ue.Op, redactedURL(u), ue.Err)
}

// redactedURL renders u without user info, query or fragment.
func redactedURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment = ""
	c.RawFragment = ""
	return c.String()
}

// malformed builds a KindMalformed error for a 2xx response.
func malformed(status int, format string, a ...any) *Error {
	return &Error{Kind: KindMalformed, Status: status, Msg: fmt.Sprintf(format, a...)}
}

// readErrorBody reads at most maxErrorBody bytes of an error response body.
// A read failure yields what was read so far.
func readErrorBody(r io.Reader) []byte {
	if r == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(r, maxErrorBody))
	return b
}

// approxTokens estimates tokens as ceil(chars/4), the usual rule of thumb
// for English text.
func approxTokens(s string) int {
	n := len([]rune(s))
	return (n + 3) / 4
}

// formatOptFloat renders an optional generation parameter for an Identity.
func formatOptFloat(p *float64) string {
	if p == nil {
		return "default"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

func formatOptInt(p *int64) string {
	if p == nil {
		return "default"
	}
	return strconv.FormatInt(*p, 10)
}

func formatInt(n int) string {
	if n == 0 {
		return "default"
	}
	return strconv.Itoa(n)
}
