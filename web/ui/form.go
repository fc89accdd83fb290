package ui

import (
	"errors"
	"net/url"
	"strings"

	"github.com/clearance-dev/clearance/review"
)

// form is a submitted form being re-shown: the values entered and a
// message per field that was rejected, plus Msg for the form as a whole.
type form struct {
	Values url.Values
	Errs   map[string]string
	Msg    string
}

func newForm(v url.Values) *form { return &form{Values: v, Errs: map[string]string{}} }

// V returns the value entered in a field.
func (f *form) V(name string) string {
	if f == nil || f.Values == nil {
		return ""
	}
	return f.Values.Get(name)
}

// E returns the message for a field, or "".
func (f *form) E(name string) string {
	if f == nil {
		return ""
	}
	return f.Errs[name]
}

// Failed reports whether the form has any message.
func (f *form) Failed() bool { return f != nil && (len(f.Errs) > 0 || f.Msg != "") }

func (f *form) fail(field, msg string) {
	if _, ok := f.Errs[field]; !ok {
		f.Errs[field] = msg
	}
}

// serviceFail places a service error on the form: an ErrInvalidInput
// naming one of fields goes next to that field, anything else on the form.
// It reports false for errors that are not about the input (not found,
// forbidden, internal), which the caller renders as a page instead.
func (f *form) serviceFail(err error, fields ...string) bool {
	switch {
	case errors.Is(err, review.ErrInvalidInput):
		msg := err.Error()
		for _, fld := range fields {
			if rest, ok := afterField(msg, fld); ok {
				f.fail(fld, strings.TrimSuffix(rest, ": "+review.ErrInvalidInput.Error()))
				return true
			}
		}
		f.Msg = msg
		return true
	case errors.Is(err, review.ErrInvalidTransition), errors.Is(err, review.ErrConflict):
		f.Msg = conflictText(err)
		return true
	}
	return false
}

// afterField finds field in a service message ("action: field: problem"
// or "action: field[2]: problem") and returns what follows it.
func afterField(msg, field string) (string, bool) {
	for from := 0; ; {
		i := strings.Index(msg[from:], field)
		if i < 0 {
			return "", false
		}
		i += from
		start := i == 0 || (i >= 2 && msg[i-2:i] == ": ")
		rest := msg[i+len(field):]
		if start {
			if strings.HasPrefix(rest, ": ") {
				return rest[2:], true
			}
			if strings.HasPrefix(rest, "[") {
				if j := strings.Index(rest, "]: "); j > 0 {
					return rest[j+3:], true
				}
			}
		}
		from = i + len(field)
	}
}
