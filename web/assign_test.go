package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// TestAssignmentEnforced checks that assessors and reviewers see and act
// on only the cases they are assigned to, that credentials are opened
// only for an assigned assessor and every read is audited, and that
// officials and auditors of the agency see every case.
func TestAssignmentEnforced(t *testing.T) {
	e := newEnv(t)
	mine := e.submit(t, "devA") // assessor and reviewer assigned
	other := e.submitOnly(t, "devA")
	base := "/api/v1/cases/" + other

	// Unassigned: the case does not exist for them.
	for _, rq := range []struct{ who, method, path, body string }{
		{"assessor", "GET", base, ""},
		{"assessor", "GET", base + "/credentials", ""},
		{"assessor", "POST", base + "/assessments", `{}`},
		{"assessor", "POST", base + "/imports", importBody},
		{"assessor", "POST", base + "/transitions", `{"to":"in_assessment"}`},
		{"reviewer", "GET", base + "/findings", ""},
		{"reviewer", "POST", base + "/findings", `{"severity":"low","title":"t"}`},
		{"reviewer", "GET", base + "/audit", ""},
	} {
		checkProblem(t, e.do(t, rq.who, rq.method, rq.path, rq.body), http.StatusNotFound)
	}
	// The case list shows each of them only their assigned case; the
	// official and the auditor of the agency see both.
	for who, want := range map[string][]string{
		"assessor": {mine}, "reviewer": {mine}, "assessor2": nil,
		"official": {mine, other}, "auditor": {mine, other}, "admin": {mine, other},
	} {
		var l struct {
			Items []idOnly `json:"items"`
		}
		e.must(t, 200, &l, who, "GET", "/api/v1/cases", "")
		var got []string
		for _, c := range l.Items {
			got = append(got, c.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s lists %v, want %v", who, got, want)
		}
	}

	// Assigned: the credentials open, and the read is in the audit trail
	// under the reader's id.
	e.assign(t, other, "assessor2")
	var cred struct{ Credentials string }
	e.must(t, 200, &cred, "assessor2", "GET", base+"/credentials", "")
	if cred.Credentials != "sk-secret" {
		t.Errorf("credentials = %q", cred.Credentials)
	}
	head, err := e.store.AuditHead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if head.Action != "case.credentials_read" || head.CaseID != other || head.Actor != e.actors["assessor2"].User.ID {
		t.Errorf("audit head = %s on %s by %s, want case.credentials_read on %s by assessor2", head.Action, head.CaseID, head.Actor, other)
	}
	// Still nothing for the assessor who is not assigned to it, nor for
	// an official (who sees the case but is no assessor).
	checkProblem(t, e.do(t, "assessor", "GET", base+"/credentials", ""), http.StatusNotFound)
	checkProblem(t, e.do(t, "official", "GET", base+"/credentials", ""), http.StatusForbidden)
	// The assigned assessor acts: scheduling reaches the job queue check
	// (this server has none: 409), not the visibility check.
	checkProblem(t, e.do(t, "assessor2", "POST", base+"/assessments", `{}`), http.StatusConflict)
	e.must(t, 200, nil, "assessor2", "POST", base+"/transitions", `{"to":"in_assessment"}`)
	e.must(t, 201, nil, "assessor2", "POST", base+"/imports", importBody)
	// Unassigning takes the case away again.
	e.assign(t, other)
	checkProblem(t, e.do(t, "assessor2", "GET", base, ""), http.StatusNotFound)
}

// TestAuditVerify checks GET /api/v1/audit/verify: auditors and admins
// only; OK with the head on an intact trail; the first broken entry, by
// sequence number, after a row is changed in the database behind the
// service's back.
func TestAuditVerify(t *testing.T) {
	e := newEnv(t)
	e.submit(t, "devA")
	type report struct {
		OK      bool  `json:"ok"`
		Entries int64 `json:"entries"`
		Head    *struct {
			Seq  int64  `json:"seq"`
			Hash string `json:"hash"`
		} `json:"head"`
		Broken *struct {
			Seq    int64  `json:"seq"`
			Reason string `json:"reason"`
		} `json:"broken"`
	}
	head, err := e.store.AuditHead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"auditor", "admin"} {
		var r report
		e.must(t, 200, &r, who, "GET", "/api/v1/audit/verify", "")
		if !r.OK || r.Broken != nil || r.Head == nil || r.Head.Seq != head.Seq || r.Head.Hash != head.Hash || r.Entries != head.Seq {
			t.Errorf("verify as %s = %+v, want ok at head %d %s", who, r, head.Seq, head.Hash)
		}
	}
	for _, who := range []string{"devA", "official", "assessor"} {
		checkProblem(t, e.do(t, who, "GET", "/api/v1/audit/verify", ""), http.StatusForbidden)
	}
	// Someone with the database file edits entry 3 (dropping the
	// append-only trigger first, as such a person can).
	db := e.store.SQL()
	for _, q := range []string{`DROP TRIGGER audit_no_update`, `UPDATE audit SET actor = 'someone-else' WHERE seq = 3`} {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var r report
	e.must(t, 200, &r, "auditor", "GET", "/api/v1/audit/verify", "")
	if r.OK || r.Broken == nil || r.Broken.Seq != 3 || r.Broken.Reason != "hash does not match the entry's contents" || r.Head != nil {
		t.Errorf("verify after tampering = %+v, want broken at seq 3", r)
	}
}

// TestMetricsToken checks the bearer token of the metrics listener.
func TestMetricsToken(t *testing.T) {
	e := newEnv(t)
	ms := httptest.NewServer(e.srv.MetricsHandler("s3cret"))
	defer ms.Close()
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"", 401}, {"Bearer nope", 401}, {"Basic czNjcmV0", 401}, {"Bearer s3cret", 200}, {"bearer s3cret", 200},
	} {
		req, _ := http.NewRequest("GET", ms.URL+"/metrics", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := ms.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET /metrics with %q = %d, want %d", tc.auth, resp.StatusCode, tc.want)
		}
		if tc.want == 401 && (resp.Header.Get("WWW-Authenticate") == "" || bytes.Contains(b, []byte("clearance_http"))) {
			t.Errorf("401 with %q lacks WWW-Authenticate or shows metrics: %s", tc.auth, b)
		}
	}
}
