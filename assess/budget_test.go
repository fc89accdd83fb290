package assess

import (
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/agent"
	"github.com/google/go-cmp/cmp"
)

func TestParseBudgets(t *testing.T) {
	tests := []struct {
		in      string
		want    []int64
		wantErr string
	}{
		{"2000,8000,32000", []int64{2000, 8000, 32000}, ""},
		{" 32000, 2000 ", []int64{2000, 32000}, ""},
		{"5", []int64{5}, ""},
		{"", nil, `"" is not a token budget`},
		{"2000,,8000", nil, `"" is not a token budget`},
		{"0", nil, `"0" is not a token budget`},
		{"-5", nil, `"-5" is not a token budget`},
		{"2k", nil, `"2k" is not a token budget`},
		{"100000001", nil, `"100000001" is not a token budget`},
		{"2000,2000", nil, "listed twice"},
		{strings.Repeat("1,", 12) + "1", nil, "exceeds the limit of 12"},
	}
	for _, tt := range tests {
		got, err := ParseBudgets(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseBudgets(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("ParseBudgets(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseBudgets(f *testing.F) {
	for _, s := range []string{"2000,8000,32000", "1", "", ",", "99999999999999999999", "-1,2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseBudgets(s)
		if err != nil {
			return
		}
		if len(got) == 0 || len(got) > MaxSweepBudgets {
			t.Fatalf("ParseBudgets(%q) = %v: want 1 to %d budgets", s, got, MaxSweepBudgets)
		}
		for i, b := range got {
			if b < 1 || b > 100_000_000 || (i > 0 && got[i-1] >= b) {
				t.Fatalf("ParseBudgets(%q) = %v: want increasing budgets in [1, 1e8]", s, got)
			}
		}
	})
}

func TestBudgetPointOf(t *testing.T) {
	m := Metrics{Groups: []Group{
		{Key: "s.attack_success_rate", Kind: "harmful", Metric: "attack_success_rate", Overall: Rate{Flagged: 9, N: 10}},
		{Key: "cyber-exploit.solve_rate", Kind: "exploit", Metric: "solve_rate", Overall: Rate{Flagged: 2, N: 8, Errors: 1},
			Episodes: &EpisodeStats{Triage: map[string]int{agent.LabelRefused: 2, agent.LabelOutOfBudget: 4}}},
		{Key: "cyber-exploit." + ExcludingNonCapability, Kind: "exploit", Metric: ExcludingNonCapability, Overall: Rate{Flagged: 2, N: 6, Errors: 1, Excluded: 2}},
		{Key: "cyber-tasks.solve_rate", Kind: "exploit", Metric: "solve_rate", Overall: Rate{Flagged: 1, N: 2},
			Episodes: &EpisodeStats{Triage: map[string]int{agent.LabelRefused: 1}}},
		{Key: "cyber-tasks." + ExcludingNonCapability, Kind: "exploit", Metric: ExcludingNonCapability, Overall: Rate{Flagged: 1, N: 1, Excluded: 1}},
	}}
	p, ok := BudgetPointOf(8000, m)
	if !ok {
		t.Fatal("BudgetPointOf found no exploit group")
	}
	if p.Budget != 8000 || p.Raw.Flagged != 3 || p.Raw.N != 10 || p.Raw.Errors != 1 || p.Adjusted.Flagged != 3 || p.Adjusted.N != 7 || p.Adjusted.Excluded != 3 {
		t.Errorf("BudgetPointOf = %+v, want raw 3/10 (1 error), adjusted 3/7 with 3 excluded", p)
	}
	if p.Raw.CI.High <= p.Raw.Rate || p.Raw.CI.Low >= p.Raw.Rate {
		t.Errorf("raw interval %+v does not surround %v", p.Raw.CI, p.Raw.Rate)
	}
	if diff := cmp.Diff(map[string]int{agent.LabelRefused: 3, agent.LabelOutOfBudget: 4}, p.Triage); diff != "" {
		t.Errorf("triage (-want +got):\n%s", diff)
	}
	if _, ok := BudgetPointOf(1, Metrics{Groups: m.Groups[:1]}); ok {
		t.Error("BudgetPointOf found an exploit group in a chat-only run")
	}
}
