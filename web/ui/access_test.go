package ui_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/web/ui"
)

// TestLoginNextStaysOnSite reproduces issue 10's open redirect:
// /login?next=/%09/evil.example/ answered "303 Location: /\t/evil.example/",
// which a browser (dropping the tab) follows to evil.example.
func TestLoginNextStaysOnSite(t *testing.T) {
	e := newEnv(t)
	base, _ := url.Parse(e.http.URL)
	onSite := func(t *testing.T, loc string) {
		t.Helper()
		// What a browser does first (WHATWG URL): drop tabs and newlines,
		// read backslashes as slashes.
		b := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
		u, err := base.Parse(b)
		if err != nil || u.Host != base.Host || !strings.HasPrefix(loc, "/") || strings.HasPrefix(b, "//") {
			t.Fatalf("Location %q leaves the site (as a browser reads it: %q)", loc, b)
		}
	}
	for _, next := range []string{"/%09/evil.example/", "/%0a/evil.example/", "%09//evil.example", "/%5Cevil.example", "%5C%5Cevil.example", "https:evil.example"} {
		t.Run(next, func(t *testing.T) {
			cl := e.client(t)
			form := cl.get(t, "/login?next="+next)
			m := nextRE.FindStringSubmatch(form.body)
			if m == nil {
				t.Fatalf("sign-in form has no next field:\n%s", form.body)
			}
			r := cl.do(t, http.MethodPost, "/login", url.Values{"csrf": {csrf(t, form)}, "token": {e.tokens["reviewer"]}, "next": {htmlUnescape(m[1])}})
			if r.code != http.StatusSeeOther {
				t.Fatalf("sign in = %d", r.code)
			}
			onSite(t, r.header.Get("Location"))
			// The raw value posted directly, and GET /login once signed in.
			raw, _ := url.QueryUnescape(next)
			cl2 := e.client(t)
			form = cl2.get(t, "/login")
			r = cl2.do(t, http.MethodPost, "/login", url.Values{"csrf": {csrf(t, form)}, "token": {e.tokens["reviewer"]}, "next": {raw}})
			onSite(t, r.header.Get("Location"))
			again := cl2.get(t, "/login?next="+next)
			if again.code != http.StatusSeeOther {
				t.Fatalf("GET /login signed in = %d, want 303", again.code)
			}
			onSite(t, again.header.Get("Location"))
		})
	}
}

// TestSignOutRevokesCopiedCookie: signing out revokes the session on the
// server, so a copy of the cookie taken before stops working.
func TestSignOutRevokesCopiedCookie(t *testing.T) {
	e := newEnv(t)
	cl := e.client(t)
	cl.signIn(t, "reviewer")
	u, _ := url.Parse(e.http.URL)
	thief := e.client(t)
	thief.c.Jar.SetCookies(u, cl.c.Jar.Cookies(u))
	if p := thief.get(t, "/cases"); p.code != 200 {
		t.Fatalf("copied cookie before sign-out: GET /cases = %d, want 200", p.code)
	}
	home := cl.get(t, "/cases")
	if out := cl.do(t, http.MethodPost, "/logout", url.Values{"csrf": {csrf(t, home)}}); out.code != http.StatusSeeOther {
		t.Fatalf("logout = %d", out.code)
	}
	if p := thief.get(t, "/cases"); p.code != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
		t.Fatalf("copied cookie after sign-out: GET /cases = %d to %q, want 303 to sign-in", p.code, p.header.Get("Location"))
	}
	// The API token signed in with still works: only the session ended.
	if _, err := e.svc.Authenticate(context.Background(), e.tokens["reviewer"]); err != nil {
		t.Fatalf("API token after sign-out: %v", err)
	}
	// The session's token was a child of it, bounded by it, and is revoked.
	ts, err := e.svc.ListTokens(context.Background(), e.actors["reviewer"], e.actors["reviewer"].User.ID, review.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var sessions int
	for _, tk := range ts {
		if tk.Name == review.SessionTokenName {
			sessions++
			if tk.ParentID != e.actors["reviewer"].Token.ID || tk.RevokedAt.IsZero() || tk.ExpiresAt.IsZero() {
				t.Errorf("session token = %+v, want a revoked, expiring child of the reviewer's token", tk)
			}
		}
	}
	if sessions != 1 {
		t.Fatalf("%d session tokens, want 1", sessions)
	}
}

