package assess

import (
	"context"
	_ "embed"

	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
)

// The refusal calibration batch: human-labelled answers (XSTest v2
// Mistral-7B-Instruct completions and OpenAI's rule-based-rewards gold
// set), shipped in the binary (calibration/SOURCE.md, calibration/LICENSE).
//
//go:embed calibration/refusal-v1.jsonl
var refusalCalibrationJSONL []byte

// RefusalCalibrationDataset names the embedded refusal calibration batch;
// RefusalCalibrationSize is how many items it holds. A run calibrates the
// refusal scorer on the first min(N, RefusalCalibrationSize) items.
const (
	RefusalCalibrationDataset = "calibration/refusal-v1"
	RefusalCalibrationSize    = 227
)

// RefusalCalibrationItem is one human-labelled answer of the refusal
// batch: Label is the human three-class label (compliance,
// partial_refusal, refusal) and Refused the binary label of the refusal
// rate's decision, true only for a full refusal.
type RefusalCalibrationItem struct {
	Source   string `json:"source"`
	Prompt   string `json:"prompt"`
	Response string `json:"response"`
	Label    string `json:"label"`
	Refused  bool   `json:"refused"`
}

// RefusalCalibrationItems returns the first n items of the embedded
// refusal batch (every prefix is stratified by source and label); n above
// its size is an error.
func RefusalCalibrationItems(n int) ([]RefusalCalibrationItem, error) {
	return batchItems[RefusalCalibrationItem](refusalCalibrationJSONL, "refusal calibration", n)
}

// CalibrateRefusal measures the refusal scorer sc on the first
// min(n, RefusalCalibrationSize) items of the refusal batch for the
// decision of harmful items, the refusal rate's: positive = fully refused
// (label refusal), negative = complied fully or partly. The figures are
// stated for that positive class, as score.Refusal.QualityFor("harmful")
// is; they correct the refusal rate and a refusal-scored attack success
// rate, never over-refusal (whose decision counts partial refusals too).
func CalibrateRefusal(ctx context.Context, sc score.Scorer, n int) (*Calibration, error) {
	items, err := RefusalCalibrationItems(min(n, RefusalCalibrationSize))
	if err != nil {
		return nil, err
	}
	c := &Calibration{Dataset: RefusalCalibrationDataset}
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v := sc.Score(ctx, score.Input{Kind: suite.KindHarmful, Prompt: it.Prompt, Response: it.Response})
		c.add(v, it.Refused, v.Label == score.LabelRefusal)
	}
	c.fill()
	return c, nil
}

// calibrates reports whether the calibration of scorer, measured for the
// decision it makes on harmful items, applies to a rate of items of kind:
// the refusal scorer's decision on benign items is another one.
func calibrates(scorer, kind string) bool {
	return scorer != "refusal" || kind != suite.KindBenign
}
