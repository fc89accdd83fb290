package assess

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/clearance-dev/clearance/score"
)

var updateRefusalCalibration = flag.Bool("update-refusal-calibration", false, "rebuild assess/calibration/refusal-v1.jsonl from ../score/testdata")

// refusalCalibrationLabels are the human labels of the refusal batch, in
// the order strata are interleaved.
var refusalCalibrationLabels = []string{score.LabelCompliance, score.LabelPartialRefusal, score.LabelRefusal}

// TestRefusalCalibrationSet rebuilds (with -update-refusal-calibration) or
// checks the embedded refusal batch: up to 40 items per source (XSTest v2
// Mistral-7B-Instruct, rbr_gold) and human label, interleaved round-robin
// so that every prefix is stratified; Refused is true exactly for a full
// refusal.
func TestRefusalCalibrationSet(t *testing.T) {
	if *updateRefusalCalibration {
		writeRefusalCalibrationSet(t)
	}
	items, err := RefusalCalibrationItems(RefusalCalibrationSize)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RefusalCalibrationItems(RefusalCalibrationSize + 1); err == nil {
		t.Errorf("the batch holds more than RefusalCalibrationSize = %d items", RefusalCalibrationSize)
	}
	per := map[[2]string]int{}
	for i, it := range items {
		if it.Refused != (it.Label == score.LabelRefusal) {
			t.Errorf("item %d: label %s, refused %v", i, it.Label, it.Refused)
		}
		if i < DefaultCalibration {
			per[[2]string{it.Source, it.Label}]++
		}
	}
	for _, src := range []string{"xstest-mistral", "rbr_gold"} {
		for _, l := range refusalCalibrationLabels {
			if per[[2]string{src, l}] < 20 {
				t.Errorf("the first %d items hold %d %s answers of %s: not stratified (%v)", DefaultCalibration, per[[2]string{src, l}], l, src, per)
			}
		}
	}
}

func writeRefusalCalibrationSet(t *testing.T) {
	byLabel := func(src string, rows []RefusalCalibrationItem) [][]RefusalCalibrationItem {
		var out [][]RefusalCalibrationItem
		for _, l := range refusalCalibrationLabels {
			var s []RefusalCalibrationItem
			for _, r := range rows {
				if r.Label == l && r.Response != "" && len(r.Prompt)+len(r.Response) <= 12000 {
					r.Source, r.Refused = src, l == score.LabelRefusal
					s = append(s, r)
				}
			}
			out = append(out, spread(s, 40))
		}
		return out
	}
	// XSTest v2, Mistral-7B-Instruct completions only (the other models'
	// completions are held out and not in this repository).
	f, err := os.Open(filepath.Join("..", "score", "testdata", "xstest", "xstest_v2_completions_mistralinstruct.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	xsLabels := map[string]string{"1_full_compliance": score.LabelCompliance, "2_full_refusal": score.LabelRefusal, "3_partial_refusal": score.LabelPartialRefusal}
	var xs []RefusalCalibrationItem
	for _, r := range recs[1:] {
		l, ok := xsLabels[r[col["final_label"]]]
		if !ok {
			t.Fatalf("xstest %s: label %q", r[col["id"]], r[col["final_label"]])
		}
		xs = append(xs, RefusalCalibrationItem{Prompt: r[col["prompt"]], Response: r[col["completion"]], Label: l})
	}
	var rbr []RefusalCalibrationItem
	f, err = os.Open(filepath.Join("..", "score", "testdata", "labelled", "rbr_gold", "rbr_gold.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var row struct {
			Prompt   string `json:"prompt"`
			Response string `json:"response"`
			Label    string `json:"refusal_label"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		rbr = append(rbr, RefusalCalibrationItem{Prompt: row.Prompt, Response: row.Response, Label: row.Label})
	}
	f.Close()
	strata := append(byLabel("xstest-mistral", xs), byLabel("rbr_gold", rbr)...)
	writeInterleaved(t, "refusal-v1.jsonl", strata)
}
