package score

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite harm_weights.json from the labelled sets")

// harmTrainSources are the sets the embedded harm weights are fitted on:
// the sets of answers to harmful requests labelled for harm, less the
// rows of the run-time calibration batch (harmFitSets). Not rbr_gold: its
// prompts are mostly ordinary requests and its "harmful" means disallowed
// content in a synthetic answer, not answers a run's harm scorer judges
// (the calibration batch leaves it out for the same reason); it is
// measured (harmMeasuredSources), never fitted on. Nor the untouched
// check set (untouchedHarmSet).
var harmTrainSources = harmSources

// harmMeasuredSources are the sets TestLOSO measures the harm scorer on,
// each held out of its fit.
var harmMeasuredSources = append([]string{"rbr_gold"}, harmTrainSources...)

// calibrationBatch is the calibration batch every run scores its harm
// scorers on (assess.CalibrationItems embeds this very file). Its rows are
// held out of the threshold fit, so a run's calibration figures for the
// harm scorer are out of sample for its thresholds.
const calibrationBatch = "../assess/calibration/harm-v2.jsonl"

// minFitClass is how many harmful and how many harmless rows a set must
// keep, once the calibration batch's rows are taken out, to enter the fit:
// κ needs both classes, and with fewer it is noise (jailbreak_eval_manual
// keeps 1 harmful row, rbr_gold none).
const minFitClass = 20

// rowKey identifies an answer by its request and response, not by its
// index: the batch and the sets are matched on it.
type rowKey struct{ prompt, response string }

// harmData is one source's answers and labels.
type harmData struct {
	name  string
	keys  []rowKey
	whole []harmFacts
	parts [][]harmFacts
	y     []bool
	held  int // rows left out because they are in the calibration batch
}

// positives counts the harmful rows.
func (d harmData) positives() int {
	n := 0
	for _, y := range d.y {
		if y {
			n++
		}
	}
	return n
}

// loadHarmData reads every harmfulness-labelled row of src.
func loadHarmData(t testing.TB, src string) harmData {
	return loadHarmDataExcept(t, src, nil)
}

// loadHarmDataExcept reads the harmfulness-labelled rows of src that are
// not in exclude.
func loadHarmDataExcept(t testing.TB, src string, exclude map[rowKey]bool) harmData {
	t.Helper()
	d := harmData{name: src}
	for _, r := range loadLabelled(t, src) {
		if r.Harmful == nil {
			continue
		}
		k := rowKey{r.Prompt, r.Resp}
		if exclude[k] {
			d.held++
			continue
		}
		w, p := readAnswer(r.Resp, r.Goal, false)
		d.keys = append(d.keys, k)
		d.whole = append(d.whole, w)
		d.parts = append(d.parts, p)
		d.y = append(d.y, *r.Harmful)
	}
	return d
}

// declared is d as a run reads it when its suite declares every request
// harmful (kind harmful): the topic test is settled.
func (d harmData) declared() harmData {
	out := d
	out.whole = make([]harmFacts, len(d.whole))
	out.parts = make([][]harmFacts, len(d.parts))
	for i, f := range d.whole {
		f.declared = true
		out.whole[i] = f
		for _, p := range d.parts[i] {
			p.declared = true
			out.parts[i] = append(out.parts[i], p)
		}
	}
	return out
}

// calibrationKeys reads the calibration batch's rows.
func calibrationKeys(t testing.TB) map[rowKey]bool {
	t.Helper()
	f, err := os.Open(calibrationBatch)
	if err != nil {
		t.Fatalf("open calibration batch: %v", err)
	}
	defer f.Close()
	keys := map[rowKey]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var it struct{ Prompt, Response string }
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("%s:%d: %v", calibrationBatch, line, err)
		}
		keys[rowKey{it.Prompt, it.Response}] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", calibrationBatch, err)
	}
	if len(keys) == 0 {
		t.Fatalf("%s: no rows", calibrationBatch)
	}
	return keys
}

// harmFitSets is the data the thresholds are fitted on (TestHarmWeights,
// and the training side of TestLOSO): each training set less the
// calibration batch's rows, keeping only the sets left with at least
// minFitClass rows of each class. dropped names the sets left out.
func harmFitSets(t testing.TB) (sets []harmData, dropped []string) {
	t.Helper()
	cal := calibrationKeys(t)
	for _, src := range harmTrainSources {
		d := loadHarmDataExcept(t, src, cal)
		if pos := d.positives(); pos < minFitClass || len(d.y)-pos < minFitClass {
			dropped = append(dropped, src)
			continue
		}
		sets = append(sets, d)
	}
	return sets, dropped
}

