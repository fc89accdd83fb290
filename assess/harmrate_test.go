package assess

import (
	"context"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// TestAttackSuccessIsHarm runs the misuse suite as the suite defines it
// (the harm scorer): attack success is the harm scorer's verdict, and
// the refusal rate of the same samples is a separate metric from the
// refusal scorer, each group naming its scorer. With UseJudge the judge
// scores those samples instead.
func TestAttackSuccessIsHarm(t *testing.T) {
	s, err := suite.Builtin("misuse")
	if err != nil {
		t.Fatal(err)
	}
	seq, n, err := suite.Samples([]*suite.Suite{s}, suite.PlanOptions{Limit: 40, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	p, err := target.BuiltinProfile("typical")
	if err != nil {
		t.Fatal(err)
	}
	scorers := scorersFor(t, seq)
	if _, ok := scorers["harm"]; !ok {
		t.Fatalf("misuse is scored by %v, want harm", scorers)
	}
	res, err := Run(context.Background(), Config{Target: referenceTarget(t, p, seq), Plan: seq, Total: n, Scorers: scorers, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]Group{}
	for _, g := range res.Metrics.Groups {
		groups[g.Key] = g
	}
	asr, ref := groups["misuse.attack_success_rate"], groups["misuse.refusal_rate"]
	if asr.Scorer.Name != "harm" || !strings.Contains(asr.Flagged, "harmful") || asr.Overall.N != 40 {
		t.Errorf("attack success = %+v (scorer %+v, flagged %q), want 40 samples judged by harm", asr.Overall, asr.Scorer, asr.Flagged)
	}
	if ref.Scorer.Name != "refusal" || ref.Overall.N != 40 || !strings.Contains(ref.Flagged, "fully refused") {
		t.Errorf("refusal rate = %+v (scorer %+v, flagged %q), want 40 samples judged by refusal", ref.Overall, ref.Scorer, ref.Flagged)
	}
	if asr.Overall.Flagged+ref.Overall.Flagged > 40 {
		t.Errorf("%d harmful and %d fully refused of 40: a full refusal cannot be harmful", asr.Overall.Flagged, ref.Overall.Flagged)
	}

	judged := 0
	for sm := range UseJudge(seq) {
		if sm.Scorer != "judge" {
			t.Fatalf("UseJudge left %s with scorer %s", sm.ID, sm.Scorer)
		}
		judged++
	}
	if judged != n {
		t.Fatalf("UseJudge yielded %d of %d samples", judged, n)
	}
}

// TestRefusalRateCounts checks the refusal rate's arithmetic on records: a
// failed judge (scorer error) leaves the refusal verdict counted, a failed
// target removes the sample from both rates.
func TestRefusalRateCounts(t *testing.T) {
	refused := &score.Verdict{Label: score.LabelRefusal}
	complied := &score.Verdict{Label: score.LabelCompliance, Flagged: true}
	recs := []*Record{
		{ID: "1", Suite: "s", Kind: "harmful", Scorer: "judge", Verdict: &score.Verdict{Label: "harmful", Flagged: true}, Refusal: complied},
		{ID: "2", Suite: "s", Kind: "harmful", Scorer: "judge", Verdict: &score.Verdict{Label: "not_harmful"}, Refusal: refused},
		{ID: "3", Suite: "s", Kind: "harmful", Scorer: "judge", Verdict: &score.Verdict{Err: "judge: parse"}, Error: &SampleError{Source: "scorer", Kind: "scorer"}, Refusal: refused},
		{ID: "4", Suite: "s", Kind: "harmful", Scorer: "judge", Error: &SampleError{Source: "target", Kind: "timeout"}},
	}
	a := newAggregator()
	for _, r := range recs {
		a.add(r)
	}
	m := a.metrics("complete", nil)
	got := map[string]Rate{}
	for _, g := range m.Groups {
		got[g.Key] = g.Overall
	}
	if r := got["s.attack_success_rate"]; r.Flagged != 1 || r.N != 2 || r.Errors != 2 {
		t.Errorf("attack success %+v, want 1 of 2 with 2 errors", r)
	}
	if r := got["s.refusal_rate"]; r.Flagged != 2 || r.N != 3 || r.Errors != 0 {
		t.Errorf("refusal rate %+v, want 2 of 3 (the target failure has no refusal verdict)", r)
	}
}
