package target

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Transcript is one recorded exchange: the prompt (last user message), the
// answer, and what the source says about it.
type Transcript struct {
	Prompt   string    `json:"prompt"`
	Response string    `json:"response"`
	Messages []Message `json:"messages,omitempty"` // the whole conversation, when recorded

	// Metadata from a JailbreakBench artifact (empty for JSONL). The
	// jailbroken label is the artifact's automatic judge, not a human.
	Behavior   string `json:"behavior,omitempty"`
	Category   string `json:"category,omitempty"`
	Jailbroken *bool  `json:"jailbroken,omitempty"`

	Source string `json:"-"` // "file:line" or "file:jailbreaks[i]", for error messages
}

// ErrTranscript is returned (wrapped) for transcript input that cannot be
// loaded; the message names the file and line.
var ErrTranscript = errors.New("bad transcript")

// maxTranscriptLine bounds one JSONL line (a long jailbreak prompt plus its
// answer fits easily).
const maxTranscriptLine = 8 << 20

// ParseTranscriptsJSONL reads one JSON object per line:
//
//	{"prompt": "...", "response": "...", "messages": [{"role": "user", "content": "..."}]}
//
// "messages" is optional; when present without "prompt", the prompt is the
// last user message, and when both are present they must agree. Blank lines
// are skipped. Unknown fields are errors (they usually mean a wrong file).
// name labels errors ("name:line: …").
func ParseTranscriptsJSONL(r io.Reader, name string) ([]Transcript, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxTranscriptLine)
	var out []Transcript
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		where := fmt.Sprintf("%s:%d", name, line)
		var raw struct {
			Prompt   *string   `json:"prompt"`
			Response *string   `json:"response"`
			Messages []Message `json:"messages"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrTranscript, where, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: %s: more than one JSON value on the line", ErrTranscript, where)
		}
		if raw.Response == nil {
			return nil, fmt.Errorf("%w: %s: missing \"response\"", ErrTranscript, where)
		}
		t := Transcript{Response: *raw.Response, Messages: raw.Messages, Source: where}
		for i, m := range raw.Messages {
			if m.Role != "system" && m.Role != "user" && m.Role != "assistant" && m.Role != "developer" {
				return nil, fmt.Errorf("%w: %s: messages[%d]: unknown role %q", ErrTranscript, where, i, m.Role)
			}
		}
		last := LastUserContent(raw.Messages)
		switch {
		case raw.Prompt != nil:
			t.Prompt = *raw.Prompt
			if len(raw.Messages) > 0 && last != t.Prompt {
				return nil, fmt.Errorf("%w: %s: \"prompt\" differs from the last user message in \"messages\"", ErrTranscript, where)
			}
		case len(raw.Messages) > 0:
			if !hasUser(raw.Messages) {
				return nil, fmt.Errorf("%w: %s: \"messages\" has no user message", ErrTranscript, where)
			}
			t.Prompt = last
		default:
			return nil, fmt.Errorf("%w: %s: missing \"prompt\" (or \"messages\")", ErrTranscript, where)
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%w: %s:%d: line longer than %d bytes", ErrTranscript, name, line+1, maxTranscriptLine)
		}
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

func hasUser(msgs []Message) bool {
	for _, m := range msgs {
		if m.Role == "user" {
			return true
		}
	}
	return false
}

// ParseJBBArtifact reads a JailbreakBench attack artifact
// (github.com/JailbreakBench/artifacts, attack-artifacts/<method>/<type>/<model>.json):
//
//	{"parameters": {...}, "jailbreaks": [{"index", "goal", "behavior", "category",
//	  "prompt", "response", "jailbroken", ...}, ...]}
//
// Entries whose prompt or response is null (the attack submitted nothing
// for that behaviour) are skipped. name labels errors; a JSON syntax error
// names its line.
func ParseJBBArtifact(r io.Reader, name string) ([]Transcript, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var doc struct {
		Jailbreaks *[]json.RawMessage `json:"jailbreaks"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrTranscript, name, jsonErrorPlace(data, err))
	}
	if doc.Jailbreaks == nil {
		return nil, fmt.Errorf("%w: %s: no \"jailbreaks\" list (not a JailbreakBench artifact)", ErrTranscript, name)
	}
	var out []Transcript
	for i, raw := range *doc.Jailbreaks {
		where := fmt.Sprintf("%s: jailbreaks[%d]", name, i)
		var j struct {
			Goal       string  `json:"goal"`
			Behavior   string  `json:"behavior"`
			Category   string  `json:"category"`
			Prompt     *string `json:"prompt"`
			Response   *string `json:"response"`
			Jailbroken *bool   `json:"jailbroken"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrTranscript, where, err)
		}
		if j.Prompt == nil || j.Response == nil {
			continue
		}
		out = append(out, Transcript{
			Prompt:     *j.Prompt,
			Response:   *j.Response,
			Behavior:   j.Behavior,
			Category:   j.Category,
			Jailbroken: j.Jailbroken,
			Source:     where,
		})
	}
	return out, nil
}

// jsonErrorPlace renders a decoding error with the line it occurred on.
func jsonErrorPlace(data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var ue *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &ue):
		off = ue.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err.Error()
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	return fmt.Sprintf("line %d: %v", line, err)
}

// LoadTranscripts reads a transcript file: JSONL when the name ends in
// ".jsonl", a JailbreakBench artifact when it ends in ".json".
func LoadTranscripts(path string) ([]Transcript, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open transcripts: %w", err)
	}
	defer f.Close()
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl":
		return ParseTranscriptsJSONL(f, path)
	case ".json":
		return ParseJBBArtifact(f, path)
	}
	return nil, fmt.Errorf("%w: %s: unknown format (want .jsonl or a JailbreakBench .json artifact)", ErrTranscript, path)
}

// Replay answers from recorded transcripts, looked up by the exact content
// of the request's last user message. It never guesses: a prompt with no
// recording is an *Error of KindUnknown. Safe for concurrent use.
type Replay struct {
	answers  map[string]string
	identity string
}

// NewReplay indexes transcripts by prompt. The same prompt recorded twice
// with different answers is an error naming both places; identical
// duplicates are merged.
func NewReplay(ts []Transcript) (*Replay, error) {
	answers := make(map[string]string, len(ts))
	where := make(map[string]string, len(ts))
	for _, t := range ts {
		if prev, ok := answers[t.Prompt]; ok {
			if prev != t.Response {
				return nil, fmt.Errorf("%w: %s: prompt already recorded at %s with a different response", ErrTranscript, t.Source, where[t.Prompt])
			}
			continue
		}
		answers[t.Prompt] = t.Response
		where[t.Prompt] = t.Source
	}
	// The identity is a digest of the recorded pairs in prompt order, so it
	// does not depend on file names or order.
	prompts := make([]string, 0, len(answers))
	for p := range answers {
		prompts = append(prompts, p)
	}
	sort.Strings(prompts)
	h := sha256.New()
	for _, p := range prompts {
		writeLenPrefixed(h, p)
		writeLenPrefixed(h, answers[p])
	}
	return &Replay{
		answers:  answers,
		identity: fmt.Sprintf("replay transcripts=%d sha256=%s", len(answers), hex.EncodeToString(h.Sum(nil))),
	}, nil
}

// Len returns the number of distinct recorded prompts.
func (r *Replay) Len() int { return len(r.answers) }

// Identity names the recording set by a digest of its contents.
func (r *Replay) Identity() string { return r.identity }

// Complete returns the recorded answer for the last user message of req,
// or an *Error of KindUnknown.
func (r *Replay) Complete(ctx context.Context, req Request) (Response, error) {
	if err := ctx.Err(); err != nil {
		return Response{}, AsError(err)
	}
	p := LastUserContent(req.Messages)
	ans, ok := r.answers[p]
	if !ok {
		return Response{}, &Error{Kind: KindUnknown, Msg: fmt.Sprintf("no recorded answer for prompt %q", snippet(p))}
	}
	// Usage stays zero: the recording did not report it.
	return Response{Content: ans, FinishReason: "stop", Model: "replay"}, nil
}
