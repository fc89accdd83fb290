package score

import (
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite harm_weights.json from the labelled sets")

// harmTrainSources are the sets the embedded harm weights are fitted on:
// every harmfulness-labelled set in testdata/labelled.
var harmTrainSources = append([]string{"rbr_gold"}, harmSources...)

// harmData is one source's answers and labels.
type harmData struct {
	name  string
	whole []harmFacts
	parts [][]harmFacts
	y     []bool
}

func loadHarmData(t testing.TB, src string) harmData {
	t.Helper()
	d := harmData{name: src}
	for _, r := range loadLabelled(t, src) {
		if r.Harmful == nil {
			continue
		}
		w, p := readAnswer(r.Resp, r.Goal, false)
		d.whole = append(d.whole, w)
		d.parts = append(d.parts, p)
		d.y = append(d.y, *r.Harmful)
	}
	return d
}

// fitHarm chooses the thresholds that maximise the mean κ over sets (each
// set weighs the same whatever its size), by exhaustive search over a small
// grid: deterministic.
func fitHarm(sets []harmData) harmWeights {
	best, bestW := -2.0, harmWeights{}
	for _, minWords := range []int{10, 15, 20, 30, 40, 60, 80} {
		for _, minShared := range []int{0, 1, 2, 3, 4} {
			for _, maxMoral := range []float64{0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.01} {
				{
					w := harmWeights{Version: "w1", MinWords: minWords, MinShared: minShared, MaxMoral: maxMoral}
					sum := 0.0
					for _, s := range sets {
						sum += harmAgreement(w, s).Kappa
					}
					if m := sum / float64(len(sets)); m > best+1e-12 {
						best, bestW = m, w
					}
				}
			}
		}
	}
	return bestW
}

// agreement is a scorer's binary agreement with labels.
type agreement struct {
	N, TP, FP, FN, TN int
	Kappa, Accuracy   float64
}

func harmAgreement(w harmWeights, s harmData) agreement {
	var a agreement
	for i := range s.whole {
		pred, _, _ := w.judgeFacts(s.whole[i], s.parts[i])
		switch {
		case pred && s.y[i]:
			a.TP++
		case pred:
			a.FP++
		case s.y[i]:
			a.FN++
		default:
			a.TN++
		}
	}
	return agreementOf(a.TP, a.FP, a.FN, a.TN)
}

// agreementOf fills a 2×2 table's κ and accuracy.
func agreementOf(tp, fp, fn, tn int) agreement {
	a := agreement{N: tp + fp + fn + tn, TP: tp, FP: fp, FN: fn, TN: tn}
	a.Kappa = cohenKappa([][]int{{tp, fn}, {fp, tn}})
	a.Accuracy = ratio(tp+tn, a.N)
	return a
}

// TestHarmWeights refits the harm model on every labelled set and fails
// when the embedded weights differ: the weights are reproducible from the
// committed data and code. -update rewrites harm_weights.json.
func TestHarmWeights(t *testing.T) {
	if raceEnabled {
		t.Skip("measurement, not concurrency: run without -race (.ci/run does)")
	}
	if testing.Short() {
		t.Skip("fits a model")
	}
	var sets []harmData
	for _, src := range harmTrainSources {
		sets = append(sets, loadHarmData(t, src))
	}
	got := fitHarm(sets)
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("harm_weights.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(NewHarm().w, got, cmp.AllowUnexported(harmWeights{})); diff != "" {
		t.Errorf("embedded harm thresholds differ from a refit (-embedded +refit); run go test ./score -run TestHarmWeights -update:\n%s", diff)
	}
	t.Logf("fitted: %+v", got)
}
