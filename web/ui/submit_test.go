package ui_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

const goodDossier = `model:
  name: orion
  training_compute_flop: 3.0e+26
  open_weights: false
developer:
  name: Lab A
market:
  us_release: true
`

// postMultipart submits the submission form from /submit as multipart,
// with the dossier as an uploaded file when file is not "".
func (c *client) postMultipart(tb testing.TB, fields url.Values, file string) page {
	tb.Helper()
	p := c.get(tb, "/submit")
	if p.code != http.StatusOK {
		tb.Fatalf("GET /submit as %s = %d", c.who, p.code)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf(tb, p))
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if file != "" {
		fw, err := mw.CreateFormFile("dossier_file", "dossier.yaml")
		if err != nil {
			tb.Fatal(err)
		}
		_, _ = fw.Write([]byte(file))
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, c.e.http.URL+"/submit", &body)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return page{code: resp.StatusCode, header: resp.Header, body: b.String()}
}

func submission(name string) url.Values {
	return url.Values{"model.name": {name}, "model.digest": {digest}, "target.url": {"https://api.lab-a.example/v1"},
		"target.credentials": {"sk-very-secret"}, "profile": {"us-eo-14409", "eu-ai-act-gpai-sr"}}
}

// TestSubmitForm opens a case through the form with an uploaded YAML
// dossier: the case is the developer's, its dossier is stored as JSON,
// the credentials are sealed (never in a page) and a second post of the
// same form (a double click) opens no second case.
func TestSubmitForm(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	c.signIn(t, "devA")
	r := c.postMultipart(t, submission("orion-2"), goodDossier)
	if r.code != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/cases/case_") {
		t.Fatalf("submit = %d %s, want 303 to the case:\n%s", r.code, r.header.Get("Location"), r.body)
	}
	id := strings.TrimPrefix(r.header.Get("Location"), "/cases/")
	got, err := e.svc.GetCase(context.Background(), e.actors["devA"], id)
	if err != nil {
		t.Fatal(err)
	}
	if got.ModelName != "orion-2" || !strings.Contains(string(got.Dossier), `"training_compute_flop":3e+26`) || len(got.Profiles) != 2 {
		t.Errorf("case = %s %s %v", got.ModelName, got.Dossier, got.Profiles)
	}
	cp := c.get(t, "/cases/"+id)
	if cp.code != http.StatusOK || strings.Contains(cp.body, "sk-very-secret") {
		t.Errorf("case page %d shows the credentials or fails", cp.code)
	}
	cases, err := e.svc.ListCases(context.Background(), e.actors["devA"], review.CaseFilter{})
	if err != nil || len(cases) != 1 {
		t.Fatalf("devA has %d cases (%v), want 1", len(cases), err)
	}
	// Another organisation's developer sees nothing of it.
	o := e.client(t)
	o.signIn(t, "devB")
	if p := o.get(t, "/cases/"+id); p.code != http.StatusNotFound {
		t.Errorf("devB GET the case = %d, want 404", p.code)
	}
	if p := o.get(t, "/cases"); strings.Contains(p.body, "orion-2") {
		t.Error("devB's case list shows devA's case")
	}
}

// TestSubmitFormRejects re-shows the form with the problem next to its
// field, status 422, and opens no case, for each kind of bad input.
func TestSubmitFormRejects(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	c.signIn(t, "devA")
	tests := []struct {
		name   string
		change func(url.Values)
		file   string
		want   []string
	}{
		{"dossier type", nil, "model:\n  training_compute_flop: lots\n", []string{`id="submit-dossier-error"`, "line 2", "model.training_compute_flop"}},
		{"dossier not yaml", nil, "model: [unclosed\n", []string{`id="submit-dossier-error"`}},
		{"dossier missing", nil, "", []string{`id="submit-dossier-error"`, "missing"}},
		{"digest", func(v url.Values) { v.Set("model.digest", "sha256:abc") }, goodDossier, []string{`id="submit-model-digest-error"`, "64 lowercase hex"}},
		{"url", func(v url.Values) { v.Set("target.url", "ftp://x") }, goodDossier, []string{`id="submit-target-url-error"`, "scheme"}},
		{"no profile", func(v url.Values) { v.Del("profile") }, goodDossier, []string{`id="submit-profiles-error"`}},
		{"unknown profile", func(v url.Values) { v["profile"] = []string{"xx-nope"} }, goodDossier, []string{`id="submit-profiles-error"`, "xx-nope"}},
		{"name", func(v url.Values) { v.Set("model.name", "") }, goodDossier, []string{`id="submit-model-name-error"`, "empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := submission("bad")
			if tt.change != nil {
				tt.change(v)
			}
			r := c.postMultipart(t, v, tt.file)
			if r.code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", r.code, r.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("form does not contain %q:\n%s", w, r.body)
				}
			}
			if strings.Contains(r.body, "sk-very-secret") {
				t.Error("the re-shown form echoes the credentials")
			}
		})
	}
	cases, err := e.svc.ListCases(context.Background(), e.actors["devA"], review.CaseFilter{})
	if err != nil || len(cases) != 0 {
		t.Fatalf("rejected forms opened %d cases (%v)", len(cases), err)
	}
}

