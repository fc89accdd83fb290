package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// TestJointReviewAPI runs a joint review through HTTP on SQLite and, with
// CLEARANCE_TEST_POSTGRES, PostgreSQL: the lead adds a second agency,
// each agency's assessment and finding stay in its compartment (another
// agency and the developer get the 404 of a missing record) until it
// shares them, and an agency outside the review no longer sees the case.
func TestJointReviewAPI(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			testJointReviewAPI(t, newEnvWith(t, envOptions{postgres: pg}))
		})
	}
}

func testJointReviewAPI(t *testing.T, e *env) {
	orgB := e.org(t, "Agency B", review.OrgAgency)
	orgC := e.org(t, "Agency C", review.OrgAgency)
	e.user(t, orgB, "officialB", review.RoleOfficial)
	e.user(t, orgB, "reviewerB", review.RoleReviewer)
	e.user(t, orgB, "assessorB", review.RoleAssessor)
	e.user(t, orgC, "officialC", review.RoleOfficial)
	c := e.submitOnly(t, "devA")
	e.assign(t, c, "assessor", "reviewer", "assessorB", "reviewerB")
	e.must(t, 200, nil, "assessor", "POST", "/api/v1/cases/"+c+"/transitions", `{"to":"in_assessment"}`)
	e.must(t, 200, nil, "officialC", "GET", "/api/v1/cases/"+c, "")

	checkProblem(t, e.do(t, "official", "POST", "/api/v1/cases/"+c+"/agencies", `{"org_id":"`+orgB.ID+`","domains":["nuclear"]}`), 422)
	checkProblem(t, e.do(t, "official", "POST", "/api/v1/cases/"+c+"/agencies", `{"org_id":"`+e.actors["assessor"].Org.ID+`","domains":["cyber"]}`), 422)
	var cj struct {
		Agencies []struct {
			OrgID   string   `json:"org_id"`
			Lead    bool     `json:"lead"`
			Domains []string `json:"domains"`
		} `json:"agencies"`
	}
	e.must(t, 200, &cj, "official", "POST", "/api/v1/cases/"+c+"/agencies", `{"org_id":"`+orgB.ID+`","domains":["safeguards"]}`)
	if len(cj.Agencies) != 2 || !cj.Agencies[0].Lead || cj.Agencies[0].OrgID != e.actors["official"].Org.ID ||
		cj.Agencies[1].OrgID != orgB.ID || strings.Join(cj.Agencies[1].Domains, ",") != "safeguards" {
		t.Fatalf("agencies = %+v", cj.Agencies)
	}
	checkProblem(t, e.do(t, "officialB", "POST", "/api/v1/cases/"+c+"/agencies", `{"org_id":"`+orgC.ID+`","domains":["cyber"]}`), 403)
	checkProblem(t, e.do(t, "officialC", "GET", "/api/v1/cases/"+c, ""), 404)
	e.must(t, 200, nil, "officialB", "GET", "/api/v1/cases/"+c, "")

	type item struct {
		ID     string `json:"id"`
		OrgID  string `json:"org_id"`
		Shared bool   `json:"shared"`
	}
	var asm, fA, fB item
	e.must(t, 201, &asm, "assessorB", "POST", "/api/v1/cases/"+c+"/imports", importBody)
	if asm.OrgID != orgB.ID || asm.Shared {
		t.Fatalf("B's assessment compartment %+v", asm)
	}
	e.must(t, 201, &fA, "reviewer", "POST", "/api/v1/cases/"+c+"/findings", `{"severity":"high","title":"lead finding"}`)
	e.must(t, 201, &fB, "reviewerB", "POST", "/api/v1/cases/"+c+"/findings", `{"severity":"low","title":"B finding"}`)
	if fA.OrgID != e.actors["official"].Org.ID || fB.OrgID != orgB.ID {
		t.Fatalf("finding compartments %+v %+v", fA, fB)
	}

	// Hidden work is a 404 indistinguishable from a missing record.
	hidden := func(who, method, path, missingPath, body string) {
		t.Helper()
		r := e.do(t, who, method, path, body)
		m := e.do(t, who, method, missingPath, body)
		checkProblem(t, r, 404)
		if got, want := problemDetail(t, r), problemDetail(t, m); m.code != 404 || got != want {
			t.Errorf("%s %s as %s: detail %q differs from a missing record's %q (%d)", method, path, who, got, want, m.code)
		}
		if strings.Contains(string(r.body), "harmful answer") || strings.Contains(string(r.body), "B finding") {
			t.Errorf("%s %s leaks hidden work: %s", method, path, r.body)
		}
	}
	hidden("official", "GET", "/api/v1/assessments/"+asm.ID, "/api/v1/assessments/asm_0", "")
	hidden("official", "GET", "/api/v1/assessments/"+asm.ID+"/samples", "/api/v1/assessments/asm_0/samples", "")
	hidden("official", "GET", "/api/v1/assessments/"+asm.ID+"/samples/0", "/api/v1/assessments/asm_0/samples/0", "")
	hidden("devA", "GET", "/api/v1/assessments/"+asm.ID, "/api/v1/assessments/asm_0", "")
	hidden("devA", "POST", "/api/v1/findings/"+fA.ID+"/responses", "/api/v1/findings/fnd_0/responses", `{"body":"fixed"}`)
	hidden("official", "POST", "/api/v1/findings/"+fB.ID+"/status", "/api/v1/findings/fnd_0/status", `{"status":"resolved","note":"n"}`)
	hidden("official", "POST", "/api/v1/assessments/"+asm.ID+"/share", "/api/v1/assessments/asm_0/share", `{"shared":true}`)

	ids := func(who, path string) string {
		t.Helper()
		var l struct {
			Items []item `json:"items"`
		}
		e.must(t, 200, &l, who, "GET", path, "")
		var out []string
		for _, x := range l.Items {
			out = append(out, x.ID)
		}
		return strings.Join(out, ",")
	}
	if got := ids("official", "/api/v1/cases/"+c+"/findings"); got != fA.ID {
		t.Errorf("lead's findings = %s, want %s", got, fA.ID)
	}
	if got := ids("devA", "/api/v1/cases/"+c+"/findings"); got != "" {
		t.Errorf("developer's findings = %s, want none", got)
	}
	if got := ids("official", "/api/v1/cases/"+c+"/assessments"); got != "" {
		t.Errorf("lead's assessments = %s, want none", got)
	}

	// Shared: the lead reads B's assessment and transcript, the developer
	// B's finding and answers it.
	var sh item
	e.must(t, 200, &sh, "reviewerB", "POST", "/api/v1/assessments/"+asm.ID+"/share", `{"shared":true}`)
	if !sh.Shared {
		t.Fatalf("share returned %+v", sh)
	}
	e.must(t, 200, nil, "official", "GET", "/api/v1/assessments/"+asm.ID, "")
	r := e.do(t, "official", "GET", "/api/v1/assessments/"+asm.ID+"/samples/0", "")
	if r.code != 200 || !strings.Contains(string(r.body), "harmful answer") {
		t.Fatalf("shared transcript = %d %s", r.code, r.body)
	}
	e.must(t, 200, nil, "reviewerB", "POST", "/api/v1/findings/"+fB.ID+"/share", `{"shared":true}`)
	if got := ids("devA", "/api/v1/cases/"+c+"/findings"); got != fB.ID {
		t.Errorf("developer's findings after sharing = %s, want %s", got, fB.ID)
	}
	e.must(t, 201, nil, "devA", "POST", "/api/v1/findings/"+fB.ID+"/responses", `{"body":"fixed"}`)
	checkProblem(t, e.do(t, "official", "POST", "/api/v1/findings/"+fB.ID+"/share", `{"shared":false}`), 403)

	var audit struct {
		Items []struct {
			Action  string          `json:"action"`
			Details json.RawMessage `json:"details"`
		} `json:"items"`
	}
	e.must(t, 200, &audit, "officialB", "GET", "/api/v1/cases/"+c+"/audit?limit=500", "")
	var actions []string
	for _, x := range audit.Items {
		if strings.Contains(x.Action, "agency") || strings.HasSuffix(x.Action, ".shared") {
			actions = append(actions, x.Action)
		}
		if strings.Contains(string(x.Details), fA.ID) {
			t.Errorf("B's case audit shows the lead's unshared finding: %s %s", x.Action, x.Details)
		}
	}
	if got := strings.Join(actions, ","); got != "case.agency_added,assessment.shared,finding.shared" {
		t.Errorf("audit actions = %s", got)
	}
}
