package score

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrBadTranscript is wrapped by every error ReadTranscripts returns for
// malformed input (not for read errors or the callback's errors).
var ErrBadTranscript = errors.New("bad transcript")

// MaxTranscriptLine is the longest transcript line ReadTranscripts accepts.
const MaxTranscriptLine = 16 << 20

// Transcript is one line of a transcript file for `clearance score`.
//
// Schema (JSON Lines, one object a line, blank lines skipped):
//
//	prompt    string: the request as sent. Required unless messages is given.
//	messages  optional array of {"role", "content"}: the conversation as sent
//	          (a run's samples.jsonl); the prompt is its last user message
//	          when prompt is absent
//	response  string, required: the model's answer
//	label     optional human label: a class (refusal: compliance,
//	          partial_refusal, refusal; harm: harmful, not_harmful; others:
//	          their verdict labels) or a boolean (true = flagged). Stored as
//	          a string; booleans become "true"/"false".
//	refusal_label  optional string: a refusal class (the labelled sets'
//	          field name)
//	harmful   optional boolean: the answer is harmful (true = flagged for
//	          the harm scorer)
//	error     optional object; a run's sample whose target failed
//	          ({"source": "target", …}) has no answer to score: TargetError
//	          is set
//	kind, goal, canary, marker, answer, pattern   optional strings (see Input)
//	choices   optional array of strings
//
// Any other field (a run's id, verdict, usage, …) is kept untouched in Raw.
type Transcript struct {
	Prompt       string
	Response     string
	Label        string // "" when absent
	RefusalLabel string // "" when absent
	Harmful      *bool  // nil when absent
	TargetError  string // the run's target error message; "" when the sample has an answer
	Kind         string
	Goal         string
	Canary       string
	Marker       string
	Answer       string
	Pattern      string
	Choices      []string
	Raw          json.RawMessage // the whole line as read, all fields included
}

// LineError is a malformed transcript line: ReadTranscripts wraps it, so
// callers can name the file and line ("FILE:LINE: …").
type LineError struct {
	Line int
	Err  error // names the field; wraps ErrBadTranscript
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Input returns the scorer input for t.
func (t Transcript) Input() Input {
	return Input{Kind: t.Kind, Prompt: t.Prompt, Goal: t.Goal, Response: t.Response, Answer: t.Answer,
		Choices: t.Choices, Canary: t.Canary, Marker: t.Marker, Pattern: t.Pattern}
}

// ReadTranscripts reads JSONL transcripts from r and calls fn with each, in
// order, with its 1-based line number. It stops at the first malformed line
// (an error naming the line and the field, wrapping ErrBadTranscript), the
// first read error, or the first error from fn (returned wrapped with the
// line number).
func ReadTranscripts(r io.Reader, fn func(line int, t Transcript) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := readLine(br)
		if len(line) > 0 || err == nil {
			if n == 1 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // UTF-8 BOM
			}
			line = bytes.TrimSpace(line)
			if len(line) > 0 {
				t, perr := parseTranscript(line)
				if perr != nil {
					return fmt.Errorf("read transcripts: %w", &LineError{Line: n, Err: perr})
				}
				if ferr := fn(n, t); ferr != nil {
					return fmt.Errorf("line %d: %w", n, ferr)
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read transcripts: %w", &LineError{Line: n, Err: err})
		}
	}
}

// readLine returns the next line without its newline, refusing lines over
// MaxTranscriptLine. At the end it returns the last line (possibly empty)
// and io.EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > MaxTranscriptLine {
			return nil, fmt.Errorf("line longer than %d bytes: %w", MaxTranscriptLine, ErrBadTranscript)
		}
		switch {
		case err == nil:
			return bytes.TrimSuffix(buf, []byte("\n")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return buf, err
		}
	}
}

func parseTranscript(line []byte) (Transcript, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return Transcript{}, fmt.Errorf("want a JSON object, got %s: %w", ute.Value, ErrBadTranscript)
		}
		return Transcript{}, fmt.Errorf("invalid JSON: %v: %w", err, ErrBadTranscript)
	}
	if fields == nil {
		return Transcript{}, fmt.Errorf("want a JSON object, got null: %w", ErrBadTranscript)
	}
	t := Transcript{Raw: append(json.RawMessage(nil), line...)}
	for _, f := range []struct {
		name     string
		dst      *string
		required bool
	}{
		{"prompt", &t.Prompt, false},
		{"response", &t.Response, true},
		{"kind", &t.Kind, false},
		{"goal", &t.Goal, false},
		{"canary", &t.Canary, false},
		{"marker", &t.Marker, false},
		{"answer", &t.Answer, false},
		{"pattern", &t.Pattern, false},
		{"refusal_label", &t.RefusalLabel, false},
	} {
		raw, ok := fields[f.name]
		if !ok || (!f.required && isNull(raw)) {
			if f.required {
				return Transcript{}, fmt.Errorf("field %q: missing: %w", f.name, ErrBadTranscript)
			}
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil || isNull(raw) {
			return Transcript{}, fmt.Errorf("field %q: want a string, got %s: %w", f.name, jsonType(raw), ErrBadTranscript)
		}
	}
	_, hasPrompt := fields["prompt"]
	if raw, ok := fields["messages"]; ok && !isNull(raw) {
		var msgs []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		}
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return Transcript{}, fmt.Errorf("field %q: want an array of {\"role\", \"content\"} strings, got %s: %w", "messages", jsonType(raw), ErrBadTranscript)
		}
		last := -1
		for i, m := range msgs {
			if m.Role == "user" {
				last = i
			}
		}
		switch {
		case hasPrompt:
		case last < 0:
			return Transcript{}, fmt.Errorf("field %q: no user message, and no \"prompt\": %w", "messages", ErrBadTranscript)
		default:
			t.Prompt, hasPrompt = msgs[last].Content, true
		}
	}
	if !hasPrompt {
		return Transcript{}, fmt.Errorf("field %q: missing (and no \"messages\"): %w", "prompt", ErrBadTranscript)
	}
	if raw, ok := fields["label"]; ok && !isNull(raw) {
		var s string
		var b bool
		switch {
		case json.Unmarshal(raw, &s) == nil:
			t.Label = s
		case json.Unmarshal(raw, &b) == nil:
			t.Label = strconv.FormatBool(b)
		default:
			return Transcript{}, fmt.Errorf("field %q: want a string or a boolean, got %s: %w", "label", jsonType(raw), ErrBadTranscript)
		}
	}
	if raw, ok := fields["harmful"]; ok && !isNull(raw) {
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return Transcript{}, fmt.Errorf("field %q: want a boolean, got %s: %w", "harmful", jsonType(raw), ErrBadTranscript)
		}
		t.Harmful = &b
	}
	if raw, ok := fields["error"]; ok && !isNull(raw) {
		var e struct {
			Source  string `json:"source"`
			Message string `json:"message"`
		}
		// A run's sample error is an object; anything else is the
		// user's own field and is kept in Raw only.
		if json.Unmarshal(raw, &e) == nil && e.Source == "target" {
			t.TargetError = e.Message
			if t.TargetError == "" {
				t.TargetError = "target error"
			}
		}
	}
	if raw, ok := fields["choices"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &t.Choices); err != nil {
			return Transcript{}, fmt.Errorf("field %q: want an array of strings, got %s: %w", "choices", jsonType(raw), ErrBadTranscript)
		}
	}
	return t, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// jsonType names the JSON type of raw for error messages.
func jsonType(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}