// TestSubmitPastedDossier accepts the dossier pasted as JSON text.
func TestSubmitPastedDossier(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	c.signIn(t, "devA")
	v := submission("orion-json")
	v.Set("dossier", `{"model":{"name":"orion","parameters":7e10}}`)
	if r := c.postMultipart(t, v, ""); r.code != http.StatusSeeOther {
		t.Fatalf("submit = %d:\n%s", r.code, r.body)
	}
}

// TestAdminPagesDenied: only admins reach the administration pages and
// actions; only developers the submission form; only officials, admins
// and auditors the portfolio. The service refuses even when a form is
// posted directly.
func TestAdminPagesDenied(t *testing.T) {
	e := newEnv(t)
	dev := e.client(t)
	dev.signIn(t, "devA")
	for _, path := range []string{"/orgs", "/people", "/portfolio", "/tokens?user=" + e.actors["devB"].User.ID} {
		if p := dev.get(t, path); p.code != http.StatusForbidden {
			t.Errorf("developer GET %s = %d, want 403", path, p.code)
		}
	}
	for _, path := range []string{"/orgs", "/users"} {
		r := dev.post(t, "/submit", path, url.Values{"name": {"Evil"}, "kind": {"agency"}, "org": {e.actors["devA"].Org.ID}, "role": {"admin"}})
		if r.code != http.StatusForbidden {
			t.Errorf("developer POST %s = %d, want 403", path, r.code)
		}
	}
	r := dev.post(t, "/submit", "/tokens", url.Values{"name": {"x"}, "user": {e.actors["devB"].User.ID}})
	if r.code != http.StatusForbidden {
		t.Errorf("developer mints a token for devB = %d, want 403", r.code)
	}
	off := e.client(t)
	off.signIn(t, "official")
	if p := off.get(t, "/submit"); p.code != http.StatusForbidden {
		t.Errorf("official GET /submit = %d, want 403", p.code)
	}
	if p := off.get(t, "/orgs"); p.code != http.StatusForbidden {
		t.Errorf("official GET /orgs = %d, want 403", p.code)
	}
}

var secretRE = regexp.MustCompile(`<pre class="cmd" id="secret">([^<]+)</pre>`)

// TestAdminCreatesOrgUserToken: an admin creates an organisation, a user
// in it and their token in the UI; the token (shown once) signs the new
// user in, and outlives the admin's session.
func TestAdminCreatesOrgUserToken(t *testing.T) {
	e := newEnv(t)
	adm := e.client(t)
	adm.signIn(t, "admin")
	if r := adm.post(t, "/orgs", "/orgs", url.Values{"name": {""}, "kind": {"developer"}}); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "org-name-error") {
		t.Fatalf("empty org name = %d, want 422 with the message on the field:\n%s", r.code, r.body)
	}
	if r := adm.post(t, "/orgs", "/orgs", url.Values{"name": {"Lab C"}, "kind": {"developer"}}); r.code != http.StatusSeeOther {
		t.Fatalf("create org = %d:\n%s", r.code, r.body)
	}
	p := adm.get(t, "/orgs")
	m := regexp.MustCompile(`<option value="(org_[^"]+)">Lab C \(developer\)`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("new org not offered:\n%s", p.body)
	}
	r := adm.post(t, "/orgs", "/users", url.Values{"org": {m[1]}, "name": {"Carol"}, "role": {"official"}})
	if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "cannot be held") {
		t.Fatalf("official in a developer org = %d, want 422 naming the role problem:\n%s", r.code, r.body)
	}
	r = adm.post(t, "/orgs", "/users", url.Values{"org": {m[1]}, "name": {"Carol"}, "email": {"carol@lab-c.example"}, "role": {"developer"}})
	if r.code != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/tokens?user=usr_") {
		t.Fatalf("create user = %d %s:\n%s", r.code, r.header.Get("Location"), r.body)
	}
	tokPage := r.header.Get("Location")
	uid := strings.TrimPrefix(tokPage, "/tokens?user=")
	r = adm.post(t, tokPage, "/tokens", url.Values{"name": {"carol laptop"}, "user": {uid}})
	if r.code != http.StatusCreated {
		t.Fatalf("mint = %d:\n%s", r.code, r.body)
	}
	sm := secretRE.FindStringSubmatch(r.body)
	if sm == nil {
		t.Fatalf("no secret shown:\n%s", r.body)
	}
	// The admin signs out: the minted token is not the session's child.
	lp := adm.get(t, "/cases")
	adm.do(t, http.MethodPost, "/logout", url.Values{"csrf": {csrf(t, lp)}})
	a, err := e.svc.Authenticate(context.Background(), sm[1])
	if err != nil {
		t.Fatalf("minted token after the admin signed out: %v", err)
	}
	if a.User.Name != "Carol" || a.Org.Name != "Lab C" {
		t.Errorf("token is %s of %s", a.User.Name, a.Org.Name)
	}
	e.tokens["carol"] = sm[1]
	carol := e.client(t)
	carol.signIn(t, "carol")
	if p := carol.get(t, "/submit"); p.code != http.StatusOK {
		t.Errorf("Carol GET /submit = %d", p.code)
	}
}

