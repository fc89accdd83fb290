package score

import (
	"context"
	"encoding/csv"
	"os"

	"github.com/google/go-cmp/cmp"
	"strings"
	"testing"
)

// xstestRow is one human-labelled XSTest completion.
type xstestRow struct {
	id, kind, prompt, completion, label, strmatch string
}

var xstestLabels = map[string]string{
	"1_full_compliance": LabelCompliance,
	"2_full_refusal":    LabelRefusal,
	"3_partial_refusal": LabelPartialRefusal,
}

// readXSTest reads a completions CSV; the strmatch column is read when present.
func readXSTest(t testing.TB, path string) []xstestRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, need := range []string{"id", "type", "prompt", "completion", "final_label"} {
		if _, ok := col[need]; !ok {
			t.Fatalf("%s: no column %q", path, need)
		}
	}
	var rows []xstestRow
	for _, r := range recs[1:] {
		lab, ok := xstestLabels[r[col["final_label"]]]
		if !ok {
			t.Fatalf("%s: row %s: unknown label %q", path, r[col["id"]], r[col["final_label"]])
		}
		row := xstestRow{id: r[col["id"]], kind: r[col["type"]], prompt: r[col["prompt"]], completion: r[col["completion"]], label: lab}
		if i, ok := col["strmatch_label"]; ok {
			row.strmatch = xstestLabels[r[i]]
		}
		rows = append(rows, row)
	}
	return rows
}

const (
	xstestCompletions = "testdata/xstest/xstest_v2_completions_mistralinstruct.csv"
	xstestStrEval     = "testdata/xstest/xstest_v2_completions_mistralinstruct_streval.csv"
)

// TestRefusalQuality re-measures the refusal scorer on the human-labelled
// XSTest completions and fails when the figures stored in
// (*Refusal).Measured differ, so the published figures cannot drift from
// the code. With -v it prints the misclassified ids and the string-match
// baseline; XSTEST_DEBUG=id,id prints how those answers were segmented and
// classified. XSTEST=path measures another completions file of the same
// format instead (no comparison with the stored figures).
func TestRefusalQuality(t *testing.T) {
	path := os.Getenv("XSTEST")
	if path == "" {
		path = xstestCompletions
	}
	rows := readXSTest(t, path)
	ev := NewEvaluator(LabelRefusal, LabelPartialRefusal)
	// XSTest's unsafe prompts are the contrast_* types: their answers are
	// the refusal-heavy part of the data.
	unsafe, safe := NewEvaluator(LabelRefusal, LabelPartialRefusal), NewEvaluator(LabelRefusal, LabelPartialRefusal)
	r := NewRefusal()
	var wrong []string
	for _, row := range rows {
		v := r.Score(context.Background(), Input{Prompt: row.prompt, Response: row.completion})
		ev.Add(row.label, v)
		if strings.HasPrefix(row.kind, "contrast_") {
			unsafe.Add(row.label, v)
		} else {
			safe.Add(row.label, v)
		}
		if strings.Contains(","+os.Getenv("XSTEST_DEBUG")+",", ","+row.id+",") {
			for _, u := range segment(row.completion) {
				t.Logf("  %s role=%d kind=%d %q", row.id, classify(u), u.kind, u.text)
			}
		}
		if v.Label != row.label {
			wrong = append(wrong, row.id)
			t.Logf("%s: human %s, scorer %s: %s", row.id, row.label, v.Label, v.Rationale)
		}
	}
	got := ev.Evaluation()
	logEvaluation(t, "refusal scorer", got)
	logEvaluation(t, "  on unsafe (contrast_*) prompts", unsafe.Evaluation())
	logEvaluation(t, "  on safe prompts", safe.Evaluation())
	t.Logf("misclassified (%d): %s", len(wrong), strings.Join(wrong, " "))

	if path != xstestCompletions {
		return
	}
	base := NewEvaluator(LabelRefusal, LabelPartialRefusal)
	for _, row := range readXSTest(t, xstestStrEval) {
		base.Add(row.label, Verdict{Label: row.strmatch})
	}
	logEvaluation(t, "string-match baseline (XSTest strmatch_label)", base.Evaluation())

	if diff := cmp.Diff(r.Measured(), got); diff != "" {
		t.Errorf("stored figures differ from measured ones (-stored +measured):\n%s\nmeasured: %#v", diff, got)
	}
	// Quality() is pooled over all refusal-labelled sets: TestLOSO checks it.
}

func logEvaluation(t *testing.T, name string, e Evaluation) {
	t.Helper()
	b := e.Binary
	t.Logf("%s: n=%d 3-class accuracy=%.3f macro-F1=%.3f; binary (refused = refusal|partial): precision=%.3f recall=%.3f F1=%.3f accuracy=%.3f sensitivity=%.3f specificity=%.3f (positives %d, negatives %d)",
		name, e.N, e.Accuracy, e.MacroF1, b.Precision, b.Recall, b.F1, b.Accuracy, b.Sensitivity, b.Specificity, b.Positives, b.Negatives)
	for _, c := range e.PerClass {
		t.Logf("  %-16s support=%3d precision=%.3f recall=%.3f F1=%.3f", c.Class, c.Support, c.Precision, c.Recall, c.F1)
	}
	t.Logf("  confusion [human][scorer] over %v: %v", e.Classes, e.Confusion)
}
