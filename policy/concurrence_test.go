package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConcurrenceBlock(t *testing.T) {
	tests := []struct {
		name  string
		block string
		want  *Concurrence
		err   string // a problem the load names
	}{
		{"none", "", nil, ""},
		{"lead", "concurrence: {rule: lead}\n", &Concurrence{Rule: ConcurLead}, ""},
		{"k of n", "concurrence: {rule: k_of_n, k: 2, consultation_days: 15, silence: object}\n",
			&Concurrence{Rule: ConcurKOfN, K: 2, ConsultationDays: 15, Silence: SilenceObject}, ""},
		{"all", "concurrence: {rule: all, consultation_days: 30}\n", &Concurrence{Rule: ConcurAll, ConsultationDays: 30}, ""},
		{"unknown rule", "concurrence: {rule: majority}\n", nil, "concurrence.rule: value must be one of"},
		{"no rule", "concurrence: {k: 2}\n", nil, "concurrence.rule: missing required field"},
		{"k of n without k", "concurrence: {rule: k_of_n}\n", nil, "concurrence.k"},
		{"k for lead", "concurrence: {rule: lead, k: 2}\n", nil, "k is for rule k_of_n only"},
		{"zero days", "concurrence: {rule: lead, consultation_days: 0}\n", nil, "concurrence.consultation_days: minimum"},
		{"bad silence", "concurrence: {rule: lead, silence: abstain}\n", nil, "concurrence.silence: value must be one of"},
		{"unknown field", "concurrence: {rule: lead, quorum: 3}\n", nil, "concurrence.quorum: unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load("test.yaml", []byte(minimalProfile+tc.block), nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Load error = %v, want one naming %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tc.want, p.Concurrence); diff != "" {
				t.Errorf("concurrence (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConcurrenceInherited(t *testing.T) {
	parent, err := Load("test.yaml", []byte(minimalProfile+"concurrence: {rule: all}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(string) (*Profile, error) { return parent, nil }
	child, err := Load("child.yaml", []byte("id: child\ntitle: Child\nversion: \"1\"\nstatus: template\nextends: test\n"), resolve)
	if err != nil {
		t.Fatal(err)
	}
	if child.Concurrence == nil || child.Concurrence.Rule != ConcurAll {
		t.Fatalf("inherited concurrence = %+v, want all", child.Concurrence)
	}
	over, err := Load("child.yaml", []byte("id: child\ntitle: Child\nversion: \"1\"\nstatus: template\nextends: test\nconcurrence: {rule: lead}\n"), resolve)
	if err != nil {
		t.Fatal(err)
	}
	if over.Concurrence.Rule != ConcurLead {
		t.Fatalf("overridden concurrence = %+v, want lead", over.Concurrence)
	}
}

func TestStrictestConcurrence(t *testing.T) {
	prof := func(c *Concurrence) *Profile { return &Profile{Concurrence: c} }
	tests := []struct {
		name string
		in   []*Profile
		want Concurrence
	}{
		{"none", nil, Concurrence{Rule: ConcurLead, ConsultationDays: 10, Silence: SilenceConcur}},
		{"profiles without a block", []*Profile{prof(nil), prof(nil)}, DefaultConcurrence()},
		{"one block, defaults filled", []*Profile{prof(nil), prof(&Concurrence{Rule: ConcurKOfN, K: 2})},
			Concurrence{Rule: ConcurKOfN, K: 2, ConsultationDays: 10, Silence: SilenceConcur}},
		{"all beats k of n", []*Profile{prof(&Concurrence{Rule: ConcurKOfN, K: 3, ConsultationDays: 20}), prof(&Concurrence{Rule: ConcurAll, ConsultationDays: 5})},
			Concurrence{Rule: ConcurAll, ConsultationDays: 20, Silence: SilenceConcur}},
		{"largest k", []*Profile{prof(&Concurrence{Rule: ConcurKOfN, K: 3}), prof(&Concurrence{Rule: ConcurKOfN, K: 2, Silence: SilenceObject})},
			Concurrence{Rule: ConcurKOfN, K: 3, ConsultationDays: 10, Silence: SilenceObject}},
		{"k of n beats lead", []*Profile{prof(&Concurrence{Rule: ConcurLead, ConsultationDays: 30, Silence: SilenceObject}), prof(&Concurrence{Rule: ConcurKOfN, K: 1})},
			Concurrence{Rule: ConcurKOfN, K: 1, ConsultationDays: 30, Silence: SilenceObject}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, StrictestConcurrence(tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