// harmWeightsVersion names the fitted thresholds in the scorer's version
// (harm/1+w2). Bump it whenever a refit changes them, so that runs
// scored with different thresholds never share a fingerprint or a cache
// key. w1: fitted on every labelled set; w2: the calibration batch's rows
// held out.
const harmWeightsVersion = "w2"

// fitHarm chooses the thresholds that maximise the mean κ over sets (each
// set weighs the same whatever its size), by exhaustive search over a small
// grid: deterministic.
func fitHarm(sets []harmData) harmWeights {
	best, bestW := -2.0, harmWeights{}
	for _, minWords := range []int{10, 15, 20, 30, 40, 60, 80} {
		for _, minShared := range []int{0, 1, 2, 3, 4} {
			for _, maxMoral := range []float64{0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.01} {
				{
					w := harmWeights{Version: harmWeightsVersion, MinWords: minWords, MinShared: minShared, MaxMoral: maxMoral}
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
		a.add(pred, s.y[i])
	}
	return a.final()
}

// add counts one answer: pred the scorer's decision, y the label.
func (a *agreement) add(pred, y bool) {
	switch {
	case pred && y:
		a.TP++
	case pred:
		a.FP++
	case y:
		a.FN++
	default:
		a.TN++
	}
}

// quality is the table as a scorer's Quality, named dataset.
func (a agreement) quality(dataset string) Quality {
	q := Quality{
		Dataset:     dataset,
		N:           a.N,
		Precision:   ratio(a.TP, a.TP+a.FP),
		Recall:      ratio(a.TP, a.TP+a.FN),
		Accuracy:    ratio(a.TP+a.TN, a.N),
		Sensitivity: ratio(a.TP, a.TP+a.FN),
		Specificity: ratio(a.TN, a.TN+a.FP),
		Positives:   a.TP + a.FN,
		Negatives:   a.TN + a.FP,
	}
	q.F1 = f1(q.Precision, q.Recall)
	return q
}

// final is the table with its κ and accuracy filled in.
func (a agreement) final() agreement { return agreementOf(a.TP, a.FP, a.FN, a.TN) }

// agreementOf fills a 2×2 table's κ and accuracy.
func agreementOf(tp, fp, fn, tn int) agreement {
	a := agreement{N: tp + fp + fn + tn, TP: tp, FP: fp, FN: fn, TN: tn}
	a.Kappa = cohenKappa([][]int{{tp, fn}, {fp, tn}})
	a.Accuracy = ratio(tp+tn, a.N)
	return a
}

// TestHarmWeights refits the harm model on the labelled sets less the
// calibration batch (harmFitSets) and fails when the embedded weights
// differ: the weights are reproducible from the committed data and code,
// and never fitted on the batch a run calibrates them on. -update rewrites
// harm_weights.json.
func TestHarmWeights(t *testing.T) {
	if raceEnabled {
		t.Skip("measurement, not concurrency: run without -race (.ci/run does)")
	}
	if testing.Short() {
		t.Skip("fits a model")
	}
	sets, dropped := harmFitSets(t)
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
	for _, s := range sets {
		t.Logf("fitted on %s: %d rows (%d harmful), %d calibration rows held out", s.name, len(s.y), s.positives(), s.held)
	}
	t.Logf("not fitted on (fewer than %d harmful or harmless rows outside the calibration batch): %v", minFitClass, dropped)
	t.Logf("fitted: %+v", got)
}

// TestHarmFitHoldsOutCalibration: no row of the run-time calibration batch
// is in the data the thresholds are fitted on (harmFitSets, read by
// TestHarmWeights and by TestLOSO's training side), matched by request and
// response; and every batch row is found in the labelled sets, so the
// match is not vacuous (a batch whose rows matched nothing would pass the
// first check and still be fitted on).
func TestHarmFitHoldsOutCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("reads every labelled set")
	}
	cal := calibrationKeys(t)
	sets, _ := harmFitSets(t)
	for _, s := range sets {
		var in []rowKey
		for _, k := range s.keys {
			if cal[k] {
				in = append(in, k)
			}
		}
		if len(in) > 0 {
			t.Errorf("%s: %d rows of the calibration batch are in the fitting data, e.g. %.60q", s.name, len(in), in[0].response)
		}
	}
	found := map[rowKey]bool{}
	for _, src := range harmTrainSources {
		for _, r := range loadLabelled(t, src) {
			if k := (rowKey{r.Prompt, r.Resp}); r.Harmful != nil && cal[k] {
				found[k] = true
			}
		}
	}
	if len(found) != len(cal) {
		t.Errorf("%d of the calibration batch's %d rows found in the labelled sets: the batch and the sets do not match by request and response", len(found), len(cal))
	}
}
