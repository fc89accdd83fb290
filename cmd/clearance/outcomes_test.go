package main

import (
	"errors"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/review"
)

// TestParseOutcomes checks the decision outcomes the signer accepts, and
// that conditions reach the signed predicate only with a due date.
func TestParseOutcomes(t *testing.T) {
	got, err := parseOutcomes([]byte(`{"a":"cleared","b":{"outcome":"cleared_with_conditions","conditions":["no due",{"text":"card","due":"2026-07-01"},{"text":"x","due":"2026-07-01T12:00:00Z"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got["a"].Outcome != attest.OutcomeCleared || len(got["a"].Conditions) != 0 {
		t.Errorf("a = %+v", got["a"])
	}
	b := got["b"]
	if b.Outcome != attest.OutcomeClearedWithConditions || len(b.Conditions) != 2 ||
		b.Conditions[0].Text != "card" || !b.Conditions[0].DueAt.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)) ||
		!b.Conditions[1].DueAt.Equal(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("b = %+v", b)
	}
	for _, bad := range []string{`[]`, `{"a":"maybe"}`, `{"a":{"outcome":7}}`, `{"a":{"outcome":"hold","conditions":[[1]]}}`, `{"a":5}`} {
		if _, err := parseOutcomes([]byte(bad)); !errors.Is(err, review.ErrInvalidInput) {
			t.Errorf("parseOutcomes(%s) = %v, want ErrInvalidInput", bad, err)
		}
	}
}
