package policy

import (
	"os"
	"strings"
	"testing"
)

// recognitionProfile loads testdata/recognition-profile.yaml with the
// recognised_authorities list replaced by list (YAML flow syntax).
func recognitionProfile(t *testing.T, list string) *Profile {
	t.Helper()
	data, err := os.ReadFile("testdata/recognition-profile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "value: [uk-aisi]", "value: "+list, 1)
	p, err := Load("recognition-profile.yaml", []byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRecognisedDecisionMeetsCriterion: the missing misuse evaluation is
// met by a cleared decision of an authority the profile's
// recognised_authorities constant lists, and only by that: another
// authority, a held decision or an empty list leave it missing (hold).
func TestRecognisedDecisionMeetsCriterion(t *testing.T) {
	cleared := Recognised{Authority: "uk-aisi", Profile: "aisi-frontier", Outcome: "cleared", DecidedAt: day(2026, 5, 1)}
	tests := []struct {
		name       string
		list       string
		recognised []Recognised
		want       Outcome
		rationale  string
	}{
		{"recognised authority cleared", "[uk-aisi]", []Recognised{cleared}, Cleared, "recognised authority"},
		{"cleared with conditions", "[uk-aisi, eu-ai-office]", []Recognised{{Authority: "uk-aisi", Outcome: "cleared_with_conditions"}}, Cleared, "recognised authority"},
		{"no recognition", "[uk-aisi]", nil, Hold, "evaluation missing"},
		{"authority not listed", "[eu-ai-office]", []Recognised{cleared}, Hold, "evaluation missing"},
		{"empty list (the default)", "[]", []Recognised{cleared}, Hold, "evaluation missing"},
		{"held decision", "[uk-aisi]", []Recognised{{Authority: "uk-aisi", Outcome: "hold"}}, Hold, "evaluation missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := recognitionProfile(t, tt.list)
			ev := &Evidence{AsOf: day(2026, 6, 1), Known: map[string]bool{}, Recognised: tt.recognised}
			r := decideOne(t, ev, p)
			if r.Outcome != tt.want || !strings.Contains(r.Rationale, tt.rationale) {
				t.Errorf("outcome %s (%q), want %s (%q); errors %v", r.Outcome, r.Rationale, tt.want, tt.rationale, r.Errors)
			}
		})
	}
}

// TestListConstantMustHoldStrings: a list constant of anything but
// strings is refused when the profile loads.
func TestListConstantMustHoldStrings(t *testing.T) {
	data, err := os.ReadFile("testdata/recognition-profile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "value: [uk-aisi]", "value: [1, 2]", 1)
	if _, err := Load("recognition-profile.yaml", []byte(text), nil); err == nil {
		t.Fatal("Load accepted a list constant of numbers")
	}
}

// TestEvidenceRecognisedField: evidence documents carry recognised
// decisions (the schema knows the field) and refuse unknown fields in them.
func TestEvidenceRecognisedField(t *testing.T) {
	ev, err := LoadEvidence("e.yaml", []byte("recognised:\n  - {authority: uk-aisi, profile: p, outcome: cleared, decided_at: 2026-05-01}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Recognised) != 1 || ev.Recognised[0].Authority != "uk-aisi" || ev.Recognised[0].DecidedAt != day(2026, 5, 1) {
		t.Errorf("Recognised = %+v", ev.Recognised)
	}
	if _, err := LoadEvidence("e.yaml", []byte("recognised:\n  - {authority: uk-aisi, profile: p, outcome: cleared, decided_at: 2026-05-01, trusted: true}\n")); err == nil {
		t.Error("LoadEvidence accepted an unknown field in recognised")
	}
}
