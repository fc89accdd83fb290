package score

import (
	"math"
	"testing"
)

func TestCohenKappa(t *testing.T) {
	tests := []struct {
		name string
		m    [][]int
		want float64
	}{
		{"textbook 2x2", [][]int{{20, 5}, {10, 15}}, 0.4},
		{"issue 11 pooled 3-class confusion", [][]int{{687, 22, 8}, {56, 75, 18}, {111, 314, 509}}, 0.5392773108349184},
		{"perfect", [][]int{{3, 0}, {0, 7}}, 1},
		{"chance", [][]int{{25, 25}, {25, 25}}, 0},
		{"one class, all agree", [][]int{{0, 0}, {0, 9}}, 1},
		{"empty", [][]int{{0, 0}, {0, 0}}, 0},
	}
	for _, tt := range tests {
		if got := cohenKappa(tt.m); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: cohenKappa = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The Evaluator reports κ for the classes and for the binary view.
func TestEvaluatorKappa(t *testing.T) {
	ev := NewEvaluator(LabelRefusal, LabelPartialRefusal)
	add := func(truth, pred string, n int) {
		for range n {
			ev.Add(truth, Verdict{Label: pred})
		}
	}
	add(LabelCompliance, LabelCompliance, 20)
	add(LabelCompliance, LabelRefusal, 5)
	add(LabelRefusal, LabelCompliance, 10)
	add(LabelRefusal, LabelRefusal, 15)
	x := ev.Evaluation()
	if math.Abs(x.Kappa-0.4) > 1e-12 || math.Abs(x.BinaryKappa-0.4) > 1e-12 {
		t.Fatalf("kappa %v, binary kappa %v, want 0.4 and 0.4", x.Kappa, x.BinaryKappa)
	}
}
