package review

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOutcomeEntry(t *testing.T) {
	tests := []struct {
		in   string
		want OutcomeEntry
		ok   bool
	}{
		{`"cleared"`, OutcomeEntry{Outcome: "cleared"}, true},
		{`{"outcome":"hold","deemed":true}`, OutcomeEntry{Outcome: "hold", Deemed: true}, true},
		{`{"outcome":"cleared_with_conditions","conditions":["Report incidents"," ",{"text":"Publish the report","due":"2027-01-01"},{"x":1}]}`,
			OutcomeEntry{Outcome: "cleared_with_conditions", Conditions: []string{"Report incidents", "Publish the report (due 2027-01-01)", `{"x":1}`}}, true},
		{`42`, OutcomeEntry{}, false},
		{`[1]`, OutcomeEntry{}, false},
	}
	for _, tc := range tests {
		got, ok := ParseOutcomeEntry(json.RawMessage(tc.in))
		if ok != tc.ok {
			t.Errorf("ParseOutcomeEntry(%s) ok = %v, want %v", tc.in, ok, tc.ok)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseOutcomeEntry(%s) (-want +got):\n%s", tc.in, diff)
		}
	}
}
