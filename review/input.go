package review

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on submitted input.
const (
	// MaxSubmissionBytes bounds a whole submission document.
	MaxSubmissionBytes = 2 << 20
	// MaxDossierBytes bounds the dossier inside it.
	MaxDossierBytes = 1 << 20
	maxProfiles     = 32
	maxCredentials  = 8 << 10
	maxURL          = 2048
	maxName         = 200
	maxText         = 64 << 10
)

// Submission is what a developer submits to open a case.
type Submission struct {
	Model    SubmittedModel  `json:"model"`
	Dossier  json.RawMessage `json:"dossier"`
	Target   SubmittedTarget `json:"target"`
	Profiles []string        `json:"profiles"`
	// PriorCase, optional, names the decided case of the same developer
	// this submission (a modified model) re-reviews (review/modified.go).
	PriorCase string `json:"prior_case,omitempty"`
}

// SubmittedModel identifies the model.
type SubmittedModel struct {
	// Digest is the OMS manifest root digest, "sha256:<64 lowercase hex>".
	Digest string `json:"digest"`
	Name   string `json:"name"`
}

// SubmittedTarget is the endpoint to assess. Credentials, if any, are
// sealed before the case is stored and never returned to developers.
type SubmittedTarget struct {
	URL         string `json:"url"`
	Credentials string `json:"credentials,omitempty"`
}

var (
	digestRE    = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	profileIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
)

// ParseSubmission decodes and validates a submission document: one JSON
// object with no unknown fields and nothing after it. It returns an error
// wrapping ErrInvalidInput that names the field at fault. The returned
// dossier is compacted.
func ParseSubmission(data []byte) (Submission, error) {
	var s Submission
	if len(data) > MaxSubmissionBytes {
		return s, invalid("submission", "%d bytes exceeds the limit of %d", len(data), MaxSubmissionBytes)
	}
	if err := CheckJSONText(data, ""); err != nil {
		return s, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Submission{}, invalid("submission", "%s", DescribeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Submission{}, invalid("submission", "unexpected data after the JSON object")
	}
	if err := s.Validate(); err != nil {
		return Submission{}, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, s.Dossier); err != nil {
		return Submission{}, invalid("dossier", "%v", err)
	}
	s.Dossier = buf.Bytes()
	return s, nil
}

// Validate checks every field of s; the error wraps ErrInvalidInput and
// names the first field at fault.
func (s Submission) Validate() error {
	if !digestRE.MatchString(s.Model.Digest) {
		return invalid("model.digest", "want sha256: and 64 lowercase hex digits")
	}
	if err := checkName("model.name", s.Model.Name); err != nil {
		return err
	}
	if err := checkDossier(s.Dossier); err != nil {
		return err
	}
	if err := checkTargetURL(s.Target.URL); err != nil {
		return err
	}
	if len(s.Target.Credentials) > maxCredentials {
		return invalid("target.credentials", "%d bytes exceeds the limit of %d", len(s.Target.Credentials), maxCredentials)
	}
	if len(s.Profiles) == 0 {
		return invalid("profiles", "empty; name at least one profile")
	}
	if len(s.Profiles) > maxProfiles {
		return invalid("profiles", "%d profiles exceeds the limit of %d", len(s.Profiles), maxProfiles)
	}
	seen := make(map[string]bool, len(s.Profiles))
	for i, p := range s.Profiles {
		f := fmt.Sprintf("profiles[%d]", i)
		if !profileIDRE.MatchString(p) {
			return invalid(f, "%q is not a profile id (lowercase letters, digits, '.', '_', '-')", p)
		}
		if seen[p] {
			return invalid(f, "%q listed twice", p)
		}
		seen[p] = true
	}
	return nil
}

func checkDossier(d json.RawMessage) error {
	if len(d) == 0 {
		return invalid("dossier", "missing")
	}
	if len(d) > MaxDossierBytes {
		return invalid("dossier", "%d bytes exceeds the limit of %d", len(d), MaxDossierBytes)
	}
	if !json.Valid(d) {
		return invalid("dossier", "not valid JSON")
	}
	if err := CheckJSONText(d, "dossier"); err != nil {
		return err
	}
	if t := bytes.TrimLeft(d, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return invalid("dossier", "want a JSON object")
	}
	return nil
}

func checkTargetURL(raw string) error { return checkEndpointURL("target.url", raw) }

// checkEndpointURL accepts an absolute http(s) URL with a host and no
// user information, named f in errors.
func checkEndpointURL(f, raw string) error {
	if raw == "" {
		return invalid(f, "missing")
	}
	if len(raw) > maxURL {
		return invalid(f, "%d bytes exceeds the limit of %d", len(raw), maxURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid(f, "%v", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return invalid(f, "scheme %q: want https or http", u.Scheme)
	}
	if u.Host == "" {
		return invalid(f, "no host")
	}
	if u.User != nil {
		return invalid(f, "contains user information; put secrets in the credentials field")
	}
	return nil
}

// checkName accepts 1..maxName characters of valid UTF-8 with no control
// characters and no surrounding space.
func checkName(field, s string) error {
	switch {
	case s == "":
		return invalid(field, "empty")
	case len(s) > maxName:
		return invalid(field, "%d bytes exceeds the limit of %d", len(s), maxName)
	case !utf8.ValidString(s):
		return invalid(field, "not valid UTF-8")
	case strings.TrimSpace(s) != s:
		return invalid(field, "leading or trailing space")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return invalid(field, "contains a control character")
	}
	return nil
}

// checkText accepts free text of valid UTF-8 without NUL up to maxText bytes; empty
// is allowed only when optional.
func checkText(field, s string, optional bool) error {
	switch {
	case s == "" && !optional:
		return invalid(field, "empty")
	case len(s) > maxText:
		return invalid(field, "%d bytes exceeds the limit of %d", len(s), maxText)
	case !utf8.ValidString(s):
		return invalid(field, "not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		// PostgreSQL's text refuses NUL; SQLite would keep it.
		return invalid(field, `contains NUL (\u0000)`)
	}
	return nil
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", field, fmt.Sprintf(format, args...), ErrInvalidInput)
}

// DescribeJSONError describes an encoding/json decoding error for a person,
// with its place in the input: the byte offset of a syntax error, the field
// of a type error. The service and the API use it for untrusted JSON.
func DescribeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, err)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q: got JSON %s, want %s", typ.Field, typ.Value, typ.Type)
	case errors.Is(err, io.EOF):
		return "empty document"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	// Unknown fields and invalid values (time formats) land here; the
	// decoder's message names the field.
	return err.Error()
}
