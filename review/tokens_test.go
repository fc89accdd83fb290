package review_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// TestChildTokens checks the rules of review/tokens.go through the
// service: a minted token never outlives its parent and dies with it.
func TestChildTokens(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	short, secret, err := w.svc.IssueToken(ctx, w.devA, w.devA.User.ID, "short", w.now.Add(20*time.Second))
	check(t, "IssueToken(20 s)", err, nil)
	if short.ParentID != w.devA.Token.ID {
		t.Fatalf("ParentID = %q, want the minting token %q", short.ParentID, w.devA.Token.ID)
	}
	a, err := w.svc.Authenticate(ctx, secret)
	check(t, "Authenticate(short)", err, nil)
	if a.Token.ID != short.ID {
		t.Fatalf("Actor.Token = %s, want %s", a.Token.ID, short.ID)
	}
	for _, tc := range []struct {
		name    string
		expires time.Time
		want    error
		wantExp time.Time
	}{
		{"no expiry asked", time.Time{}, nil, short.ExpiresAt},
		{"earlier", w.now.Add(10 * time.Second), nil, w.now.Add(10 * time.Second)},
		{"same as parent", short.ExpiresAt, nil, short.ExpiresAt},
		{"after the parent", w.now.Add(time.Hour), review.ErrInvalidInput, time.Time{}},
		{"in 2000", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), review.ErrInvalidInput, time.Time{}},
		{"now", w.now, review.ErrInvalidInput, time.Time{}},
	} {
		c, _, err := w.svc.IssueToken(ctx, a, a.User.ID, "child", tc.expires)
		check(t, "IssueToken("+tc.name+")", err, tc.want)
		if err != nil && !strings.Contains(err.Error(), "expires_at") {
			t.Errorf("IssueToken(%s) = %v, want the error to name expires_at", tc.name, err)
		}
		if err == nil && !c.ExpiresAt.Equal(tc.wantExp) {
			t.Errorf("IssueToken(%s) expires %v, want %v", tc.name, c.ExpiresAt, tc.wantExp)
		}
	}
	// An unbounded parent: a past expiry is still refused.
	_, _, err = w.svc.IssueToken(ctx, w.devA, w.devA.User.ID, "old", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	check(t, "IssueToken(2000, unbounded parent)", err, review.ErrInvalidInput)

	// Sessions: bounded by the token, revoked by EndSession and with it.
	st, ssecret, err := w.svc.StartSession(ctx, a, 12*time.Hour)
	check(t, "StartSession", err, nil)
	if !st.ExpiresAt.Equal(short.ExpiresAt) || st.ParentID != short.ID || st.Name != review.SessionTokenName {
		t.Fatalf("session token = %+v, want a child of %s expiring with it", st, short.ID)
	}
	_, _, err = w.svc.StartSession(ctx, review.Actor{User: w.devA.User}, time.Hour)
	check(t, "StartSession(no token)", err, review.ErrUnauthenticated)
	check(t, "EndSession", w.svc.EndSession(ctx, ssecret), nil)
	_, err = w.svc.Authenticate(ctx, ssecret)
	check(t, "Authenticate(ended session)", err, review.ErrUnauthenticated)
	check(t, "EndSession(again)", w.svc.EndSession(ctx, ssecret), nil)
	check(t, "EndSession(unknown)", w.svc.EndSession(ctx, "clr_nope"), review.ErrUnauthenticated)

	// Revoking the parent revokes the child at once; minting from a
	// revoked parent (an actor authenticated before) fails.
	_, csecret, err := w.svc.IssueToken(ctx, a, a.User.ID, "child", time.Time{})
	check(t, "IssueToken(child)", err, nil)
	check(t, "RevokeToken(parent)", w.svc.RevokeToken(ctx, w.devA, short.ID), nil)
	_, err = w.svc.Authenticate(ctx, csecret)
	check(t, "Authenticate(child of revoked)", err, review.ErrUnauthenticated)
	_, _, err = w.svc.IssueToken(ctx, a, a.User.ID, "late", time.Time{})
	check(t, "IssueToken(from revoked parent)", err, review.ErrUnauthenticated)

	// Admin-issued tokens are children of the admin's token.
	if w.devB.Token.ParentID != w.admin.Token.ID {
		t.Fatalf("admin-issued token's parent = %q, want the admin's %q", w.devB.Token.ParentID, w.admin.Token.ID)
	}

	// Listing: own or admin.
	ts, err := w.svc.ListTokens(ctx, w.devA, w.devA.User.ID, review.Page{})
	check(t, "ListTokens(own)", err, nil)
	if len(ts) != 7 {
		t.Errorf("ListTokens(own) = %d tokens, want 7", len(ts))
	}
	_, err = w.svc.ListTokens(ctx, w.devB, w.devA.User.ID, review.Page{})
	check(t, "ListTokens(another's)", err, review.ErrForbidden)
	_, err = w.svc.ListTokens(ctx, w.admin, w.devA.User.ID, review.Page{})
	check(t, "ListTokens(admin)", err, nil)
	_, err = w.svc.ListTokens(ctx, w.admin, "usr_missing", review.Page{})
	check(t, "ListTokens(missing user)", err, review.ErrNotFound)
}

