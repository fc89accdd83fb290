package review

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"unicode/utf8"
)

// CheckJSONText checks every string of the JSON document data, member
// names included, for text that cannot be stored or echoed as JSON:
// bytes that are not UTF-8 (RFC 8259 requires UTF-8; encoding/json keeps
// them in a json.RawMessage and would write them back out as invalid
// JSON), a NUL character, raw or escaped as \u0000 (PostgreSQL's text and
// jsonb refuse it), and an escaped UTF-16 surrogate that is not half of a
// pair (jsonb refuses it; encoding/json turns it into U+FFFD). It returns
// nil when there is none, and otherwise an error wrapping
// ErrInvalidInput that names the string's place under root, such as
// "dossier.model_card: invalid UTF-8" or "samples[3].id: contains NUL
// (\u0000)".
//
// CheckJSONText does not check that data is well-formed JSON: it stops,
// returning nil, where the document stops making sense, and leaves that
// to the decoder. Documents with nothing suspect (valid UTF-8 and no
// \u0000 or surrogate escape) are passed by a quick scan without being
// parsed.
func CheckJSONText(data []byte, root string) error {
	if utf8.Valid(data) && !suspectEscape(data) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object    bool
		expectKey bool
		key       string
		index     int
		path      string // of the container
	}
	var stack []frame
	// here is the path of the value about to be read.
	here := func() string {
		if len(stack) == 0 {
			return root
		}
		f := stack[len(stack)-1]
		if f.object {
			return memberPath(f.path, f.key)
		}
		return fmt.Sprintf("%s[%d]", f.path, f.index)
	}
	// done advances the innermost container past a complete value.
	done := func() {
		if len(stack) == 0 {
			return
		}
		f := &stack[len(stack)-1]
		if f.object {
			f.expectKey = true
		} else {
			f.index++
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or malformed JSON: the decoder's to report
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, frame{object: t == '{', expectKey: t == '{', path: here()})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			raw := data[start:dec.InputOffset()]
			raw = raw[bytes.IndexByte(raw, '"')+1 : len(raw)-1]
			top := len(stack) - 1
			if top >= 0 && stack[top].object && stack[top].expectKey {
				if problem := textProblem(raw); problem != "" {
					path := stack[top].path
					if path == "" {
						path = "(document)"
					}
					return invalid(path, "a member name: %s", problem)
				}
				stack[top].key, stack[top].expectKey = t, false
				continue
			}
			if problem := textProblem(raw); problem != "" {
				path := here()
				if path == "" {
					path = "(document)"
				}
				return invalid(path, "%s", problem)
			}
			done()
		default:
			done()
		}
	}
}

// plainKey matches member names written as .name in a path.
var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

func memberPath(parent, key string) string {
	if !plainKey.MatchString(key) {
		return parent + "[" + strconv.QuoteToASCII(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// suspectEscape reports whether data has a \u escape of NUL or of a
// surrogate. It may be fooled into true (an escaped backslash before
// "u0000"), never into false.
func suspectEscape(data []byte) bool {
	for {
		i := bytes.Index(data, []byte(`\u`))
		if i < 0 || i+6 > len(data) {
			return false
		}
		if r, ok := hex4(data[i+2 : i+6]); ok && (r == 0 || r >= 0xD800 && r <= 0xDFFF) {
			return true
		}
		data = data[i+2:]
	}
}

// textProblem describes what is wrong with the raw (still escaped)
// contents of a JSON string, or returns "".
func textProblem(raw []byte) string {
	if !utf8.Valid(raw) {
		return "invalid UTF-8"
	}
	if bytes.IndexByte(raw, 0) >= 0 {
		return `contains NUL (\u0000)`
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' || i+5 > len(raw) {
			continue
		}
		r, ok := hex4(raw[i+1 : i+5])
		i += 4
		switch {
		case !ok:
		case r == 0:
			return `contains NUL (\u0000)`
		case r >= 0xDC00 && r <= 0xDFFF:
			return "unpaired UTF-16 surrogate escape"
		case r >= 0xD800 && r <= 0xDBFF:
			// A high surrogate must be followed by an escaped low one.
			if i+7 > len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return "unpaired UTF-16 surrogate escape"
			}
			lo, ok := hex4(raw[i+3 : i+7])
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return "unpaired UTF-16 surrogate escape"
			}
			i += 6
		}
	}
	return ""
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
