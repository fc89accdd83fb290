package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
)

// TestIncidentCLI: clearance incident file against a cleared decision on
// a running service prints each regime's duties from the built-in
// profiles (EU cyber 5 days + intermediate 28 days, SB 53 15 days; New
// York nothing for an incident of 2026), already overdue for an incident
// discovered long ago; incident list --duties --state overdue lists them;
// incident report files one, printing the generated Markdown; another
// developer's token lists nothing.
func TestIncidentCLI(t *testing.T) {
	ctx := context.Background()
	data := privateDir(t)
	e, out := quietEnv()
	if err := runAdmin(ctx, e, []string{"bootstrap", "--data", data, "--org", "Agency", "--user", "alice"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]
	addr := freeAddr(t)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	se, _ := quietEnv()
	go func() { done <- runServe(sctx, se, []string{"--addr", addr, "--data", data, "--workers", "0"}) }()
	defer func() {
		cancel()
		<-done
	}()
	base := "http://" + addr
	for range 200 {
		if r, err := http.Get(base + "/healthz"); err == nil {
			r.Body.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	admin := &apiClient{base: base, token: token, hc: http.DefaultClient}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	devToken := func(name string) string {
		var org, dev, tok map[string]any
		must(admin.do(ctx, "POST", "/api/v1/orgs", map[string]any{"name": name, "kind": "developer"}, nil, &org))
		must(admin.do(ctx, "POST", "/api/v1/users", map[string]any{"org_id": org["id"], "name": "dev " + name, "roles": []string{"developer"}}, nil, &dev))
		must(admin.do(ctx, "POST", "/api/v1/users/"+dev["id"].(string)+"/tokens", map[string]any{"name": "cli"}, nil, &tok))
		return tok["secret"].(string)
	}
	devA, devB := devToken("Acme AI"), devToken("Other AI")
	var c map[string]any
	devc := &apiClient{base: base, token: devA, hc: http.DefaultClient}
	must(devc.do(ctx, "POST", "/api/v1/cases", review.Submission{Model: review.SubmittedModel{Digest: "sha256:" + strings.Repeat("cd", 32), Name: "atlas"},
		Dossier: json.RawMessage(`{"model":{"training_compute_flop":2e26}}`), Target: review.SubmittedTarget{URL: "http://127.0.0.1:9/v1"},
		Profiles: []string{"eu-ai-act-gpai-sr", "ca-sb-53", "ny-raise"}}, nil, &c))
	// The decision, written to the service's store as an official's would be.
	db, err := sqlite.Open(ctx, filepath.Join(data, "clearance.db"))
	must(err)
	must(db.CreateDecision(ctx, review.Decision{ID: "dec_cli1", CaseID: c["id"].(string), OfficialID: "usr_x", LogIndex: -1, CreatedAt: time.Now(),
		Outcomes: json.RawMessage(`{"eu-ai-act-gpai-sr":"cleared_with_conditions","ca-sb-53":"cleared","ny-raise":"not_in_force"}`)}))
	db.Close()

	cli := func(tok string, args ...string) (int, string, string) {
		t.Helper()
		e, out := quietEnv()
		var errb strings.Builder
		e.stderr = &errb
		args = append(args, "--server", base, "--token", tok)
		return run(ctx, e, args), out.String(), errb.String()
	}
	code, stdout, stderr := cli(devA, "incident", "file", "--decision", "dec_cli1", "--class", "cyber",
		"--summary", "weights found on an unknown host", "--discovered", "2026-06-01T12:00:00Z")
	if code != 0 {
		t.Fatalf("incident file: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"3 duties", "eu-ai-act-gpai-sr  initial", "2026-06-06T12:00:00Z", "eu-ai-act-gpai-sr  intermediate", "2026-06-29T12:00:00Z",
		"ca-sb-53           initial", "2026-06-16T12:00:00Z", "overdue"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("incident file output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "ny-raise") {
		t.Errorf("a New York duty for an incident of 2026:\n%s", stdout)
	}
	code, stdout, _ = cli(devA, "incident", "list", "--duties", "--state", "overdue")
	duty := regexp.MustCompile(`duty_[0-9a-f]+`).FindString(stdout)
	if code != 0 || duty == "" || strings.Count(stdout, "overdue") != 3 {
		t.Fatalf("incident list --duties --state overdue: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr = cli(devA, "incident", "report", duty, "--note", "initial report")
	if code != 0 || !strings.Contains(stdout, "weights found on an unknown host") || !strings.Contains(stdout, "initial report") || !strings.Contains(stdout, "(late)") {
		t.Fatalf("incident report: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = cli(devA, "incident", "list")
	if code != 0 || !strings.Contains(stdout, "weights found") {
		t.Errorf("incident list: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = cli(devB, "incident", "list", "--duties")
	if code != 0 || strings.Contains(stdout, "duty_") {
		t.Errorf("another developer's incident list --duties: exit %d\n%s", code, stdout)
	}
	code, _, stderr = cli(devB, "incident", "file", "--decision", "dec_cli1", "--class", "cyber", "--summary", "x")
	if code == 0 || !strings.Contains(stderr, "404") {
		t.Errorf("another developer files: exit %d\n%s", code, stderr)
	}
	code, _, stderr = cli(devA, "incident", "file", "--decision", "dec_cli1", "--class", "meteor", "--summary", "x")
	if code == 0 || !strings.Contains(stderr, "class") {
		t.Errorf("bad class: exit %d\n%s", code, stderr)
	}
}
