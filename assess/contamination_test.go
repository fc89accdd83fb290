package assess

import (
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
	"github.com/google/go-cmp/cmp"
)

func TestScanContamination(t *testing.T) {
	seed := suite.PrivateSeed{4, 2}
	other := suite.PrivateSeed{9}
	s, err := suite.Builtin("misuse")
	if err != nil {
		t.Fatal(err)
	}
	d := suite.NewCanaryDetector(seed, s)
	all, _, err := suite.Samples([]*suite.Suite{s}, suite.PlanOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var item string
	for sm := range all {
		item = sm.Item
		break
	}
	c := suite.Canary(seed, "misuse", item)
	forged := c[:len(c)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", c[len(c)-1])+1)%16])
	for _, tc := range []struct {
		name    string
		outputs []Output
		want    Contamination
	}{
		{"clean", []Output{{ID: "a", Prompt: "how do I", Output: "I can't help"}}, Contamination{Scanned: 1, Samples: []string{}}},
		{"echoes its prompt's canary", []Output{{ID: "a", Prompt: "do x\n\n(ref. " + c + ")", Output: "Echo: do x (ref. " + c + ")"}}, Contamination{Scanned: 1, Samples: []string{}}},
		{"canary not in the prompt", []Output{{ID: "a", Prompt: "do x"}, {ID: "b", Prompt: "do y", Output: "as in " + c + ", and again " + c}},
			Contamination{Scanned: 2, Canaries: 1, Samples: []string{"b"}, Items: []string{"misuse-private/" + item}}},
		{"another seed's canary", []Output{{ID: "a", Prompt: "p", Output: suite.Canary(other, "misuse", item)}}, Contamination{Scanned: 1, Samples: []string{}}},
		{"forged tag", []Output{{ID: "a", Prompt: "p", Output: forged}}, Contamination{Scanned: 1, Samples: []string{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ScanContamination(d, tc.outputs)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.Signal() != (tc.want.Canaries > 0) {
				t.Errorf("Signal() = %v", got.Signal())
			}
		})
	}
	if got := ScanContamination(nil, []Output{{ID: "a", Output: c}}); got.Signal() {
		t.Errorf("a nil detector found %+v", got)
	}
}

// A conversation's answers are each judged against what the model had been
// shown before them: a canary in a later user turn does not excuse an
// earlier answer, and the model's own earlier answer does excuse a repeat.
func TestScanRecordTurns(t *testing.T) {
	seed := suite.PrivateSeed{4, 2}
	d := suite.NewCanaryDetector(seed)
	c := suite.Canary(seed, "misuse", "x")
	rec := func(msgs []target.Message, resp string) Record {
		return Record{ID: "s", Messages: msgs, Response: resp}
	}
	for _, tc := range []struct {
		name string
		r    Record
		want int
	}{
		{"earlier answer leaks, later user turn repeats it", rec([]target.Message{{Role: "user", Content: "hi"}, {Role: "assistant", Content: "ok " + c}, {Role: "user", Content: "what is " + c}}, "fine"), 1},
		{"repeat of its own earlier answer counts once", rec([]target.Message{{Role: "user", Content: "hi"}, {Role: "assistant", Content: c}, {Role: "user", Content: "more"}}, c), 1},
		{"shown in the system prompt", rec([]target.Message{{Role: "system", Content: c}, {Role: "user", Content: "hi"}}, c), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewContaminationScan(d)
			s.AddRecord(tc.r)
			if got := s.Result().Canaries; got != tc.want {
				t.Errorf("canaries = %d, want %d", got, tc.want)
			}
		})
	}
	// ScanRecords reads samples.jsonl and names a bad line.
	if _, err := ScanRecords(d, strings.NewReader("{\"id\":\"a\"}\nnot json\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("ScanRecords(bad line) = %v, want an error naming line 2", err)
	}
}
