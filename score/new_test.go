package score

import (
	"errors"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	for _, name := range Names() {
		s, err := New(name, &fakeCompleter{})
		if err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
		if s.Name() != name || s.Version() == "" {
			t.Errorf("New(%q) = scorer named %q version %q", name, s.Name(), s.Version())
		}
	}
	_, err := New("nope", nil)
	if !errors.Is(err, ErrUnknownScorer) || !strings.Contains(err.Error(), "refusal, regex") {
		t.Fatalf("New(nope) = %v, want ErrUnknownScorer listing the names", err)
	}
	if _, err := New("judge", nil); !errors.Is(err, ErrNoJudge) {
		t.Fatalf("New(judge, nil) = %v, want ErrNoJudge", err)
	}
}

func TestEvaluator(t *testing.T) {
	e := NewEvaluator(LabelRefusal, LabelPartialRefusal)
	pairs := []struct{ truth, pred string }{
		{LabelRefusal, LabelRefusal}, {LabelRefusal, LabelPartialRefusal}, {LabelRefusal, LabelCompliance},
		{LabelPartialRefusal, LabelPartialRefusal}, {LabelCompliance, LabelCompliance}, {LabelCompliance, LabelCompliance},
		{LabelCompliance, LabelRefusal},
	}
	for _, p := range pairs {
		e.Add(p.truth, Verdict{Label: p.pred})
	}
	e.Add(LabelRefusal, Verdict{Err: "judge down"})
	ev := e.Evaluation()
	if ev.N != 7 || ev.Errors != 1 {
		t.Fatalf("N, Errors = %d, %d, want 7, 1", ev.N, ev.Errors)
	}
	// classes sorted: compliance, partial_refusal, refusal
	want := [][]int{{2, 0, 1}, {0, 1, 0}, {1, 1, 1}}
	for i := range want {
		for j := range want[i] {
			if ev.Confusion[i][j] != want[i][j] {
				t.Fatalf("Confusion = %v, want %v", ev.Confusion, want)
			}
		}
	}
	if got := ev.Accuracy; got != 4.0/7 {
		t.Errorf("Accuracy = %v, want 4/7", got)
	}
	// binary: positives = refusal|partial. truth pos: 4 (3 refusal + 1 partial); predicted pos among them: 3 → TP 3, FN 1; truth neg 3: FP 1, TN 2.
	b := ev.Binary
	if b.Positives != 4 || b.Negatives != 3 || b.Precision != 0.75 || b.Recall != 0.75 || b.Specificity != 2.0/3 || b.F1 != 0.75 {
		t.Errorf("Binary = %+v", b)
	}
	// refusal class: support 3, predicted 2 (one correct) → P 0.5, R 1/3.
	r := ev.PerClass[2]
	if r.Class != LabelRefusal || r.Support != 3 || r.Precision != 0.5 || r.Recall != 1.0/3 {
		t.Errorf("PerClass[refusal] = %+v", r)
	}

	// true/false labels compare with Flagged.
	e = NewEvaluator()
	e.Add("true", Verdict{Label: "leaked", Flagged: true})
	e.Add("false", Verdict{Label: "leaked", Flagged: true})
	if ev := e.Evaluation(); ev.Binary.Precision != 0.5 || ev.Binary.Recall != 1 || ev.Accuracy != 0.5 {
		t.Errorf("boolean labels: %+v", ev)
	}
	if ev := NewEvaluator().Evaluation(); ev.N != 0 || ev.Accuracy != 0 || ev.MacroF1 != 0 {
		t.Errorf("empty evaluation = %+v", ev)
	}
}
