package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScheduledDuties: the built-in SB 53 and New York profiles state
// their recurring duties with computable schedules; a bad duties block is
// rejected naming the field; lint warns on a literal schedule.
func TestScheduledDuties(t *testing.T) {
	type row struct {
		ID           string
		First, Every float64
		Tiers        []string
	}
	large := []string{"large-frontier-developer"}
	for id, want := range map[string][]row{
		"ca-sb-53": {{"transparency-report", 0, 0, nil}, {"internal-use-summary", 3, 3, large}, {"framework-review", 12, 12, large}},
		"ny-raise": {{"transparency-report", 0, 0, nil}, {"internal-use-summary", 3, 3, large}, {"safety-protocol-review", 12, 12, large}},
	} {
		p, err := Builtin(id)
		if err != nil {
			t.Fatal(err)
		}
		var got []row
		for _, d := range p.Duties {
			f, _ := p.ConstNumber(d.First)
			e, _ := p.ConstNumber(d.Every)
			got = append(got, row{d.ID, f, e, d.Tiers})
			if d.Cite == "" || d.To == "" {
				t.Errorf("%s duty %s lacks cite or recipient", id, d.ID)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s duties (-want +got):\n%s", id, diff)
		}
		// The tier that owes the recurring duties is the revenue test,
		// with its pinpoint: annual gross revenues in excess of $500M.
		k, ok := p.Constants["large_revenue_usd"]
		if v, _ := k.Value.(float64); !ok || v != 5e8 || !strings.Contains(k.Pinpoint, "$500,000,000") {
			t.Errorf("%s large_revenue_usd = %v (pinpoint %q), want 500000000 with the Act's words", id, k.Value, k.Pinpoint)
		}
		if len(p.Tiers) == 0 || p.Tiers[0].ID != "large-frontier-developer" || p.Tiers[0].When != "developer.annual_gross_revenue_usd > consts.large_revenue_usd" {
			t.Errorf("%s first tier = %+v, want large-frontier-developer on revenue above large_revenue_usd", id, p.Tiers)
		}
	}
	for _, tc := range []struct{ name, block, want string }{
		{"unknown unit", "duties:\n  - {id: d, title: d, to: x, every: 3, unit: weeks}\n", "duties[0].unit"},
		{"unknown constant", "duties:\n  - {id: d, title: d, to: x, every: nope}\n", `unknown constant "nope"`},
		{"negative", "duties:\n  - {id: d, title: d, to: x, every: -3}\n", "whole number of units"},
		{"fraction", "duties:\n  - {id: d, title: d, to: x, first: 1.5}\n", "whole number of units"},
		{"missing recipient", "duties:\n  - {id: d, title: d}\n", "duties[0]"},
		{"duplicate", "duties:\n  - {id: d, title: d, to: x}\n  - {id: d, title: e, to: x}\n", `duplicate id "d"`},
		{"unknown tier", "duties:\n  - {id: d, title: d, to: x, tiers: [gold]}\n", `duties[0].tiers: unknown tier "gold"`},
	} {
		_, err := Load("test.yaml", []byte(minimalProfile+tc.block), nil)
		if !errors.Is(err, ErrInvalidProfile) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Load error = %v, want ErrInvalidProfile naming %q", tc.name, err, tc.want)
		}
	}
	fs, err := Lint("bad.yaml", []byte(minimalProfile+"duties:\n  - {id: d, title: d, to: x, tiers: [gold]}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Severity != "error" || fs[0].Field != "duties[0].tiers" || !strings.Contains(fs[0].Msg, `unknown tier "gold"`) {
		t.Errorf("lint of a duty with an unknown tier = %v, want one error at duties[0].tiers", fs)
	}
	fs, err = Lint("l.yaml", []byte(minimalProfile+"duties:\n  - {id: d, title: d, to: x, every: 3}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, f := range fs {
		all = append(all, f.String())
	}
	for _, w := range []string{"duties[0].every: literal 3 has no provenance", "duties[0].cite: no cite"} {
		if !strings.Contains(strings.Join(all, "\n"), w) {
			t.Errorf("lint = %v, want %q", all, w)
		}
	}
}
