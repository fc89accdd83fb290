package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
)

// TestIncidentSweepOnServe: a due duty past its deadline whose
// duty_check job never ran (a server with no workers) is marked overdue
// by the serve loop's sweep, which runs with each anchor.
func TestIncidentSweepOnServe(t *testing.T) {
	ctx := context.Background()
	data := privateDir(t)
	e, out := quietEnv()
	if err := runAdmin(ctx, e, []string{"bootstrap", "--data", data, "--org", "Agency", "--user", "alice"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	admin := &apiClient{base: serveInProcess(t, serviceFlags{data: data}, "--workers", "0", "--anchor-every", "100ms"), token: lines[len(lines)-1], hc: http.DefaultClient}
	var org, dev, tok, c map[string]any
	if err := admin.do(ctx, "POST", "/api/v1/orgs", map[string]any{"name": "Acme AI", "kind": "developer"}, nil, &org); err != nil {
		t.Fatal(err)
	}
	if err := admin.do(ctx, "POST", "/api/v1/users", map[string]any{"org_id": org["id"], "name": "dev", "roles": []string{"developer"}}, nil, &dev); err != nil {
		t.Fatal(err)
	}
	if err := admin.do(ctx, "POST", "/api/v1/users/"+dev["id"].(string)+"/tokens", map[string]any{"name": "cli"}, nil, &tok); err != nil {
		t.Fatal(err)
	}
	devc := &apiClient{base: admin.base, token: tok["secret"].(string), hc: http.DefaultClient}
	if err := devc.do(ctx, "POST", "/api/v1/cases", review.Submission{Model: review.SubmittedModel{Digest: "sha256:" + strings.Repeat("ef", 32), Name: "atlas"},
		Dossier: json.RawMessage(`{}`), Target: review.SubmittedTarget{URL: "http://127.0.0.1:9/v1"}, Profiles: []string{"ca-sb-53"}}, nil, &c); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(data, "clearance.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	d := review.Duty{ID: "duty_sweep1", CaseID: c["id"].(string), Profile: "ca-sb-53", Kind: review.DutyScheduled, Class: "internal-use-summary",
		Title: "quarterly summary", To: "OES", DueAt: now.Add(-time.Hour).Truncate(time.Second), State: review.DutyDue, CreatedAt: now.Add(-2 * time.Hour).Truncate(time.Second)}
	if err := db.CreateDuty(ctx, d); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := db.GetDuty(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == review.DutyOverdue {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("duty still %s after 20s of serving: nothing swept it", got.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
