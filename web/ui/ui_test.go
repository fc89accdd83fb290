package ui_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/web/ui"
)

const wantCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func TestNewRejectsBadConfig(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		cfg  ui.Config
		want string
	}{
		{"no service", ui.Config{SessionKey: make([]byte, 32)}, "Service is required"},
		{"short key", ui.Config{Service: e.svc, SessionKey: make([]byte, 16)}, "SessionKey is 16 bytes, want 32"},
		{"negative ttl", ui.Config{Service: e.svc, SessionKey: make([]byte, 32), SessionTTL: -time.Second}, "SessionTTL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ui.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	anon := e.client(t)
	signed := e.client(t)
	signed.signIn(t, "reviewer")
	admin := e.client(t)
	admin.signIn(t, "admin")
	c := e.submit(t, "devA", "frontier-x")
	for _, tc := range []struct {
		name string
		cl   *client
		path string
		code int
	}{
		{"login", anon, "/login", 200},
		{"transparency", anon, "/transparency", 200},
		{"stylesheet", anon, "/static/style.css", 200},
		{"redirect to sign-in", anon, "/cases", 303},
		{"not found", anon, "/nope", 404},
		{"case list", signed, "/cases", 200},
		{"case page", signed, "/cases/" + c.ID, 200},
		{"samples", signed, "/cases/" + c.ID + "/samples", 200},
		{"tokens", signed, "/tokens", 200},
		{"people", admin, "/people", 200},
		{"people refused", signed, "/people", 403},
		{"tokens redirect to sign-in", anon, "/tokens", 303},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.cl.get(t, tc.path)
			if p.code != tc.code {
				t.Fatalf("GET %s = %d, want %d:\n%s", tc.path, p.code, tc.code, p.body)
			}
			for k, want := range map[string]string{
				"Content-Security-Policy": wantCSP,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
			} {
				if got := p.header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if strings.Contains(strings.ToLower(p.body), "<script") || strings.Contains(p.body, "style=\"") {
				t.Errorf("page has a script or an inline style; the CSP would block it")
			}
		})
	}
	if got := signed.get(t, "/cases").header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("signed-in page Cache-Control = %q, want no-store", got)
	}
}

func sessionCookie(h http.Header) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "clearance_session" {
			return c
		}
	}
	return nil
}

func TestLoginLogout(t *testing.T) {
	e := newEnv(t)
	cl := e.client(t)
	p := cl.get(t, "/cases")
	if p.code != http.StatusSeeOther || p.header.Get("Location") != "/login?next=%2Fcases" {
		t.Fatalf("GET /cases signed out = %d to %q, want 303 to the sign-in page", p.code, p.header.Get("Location"))
	}

	form := cl.get(t, "/login")
	tok := csrf(t, form)
	bad := cl.do(t, http.MethodPost, "/login", url.Values{"csrf": {tok}, "token": {"not-a-token"}})
	if bad.code != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `id="token-error"`) || !strings.Contains(bad.body, "not valid") {
		t.Fatalf("bad token = %d, want 422 with a message next to the field:\n%s", bad.code, bad.body)
	}
	if sessionCookie(bad.header) != nil {
		t.Fatal("a refused sign-in set a session cookie")
	}

	tok = csrf(t, bad)
	ok := cl.do(t, http.MethodPost, "/login", url.Values{"csrf": {tok}, "token": {e.tokens["reviewer"]}, "next": {"//evil.example/x"}})
	if ok.code != http.StatusSeeOther || ok.header.Get("Location") != "/cases" {
		t.Fatalf("sign in = %d to %q, want 303 to /cases (an off-site next is ignored)", ok.code, ok.header.Get("Location"))
	}
	sc := sessionCookie(ok.header)
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.MaxAge <= 0 {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Strict, with an expiry", sc)
	}
	if strings.Contains(sc.Value, e.tokens["reviewer"]) {
		t.Fatal("session cookie holds the token in the clear")
	}
	home := cl.get(t, "/cases")
	if home.code != 200 || !strings.Contains(home.body, "Signed in as <strong>reviewer</strong>") {
		t.Fatalf("GET /cases signed in = %d:\n%s", home.code, home.body)
	}

	// Signing out needs the session's CSRF token.
	if r := cl.do(t, http.MethodPost, "/logout", url.Values{"csrf": {"wrong"}}); r.code != http.StatusForbidden {
		t.Fatalf("logout with a wrong token = %d, want 403", r.code)
	}
	if cl.get(t, "/cases").code != 200 {
		t.Fatal("a refused logout signed the user out")
	}
	out := cl.do(t, http.MethodPost, "/logout", url.Values{"csrf": {csrf(t, home)}})
	if out.code != http.StatusSeeOther || out.header.Get("Location") != "/login" {
		t.Fatalf("logout = %d to %q, want 303 to /login", out.code, out.header.Get("Location"))
	}
	if p := cl.get(t, "/cases"); p.code != http.StatusSeeOther {
		t.Fatalf("GET /cases after logout = %d, want 303", p.code)
	}
}

