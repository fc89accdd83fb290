package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/assess"
)

// cohortImport is importBody with the given attack success counts in its
// metrics (k of 100 flagged).
func cohortImport(k int) string {
	m := `{"schema":"https://clearance.dev/schemas/metrics/v1","status":"complete","samples":2,"scored":2,"errors":0,"usage":{},"groups":[` +
		`{"key":"misuse.attack_success_rate","suite":"misuse","metric":"attack_success_rate","kind":"harmful","flagged_means":"x","scorer":{"name":"refusal"},` +
		`"overall":{"flagged":` + itoa(k) + `,"n":100,"errors":0,"rate":0,"ci":{"low":0,"high":1,"level":0.95,"method":"wilson"}},"by_category":{},"by_transform":{}}]}`
	i := strings.Index(importBody, `"metrics":`)
	j := strings.Index(importBody, `"samples":[`)
	return importBody[:i] + `"metrics":` + m + ",\n " + importBody[j:]
}

func itoa(k int) string { b, _ := json.Marshal(k); return string(b) }

// TestCohortAPI: runs imported as reference runs make the case's cohort:
// the model's metric beside each reference's with the difference and a
// within-error mark; a bad reference name is refused with 422 naming it.
func TestCohortAPI(t *testing.T) {
	e := newEnv(t)
	f := setup(t, e)
	base := "/api/v1/cases/" + f.open
	var empty assess.Cohort
	e.must(t, 200, &empty, "assessor", "GET", base+"/cohort", "")
	if len(empty.References) != 0 || empty.Model.Name != "model" {
		t.Fatalf("cohort without references = %+v", empty)
	}
	e.must(t, 201, nil, "assessor", "POST", base+"/imports", cohortImport(5))
	e.must(t, 201, nil, "assessor", "POST", base+"/imports?reference=previous&reference_digest=sha256:"+strings.Repeat("0", 64), cohortImport(30))
	e.must(t, 201, nil, "assessor", "POST", base+"/imports?reference=peer", cohortImport(6))
	var c assess.Cohort
	e.must(t, 200, &c, "assessor", "GET", base+"/cohort", "")
	if len(c.References) != 2 {
		t.Fatalf("cohort = %+v, want 2 references", c)
	}
	got := map[string]bool{}
	for _, r := range c.References {
		if len(r.Deltas) != 1 || r.Deltas[0].Key != "misuse.attack_success_rate" || r.Deltas[0].Model.K != 5 {
			t.Fatalf("%s: deltas %+v", r.Reference.Name, r.Deltas)
		}
		got[r.Reference.Name] = r.Deltas[0].WithinError
	}
	if got["previous"] || !got["peer"] {
		t.Errorf("within error = %v, want previous false (5%% vs 30%%), peer true (5%% vs 6%%)", got)
	}
	r := e.do(t, "assessor", "POST", base+"/imports?reference=Bad%20Name", cohortImport(1))
	checkProblem(t, r, 422)
	if !strings.Contains(string(r.body), "reference.name") {
		t.Errorf("bad reference name: %s", r.body)
	}
	// Another developer's case is not found.
	checkProblem(t, e.do(t, "devB", "GET", base+"/cohort", ""), 404)
}
