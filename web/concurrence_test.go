package web_test

import (
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// TestConcurrenceAPI runs the consultation of a joint review through HTTP
// on SQLite and, with CLEARANCE_TEST_POSTGRES, PostgreSQL, under the
// default rule (lead decides after consultation): the lead proposes, one
// agency objects and the other concurs with conditions, the decision is
// refused until the objection is answered, and records the concurring
// agency.
func TestConcurrenceAPI(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			testConcurrenceAPI(t, newEnvWith(t, envOptions{postgres: pg}))
		})
	}
}

func testConcurrenceAPI(t *testing.T, e *env) {
	orgB := e.org(t, "Agency B", review.OrgAgency)
	orgC := e.org(t, "Agency C", review.OrgAgency)
	e.user(t, orgB, "officialB", review.RoleOfficial)
	e.user(t, orgC, "officialC", review.RoleOfficial)
	c := e.submit(t, "devA")
	e.must(t, 200, nil, "assessor", "POST", "/api/v1/cases/"+c+"/transitions", `{"to":"in_assessment"}`)
	e.must(t, 200, nil, "assessor", "POST", "/api/v1/cases/"+c+"/transitions", `{"to":"under_review"}`)
	// Not joint yet: no consultation.
	checkProblem(t, e.do(t, "official", "GET", "/api/v1/cases/"+c+"/positions", ""), 422)
	for _, o := range []string{orgB.ID, orgC.ID} {
		e.must(t, 200, nil, "official", "POST", "/api/v1/cases/"+c+"/agencies", `{"org_id":"`+o+`","domains":["cyber"]}`)
	}
	const outcomes = `{"us-caisi":{"outcome":"cleared_with_conditions"},"eu-gpai":{"outcome":"cleared"}}`
	decide := `{"outcomes":` + outcomes + `,"rationale":"staged release"}`

	r := e.do(t, "official", "POST", "/api/v1/cases/"+c+"/decisions", decide)
	checkProblem(t, r, 409)
	if d := problemDetail(t, r); !strings.Contains(d, "propose") {
		t.Errorf("decide without proposal: %q", d)
	}
	checkProblem(t, e.do(t, "officialB", "POST", "/api/v1/cases/"+c+"/proposal", decide), 403)
	var prop struct {
		Deadline string `json:"deadline"`
	}
	e.must(t, 201, &prop, "official", "POST", "/api/v1/cases/"+c+"/proposal", decide)
	if prop.Deadline == "" {
		t.Fatalf("proposal without a deadline")
	}
	checkProblem(t, e.do(t, "officialB", "POST", "/api/v1/cases/"+c+"/positions", `{"position":"object"}`), 422)
	checkProblem(t, e.do(t, "official", "POST", "/api/v1/cases/"+c+"/positions", `{"position":"concur"}`), 403)
	e.must(t, 200, nil, "officialB", "POST", "/api/v1/cases/"+c+"/positions", `{"position":"object","reason":"cyber uplift"}`)
	r = e.do(t, "official", "POST", "/api/v1/cases/"+c+"/decisions", decide)
	checkProblem(t, r, 409)
	if d := problemDetail(t, r); !strings.Contains(d, "consultation is open") || !strings.Contains(d, orgC.ID) || !strings.Contains(d, orgB.ID+" objects: cyber uplift") {
		t.Errorf("decide during consultation: %q", d)
	}
	e.must(t, 200, nil, "officialC", "POST", "/api/v1/cases/"+c+"/positions", `{"position":"concur_with_conditions","conditions":["staged release"]}`)

	var st struct {
		Rule struct {
			Rule    string `json:"rule"`
			Days    int    `json:"consultation_days"`
			Silence string `json:"silence"`
		} `json:"rule"`
		Open      bool `json:"open"`
		Positions []struct {
			OrgID      string   `json:"org_id"`
			Position   string   `json:"position"`
			Reason     string   `json:"reason"`
			Conditions []string `json:"conditions"`
			Answer     string   `json:"answer"`
		} `json:"positions"`
		Concurring []string `json:"concurring"`
		Blocking   []string `json:"blocking"`
	}
	e.must(t, 200, &st, "officialC", "GET", "/api/v1/cases/"+c+"/positions", "")
	if st.Rule.Rule != "lead" || st.Rule.Days != 10 || st.Rule.Silence != "concur" || st.Open || len(st.Positions) != 2 ||
		st.Positions[0].OrgID != orgB.ID || st.Positions[0].Reason != "cyber uplift" ||
		st.Positions[1].Position != "concur_with_conditions" || strings.Join(st.Positions[1].Conditions, ",") != "staged release" ||
		strings.Join(st.Concurring, ",") != orgC.ID || len(st.Blocking) != 1 {
		t.Fatalf("positions = %+v", st)
	}
	checkProblem(t, e.do(t, "officialC", "POST", "/api/v1/cases/"+c+"/positions/"+orgB.ID+"/answer", `{"answer":"no"}`), 403)
	checkProblem(t, e.do(t, "official", "POST", "/api/v1/cases/"+c+"/positions/"+orgC.ID+"/answer", `{"answer":"x"}`), 409)
	checkProblem(t, e.do(t, "official", "POST", "/api/v1/cases/"+c+"/positions/org_nope/answer", `{"answer":"x"}`), 404)
	e.must(t, 200, nil, "official", "POST", "/api/v1/cases/"+c+"/positions/"+orgB.ID+"/answer", `{"answer":"the staged release limits exposure"}`)
	checkProblem(t, e.do(t, "official", "POST", "/api/v1/cases/"+c+"/decisions",
		`{"outcomes":{"us-caisi":{"outcome":"refused"},"eu-gpai":{"outcome":"refused"}},"rationale":"r"}`), 409)
	var d struct {
		ID         string   `json:"id"`
		Concurring []string `json:"concurring"`
	}
	e.must(t, 201, &d, "official", "POST", "/api/v1/cases/"+c+"/decisions", decide)
	if strings.Join(d.Concurring, ",") != orgC.ID {
		t.Fatalf("decision concurring = %v, want %s", d.Concurring, orgC.ID)
	}
	var got map[string]any
	e.must(t, 200, &got, "official", "GET", "/api/v1/decisions/"+d.ID, "")
	if _, ok := got["concurring"]; !ok {
		t.Fatalf("decision JSON lacks concurring: %v", got)
	}
}