// TestSessionBoundedByToken: a session made from a token expiring in
// 20 s ends when the token does, whatever the session's lifetime.
func TestSessionBoundedByToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, secret, err := e.svc.IssueToken(ctx, e.actors["reviewer"], e.actors["reviewer"].User.ID, "short", e.now.Add(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["short"] = secret
	cl := e.client(t)
	cl.signIn(t, "short")
	e.now = e.now.Add(21 * time.Second)
	if p := cl.get(t, "/cases"); p.code != http.StatusSeeOther {
		t.Fatalf("session after its token expired: GET /cases = %d, want 303", p.code)
	}
}

func TestSecureCookies(t *testing.T) {
	e := newEnv(t)
	h, err := ui.New(ui.Config{Service: e.svc, SessionKey: make([]byte, ui.SessionKeySize), Secure: true, Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	rec := func(req *http.Request) *http.Response {
		w := newRecorder()
		h.ServeHTTP(w, req)
		return w.Result()
	}
	resp := rec(mustRequest(t, http.MethodGet, "/login", ""))
	var login *http.Cookie
	for _, c := range resp.Cookies() {
		login = c
	}
	if login == nil || login.Name != "__Host-clearance_login" || !login.Secure || login.Path != "/" || login.Domain != "" {
		t.Fatalf("sign-in cookie = %+v, want __Host-clearance_login, Secure, Path=/, no Domain", login)
	}
	m := csrfRE.FindStringSubmatch(readAll(t, resp))
	req := mustRequest(t, http.MethodPost, "/login", url.Values{"csrf": {m[1]}, "token": {e.tokens["reviewer"]}}.Encode())
	req.AddCookie(login)
	resp = rec(req)
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "session") {
			sess = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || sess == nil || sess.Name != "__Host-clearance_session" || !sess.Secure || !sess.HttpOnly {
		t.Fatalf("sign in = %d, session cookie %+v; want __Host-clearance_session, Secure, HttpOnly", resp.StatusCode, sess)
	}
}

func TestTokensPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dev := e.actors["devA"]
	spare, spareSecret, err := e.svc.IssueToken(ctx, dev, dev.User.ID, "spare laptop", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	cl := e.client(t)
	cl.signIn(t, "devA")
	p := cl.get(t, "/tokens")
	if p.code != 200 || !strings.Contains(p.body, "spare laptop") || !strings.Contains(p.body, "web session <strong>(this session)</strong>") {
		t.Fatalf("GET /tokens = %d, want the tokens with this session marked:\n%s", p.code, p.body)
	}
	if strings.Contains(p.body, spareSecret) || strings.Contains(p.body, e.tokens["devA"]) {
		t.Fatal("tokens page shows a secret")
	}
	// Forged CSRF changes nothing.
	if r := cl.do(t, http.MethodPost, "/tokens/"+spare.ID+"/revoke", url.Values{"csrf": {"forged"}}); r.code != http.StatusForbidden {
		t.Fatalf("revoke with forged csrf = %d, want 403", r.code)
	}
	if _, err := e.svc.Authenticate(ctx, spareSecret); err != nil {
		t.Fatalf("forged revoke revoked the token: %v", err)
	}
	r := cl.post(t, "/tokens", "/tokens/"+spare.ID+"/revoke", url.Values{})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/tokens" {
		t.Fatalf("revoke = %d to %q, want 303 to /tokens", r.code, r.header.Get("Location"))
	}
	if _, err := e.svc.Authenticate(ctx, spareSecret); err == nil {
		t.Fatal("revoked token still authenticates")
	}
	if p := cl.get(t, "/tokens"); !strings.Contains(p.body, "revoked") {
		t.Fatalf("tokens page does not show the revocation:\n%s", p.body)
	}
	// Revoking the token signed in with ends the session made from it.
	r = cl.post(t, "/tokens", "/tokens/"+dev.Token.ID+"/revoke", url.Values{})
	if r.code != http.StatusSeeOther {
		t.Fatalf("revoke own sign-in token = %d", r.code)
	}
	if p := cl.get(t, "/tokens"); p.code != http.StatusSeeOther {
		t.Fatalf("GET /tokens after revoking the parent token = %d, want 303 to sign-in", p.code)
	}
}

func TestPeoplePage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dev := e.client(t)
	dev.signIn(t, "devA")
	admin := e.client(t)
	admin.signIn(t, "admin")
	p := admin.get(t, "/people")
	if p.code != 200 || !strings.Contains(p.body, "devA (Lab A)") || !strings.Contains(p.body, `action="/people/`+e.actors["devA"].User.ID+`/disable"`) {
		t.Fatalf("GET /people as admin = %d:\n%s", p.code, p.body)
	}
	if strings.Contains(p.body, `action="/people/`+e.actors["admin"].User.ID+`/disable"`) {
		t.Error("the admin is offered to disable themselves")
	}
	if !strings.Contains(admin.get(t, "/cases").body, `href="/people"`) || strings.Contains(dev.get(t, "/cases").body, `href="/people"`) {
		t.Error("the People link is not shown to admins only")
	}
	id := e.actors["devA"].User.ID
	r := admin.post(t, "/people", "/people/"+id+"/disable", url.Values{})
	if r.code != http.StatusSeeOther {
		t.Fatalf("disable = %d:\n%s", r.code, r.body)
	}
	// At once: the open session and the API token.
	if p := dev.get(t, "/cases"); p.code != http.StatusSeeOther {
		t.Fatalf("disabled user's session: GET /cases = %d, want 303", p.code)
	}
	if _, err := e.svc.Authenticate(ctx, e.tokens["devA"]); err == nil {
		t.Fatal("disabled user's token authenticates")
	}
	if p := admin.get(t, "/people"); !strings.Contains(p.body, `action="/people/`+id+`/enable"`) {
		t.Fatalf("people page offers no enable for the disabled user")
	}
	if r := admin.post(t, "/people", "/people/"+id+"/enable", url.Values{}); r.code != http.StatusSeeOther {
		t.Fatalf("enable = %d", r.code)
	}
	if _, err := e.svc.Authenticate(ctx, e.tokens["devA"]); err != nil {
		t.Fatalf("enabled user's token: %v", err)
	}
	// The admin's view of a user's tokens.
	if p := admin.get(t, "/tokens?user="+id); p.code != 200 || !strings.Contains(p.body, "Tokens of devA") {
		t.Fatalf("GET /tokens?user= as admin = %d:\n%s", p.code, p.body)
	}
	// An admin cannot disable themselves.
	if r := admin.post(t, "/people", "/people/"+e.actors["admin"].User.ID+"/disable", url.Values{}); r.code != http.StatusConflict {
		t.Fatalf("admin disabling themselves = %d, want 409", r.code)
	}
}

// TestAccessDenials: the new pages and forms, as users who may not use
// them, change nothing; another user's token reads as not found.
func TestAccessDenials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	devA := e.actors["devA"]
	devB := e.client(t)
	devB.signIn(t, "devB")
	rev := e.client(t)
	rev.signIn(t, "reviewer")
	before, err := e.store.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cl   *client
		path string
		code int
	}{
		{devB, "/people", 403},
		{rev, "/people", 403},
		{devB, "/tokens?user=" + devA.User.ID, 403},
	} {
		if p := tc.cl.get(t, tc.path); p.code != tc.code {
			t.Errorf("GET %s as %s = %d, want %d", tc.path, tc.cl.who, p.code, tc.code)
		}
	}
	missing := devB.post(t, "/tokens", "/tokens/tok_00000000000000000000000000000000/revoke", url.Values{})
	for _, tc := range []struct {
		cl   *client
		path string
		code int
	}{
		{devB, "/tokens/" + devA.Token.ID + "/revoke", 404},
		{devB, "/people/" + devA.User.ID + "/disable", 403},
		{rev, "/people/" + devA.User.ID + "/disable", 403},
		{rev, "/people/" + devA.User.ID + "/enable", 403},
	} {
		p := tc.cl.post(t, "/tokens", tc.path, url.Values{})
		if p.code != tc.code {
			t.Errorf("POST %s as %s = %d, want %d", tc.path, tc.cl.who, p.code, tc.code)
		}
		if tc.code == 404 && p.body != missing.body {
			t.Errorf("POST %s as %s: 404 page differs from a missing token's", tc.path, tc.cl.who)
		}
	}
	if after, _ := e.store.AuditHead(ctx); after.Seq != before.Seq {
		t.Errorf("refused requests wrote %d audit entries", after.Seq-before.Seq)
	}
	if _, err := e.svc.Authenticate(ctx, e.tokens["devA"]); err != nil {
		t.Fatalf("devA's token after refused requests: %v", err)
	}
}

