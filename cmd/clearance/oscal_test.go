package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/oscal"
)

// TestOscalDemo runs the demo as the command does and exports both of
// its decided cases with `clearance case oscal` as the demo's reviewer
// and developer: every document — assessment plan, assessment results
// and POA&M — validates against NIST's OSCAL schema, the results carry
// per-criterion findings (the server's policy evaluation) and metric
// observations, and reference the decision's bundle. The demo takes
// some seconds (with --limit 20): skipped with -short.
func TestOscalDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	demo := sharedDemo(t)
	data, base, ds := demo.data, demo.base, demo.ds
	ctx := context.Background()
	out := t.TempDir()
	for _, m := range demoModels {
		for _, who := range []string{"reviewer", "dev-" + m.profile} {
			token := demoToken(t, filepath.Join(data, "demo-tokens.txt"), who)
			for _, k := range oscal.Kinds() {
				file := filepath.Join(out, who+"-"+oscal.FileName(ds.Cases[m.name], k))
				ce, _ := quietEnv()
				if err := runCase(ctx, ce, []string{"oscal", ds.Cases[m.name], "--kind", string(k), "-o", file, "--server", base, "--token", token}); err != nil {
					t.Fatalf("%s: case oscal %s as %s: %v", m.name, k, who, err)
				}
				doc, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if err := oscal.Validate(k, doc); err != nil {
					t.Errorf("%s: %s as %s: %v", m.name, k, who, err)
				}
				if k != oscal.KindAR {
					continue
				}
				var ar oscal.ARDocument
				if err := json.Unmarshal(doc, &ar); err != nil {
					t.Fatal(err)
				}
				res := ar.AssessmentResults.Results[0]
				var criteria int
				for _, f := range res.Findings {
					if f.Target.Type == "objective-id" {
						criteria++
					}
				}
				if criteria == 0 || len(res.Observations) == 0 {
					t.Errorf("%s: AR has %d criterion findings and %d observations, want some of each", m.name, criteria, len(res.Observations))
				}
				if len(res.Links) != 1 || !strings.Contains(string(doc), "/api/v1/decisions/"+ds.Decisions[m.name]+"/bundle") {
					t.Errorf("%s: AR does not reference decision %s's bundle", m.name, ds.Decisions[m.name])
				}
			}
		}
	}
	demo.stop()
}

// TestOscalCaseUsage: a bad or missing --kind is a usage error naming
// the flag, before any request.
func TestOscalCaseUsage(t *testing.T) {
	for _, args := range [][]string{
		{"oscal", "case-1", "--kind", "ssp", "--server", "http://127.0.0.1:9", "--token", "t"},
		{"oscal", "case-1", "--server", "http://127.0.0.1:9", "--token", "t"},
		{"oscal", "--kind", "ar", "--server", "http://127.0.0.1:9", "--token", "t"},
	} {
		e, _ := quietEnv()
		err := runCase(context.Background(), e, args)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || (args[2] == "--kind" && !strings.Contains(err.Error(), "--kind")) {
			t.Errorf("case %v = %v, want a usage error", args, err)
		}
	}
}
