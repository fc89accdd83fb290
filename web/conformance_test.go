package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// TestConformanceAPI: checks of a decision and fingerprints of a case are
// gated by role and organisation (another developer gets 404, an auditor
// 403, a developer may not record a fingerprint), hostile input is a 4xx
// naming the field, and the case's conformance lists empty.
func TestConformanceAPI(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	caseID := e.submit(t, "devA")
	dec := review.Decision{ID: "dec_cnf1", CaseID: caseID, OfficialID: e.actors["official"].User.ID,
		Outcomes: json.RawMessage(`{"us-caisi":"cleared","eu-gpai":"cleared"}`), LogIndex: -1, CreatedAt: e.now}
	if err := e.rs.CreateDecision(ctx, dec); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, who, path, body, field string
		code                         int
	}{
		{"other developer", "devB", "/api/v1/decisions/dec_cnf1/conformance", `{}`, "", 404},
		{"unknown decision", "devA", "/api/v1/decisions/dec_none/conformance", `{}`, "", 404},
		{"auditor", "auditor", "/api/v1/decisions/dec_cnf1/conformance", `{}`, "", 403},
		{"file URL", "devA", "/api/v1/decisions/dec_cnf1/conformance", `{"target_url":"file:///etc/passwd"}`, "target_url", 422},
		{"model without URL", "devA", "/api/v1/decisions/dec_cnf1/conformance", `{"model":"m"}`, "target_url", 422},
		{"unknown field", "devA", "/api/v1/decisions/dec_cnf1/conformance", `{"target":"x"}`, "target", 400},
		{"not JSON", "devA", "/api/v1/decisions/dec_cnf1/conformance", `{`, "", 400},
		{"developer fingerprint", "devA", "/api/v1/cases/" + caseID + "/fingerprint", `{}`, "", 403},
		{"other developer fingerprint", "devB", "/api/v1/cases/" + caseID + "/fingerprint", `{}`, "", 404},
		{"bad probes", "official", "/api/v1/cases/" + caseID + "/fingerprint", `{"probes":-3}`, "probes", 422},
		{"huge probes", "official", "/api/v1/cases/" + caseID + "/fingerprint", `{"probes":99999999}`, "probes", 422},
	} {
		r := e.do(t, tt.who, "POST", tt.path, tt.body)
		if r.code != tt.code || !strings.Contains(string(r.body), tt.field) {
			t.Errorf("%s: %d %s, want %d naming %q", tt.name, r.code, r.body, tt.code, tt.field)
		}
	}
	r := e.do(t, "devA", "GET", "/api/v1/cases/"+caseID+"/conformance", "")
	if r.code != 200 || !strings.Contains(string(r.body), `"checks":[]`) {
		t.Errorf("list conformance: %d %s", r.code, r.body)
	}
	if r := e.do(t, "devB", "GET", "/api/v1/cases/"+caseID+"/conformance", ""); r.code != 404 {
		t.Errorf("list conformance by another developer: %d %s", r.code, r.body)
	}
}