func TestLoginCSRF(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name       string
		withCookie bool
		field      string
	}{
		{"no cookie", false, "x"},
		{"no field", true, ""},
		{"mismatch", true, "forged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := e.client(t)
			if tc.withCookie {
				cl.get(t, "/login")
			}
			r := cl.do(t, http.MethodPost, "/login", url.Values{"csrf": {tc.field}, "token": {e.tokens["reviewer"]}})
			if r.code != http.StatusForbidden || sessionCookie(r.header) != nil {
				t.Fatalf("POST /login = %d (session cookie %v), want 403 and no session", r.code, sessionCookie(r.header) != nil)
			}
		})
	}
}

func TestCSRFRejected(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-x")
	if _, err := e.svc.Transition(context.Background(), e.actors["assessor"], c.ID, review.StateInAssessment, ""); err != nil {
		t.Fatal(err)
	}
	cl := e.client(t)
	cl.signIn(t, "reviewer")
	for _, tok := range []string{"", "forged"} {
		r := cl.do(t, http.MethodPost, "/cases/"+c.ID+"/findings", url.Values{"csrf": {tok}, "severity": {"high"}, "title": {"t"}})
		if r.code != http.StatusForbidden {
			t.Fatalf("POST finding with csrf %q = %d, want 403", tok, r.code)
		}
	}
	fs, err := e.svc.Findings(context.Background(), e.actors["reviewer"], c.ID, review.Page{})
	if err != nil || len(fs) != 0 {
		t.Fatalf("findings after forged posts = %d, %v; want none", len(fs), err)
	}
	// Another session's token is no good either.
	other := e.client(t)
	other.signIn(t, "reviewer")
	r := cl.do(t, http.MethodPost, "/cases/"+c.ID+"/findings", url.Values{"csrf": {csrf(t, other.get(t, "/cases"))}, "severity": {"high"}, "title": {"t"}})
	if r.code != http.StatusForbidden {
		t.Fatalf("POST with another session's token = %d, want 403", r.code)
	}
}

func TestRevokedTokenEndsSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u, err := e.svc.CreateUser(ctx, e.actors["admin"], review.UserInput{OrgID: e.actors["reviewer"].Org.ID, Name: "temp", Roles: []review.Role{review.RoleReviewer}})
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, err := e.svc.IssueToken(ctx, e.actors["admin"], u.ID, "t", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["temp"] = secret
	cl := e.client(t)
	cl.signIn(t, "temp")
	if p := cl.get(t, "/cases"); p.code != 200 {
		t.Fatalf("GET /cases = %d", p.code)
	}
	if err := e.svc.RevokeToken(ctx, e.actors["admin"], tok.ID); err != nil {
		t.Fatal(err)
	}
	if p := cl.get(t, "/cases"); p.code != http.StatusSeeOther {
		t.Fatalf("GET /cases after revocation = %d, want 303 to sign-in", p.code)
	}
}

