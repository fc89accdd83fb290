package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestCompareGolden(t *testing.T) {
	ev, err := LoadEvidence("evidence.json", mustRead(t, "testdata/evidence.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Compare(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		applicable bool
		outcome    Outcome
	}{
		"eu-ai-act-gpai-sr":  {true, ClearedWithConditions},
		"ca-sb-53":           {false, NotApplicable},
		"ny-raise":           {false, NotInForce}, // amended Act in force from 2027-01-01
		"cn-tc260-003":       {true, Hold},
		"us-eo-14409":        {false, NotInForce}, // signed 2026-06-02, the day after the evidence
		"us-2026-draft":      {true, Hold},        // designations.us_draft_covered undeclared: undetermined
		"us-eo-14110":        {false, NotInForce}, // revoked 2025-01-20
		"frontier-framework": {true, Cleared},
		"rand-sl":            {true, Cleared},
	}
	for _, r := range d.Results {
		w, ok := want[r.Profile]
		if !ok {
			t.Errorf("unexpected profile %s", r.Profile)
			continue
		}
		if r.Applicable != w.applicable || r.Outcome != w.outcome {
			t.Errorf("%s: applicable %v outcome %s (%s), want %v %s", r.Profile, r.Applicable, r.Outcome, r.Rationale, w.applicable, w.outcome)
		}
	}
	var tbl, html bytes.Buffer
	if err := RenderTable(&tbl, d); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.golden.txt", tbl.Bytes())
	if err := RenderHTML(&html, d); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.golden.html", html.Bytes())
	js, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.golden.json", append(js, '\n'))
	// The JSON view has the fields the CLI contract promises.
	var list struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(js, &list); err != nil {
		t.Fatal(err)
	}
	for _, r := range list.Results {
		for _, k := range []string{"profile", "applicable", "applicability", "inForce", "tier", "outcome", "profileDigest"} {
			if _, ok := r[k]; !ok {
				t.Errorf("result %v lacks %q", r["profile"], k)
			}
		}
	}
}
