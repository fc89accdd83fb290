// Package reviewtest helps tests build a review service's cast: it
// creates users with a role, issues them tokens and authenticates them,
// through the service's public methods. For tests only.
package reviewtest

import (
	"context"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// User creates a user of org with one role as admin, issues it a token
// and returns the authenticated actor and the token secret.
func User(tb testing.TB, svc *review.Service, admin review.Actor, orgID, name string, role review.Role) (review.Actor, string) {
	tb.Helper()
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, admin, review.UserInput{OrgID: orgID, Name: name, Roles: []review.Role{role}})
	if err != nil {
		tb.Fatalf("create user %s: %v", name, err)
	}
	_, secret, err := svc.IssueToken(ctx, admin, u.ID, "test", time.Time{})
	if err != nil {
		tb.Fatalf("issue token for %s: %v", name, err)
	}
	a, err := svc.Authenticate(ctx, secret)
	if err != nil {
		tb.Fatalf("authenticate %s: %v", name, err)
	}
	return a, secret
}

// Org creates an organisation as admin.
func Org(tb testing.TB, svc *review.Service, admin review.Actor, name string, kind review.OrgKind) review.Org {
	tb.Helper()
	o, err := svc.CreateOrg(context.Background(), admin, name, kind)
	if err != nil {
		tb.Fatalf("create org %s: %v", name, err)
	}
	return o
}
