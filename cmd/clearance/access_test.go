package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestTokenUserClient drives clearance token list|revoke and clearance
// user list|disable|enable against a running server: a developer lists
// and revokes their own tokens (a revoked token's children die with it),
// an admin disables a user (whose token stops at once) and enables them.
func TestTokenUserClient(t *testing.T) {
	sf := serviceFlags{data: privateDir(t)}
	adminToken := bootstrap(t, sf)
	base := serveInProcess(t, sf)
	c := client{t: t, base: base}
	p := seedPeople(t, c, adminToken)
	run := func(wantErr bool, f func(context.Context, *env, []string) error, args ...string) string {
		t.Helper()
		e, out := quietEnv()
		err := f(context.Background(), e, append(args, "--server", base))
		if (err != nil) != wantErr {
			t.Fatalf("%v: error %v, want error %v\n%s", args, err, wantErr, out)
		}
		if err != nil {
			return err.Error()
		}
		return out.String()
	}
	var me struct {
		User struct{ ID string } `json:"user"`
	}
	c.call(p.dev, "GET", "/api/v1/me", nil, 200, &me)
	var child struct{ ID, Secret string }
	c.call(p.dev, "POST", "/api/v1/users/"+me.User.ID+"/tokens", map[string]any{"name": "ci"}, 201, &child)
	var grandchild struct{ ID, Secret string }
	c.call(child.Secret, "POST", "/api/v1/users/"+me.User.ID+"/tokens", map[string]any{"name": "ci-job"}, 201, &grandchild)

	out := run(false, runToken, "list", "--token", p.dev)
	if !strings.Contains(out, "TOKEN") || !strings.Contains(out, child.ID) || !strings.Contains(out, grandchild.ID) {
		t.Fatalf("token list:\n%s", out)
	}
	out = run(false, runToken, "revoke", child.ID, "--token", p.dev)
	if !strings.Contains(out, "revoked") {
		t.Fatalf("token revoke: %s", out)
	}
	c.call(grandchild.Secret, "GET", "/api/v1/me", nil, 401, nil)
	var toks []struct {
		ID        string `json:"id"`
		RevokedAt string `json:"revoked_at"`
	}
	if err := json.Unmarshal([]byte(run(false, runToken, "list", "--token", p.dev, "--format", "json")), &toks); err != nil {
		t.Fatal(err)
	}
	for _, x := range toks {
		if (x.ID == child.ID || x.ID == grandchild.ID) && x.RevokedAt == "" {
			t.Errorf("token %s not revoked after its parent was", x.ID)
		}
	}
	// Another user's token is not found to a developer.
	if msg := run(true, runToken, "revoke", child.ID, "--token", p.reviewer); !strings.Contains(msg, "404") {
		t.Errorf("revoke another's token: %s", msg)
	}

	out = run(false, runUser, "list", "--token", p.admin)
	if !strings.Contains(out, me.User.ID) || !strings.Contains(out, "active") {
		t.Fatalf("user list:\n%s", out)
	}
	run(false, runUser, "disable", me.User.ID, "--token", p.admin)
	c.call(p.dev, "GET", "/api/v1/me", nil, 401, nil)
	if out := run(false, runUser, "list", "--token", p.admin); !strings.Contains(out, "disabled") {
		t.Fatalf("user list after disable:\n%s", out)
	}
	run(false, runUser, "enable", me.User.ID, "--token", p.admin)
	c.call(p.dev, "GET", "/api/v1/me", nil, 200, nil)
	if msg := run(true, runUser, "disable", me.User.ID, "--token", p.dev); !strings.Contains(msg, "403") {
		t.Errorf("developer disabling a user: %s", msg)
	}
}

func TestCookieFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    bool
		wantErr bool
	}{
		{nil, false, false},
		{[]string{"--public-url", "https://clearance.example"}, true, false},
		{[]string{"--public-url", "https://clearance.example:8443/"}, true, false},
		{[]string{"--public-url", "http://127.0.0.1:8080"}, false, false},
		{[]string{"--secure-cookies"}, true, false},
		{[]string{"--public-url", "https://clearance.example", "--secure-cookies=false"}, false, false},
		{[]string{"--public-url", "clearance.example"}, false, true},
		{[]string{"--public-url", "ftp://clearance.example"}, false, true},
		{[]string{"--public-url", "https://clearance.example/review"}, false, true},
		{[]string{"--public-url", "https://u:p@clearance.example"}, false, true},
		{[]string{"--public-url", "https://"}, false, true},
	} {
		e, _ := quietEnv()
		fs := newFlagSet(e, "serve", "serve")
		var cf cookieFlags
		cf.register(fs)
		if _, err := parseFlags(fs, tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		got, err := cf.resolve(fs)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%v: secure = %v, %v; want %v, error %v", tc.args, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestServePublicURLSecureCookies: behind https, serve sets Secure,
// __Host- cookies by default.
func TestServePublicURLSecureCookies(t *testing.T) {
	for _, tc := range []struct {
		extra []string
		name  string
	}{
		{[]string{"--public-url", "https://clearance.example"}, "__Host-clearance_login"},
		{nil, "clearance_login"},
	} {
		sf := serviceFlags{data: privateDir(t)}
		bootstrap(t, sf)
		base := serveInProcess(t, sf, tc.extra...)
		resp, err := http.Get(base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cs := resp.Cookies()
		if len(cs) != 1 || cs[0].Name != tc.name || cs[0].Secure != strings.HasPrefix(tc.name, "__Host-") {
			t.Errorf("serve %v: sign-in cookies %+v, want %s", tc.extra, cs, tc.name)
		}
	}
}
