package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// TestIncidentAPI: an incident is filed against a cleared decision by the
// case's developer (201), bad input is a 422 (an unknown field a 400) naming the field, another
// developer can neither file against the decision nor see the incident
// (404), and a report filed for a duty is returned as JSON and Markdown
// with the duty done.
func TestIncidentAPI(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	caseID := e.submit(t, "devA")
	dec := review.Decision{ID: "dec_api1", CaseID: caseID, OfficialID: e.actors["official"].User.ID,
		Outcomes: json.RawMessage(`{"us-caisi":"cleared","eu-gpai":"cleared"}`), LogIndex: -1, CreatedAt: e.now}
	if err := e.rs.CreateDecision(ctx, dec); err != nil {
		t.Fatal(err)
	}
	body := `{"decision_id":"dec_api1","class":"cyber","summary":"weights copied out","discovered_at":"2026-03-01T09:00:00Z","evidence":"egress logs"}`
	for _, tt := range []struct {
		name, who, body, field string
		code                   int
	}{
		{"bad class", "devA", strings.Replace(body, `"cyber"`, `"meteor"`, 1), "class", 422},
		{"no time", "devA", strings.Replace(body, `"2026-03-01T09:00:00Z"`, `"0001-01-01T00:00:00Z"`, 1), "discovered_at", 422},
		{"unknown field", "devA", strings.Replace(body, `"evidence"`, `"evidenz"`, 1), "evidenz", 400},
		{"other developer", "devB", body, "", 404},
		{"auditor", "auditor", body, "", 403},
	} {
		r := e.do(t, tt.who, "POST", "/api/v1/incidents", tt.body)
		if r.code != tt.code || !strings.Contains(string(r.body), tt.field) {
			t.Errorf("%s: %d %s, want %d naming %q", tt.name, r.code, r.body, tt.code, tt.field)
		}
	}
	r := e.do(t, "devA", "POST", "/api/v1/incidents", body)
	if r.code != http.StatusCreated {
		t.Fatalf("file incident: %d %s", r.code, r.body)
	}
	var inc struct {
		review.Incident
		Duties []review.Duty `json:"duties"`
	}
	if err := json.Unmarshal(r.body, &inc); err != nil || inc.CaseID != caseID || inc.Duties == nil {
		t.Fatalf("incident %s (%v)", r.body, err)
	}
	// A duty, as a profile would owe it (this server's evidence has no incident rules).
	duty := review.Duty{ID: "duty_api1", CaseID: caseID, IncidentID: inc.ID, Profile: "eu-gpai", Kind: review.DutyInitial,
		Class: "cyber", Title: "cyber breach", To: "AI Office", DueAt: e.now.AddDate(0, 0, 4), State: review.DutyDue, CreatedAt: e.now}
	if err := e.rs.CreateDuty(ctx, duty); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"devB"} {
		for _, path := range []string{"/api/v1/incidents", "/api/v1/duties"} {
			if r := e.do(t, who, "GET", path, ""); r.code != 200 || !strings.Contains(string(r.body), `"items":[]`) {
				t.Errorf("%s GET %s: %d %s, want an empty list", who, path, r.code, r.body)
			}
		}
		if r := e.do(t, who, "GET", "/api/v1/incidents/"+inc.ID, ""); r.code != 404 {
			t.Errorf("%s GET incident: %d, want 404", who, r.code)
		}
		if r := e.do(t, who, "POST", "/api/v1/duties/duty_api1/reports", `{}`); r.code != 404 {
			t.Errorf("%s file report: %d, want 404", who, r.code)
		}
	}
	if r := e.do(t, "official", "GET", "/api/v1/duties?state=late", ""); r.code != 422 || !strings.Contains(string(r.body), "state") {
		t.Errorf("duties ?state=late: %d %s, want 422 naming state", r.code, r.body)
	}
	if r := e.do(t, "official", "GET", "/api/v1/duties?state=due&case="+caseID, ""); r.code != 200 || !strings.Contains(string(r.body), "duty_api1") {
		t.Errorf("due duties: %d %s", r.code, r.body)
	}
	r = e.do(t, "devA", "POST", "/api/v1/duties/duty_api1/reports", `{"note":"initial notification"}`)
	if r.code != http.StatusCreated {
		t.Fatalf("file report: %d %s", r.code, r.body)
	}
	var rep review.IncidentReport
	if err := json.Unmarshal(r.body, &rep); err != nil || rep.DutyID != "duty_api1" || !strings.Contains(rep.Markdown, "weights copied out") {
		t.Fatalf("report %s (%v)", r.body, err)
	}
	if r := e.do(t, "devA", "GET", "/api/v1/reports/"+rep.ID+"?format=markdown", ""); r.code != 200 ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "text/markdown") || !strings.Contains(string(r.body), "initial notification") {
		t.Errorf("report markdown: %d %s %s", r.code, r.header.Get("Content-Type"), r.body)
	}
	r = e.do(t, "official", "GET", "/api/v1/incidents/"+inc.ID, "")
	var v review.IncidentView
	if err := json.Unmarshal(r.body, &v); err != nil || len(v.Duties) != 1 || v.Duties[0].State != review.DutyDone ||
		v.Duties[0].ReportID != rep.ID || len(v.Reports) != 1 {
		t.Errorf("incident after report: %s (%v)", r.body, err)
	}
	if r := e.do(t, "devA", "POST", "/api/v1/duties/duty_api1/reports", `{}`); r.code != 409 {
		t.Errorf("report a done duty: %d %s, want 409", r.code, r.body)
	}
	if r := e.do(t, "devA", "POST", "/api/v1/incidents/"+inc.ID+"/resolve", `{"resolution":""}`); r.code != 422 || !strings.Contains(string(r.body), "resolution") {
		t.Errorf("resolve without text: %d %s", r.code, r.body)
	}
	if r := e.do(t, "devA", "POST", "/api/v1/incidents/"+inc.ID+"/resolve", `{"resolution":"rotated"}`); r.code != 200 {
		t.Errorf("resolve: %d %s", r.code, r.body)
	}
}

