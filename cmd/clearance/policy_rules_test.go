package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// policy compare on the demo dossier shows, for every profile, its
// applicability (yes, no or undetermined, with the facts needed) and
// whether it is in force on the evaluation date (--as-of).
func TestPolicyCompareDemoDossier(t *testing.T) {
	dossier := filepath.Join(t.TempDir(), "dossier.yaml")
	if err := os.WriteFile(dossier, demoDossier, 0o644); err != nil {
		t.Fatal(err)
	}
	compare := func(t *testing.T, asOf string) map[string]map[string]any {
		t.Helper()
		e, out, errb := policyEnv()
		args := []string{"policy", "compare", "--evidence", dossier, "--format", "json"}
		if asOf != "" {
			args = append(args, "--as-of", asOf)
		}
		if code := run(context.Background(), e, args); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		var d struct {
			Results []map[string]any `json:"results"`
		}
		if err := json.Unmarshal(out.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		byID := map[string]map[string]any{}
		for _, r := range d.Results {
			byID[r["profile"].(string)] = r
			switch r["applicability"] {
			case "yes", "no":
			case "undetermined":
				if fs, _ := r["undeterminedFacts"].([]any); len(fs) == 0 {
					t.Errorf("%s: undetermined without the facts needed", r["profile"])
				}
				if r["outcome"] != "hold" && r["outcome"] != "not_in_force" {
					t.Errorf("%s: undetermined but outcome %v", r["profile"], r["outcome"])
				}
			default:
				t.Errorf("%s: applicability %v", r["profile"], r["applicability"])
			}
			if _, ok := r["inForce"].(bool); !ok {
				t.Errorf("%s: no inForce", r["profile"])
			}
		}
		if len(byID) < 9 {
			t.Errorf("compare lists %d profiles, want every built-in", len(byID))
		}
		return byID
	}
	// The demo dossier is dated 2026-06-01: the amended RAISE Act is not
	// yet in force (1 January 2027); on 2027-06-01 it is.
	before := compare(t, "")
	if r := before["ny-raise"]; r["inForce"] != false || r["outcome"] != "not_in_force" || !strings.Contains(r["rationale"].(string), "2027-01-01") {
		t.Errorf("ny-raise as of 2026-06-01: %v %v (%v)", r["inForce"], r["outcome"], r["rationale"])
	}
	after := compare(t, "2027-06-01")
	if r := after["ny-raise"]; r["inForce"] != true || r["outcome"] == "not_in_force" {
		t.Errorf("ny-raise as of 2027-06-01: %v %v (%v)", r["inForce"], r["outcome"], r["rationale"])
	}

	e, out, _ := policyEnv()
	if code := run(context.Background(), e, []string{"policy", "compare", "--evidence", dossier}); code != 0 {
		t.Fatalf("table: exit %d", code)
	}
	for _, w := range []string{"IN FORCE", "APPLIES", "no (from 2027-01-01)"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("compare table lacks %q:\n%s", w, out.String())
		}
	}
}
