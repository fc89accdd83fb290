package assess

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sync"

	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/stats"
	"github.com/clearance-dev/clearance/suite"
)

// The calibration batch: human-labelled answers to harmful requests
// (harmful or not), shipped in the binary (calibration/SOURCE.md says
// where each comes from, calibration/LICENSE holds the licences).
//
//go:embed calibration/harm-v2.jsonl
var calibrationJSONL []byte

// CalibrationDataset names the embedded calibration batch.
const CalibrationDataset = "calibration/harm-v2"

// DefaultCalibration is the size of the calibration batch a run scores
// unless told otherwise; CalibrationSize is how many items are embedded.
const (
	DefaultCalibration = 200
	CalibrationSize    = 540
)

// CalibrationItem is one human-labelled answer of the calibration batch.
type CalibrationItem struct {
	Source   string `json:"source"`
	Prompt   string `json:"prompt"`
	Response string `json:"response"`
	Harmful  bool   `json:"harmful"`
}

// CalibrationItems returns the first n items of the embedded batch (every
// prefix is stratified by source and label); n above the batch's size is
// an error.
func CalibrationItems(n int) ([]CalibrationItem, error) {
	return batchItems[CalibrationItem](calibrationJSONL, "calibration", n)
}

// batchItems reads the first n items of an embedded JSONL batch; n above
// its size is an error naming the batch.
func batchItems[T any](data []byte, name string, n int) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() && len(out) < n {
		var it T
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return nil, fmt.Errorf("read %s batch line %d: %w", name, len(out)+1, err)
		}
		out = append(out, it)
	}
	if len(out) < n {
		return nil, fmt.Errorf("%s: %d items asked, the batch holds %d", name, n, len(out))
	}
	return out, nil
}

// Calibration is a scorer's agreement with the human labels of a
// calibration batch, for its positive class (a harm scorer: harmful, on
// the harm batch; the refusal scorer: fully refused, on the refusal
// batch, CalibrateRefusal): sensitivity,
// specificity and Cohen's κ with 95% intervals (Wilson for the
// proportions; κ ± 1.96 × its large-sample standard error, clipped to
// [−1, 1]). Items the scorer could not judge are Errors, outside N.
type Calibration struct {
	Dataset       string         `json:"dataset"`
	N             int            `json:"n"`
	Errors        int            `json:"errors"`
	TP            int            `json:"tp"`
	FP            int            `json:"fp"`
	TN            int            `json:"tn"`
	FN            int            `json:"fn"`
	Sensitivity   float64        `json:"sensitivity"`
	SensitivityCI stats.Interval `json:"sensitivity_ci"`
	Specificity   float64        `json:"specificity"`
	SpecificityCI stats.Interval `json:"specificity_ci"`
	Kappa         float64        `json:"kappa"`
	KappaCI       stats.Interval `json:"kappa_ci"`
}

// Quality is the calibration as the figures the Rogan–Gladen correction
// reads.
func (c *Calibration) Quality() *score.Quality {
	q := &score.Quality{Dataset: c.Dataset, N: c.N, Sensitivity: c.Sensitivity, Specificity: c.Specificity,
		Positives: c.TP + c.FN, Negatives: c.TN + c.FP}
	if c.N > 0 {
		q.Accuracy = float64(c.TP+c.TN) / float64(c.N)
	}
	if c.TP+c.FP > 0 {
		q.Precision = float64(c.TP) / float64(c.TP+c.FP)
	}
	q.Recall = c.Sensitivity
	if q.Precision+q.Recall > 0 {
		q.F1 = 2 * q.Precision * q.Recall / (q.Precision + q.Recall)
	}
	return q
}

// Calibrate scores the first n items of the batch with sc, workers at a
// time, and measures its agreement with the human labels. A judge's calls
// go through its completer (cached and counted there).
func Calibrate(ctx context.Context, sc score.Scorer, n, workers int) (*Calibration, error) {
	items, err := CalibrationItems(n)
	if err != nil {
		return nil, err
	}
	verdicts := make([]score.Verdict, len(items))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, workers) {
		wg.Go(func() {
			for i := range next {
				it := items[i]
				verdicts[i] = sc.Score(ctx, score.Input{Kind: suite.KindHarmful, Prompt: it.Prompt, Goal: it.Prompt, Response: it.Response})
			}
		})
	}
	for i := range items {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &Calibration{Dataset: CalibrationDataset}
	for i, v := range verdicts {
		c.add(v, items[i].Harmful, v.Flagged)
	}
	c.fill()
	return c, nil
}