// TestPriorReviewAPI: GET /cases/{id}/prior names the decided case a
// modified model's case re-reviews, and is 404 for a case that re-reviews
// none or that the caller does not see.
func TestPriorReviewAPI(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	prior := e.submit(t, "devA")
	if err := e.rs.CreateDecision(ctx, review.Decision{ID: "dec_p1", CaseID: prior, OfficialID: "usr_x", Outcomes: json.RawMessage(`{"us-caisi":"cleared","eu-gpai":"cleared"}`), LogIndex: -1, CreatedAt: e.now}); err != nil {
		t.Fatal(err)
	}
	c, err := e.rs.GetCase(ctx, prior)
	if err != nil {
		t.Fatal(err)
	}
	c.State = review.StateDecided
	if _, err := e.rs.UpdateCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	var mod struct{ ID string }
	e.must(t, http.StatusCreated, &mod, "devA", "POST", "/api/v1/cases", strings.Replace(strings.Replace(submissionBody, digest, "sha256:"+strings.Repeat("e", 64), 1), `"frontier-x"`, `"frontier-x-ft"`, 1))
	r := e.do(t, "devA", "GET", "/api/v1/cases/"+mod.ID+"/prior", "")
	if r.code != 200 || !strings.Contains(string(r.body), `"prior_case_id":"`+prior+`"`) || !strings.Contains(string(r.body), `"prior_decision_id":"dec_p1"`) {
		t.Errorf("prior of the modified model's case: %d %s", r.code, r.body)
	}
	if r := e.do(t, "devB", "GET", "/api/v1/cases/"+mod.ID+"/prior", ""); r.code != 404 {
		t.Errorf("prior as another developer: %d, want 404", r.code)
	}
	if r := e.do(t, "devA", "GET", "/api/v1/cases/"+prior+"/prior", ""); r.code != 404 {
		t.Errorf("prior of the original: %d %s, want 404", r.code, r.body)
	}
}
