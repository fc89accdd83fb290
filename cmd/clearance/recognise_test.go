package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/trust/trusttest"
	"github.com/google/go-cmp/cmp"
)

// TestCaseRecogniseCLI: clearance serve --trust FILE verifies another
// authority's decision posted with clearance case recognise (the receipt
// found beside the bundle); a bundle signed by a key the trust file does
// not pin is refused with the reason.
func TestCaseRecogniseCLI(t *testing.T) {
	ctx := context.Background()
	data := privateDir(t)
	e, out := quietEnv()
	if err := runAdmin(ctx, e, []string{"bootstrap", "--data", data, "--org", "Agency", "--user", "alice"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]
	aisi := trusttest.New(t, "uk-aisi")
	trustFile := filepath.Join(privateDir(t), "authorities.json")
	trusttest.WriteTrust(t, trustFile, aisi)

	addr := freeAddr(t)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	se, _ := quietEnv()
	go func() {
		done <- runServe(sctx, se, []string{"--addr", addr, "--data", data, "--trust", trustFile, "--workers", "0"})
	}()
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
	var me, org, dev, devTok, off, offTok, c map[string]any
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(admin.do(ctx, "GET", "/api/v1/me", nil, nil, &me))
	must(admin.do(ctx, "POST", "/api/v1/orgs", map[string]any{"name": "Acme AI", "kind": "developer"}, nil, &org))
	must(admin.do(ctx, "POST", "/api/v1/users", map[string]any{"org_id": org["id"], "name": "dev", "roles": []string{"developer"}}, nil, &dev))
	must(admin.do(ctx, "POST", "/api/v1/users/"+dev["id"].(string)+"/tokens", map[string]any{"name": "cli"}, nil, &devTok))
	agency := me["org"].(map[string]any)["id"]
	must(admin.do(ctx, "POST", "/api/v1/users", map[string]any{"org_id": agency, "name": "off", "roles": []string{"official"}}, nil, &off))
	must(admin.do(ctx, "POST", "/api/v1/users/"+off["id"].(string)+"/tokens", map[string]any{"name": "cli"}, nil, &offTok))
	digest := "sha256:" + strings.Repeat("ab", 32)
	devc := &apiClient{base: base, token: devTok["secret"].(string), hc: http.DefaultClient}
	must(devc.do(ctx, "POST", "/api/v1/cases", review.Submission{Model: review.SubmittedModel{Digest: digest, Name: "atlas"},
		Dossier: json.RawMessage(`{"model":{"training_compute_flop":2e25}}`), Target: review.SubmittedTarget{URL: "http://127.0.0.1:9/v1"},
		Profiles: []string{"eu-ai-act-gpai-sr"}}, nil, &c))

	dir := t.TempDir()
	bundle, receipt := aisi.Sign(t, trusttest.Decision(digest, attest.OutcomeCleared, time.Now().Add(-time.Hour)), digest)
	bundlePath := filepath.Join(dir, "aisi.sigstore.json")
	must(os.WriteFile(bundlePath, bundle, 0o644))
	must(os.WriteFile(tlog.ReceiptPath(bundlePath), receipt, 0o644))
	args := []string{"recognise", c["id"].(string), "--authority", "uk-aisi", "--bundle", bundlePath, "--server", base, "--token", offTok["secret"].(string)}
	ce, cout := quietEnv()
	must(runCase(ctx, ce, args))
	if got := cout.String(); !strings.Contains(got, "recognised rec_") || !strings.Contains(got, "uk-aisi's decision (cleared; aisi-frontier cleared), logged in uk-aisi.test/decisions") {
		t.Errorf("output %q", got)
	}

	impostor := trusttest.New(t, "impostor")
	forged, forgedReceipt := impostor.Sign(t, trusttest.Decision(digest, attest.OutcomeCleared, time.Now().Add(-time.Hour)), digest)
	forgedPath := filepath.Join(dir, "forged.sigstore.json")
	must(os.WriteFile(forgedPath, forged, 0o644))
	must(os.WriteFile(tlog.ReceiptPath(forgedPath), forgedReceipt, 0o644))
	args[5] = forgedPath
	ce2, _ := quietEnv()
	if err := runCase(ctx, ce2, args); err == nil || !strings.Contains(err.Error(), "not a decision signed by a key of uk-aisi") {
		t.Errorf("forged bundle: %v", err)
	}
}

// TestCaseEvidenceRecognised: a case's policy evidence lists its
// recognitions (the overall outcome and each profile's), and only those:
// recognised entries a dossier declares are dropped.
func TestCaseEvidenceRecognised(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := st.CreateOrg(ctx, review.Org{ID: "org_dev", Name: "Dev", Kind: review.OrgDeveloper, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	c := review.Case{ID: "case_1", OrgID: "org_dev", ModelDigest: "sha256:" + strings.Repeat("ab", 32), ModelName: "atlas",
		Dossier:  json.RawMessage(`{"model":{"training_compute_flop":2e25},"recognised":[{"authority":"uk-aisi","profile":"p","outcome":"cleared","decided_at":"2026-01-01"}]}`),
		Profiles: []string{"eu-ai-act-gpai-sr"}, State: review.StateUnderReview, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	ev, err := caseEvidence(ctx, st, c, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Recognised) != 0 {
		t.Fatalf("a dossier's own recognised entries were kept: %+v", ev.Recognised)
	}
	decided := now.Add(-48 * time.Hour)
	if err := st.CreateRecognition(ctx, review.Recognition{ID: "rec_1", CaseID: c.ID, Authority: "uk-aisi",
		ForeignEvidence: review.ForeignEvidence{Kind: "decision", LogIndex: 3, ModelDigest: c.ModelDigest, DecidedAt: decided, Outcome: "cleared_with_conditions",
			Profiles: []review.ForeignOutcome{{Profile: "aisi-frontier", Outcome: "cleared"}}},
		Bundle: []byte("b"), ImportedBy: "usr_1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	ev, err = caseEvidence(ctx, st, c, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []policy.Recognised{{Authority: "uk-aisi", Outcome: "cleared_with_conditions", DecidedAt: decided},
		{Authority: "uk-aisi", Profile: "aisi-frontier", Outcome: "cleared", DecidedAt: decided}}
	if d := cmp.Diff(want, ev.Recognised); d != "" {
		t.Errorf("Recognised (-want +got):\n%s", d)
	}
}