// add counts one item: truth is the human label of the positive class,
// positive the scorer's reading of v; a verdict the scorer could not give
// is an error, outside N.
func (c *Calibration) add(v score.Verdict, truth, positive bool) {
	switch {
	case v.Err != "":
		c.Errors++
		return
	case truth && positive:
		c.TP++
	case truth:
		c.FN++
	case positive:
		c.FP++
	default:
		c.TN++
	}
	c.N++
}

func (c *Calibration) fill() {
	pos, neg := c.TP+c.FN, c.TN+c.FP
	if pos > 0 {
		c.Sensitivity = float64(c.TP) / float64(pos)
	}
	if neg > 0 {
		c.Specificity = float64(c.TN) / float64(neg)
	}
	c.SensitivityCI = stats.Wilson(c.TP, pos, Level)
	c.SpecificityCI = stats.Wilson(c.TN, neg, Level)
	n := float64(c.N)
	if n == 0 {
		return
	}
	po := float64(c.TP+c.TN) / n
	pe := (float64(c.TP+c.FP)*float64(pos) + float64(c.FN+c.TN)*float64(neg)) / (n * n)
	if pe >= 1 {
		c.KappaCI = stats.Interval{Low: -1, High: 1, Level: Level}
		return
	}
	c.Kappa = (po - pe) / (1 - pe)
	se := math.Sqrt(po*(1-po)/n) / (1 - pe)
	c.KappaCI = stats.Interval{Low: math.Max(-1, c.Kappa-1.96*se), High: math.Min(1, c.Kappa+1.96*se), Level: Level}
}

// CalibrateScorers calibrates every harm scorer (harm, judge) of scorers
// on the first n items of the harm batch, and the refusal scorer (when
// scorers hold it or a harm scorer, whose samples the refusal scorer also
// scores) on the first min(n, RefusalCalibrationSize) of the refusal
// batch; n = 0 calibrates nothing.
func CalibrateScorers(ctx context.Context, scorers map[string]score.Scorer, n, workers int) (map[string]*Calibration, error) {
	out := map[string]*Calibration{}
	if n <= 0 {
		return out, nil
	}
	refusal := false
	for name, sc := range scorers {
		if name == "refusal" {
			refusal = true
		}
		if !HarmScorer(name) {
			continue
		}
		refusal = true // its samples also get a refusal verdict, for the refusal rate
		c, err := Calibrate(ctx, sc, n, workers)
		if err != nil {
			return nil, fmt.Errorf("calibrate scorer %s: %w", name, err)
		}
		out[name] = c
	}
	if refusal {
		sc, ok := scorers["refusal"]
		if !ok {
			sc = score.NewRefusal() // as the runner scores refusals then
		}
		c, err := CalibrateRefusal(ctx, sc, n)
		if err != nil {
			return nil, fmt.Errorf("calibrate scorer refusal: %w", err)
		}
		out["refusal"] = c
	}
	return out, nil
}

// CalibratedQuality returns quality with the calibrated scorers' figures
// in place of any measured once.
func CalibratedQuality(quality QualityFunc, cal map[string]*Calibration) QualityFunc {
	return func(name, kind string) (string, *score.Quality) {
		v, q := quality(name, kind)
		if c, ok := cal[name]; ok && c.N > 0 && calibrates(name, kind) {
			q = c.Quality()
		}
		return v, q
	}
}

// AttachCalibration records each group's scorer calibration in m.
func AttachCalibration(m *Metrics, cal map[string]*Calibration) {
	for i := range m.Groups {
		g := &m.Groups[i]
		c, ok := cal[g.Scorer.Name]
		if !ok || !calibrates(g.Scorer.Name, g.Kind) {
			continue
		}
		g.Scorer.Calibration = c
		if c.N == 0 || c.KappaCI.Low >= stats.ReliableKappa {
			continue
		}
		caution := fmt.Sprintf("the scorer is not shown to agree with humans on its calibration batch (κ %.2f, 95%% CI %.2f–%.2f; the lower bound must reach %.2f): the correction is shown but is not reliable evidence",
			c.Kappa, c.KappaCI.Low, c.KappaCI.High, stats.ReliableKappa)
		warn := func(r *Rate) {
			if r.Corrected != nil {
				r.Corrected.Caution = caution
			}
		}
		warn(&g.Overall)
		for _, rates := range []map[string]Rate{g.ByCategory, g.ByTransform, g.ByDifficulty} {
			for k, r := range rates {
				warn(&r)
				rates[k] = r
			}
		}
	}
}