func TestSessionExpiresAndTamper(t *testing.T) {
	e := newEnv(t)
	cl := e.client(t)
	cl.signIn(t, "reviewer")
	u, _ := url.Parse(e.http.URL)
	cookies := cl.c.Jar.Cookies(u)
	// A flipped byte fails authentication.
	for _, c := range cookies {
		if c.Name == "clearance_session" {
			b := []byte(c.Value)
			b[len(b)/2] ^= 1
			if b[len(b)/2] == '-' || b[len(b)/2] == '_' {
				b[len(b)/2] = 'A'
			}
			tampered := e.client(t)
			tampered.c.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: string(b)}})
			if p := tampered.get(t, "/cases"); p.code != http.StatusSeeOther {
				t.Fatalf("tampered cookie: GET /cases = %d, want 303", p.code)
			}
		}
	}
	e.now = e.now.Add(ui.DefaultSessionTTL + time.Minute)
	if p := cl.get(t, "/cases"); p.code != http.StatusSeeOther {
		t.Fatalf("expired session: GET /cases = %d, want 303", p.code)
	}
}

// TestTenantIsolation checks that a developer of another organisation gets
// the same 404 page for a case of organisation A as for a case that does
// not exist, on every case route, and never sees it in the list.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.submit(t, "devA", "secret-model-a")
	if _, err := e.svc.Transition(ctx, e.actors["assessor"], c.ID, review.StateInAssessment, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Transition(ctx, e.actors["assessor"], c.ID, review.StateUnderReview, ""); err != nil {
		t.Fatal(err)
	}
	f, err := e.svc.RecordFinding(ctx, e.actors["reviewer"], c.ID, review.FindingInput{Severity: review.SeverityHigh, Title: "leak"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.svc.Decide(ctx, e.actors["official"], c.ID, review.DecisionInput{
		Outcomes: []byte(`{"us-caisi":{"outcome":"hold"},"eu-gpai":{"outcome":"hold"}}`), Rationale: "r"})
	if err != nil {
		t.Fatal(err)
	}
	devB := e.client(t)
	devB.signIn(t, "devB")
	missing := devB.get(t, "/cases/case_00000000000000000000000000000000")
	if missing.code != http.StatusNotFound {
		t.Fatalf("missing case = %d, want 404", missing.code)
	}
	for _, path := range []string{"/cases/" + c.ID, "/cases/" + c.ID + "/samples", "/decisions/" + d.ID,
		"/decisions/" + d.ID + "/bundle", "/decisions/" + d.ID + "/receipt"} {
		p := devB.get(t, path)
		if p.code != http.StatusNotFound || p.body != missing.body {
			t.Errorf("GET %s as devB = %d, want the same 404 page as a missing case:\n%s", path, p.code, p.body)
		}
		if strings.Contains(p.body, "secret-model-a") {
			t.Errorf("GET %s as devB shows the model name", path)
		}
	}
	posts := map[string]url.Values{
		"/cases/" + c.ID + "/appeal":                              {"grounds": {"x"}},
		"/cases/" + c.ID + "/transition":                          {"to": {"withdrawn"}},
		"/cases/" + c.ID + "/findings/" + f.ID + "/responses":     {"body": {"x"}},
		"/cases/" + c.ID + "/samples/reveal":                      {"assessment": {"asm_x"}, "seq": {"0"}},
		"/cases/case_00000000000000000000000000000000/transition": {"to": {"withdrawn"}},
	}
	for path, form := range posts {
		p := devB.post(t, "/cases", path, form)
		if p.code != http.StatusNotFound {
			t.Errorf("POST %s as devB = %d, want 404:\n%s", path, p.code, p.body)
		}
	}
	if list := devB.get(t, "/cases"); strings.Contains(list.body, c.ID) || strings.Contains(list.body, "secret-model-a") {
		t.Error("devB's case list shows organisation A's case")
	}
	devA := e.client(t)
	devA.signIn(t, "devA")
	if p := devA.get(t, "/cases/"+c.ID); p.code != 200 || !strings.Contains(p.body, "secret-model-a") {
		t.Fatalf("devA's own case = %d", p.code)
	}
	// A response posted under the wrong case is refused as not found.
	other := e.submit(t, "devA", "other-model")
	if p := devA.post(t, "/cases/"+other.ID, "/cases/"+other.ID+"/findings/"+f.ID+"/responses", url.Values{"body": {"x"}}); p.code != http.StatusNotFound {
		t.Errorf("response to another case's finding = %d, want 404", p.code)
	}
}

func TestForbiddenActionPage(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-x")
	aud := e.client(t)
	aud.signIn(t, "auditor")
	p := aud.post(t, "/cases/"+c.ID, "/cases/"+c.ID+"/assessments", url.Values{})
	if p.code != http.StatusForbidden || !strings.Contains(p.body, "Not allowed") {
		t.Fatalf("auditor scheduling an assessment = %d, want the 403 page:\n%s", p.code, p.body)
	}
	if strings.Contains(aud.get(t, "/cases/"+c.ID).body, `action="/cases/`+c.ID+`/assessments"`) {
		t.Error("auditor is shown the schedule form")
	}
}

// TestFormValidation posts bad input to every form and checks the 422
// page has the message next to the field and that nothing changed (the
// audit trail did not grow).
func TestFormValidation(t *testing.T) {
	textFields := map[string]bool{"title": true, "description": true, "deadline": true, "suites": true,
		"limit": true, "seed": true, "body": true, "rationale": true, "note": true}
	e := newEnv(t)
	ctx := context.Background()
	c := e.submit(t, "devA", "frontier-x")
	for _, to := range []review.State{review.StateInAssessment, review.StateUnderReview} {
		if _, err := e.svc.Transition(ctx, e.actors["assessor"], c.ID, to, ""); err != nil {
			t.Fatal(err)
		}
	}
	f, err := e.svc.RecordFinding(ctx, e.actors["reviewer"], c.ID, review.FindingInput{Severity: review.SeverityHigh, Title: "leak"})
	if err != nil {
		t.Fatal(err)
	}
	casePath := "/cases/" + c.ID
	clients := map[string]*client{}
	for _, who := range []string{"devA", "assessor", "reviewer", "official"} {
		clients[who] = e.client(t)
		clients[who].signIn(t, who)
	}
	for _, tc := range []struct {
		name    string
		who     string
		path    string
		form    url.Values
		errorID string // the id of the message next to the field
		text    string
	}{
		{"finding without title", "reviewer", "/findings", url.Values{"severity": {"high"}, "title": {" "}}, "finding-title-error", "title"},
		{"finding bad severity", "reviewer", "/findings", url.Values{"severity": {"urgent"}, "title": {"x"}}, "finding-severity-error", "severity"},
		{"finding bad deadline", "reviewer", "/findings", url.Values{"severity": {"low"}, "title": {"x"}, "deadline": {"next week"}}, "finding-deadline-error", "YYYY-MM-DD"},
		{"finding past deadline", "reviewer", "/findings", url.Values{"severity": {"low"}, "title": {"x"}, "deadline": {"2020-01-01"}}, "finding-deadline-error", "future"},
		{"finding title too long (service check)", "reviewer", "/findings", url.Values{"severity": {"low"}, "title": {strings.Repeat("x", 300)}}, "finding-title-error", "exceeds"},
		{"schedule bad suite", "assessor", "/assessments", url.Values{"suites": {"Misuse!"}}, "schedule-suites-error", "not a suite name"},
		{"schedule unknown suite (service check)", "assessor", "/assessments", url.Values{"suites": {"no-such-suite"}}, "schedule-suites-error", "unknown suite"},
		{"schedule bad limit", "assessor", "/assessments", url.Values{"limit": {"lots"}}, "schedule-limit-error", "whole number"},
		{"schedule negative seed", "assessor", "/assessments", url.Values{"seed": {"-4"}}, "schedule-seed-error", "0 or more"},
		{"respond empty", "devA", "/findings/" + f.ID + "/responses", url.Values{"body": {""}}, "respond-" + f.ID + "-error", "Write a response"},
		{"decide without outcome", "official", "/decision", url.Values{"outcome.us-caisi": {"cleared"}, "rationale": {"ok"}}, "outcome-eu-gpai-error", "Choose an outcome"},
		{"decide bogus outcome", "official", "/decision", url.Values{"outcome.us-caisi": {"approved"}, "outcome.eu-gpai": {"cleared"}, "rationale": {"ok"}}, "outcome-us-caisi-error", "Choose an outcome"},
		{"decide conditions missing", "official", "/decision", url.Values{"outcome.us-caisi": {"cleared_with_conditions"}, "outcome.eu-gpai": {"cleared"}, "rationale": {"ok"}}, "conditions-us-caisi-error", "at least one condition"},
		{"decide without rationale", "official", "/decision", url.Values{"outcome.us-caisi": {"cleared"}, "outcome.eu-gpai": {"cleared"}}, "decide-rationale-error", "rationale"},
		{"status accept risk without note", "official", "/findings/" + f.ID + "/status", url.Values{"status": {"accepted-risk"}}, "status-note-" + f.ID + "-error", "note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := e.svc.CaseAudit(ctx, e.actors["official"], c.ID, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			p := clients[tc.who].post(t, casePath, casePath+tc.path, tc.form)
			if p.code != http.StatusUnprocessableEntity {
				t.Fatalf("POST %s = %d, want 422:\n%s", tc.path, p.code, p.body)
			}
			i := strings.Index(p.body, `id="`+tc.errorID+`"`)
			if i < 0 || !strings.Contains(p.body[i:min(len(p.body), i+400)], tc.text) {
				t.Fatalf("no message %q with id %s in the page:\n%s", tc.text, tc.errorID, p.body)
			}
			// The entered values are kept.
			for k, vs := range tc.form {
				if v := vs[0]; textFields[k] && len(v) > 3 && len(v) < 100 && !strings.Contains(p.body, v) {
					t.Errorf("entered %s=%q not shown again", k, v)
				}
			}
			after, err := e.svc.CaseAudit(ctx, e.actors["official"], c.ID, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before) {
				t.Fatalf("audit trail grew from %d to %d entries: a rejected form changed something", len(before), len(after))
			}
		})
	}
	// A transition the state does not allow is a 409 with the reason.
	p := clients["devA"].post(t, casePath, casePath+"/transition", url.Values{"to": {"in_assessment"}})
	if p.code != http.StatusConflict || !strings.Contains(p.body, "requires role") {
		t.Fatalf("bad transition = %d, want 409 with the reason:\n%s", p.code, p.body)
	}
	// The case list filter rejects an unknown state next to the field.
	if p := clients["official"].get(t, "/cases?state=limbo"); p.code != 422 || !strings.Contains(p.body, `id="state-error"`) {
		t.Fatalf("bad state filter = %d, want 422 with a message", p.code)
	}
}

func TestCaseListClocksAndSearch(t *testing.T) {
	e := newEnv(t)
	e.submit(t, "devA", "alpha-model")
	e.now = e.now.Add(10 * 24 * time.Hour)
	e.submit(t, "devA", "beta-model")
	cl := e.client(t)
	cl.signIn(t, "reviewer")
	p := cl.get(t, "/cases")
	if !strings.Contains(p.body, "80 days left") || !strings.Contains(p.body, "90 days left") {
		t.Fatalf("case list lacks the clocks:\n%s", p.body)
	}
	e.now = e.now.Add(85 * 24 * time.Hour)
	cl.signIn(t, "reviewer") // the session expired meanwhile
	p = cl.get(t, "/cases")
	if !strings.Contains(p.body, `class="clock overdue"`) || !strings.Contains(p.body, "OVERDUE since 2026-05-31") {
		t.Fatalf("an expired clock is not marked overdue in text and colour:\n%s", p.body)
	}
	if i, j := strings.Index(p.body, "alpha-model"), strings.Index(p.body, "beta-model"); i < 0 || j < 0 || i > j {
		t.Errorf("overdue case is not listed first")
	}
	p = cl.get(t, "/cases?q=BETA")
	if strings.Contains(p.body, "alpha-model") || !strings.Contains(p.body, "beta-model") {
		t.Errorf("search for BETA:\n%s", p.body)
	}
	p = cl.get(t, "/cases?state=decided")
	if !strings.Contains(p.body, "No cases match") {
		t.Errorf("state filter decided shows cases")
	}
}

func TestTransparencyPublic(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-x")
	d := decideWith(t, e, c, `{"us-caisi":{"outcome":"cleared"},"eu-gpai":{"outcome":"refused"}}`, "confidential rationale")
	// Decide logs the decision once it is committed, and then anchors
	// the audit trail's head: two log entries.
	anon := e.client(t)
	p := anon.get(t, "/transparency")
	for _, want := range []string{"frontier-x", digest, d.ID + ".json", "clearance.test/decisions", "<strong>2</strong> entries", "refused"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("transparency page lacks %q", want)
		}
	}
	if strings.Contains(p.body, "confidential rationale") {
		t.Error("transparency page shows the rationale")
	}
	dl := anon.get(t, "/transparency/decisions/"+d.ID+".json")
	if dl.code != 200 || !strings.Contains(dl.body, `"log_index": 0`) || strings.Contains(dl.body, "confidential") {
		t.Fatalf("public decision download = %d:\n%s", dl.code, dl.body)
	}
	if p := anon.get(t, "/transparency/decisions/"+c.ID+".json"); p.code != 404 {
		t.Errorf("a case id as a decision = %d, want 404", p.code)
	}
	if p := anon.get(t, "/transparency/log.pub"); p.code != 200 || !strings.HasPrefix(p.body, "clearance.test/decisions+") {
		t.Errorf("log.pub = %d %q", p.code, p.body)
	}
	// The decision page (signed in) has the bundle, receipt and commands.
	off := e.client(t)
	off.signIn(t, "official")
	dp := off.get(t, "/decisions/"+d.ID)
	for _, want := range []string{"index <strong>0</strong>", "clearance verify --bundle " + d.ID + ".bundle --key decider.pub --receipt " + d.ID + ".bundle.receipt.json --log-key log.pub",
		"cosign verify-blob-attestation", "--digest " + strings.TrimPrefix(digest, "sha256:")} {
		if !strings.Contains(dp.body, want) {
			t.Errorf("decision page lacks %q", want)
		}
	}
	b := off.get(t, "/decisions/"+d.ID+"/bundle")
	if b.code != 200 || !bytes.Contains([]byte(b.body), []byte(d.ID)) || !strings.Contains(b.header.Get("Content-Disposition"), d.ID+".bundle") {
		t.Errorf("bundle download = %d %q", b.code, b.header.Get("Content-Disposition"))
	}
	if r := off.get(t, "/decisions/"+d.ID+"/receipt"); r.code != 200 || !strings.Contains(r.body, "inclusionProof") {
		t.Errorf("receipt download = %d", r.code)
	}
}

