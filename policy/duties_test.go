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
	}
	for id, want := range map[string][]row{
		"ca-sb-53": {{"transparency-report", 0, 0}, {"internal-use-summary", 3, 3}, {"framework-review", 12, 12}},
		"ny-raise": {{"transparency-report", 0, 0}, {"internal-use-summary", 3, 3}, {"safety-protocol-review", 12, 12}},
	} {
		p, err := Builtin(id)
		if err != nil {
			t.Fatal(err)
		}
		var got []row
		for _, d := range p.Duties {
			f, _ := p.ConstNumber(d.First)
			e, _ := p.ConstNumber(d.Every)
			got = append(got, row{d.ID, f, e})
			if d.Cite == "" || d.To == "" {
				t.Errorf("%s duty %s lacks cite or recipient", id, d.ID)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s duties (-want +got):\n%s", id, diff)
		}
	}
	for _, tc := range []struct{ name, block, want string }{
		{"unknown unit", "duties:\n  - {id: d, title: d, to: x, every: 3, unit: weeks}\n", "duties[0].unit"},
		{"unknown constant", "duties:\n  - {id: d, title: d, to: x, every: nope}\n", `unknown constant "nope"`},
		{"negative", "duties:\n  - {id: d, title: d, to: x, every: -3}\n", "whole number of units"},
		{"fraction", "duties:\n  - {id: d, title: d, to: x, first: 1.5}\n", "whole number of units"},
		{"missing recipient", "duties:\n  - {id: d, title: d}\n", "duties[0]"},
		{"duplicate", "duties:\n  - {id: d, title: d, to: x}\n  - {id: d, title: e, to: x}\n", `duplicate id "d"`},
	} {
		_, err := Load("test.yaml", []byte(minimalProfile+tc.block), nil)
		if !errors.Is(err, ErrInvalidProfile) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Load error = %v, want ErrInvalidProfile naming %q", tc.name, err, tc.want)
		}
	}
	fs, err := Lint("l.yaml", []byte(minimalProfile+"duties:\n  - {id: d, title: d, to: x, every: 3}\n"), nil)
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
