package score

import (
	"slices"
	"strconv"
)

// Evaluator accumulates (human label, verdict) pairs and measures a scorer's
// agreement with the humans. It is not safe for concurrent use.
//
// A human label of "true" or "false" is compared with Verdict.Flagged; any
// other label with Verdict.Label. Verdicts with Err set are counted apart and
// take no part in the figures.
type Evaluator struct {
	positive map[string]bool
	counts   map[[2]string]int // {truth, predicted} → count
	classes  map[string]bool
	errors   int
}

// NewEvaluator returns an Evaluator whose binary view counts the given labels
// as positive (for the refusal scorer: refusal and partial_refusal). "true"
// is always positive.
func NewEvaluator(positive ...string) *Evaluator {
	e := &Evaluator{positive: map[string]bool{"true": true}, counts: map[[2]string]int{}, classes: map[string]bool{}}
	for _, p := range positive {
		e.positive[p] = true
	}
	return e
}

// Add records one pair.
func (e *Evaluator) Add(truth string, v Verdict) {
	if v.Err != "" {
		e.errors++
		return
	}
	pred := v.Label
	if truth == "true" || truth == "false" {
		pred = strconv.FormatBool(v.Flagged)
	}
	e.counts[[2]string{truth, pred}]++
	e.classes[truth] = true
	e.classes[pred] = true
}

// ClassStats is one class's figures, one-vs-rest.
type ClassStats struct {
	Class     string  `json:"class"`
	Support   int     `json:"support"` // human-labelled items of this class
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// Evaluation is what an Evaluator measured.
type Evaluation struct {
	N         int          `json:"n"`      // pairs counted (errors excluded)
	Errors    int          `json:"errors"` // verdicts with Err set
	Classes   []string     `json:"classes"`
	Confusion [][]int      `json:"confusion"` // [truth][predicted], in Classes order
	Accuracy  float64      `json:"accuracy"`  // multi-class
	PerClass  []ClassStats `json:"per_class"`
	MacroF1   float64      `json:"macro_f1"`
	// Kappa is Cohen's κ between the humans and the scorer over Classes;
	// BinaryKappa the same over the binary view. Both are 1 when the two
	// agree on every item even if only one class occurs (where κ's
	// formula is 0/0), and 0 for no items.
	Kappa       float64 `json:"kappa"`
	BinaryKappa float64 `json:"binary_kappa"`
	Binary      Quality `json:"binary"` // positive labels vs the rest
}

// Evaluation computes the figures so far. Ratios with a zero denominator are 0.
func (e *Evaluator) Evaluation() Evaluation {
	classes := make([]string, 0, len(e.classes))
	for c := range e.classes {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	idx := make(map[string]int, len(classes))
	for i, c := range classes {
		idx[c] = i
	}
	ev := Evaluation{Errors: e.errors, Classes: classes, Confusion: make([][]int, len(classes))}
	for i := range ev.Confusion {
		ev.Confusion[i] = make([]int, len(classes))
	}
	var tp, fp, fn, tn, correct int
	for k, n := range e.counts {
		ev.Confusion[idx[k[0]]][idx[k[1]]] += n
		ev.N += n
		if k[0] == k[1] {
			correct += n
		}
		switch t, p := e.positive[k[0]], e.positive[k[1]]; {
		case t && p:
			tp += n
		case !t && p:
			fp += n
		case t && !p:
			fn += n
		default:
			tn += n
		}
	}
	ev.Accuracy = ratio(correct, ev.N)
	var sumF1 float64
	for i, c := range classes {
		var support, predicted int
		for j := range classes {
			support += ev.Confusion[i][j]
			predicted += ev.Confusion[j][i]
		}
		cs := ClassStats{Class: c, Support: support, Precision: ratio(ev.Confusion[i][i], predicted), Recall: ratio(ev.Confusion[i][i], support)}
		cs.F1 = f1(cs.Precision, cs.Recall)
		ev.PerClass = append(ev.PerClass, cs)
		sumF1 += cs.F1
	}
	if len(classes) > 0 {
		ev.MacroF1 = sumF1 / float64(len(classes))
	}
	ev.Binary = Quality{
		N:           ev.N,
		Precision:   ratio(tp, tp+fp),
		Recall:      ratio(tp, tp+fn),
		Accuracy:    ratio(tp+tn, ev.N),
		Sensitivity: ratio(tp, tp+fn),
		Specificity: ratio(tn, tn+fp),
		Positives:   tp + fn,
		Negatives:   tn + fp,
	}
	ev.Binary.F1 = f1(ev.Binary.Precision, ev.Binary.Recall)
	ev.Kappa = cohenKappa(ev.Confusion)
	ev.BinaryKappa = cohenKappa([][]int{{tp, fn}, {fp, tn}})
	return ev
}

// cohenKappa is Cohen's κ = (po - pe) / (1 - pe) for a square confusion matrix
// [truth][predicted]: po the observed agreement, pe the agreement expected
// from the two raters' marginal rates alone.
func cohenKappa(m [][]int) float64 {
	var n, agree float64
	rows, cols := make([]float64, len(m)), make([]float64, len(m))
	for i := range m {
		for j, x := range m[i] {
			n += float64(x)
			rows[i] += float64(x)
			cols[j] += float64(x)
			if i == j {
				agree += float64(x)
			}
		}
	}
	if n == 0 {
		return 0
	}
	po, pe := agree/n, 0.0
	for i := range rows {
		pe += rows[i] / n * cols[i] / n
	}
	if pe >= 1 {
		if po == 1 {
			return 1
		}
		return 0
	}
	return (po - pe) / (1 - pe)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}
