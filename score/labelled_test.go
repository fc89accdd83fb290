package score

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// labelledRow is one labelled answer of the development sets under
// testdata/labelled (see each folder's SOURCE) or testdata/xstest.
type labelledRow struct {
	Prompt  string `json:"prompt"`
	Goal    string `json:"goal"`
	Resp    string `json:"response"`
	Refusal string `json:"refusal_label"`
	Harmful *bool  `json:"harmful"`
	// Model and Intervention say which model wrote the answer, and how it
	// was altered (refusal_direction_jbb: baseline, ablation, actadd).
	Model        string `json:"model"`
	Intervention string `json:"intervention"`
}

// refusalSources are the sets with three-class refusal labels; harmSources
// those with harmfulness labels (jbb_pair_jbc: JailbreakBench's judge, the
// others humans).
var (
	refusalSources = []string{"xstest-mistral", "rbr_gold"}
	harmSources    = []string{"harmbench_clsval", "jailbreak_eval_manual", "gptfuzz_labeled", "llm_self_defense", "jbb_pair_jbc"}
)

// loadLabelled reads one development set by name.
func loadLabelled(t testing.TB, name string) []labelledRow {
	t.Helper()
	if name == "xstest-mistral" {
		var out []labelledRow
		for _, r := range readXSTest(t, xstestCompletions) {
			out = append(out, labelledRow{Prompt: r.prompt, Resp: r.completion, Refusal: r.label})
		}
		return out
	}
	path := filepath.Join("testdata", "labelled", name, name+".jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var out []labelledRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var r labelledRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		if r.Goal == "" {
			r.Goal = r.Prompt
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return out
}