var nextRE = regexp.MustCompile(`name="next" value="([^"]*)"`)

func htmlUnescape(s string) string { return html.UnescapeString(s) }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(t *testing.T, method, path, form string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(method, "https://clearance.example"+path, strings.NewReader(form))
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTokensNextPage follows the tokens page's "Next page" link: it must
// lead to the next page (html/template once escaped the query after "?",
// so every next link led back to the first page).
func TestTokensNextPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dev := e.actors["devA"]
	for i := range 120 {
		if _, _, err := e.svc.IssueToken(ctx, dev, dev.User.ID, "bulk-"+strings.Repeat("x", i%3)+string(rune('a'+i%26)), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	cl := e.client(t)
	cl.signIn(t, "devA")
	first := cl.get(t, "/tokens")
	m := regexp.MustCompile(`<a href="([^"]+)">Next page</a>`).FindStringSubmatch(first.body)
	if m == nil {
		t.Fatalf("no next-page link on a page of 120 tokens:\n%s", first.body)
	}
	link := html.UnescapeString(m[1])
	if !strings.HasPrefix(link, "/tokens?after=tok_") {
		t.Fatalf("next link %q, want /tokens?after=tok_…", link)
	}
	second := cl.get(t, link)
	if second.code != http.StatusOK || second.body == first.body {
		t.Fatalf("GET %s = %d, the same page again: %v", link, second.code, second.body == first.body)
	}
}
