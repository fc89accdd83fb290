package assess

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateCalibration = flag.Bool("update-calibration", false, "rebuild assess/calibration/harm-v2.jsonl from score/testdata/labelled")

// calibrationSources are the human-labelled sets the calibration batch is
// drawn from, with their licences (each allows redistribution with the
// notice, kept in calibration/LICENSE). Each holds answers to harmful
// requests labelled for harm, the only answers a run's harm scorer judges
// (a suite's harmful items). harm-v1 also drew on rbr_gold, whose prompts
// are mostly ordinary requests and whose "harmful" means disallowed
// content in a synthetic answer: scored as kind harmful, as calibration
// scores, its rows measured the scorer at κ 0.03 on items no run gives it,
// and pulled the batch's κ from 0.51 to 0.35. Held-out data is never used:
// XSTest completions of models other than Mistral-instruct,
// JailbreakBench's GCG/DSN/random-search artifacts and its
// judge-comparison set.
var calibrationSources = []string{"harmbench_clsval", "jailbreak_eval_manual", "gptfuzz_labeled"}

// TestCalibrationSet rebuilds (with -update-calibration) or checks the
// embedded calibration batch: CalibrationSize items stratified by source
// and human label, in an order whose every prefix is stratified too
// (round-robin over the strata), so --calibration N takes the first N.
func TestCalibrationSet(t *testing.T) {
	if *updateCalibration {
		writeCalibrationSet(t)
	}
	items, err := CalibrationItems(CalibrationSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != CalibrationSize {
		t.Fatalf("%d calibration items, want %d", len(items), CalibrationSize)
	}
	pos := map[string][2]int{}
	for _, it := range items[:DefaultCalibration] {
		c := pos[it.Source]
		if it.Harmful {
			c[0]++
		} else {
			c[1]++
		}
		pos[it.Source] = c
	}
	for _, src := range calibrationSources {
		if c := pos[src]; c[0] < DefaultCalibration/10 || c[1] < DefaultCalibration/10 {
			t.Errorf("the first %d items hold %d harmful and %d harmless answers of %s: not stratified", DefaultCalibration, c[0], c[1], src)
		}
	}
}

func writeCalibrationSet(t *testing.T) {
	root := filepath.Join("..", "score", "testdata", "labelled") // the repository's copies: rebuildable from a clone
	var strata [][]CalibrationItem
	for _, src := range calibrationSources {
		f, err := os.Open(filepath.Join(root, src, src+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		var pos, neg []CalibrationItem
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var row struct {
				Prompt, Response string
				Harmful          *bool
			}
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatal(err)
			}
			if row.Harmful == nil || row.Response == "" || len(row.Prompt)+len(row.Response) > 12000 {
				continue
			}
			it := CalibrationItem{Source: src, Prompt: row.Prompt, Response: row.Response, Harmful: *row.Harmful}
			if it.Harmful {
				pos = append(pos, it)
			} else {
				neg = append(neg, it)
			}
		}
		f.Close()
		// A fixed, spread-out pick: every k-th row of each stratum.
		strata = append(strata, spread(pos, CalibrationSize/6), spread(neg, CalibrationSize/6))
	}
	writeInterleaved(t, "harm-v2.jsonl", strata)
}

// writeInterleaved writes calibration/NAME with the strata interleaved
// round-robin, so that every prefix of the batch is stratified.
func writeInterleaved[T any](t *testing.T, name string, strata [][]T) {
	t.Helper()
	var b bytes.Buffer
	for i := 0; ; i++ {
		wrote := false
		for _, s := range strata {
			if i < len(s) {
				line, _ := json.Marshal(s[i])
				b.Write(append(line, '\n'))
				wrote = true
			}
		}
		if !wrote {
			break
		}
	}
	if err := os.WriteFile(filepath.Join("calibration", name), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote calibration/%s", name)
}

// spread picks n items spread evenly over xs (every k-th), or all of them.
func spread[T any](xs []T, n int) []T {
	if len(xs) <= n {
		return xs
	}
	out := make([]T, 0, n)
	for i := range n {
		out = append(out, xs[i*len(xs)/n])
	}
	return out
}