func TestDisableUser(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	sess, ssecret, err := w.svc.StartSession(ctx, w.devA, time.Hour)
	check(t, "StartSession", err, nil)
	_, err = w.svc.SetUserDisabled(ctx, w.official, w.devA.User.ID, true)
	check(t, "SetUserDisabled(official)", err, review.ErrForbidden)
	_, err = w.svc.SetUserDisabled(ctx, w.admin, w.admin.User.ID, true)
	check(t, "SetUserDisabled(self)", err, review.ErrConflict)
	_, err = w.svc.SetUserDisabled(ctx, w.admin, "usr_missing", true)
	check(t, "SetUserDisabled(missing)", err, review.ErrNotFound)
	u, err := w.svc.SetUserDisabled(ctx, w.admin, w.devA.User.ID, true)
	check(t, "SetUserDisabled", err, nil)
	if !u.Disabled {
		t.Fatal("SetUserDisabled returned an enabled user")
	}
	for name, s := range map[string]string{"token": w.tokens["dev a"], "session": ssecret} {
		_, err := w.svc.Authenticate(ctx, s)
		check(t, "Authenticate(disabled user's "+name+")", err, review.ErrUnauthenticated)
	}
	// Signing out still works for a disabled user, so the session cannot
	// come back when the user is enabled again.
	check(t, "EndSession(disabled)", w.svc.EndSession(ctx, ssecret), nil)
	_, err = w.svc.SetUserDisabled(ctx, w.admin, w.devA.User.ID, false)
	check(t, "SetUserDisabled(enable)", err, nil)
	_, err = w.svc.Authenticate(ctx, w.tokens["dev a"])
	check(t, "Authenticate(enabled)", err, nil)
	_, err = w.svc.Authenticate(ctx, ssecret)
	check(t, "Authenticate(ended session "+sess.ID+")", err, review.ErrUnauthenticated)

	us, err := w.svc.ListUsers(ctx, w.admin, w.devA.Org.ID, review.Page{})
	check(t, "ListUsers", err, nil)
	if len(us) != 1 || us[0].ID != w.devA.User.ID {
		t.Fatalf("ListUsers(org A) = %+v", us)
	}
	_, err = w.svc.ListUsers(ctx, w.devA, "", review.Page{})
	check(t, "ListUsers(developer)", err, review.ErrForbidden)
	es, err := w.svc.Audit(ctx, w.admin, 0, review.MaxPageLimit)
	check(t, "Audit", err, nil)
	seen := map[string]bool{}
	for _, e := range es {
		seen[e.Action] = true
	}
	for _, a := range []string{"session.start", "session.end", "user.disable", "user.enable"} {
		if !seen[a] {
			t.Errorf("no %s audit entry", a)
		}
	}

}