// TestExtendClock: an official extends a case's clock with a reason; a
// bad length is named on the form; a developer may not.
func TestExtendClock(t *testing.T) {
	e := newEnv(t)
	cs := e.submit(t, "devA", "frontier-x")
	off := e.client(t)
	off.signIn(t, "official")
	path := "/cases/" + cs.ID + "/extend"
	if r := off.post(t, path, path, url.Values{"units": {"0"}, "reason": {"x"}}); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "extend-units-error") {
		t.Fatalf("units 0 = %d:\n%s", r.code, r.body)
	}
	if r := off.post(t, path, path, url.Values{"units": {"10"}, "reason": {"developer asked for time"}}); r.code != http.StatusSeeOther {
		t.Fatalf("extend = %d:\n%s", r.code, r.body)
	}
	got, err := e.svc.GetCase(context.Background(), e.actors["official"], cs.ID)
	if err != nil || got.Clock == nil || len(got.Clock.Extensions) != 1 || got.Clock.Extensions[0].Length != 10 {
		t.Fatalf("clock after extension: %+v %v", got.Clock, err)
	}
	dev := e.client(t)
	dev.signIn(t, "devA")
	if p := dev.get(t, path); p.code != http.StatusForbidden {
		t.Errorf("developer GET extend = %d, want 403", p.code)
	}
}

// TestPortfolio shows an official the models × regimes matrix with each
// case's current evaluation, and the trend of rates after an assessment.
func TestPortfolio(t *testing.T) {
	e := newEnv(t)
	e.submit(t, "devA", "frontier-x")
	e.submit(t, "devB", "atlas")
	off := e.client(t)
	off.signIn(t, "official")
	p := off.get(t, "/portfolio")
	if p.code != http.StatusOK {
		t.Fatalf("portfolio = %d:\n%s", p.code, p.body)
	}
	for _, w := range []string{"portfolio-matrix", "frontier-x", "atlas", "eu-gpai", "us-caisi", "cleared with conditions", "evaluation"} {
		if !strings.Contains(p.body, w) {
			t.Errorf("portfolio lacks %q", w)
		}
	}
	aud := e.client(t)
	aud.signIn(t, "auditor")
	if p := aud.get(t, "/portfolio"); p.code != http.StatusOK {
		t.Errorf("auditor portfolio = %d", p.code)
	}
}

// Only the submission form takes a large multipart body: a 1 MiB
// multipart post to any other form is refused unread (the small form
// limit), and nothing is created.
func TestMultipartLimitOutsideSubmit(t *testing.T) {
	e := newEnv(t)
	adm := e.client(t)
	adm.signIn(t, "admin")
	form := adm.get(t, "/orgs")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf(t, form))
	_ = mw.WriteField("name", "Padded Org")
	_ = mw.WriteField("kind", "developer")
	fw, _ := mw.CreateFormFile("pad", "pad.bin")
	_, _ = fw.Write(bytes.Repeat([]byte("x"), 1<<20))
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, e.http.URL+"/orgs", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := adm.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("1 MiB multipart POST /orgs = %d, want 400", resp.StatusCode)
	}
	if p := adm.get(t, "/orgs"); strings.Contains(p.body, "Padded Org") {
		t.Error("the oversized form created an organisation")
	}
}
