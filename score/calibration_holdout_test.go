package score_test

import (
	"testing"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/score"
)

// TestHarmFitExcludesEmbeddedBatch: no item of the calibration batch the
// binary ships (assess.CalibrationItems, the batch every run scores) is in
// the harm scorer's fitting data, so a run's calibration figures for the
// harm scorer are out of sample for its thresholds.
func TestHarmFitExcludesEmbeddedBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("reads every labelled set")
	}
	items, err := assess.CalibrationItems(assess.CalibrationSize)
	if err != nil {
		t.Fatal(err)
	}
	batch := map[[2]string]bool{}
	for _, it := range items {
		batch[[2]string{it.Prompt, it.Response}] = true
	}
	rows := score.HarmFitRows(t)
	if len(rows) == 0 {
		t.Fatal("no fitting data")
	}
	var in [][2]string
	for _, r := range rows {
		if batch[r] {
			in = append(in, r)
		}
	}
	if len(in) > 0 {
		t.Errorf("%d calibration items are in the harm scorer's fitting data, e.g. %.60q", len(in), in[0][1])
	}
}
