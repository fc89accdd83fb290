package review_test

import (
	"context"
	"errors"
	"testing"

	"github.com/clearance-dev/clearance/review"
	"github.com/google/go-cmp/cmp"
)

// OrgNames names the developer organisation of a case the actor sees.
func TestOrgNames(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.submit(t, w.devA)
	names, err := w.svc.OrgNames(ctx, w.reviewer, []string{c.OrgID, "org_gone", c.OrgID, ""})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{c.OrgID: "Lab A", "org_gone": "org_gone"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("OrgNames (-want +got):\n%s", diff)
	}
	if _, err := w.svc.OrgNames(ctx, review.Actor{}, nil); !errors.Is(err, review.ErrUnauthenticated) {
		t.Errorf("OrgNames without an actor = %v, want ErrUnauthenticated", err)
	}
}