// TestAssignPeople checks that an official assigns staff from the case
// page, that the case list shows them by name, and that a developer has
// no such form and cannot post it.
func TestAssignPeople(t *testing.T) {
	e := newEnv(t)
	c := e.submitOnly(t, "devA", "gamma-model")
	off := e.client(t)
	off.signIn(t, "official")
	p := off.get(t, "/cases/"+c.ID)
	if !strings.Contains(p.body, `action="/cases/`+c.ID+`/assignees"`) || !strings.Contains(p.body, "nobody yet") {
		t.Fatalf("official's case page lacks the assignment form:\n%s", p.body)
	}
	reviewer, assessor := e.actors["reviewer"].User.ID, e.actors["assessor"].User.ID
	r := off.do(t, http.MethodPost, "/cases/"+c.ID+"/assignees", url.Values{"csrf": {csrf(t, p)}, "user": {reviewer, assessor}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("assign = %d:\n%s", r.code, r.body)
	}
	p = off.get(t, "/cases/"+c.ID)
	if !strings.Contains(p.body, "reviewer (Agency), assessor (Institute)") {
		t.Errorf("case page does not name the assigned people:\n%s", p.body)
	}
	p = off.get(t, "/cases")
	if !strings.Contains(p.body, "reviewer (Agency), assessor (Institute)") {
		t.Errorf("case list does not name the assigned people")
	}
	// A developer is refused as an assignee, with the message by the field.
	head := func() int64 {
		h, err := e.store.AuditHead(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return h.Seq
	}
	before := head()
	r = off.do(t, http.MethodPost, "/cases/"+c.ID+"/assignees", url.Values{"csrf": {csrf(t, p)}, "user": {e.actors["devA"].User.ID}})
	if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "assessor or agency") {
		t.Errorf("assigning a developer = %d:\n%s", r.code, r.body)
	}
	if head() != before {
		t.Error("a refused assignment changed the audit trail")
	}
	dev := e.client(t)
	dev.signIn(t, "devA")
	p = dev.get(t, "/cases/"+c.ID)
	if strings.Contains(p.body, "/assignees") {
		t.Error("a developer is offered the assignment form")
	}
	if r := dev.do(t, http.MethodPost, "/cases/"+c.ID+"/assignees", url.Values{"csrf": {csrf(t, p)}, "user": {reviewer}}); r.code != http.StatusForbidden {
		t.Errorf("developer posts an assignment = %d", r.code)
	}
}

// TestAssignedCasesOnly checks that an assessor's and a reviewer's case
// list shows only the cases they are assigned to, and that another
// case's page is not found for them until the official assigns them.
func TestAssignedCasesOnly(t *testing.T) {
	e := newEnv(t)
	mine := e.submit(t, "devA", "assigned-model")
	other := e.submitOnly(t, "devA", "unassigned-model")
	for _, who := range []string{"assessor", "reviewer"} {
		cl := e.client(t)
		cl.signIn(t, who)
		list := cl.get(t, "/cases")
		if !strings.Contains(list.body, mine.ID) || strings.Contains(list.body, other.ID) || strings.Contains(list.body, "unassigned-model") {
			t.Errorf("%s's case list does not show exactly the assigned case:\n%s", who, list.body)
		}
		if p := cl.get(t, "/cases/"+other.ID); p.code != http.StatusNotFound || strings.Contains(p.body, "unassigned-model") {
			t.Errorf("%s opens an unassigned case: %d", who, p.code)
		}
	}
	off := e.client(t)
	off.signIn(t, "official")
	if list := off.get(t, "/cases"); !strings.Contains(list.body, mine.ID) || !strings.Contains(list.body, other.ID) {
		t.Error("the official's case list lacks a case")
	}
	if _, err := e.svc.AssignCase(context.Background(), e.actors["official"], other.ID, []string{e.actors["assessor"].User.ID}); err != nil {
		t.Fatal(err)
	}
	as := e.client(t)
	as.signIn(t, "assessor")
	if p := as.get(t, "/cases/"+other.ID); p.code != http.StatusOK || !strings.Contains(p.body, "unassigned-model") {
		t.Errorf("assessor's newly assigned case = %d", p.code)
	}
}
