package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/webhook"
)

// TestConformService runs conformance through a served stack: asking for
// a fingerprint answers 202 with it pending and a job records it (the
// case's conformance list shows it pending, then recorded); the decision
// binds it; `clearance conform --decision` checks the case's endpoint
// (exit 0) and, with the vulnerable model's endpoint as --target-url,
// fails (exit 40), opening a finding and delivering
// case.conformance_failed to the developer's webhook on 127.0.0.1.
func TestConformService(t *testing.T) {
	sf := serviceFlags{data: privateDir(t)}
	robust, _ := referenceTarget(t, "robust", 0)
	vulnerable, _ := referenceTarget(t, "vulnerable", 0)
	adminToken := bootstrap(t, sf)
	base := serveInProcess(t, sf, "--shard-size", "20", "--allow-target-net", "127.0.0.1/32", "--allow-webhook-net", "127.0.0.1")
	c := client{t: t, base: base}
	p := seedPeople(t, c, adminToken)
	hookURL, events := webhookReceiver(t)
	var hook struct{ Secret string }
	c.call(p.dev, "POST", "/api/v1/webhooks", map[string]any{"url": hookURL, "events": []string{"case.conformance_failed"}}, 201, &hook)
	dossier, modelDir := e2eFiles(t)
	caseID := submitCase(t, base, p.dev, robust, modelDir, dossier)
	assignStaff(t, c, p, caseID)

	type fingerprint struct {
		ID, State, Digest, Error string
		Requests                 int
	}
	var fp fingerprint
	c.call(p.assessor, "POST", "/api/v1/cases/"+caseID+"/fingerprint", map[string]any{"probes": 20}, 202, &fp)
	if fp.State != "pending" || fp.Digest != "" || fp.ID == "" {
		t.Fatalf("POST fingerprint = %+v, want it pending with no digest", fp)
	}
	var list struct {
		Fingerprints []fingerprint
		Checks       []struct{ ID string }
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c.call(p.dev, "GET", "/api/v1/cases/"+caseID+"/conformance", nil, 200, &list)
		if len(list.Fingerprints) != 1 || list.Fingerprints[0].ID != fp.ID {
			t.Fatalf("conformance list %+v, want fingerprint %s", list, fp.ID)
		}
		if got := list.Fingerprints[0]; got.State != "pending" {
			if got.State != "recorded" || !strings.HasPrefix(got.Digest, "sha256:") || got.Requests != 160 {
				t.Fatalf("fingerprint after its job: %+v, want recorded with a digest and 160 requests", got)
			}
			fp = got
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fingerprint %s still pending after 2 minutes", fp.ID)
		}
		time.Sleep(100 * time.Millisecond)
	}

	var as assessmentView
	c.call(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": []string{"misuse"}, "limit": 12}, 201, &as)
	as = waitDone(t, c, p.assessor, as.ID, 2*time.Minute)
	decisionID := decideCase(t, c, p, caseID, as.ID)

	conform := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, append([]string{"conform", "--decision", decisionID, "--server", base, "--token", p.dev}, args...)...)
	}
	code, out, errOut := conform()
	if code != 0 || !strings.Contains(out, "SAME MODEL") || !strings.Contains(out, "of decision "+decisionID) {
		t.Fatalf("conform --decision (the case's endpoint): exit %d, stdout %q, stderr %q; want 0 and SAME MODEL", code, out, errOut)
	}
	code, out, errOut = conform("--target-url", vulnerable, "--format", "json")
	var res struct {
		Check, Finding string
		Same           bool
	}
	if code != exitNotSame || json.Unmarshal([]byte(out), &res) != nil || res.Same || res.Finding == "" {
		t.Fatalf("conform --decision (vulnerable swapped in): exit %d, stdout %q, stderr %q; want %d, same false and a finding", code, out, errOut, exitNotSame)
	}
	for _, bad := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"conform", "--decision", "dec_none", "--server", base, "--token", p.dev}, 1, "404"},
		{[]string{"conform", "--decision", decisionID, "--server", base, "--token", p.dev, "--target-url", "file:///etc/passwd"}, 1, "target_url"},
		{[]string{"conform", "--decision", decisionID, "--token", p.dev}, 2, "--server is required"},
		{[]string{"conform", "--decision", decisionID, "--server", base, "--token", p.dev, "--fingerprint", "x.json"}, 2, "--decision"},
	} {
		code, _, errOut := runCLI(t, bad.args...)
		if code != bad.code || !strings.Contains(errOut, bad.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d naming %q", bad.args[1:], code, errOut, bad.code, bad.want)
		}
	}

	select {
	case ev := <-events:
		if err := webhook.Verify([]byte(hook.Secret), ev.sig, ev.body, time.Now(), webhook.DefaultTolerance); err != nil {
			t.Errorf("delivery signature: %v", err)
		}
		var e webhook.Event
		if err := json.Unmarshal(ev.body, &e); err != nil || e.Type != "case.conformance_failed" || e.CaseID != caseID {
			t.Errorf("delivery %s (%v), want case.conformance_failed of %s", ev.body, err, caseID)
		}
		if strings.Contains(string(ev.body), "sk-") {
			t.Errorf("delivery carries a credential: %s", ev.body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no case.conformance_failed delivery within 30s")
	}
	select {
	case ev := <-events:
		t.Errorf("a second delivery %s: only the failed check is subscribed to", ev.body)
	case <-time.After(200 * time.Millisecond):
	}
}
