package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/tlog"
)

// dsseSignatures returns the key ids of a bundle's DSSE signatures.
func dsseSignatures(t *testing.T, bundle []byte) []string {
	t.Helper()
	b, err := attest.ParseBundle(bundle)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range b.GetDsseEnvelope().GetSignatures() {
		ids = append(ids, s.GetKeyid())
	}
	return ids
}

// TestCoSignedServiceDecision runs a joint review through clearance
// serve: the service's own agency leads, a second agency org takes part,
// and the decision's bundle carries both agencies' signatures (the
// second's key made in DATA/keys on first use), verified offline under a
// two-signer policy (0) and with the second key missing (19). A decision
// of a case that is not joint is signed as before: one signature, by
// DATA/decision.key. /.well-known/clearance.json publishes both agency
// keys and the public page names both signers.
func TestCoSignedServiceDecision(t *testing.T) {
	sf := serviceFlags{data: privateDir(t)}
	refURL, _ := referenceTarget(t, "typical", 0)
	adminToken := bootstrap(t, sf)
	base := serveInProcess(t, sf, "--shard-size", "20", "--allow-target-net", "127.0.0.1/32")
	c := client{t: t, base: base}
	p := seedPeople(t, c, adminToken)
	var home struct {
		Org struct{ ID string } `json:"org"`
	}
	c.call(p.admin, "GET", "/api/v1/me", nil, 200, &home)
	var second struct{ ID string }
	c.call(p.admin, "POST", "/api/v1/orgs", map[string]any{"name": "Second Agency", "kind": "agency"}, 201, &second)
	// The second agency's official, who takes a position on the proposal.
	var u struct{ ID string }
	c.call(p.admin, "POST", "/api/v1/users", map[string]any{"org_id": second.ID, "name": "sofia", "roles": []review.Role{review.RoleOfficial}}, 201, &u)
	var tok struct{ Secret string }
	c.call(p.admin, "POST", "/api/v1/users/"+u.ID+"/tokens", map[string]any{"name": "e2e"}, 201, &tok)
	secondOfficial := tok.Secret

	dossier, modelDir := e2eFiles(t)
	// A second model: other weights, so another case.
	otherDir := filepath.Join(t.TempDir(), "weights")
	if err := writeDemoWeights(otherDir, "northwind-robust"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(otherDir, "extra.bin"), []byte("another checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}

	// decide assesses a case and has the official decide it; it returns
	// the logged decision's bundle and the decision id.
	decide := func(caseID string, joint bool) ([]byte, string) {
		t.Helper()
		assignStaff(t, c, p, caseID)
		var as assessmentView
		c.call(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": []string{"misuse"}, "limit": 12}, 201, &as)
		waitDone(t, c, p.assessor, as.ID, time.Minute)
		if joint {
			c.call(p.official, "POST", "/api/v1/cases/"+caseID+"/agencies", map[string]any{"org_id": second.ID, "domains": []string{"cyber"}}, 200, nil)
		}
		body := map[string]any{
			"outcomes":  map[string]any{"us-2026-draft": "cleared", "ca-sb-53": "cleared"},
			"rationale": "Within bounds.", "override_reason": "Artifacts beyond the test's scope."}
		if joint {
			// The lead proposes; the second agency concurs; the lead decides.
			c.call(p.official, "POST", "/api/v1/cases/"+caseID+"/proposal", body, 201, nil)
			c.call(secondOfficial, "POST", "/api/v1/cases/"+caseID+"/positions", map[string]any{"position": "concur"}, 200, nil)
		}
		var d struct{ ID string }
		c.call(p.official, "POST", "/api/v1/cases/"+caseID+"/decisions", body, 201, &d)
		var got struct {
			LogIndex *int64 `json:"log_index"`
		}
		for range 300 {
			c.call(p.official, "GET", "/api/v1/decisions/"+d.ID, nil, 200, &got)
			if got.LogIndex != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if got.LogIndex == nil {
			t.Fatalf("decision %s not logged", d.ID)
		}
		code, b := c.try(p.official, "GET", "/api/v1/decisions/"+d.ID+"/bundle", nil, nil)
		if code != 200 {
			t.Fatalf("download bundle: %d %s", code, b)
		}
		return b, d.ID
	}

	decisionPub := filepath.Join(sf.data, "decision.pub")
	homeKey, err := loadPublicKey(decisionPub)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// Not joint: one signature by decision.key, exactly as before.
	plain, _ := decide(submitCase(t, base, p.dev, refURL, modelDir, dossier), false)
	if ids := dsseSignatures(t, plain); len(ids) != 1 {
		t.Fatalf("a decision that is not joint has %d signatures, want 1", len(ids))
	}
	if _, err := attest.VerifyDecision(plain, homeKey); err != nil {
		t.Fatalf("the decision of a case that is not joint does not verify with decision.pub: %v", err)
	}
	if _, err := os.Stat(filepath.Join(sf.data, "keys", second.ID+".key")); !os.IsNotExist(err) {
		t.Errorf("the second agency's key exists before it signed anything: %v", err)
	}
	plainPath := filepath.Join(dir, "plain.bundle")
	os.WriteFile(plainPath, plain, 0o644)

	// Joint: the lead's signature first, then the second agency's.
	jointBundle, jointID := decide(submitCase(t, base, p.dev, refURL, otherDir, dossier), true)
	secondPub := filepath.Join(sf.data, "keys", second.ID+".pub")
	st, err := os.Stat(filepath.Join(sf.data, "keys", second.ID+".key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the second agency's key: %v, %v; want mode 0600", st, err)
	}
	secondKey, err := loadPublicKey(secondPub)
	if err != nil {
		t.Fatal(err)
	}
	ids := dsseSignatures(t, jointBundle)
	if want := []string{attest.KeyHint(homeKey), attest.KeyHint(secondKey)}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("joint decision's signatures %v, want the lead's then the second agency's %v", ids, want)
	}
	jointPath := filepath.Join(dir, "joint.bundle")
	os.WriteFile(jointPath, jointBundle, 0o644)

	// x is an agency that did not sign.
	if k, err := attest.GenerateKey(); err != nil {
		t.Fatal(err)
	} else if err := attest.WriteKeyFiles(filepath.Join(dir, "x"), k, nil); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"both agencies", []string{"--bundle", jointPath, "--key", "lead=" + decisionPub, "--key", "b=" + secondPub, "--require-signers", "lead,b", "--model", otherDir}, 0, []string{"signed by: b, lead", "signer policy met", "verified"}},
		{"second key missing", []string{"--bundle", jointPath, "--key", "lead=" + decisionPub, "--key", "x=" + filepath.Join(dir, "x.pub"), "--require-signers", "lead,x"}, exitVerifySigners, []string{"x did not sign", "signed by: lead"}},
		{"lead key alone", []string{"--bundle", jointPath, "--key", decisionPub}, 0, []string{"verified"}},
		{"not joint, as before", []string{"--bundle", plainPath, "--key", decisionPub, "--model", modelDir}, 0, []string{"verified"}},
		{"not joint, co-signer required", []string{"--bundle", plainPath, "--key", "lead=" + decisionPub, "--key", "b=" + secondPub, "--require-signers", "lead,b"}, exitVerifySigners, []string{"b did not sign"}},
	} {
		code, out := clearanceRun(t, vars, append([]string{"verify"}, tc.args...)...)
		if code != tc.code {
			t.Fatalf("%s: verify %v: exit %d, want %d\n%s", tc.name, tc.args, code, tc.code, out)
		}
		for _, w := range tc.contains {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
	}

	// The service publishes both agencies' keys, with their names.
	var wk struct {
		DecisionKeys []struct{ Hint string } `json:"decisionKeys"`
		AgencyKeys   []struct {
			Org, Name, PEM, Hint string
		} `json:"agencyKeys"`
	}
	resp, err := http.Get(base + "/.well-known/clearance.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(body, &wk); err != nil {
		t.Fatalf("/.well-known/clearance.json: %v\n%s", err, body)
	}
	if len(wk.DecisionKeys) != 1 || wk.DecisionKeys[0].Hint != attest.KeyHint(homeKey) {
		t.Errorf("decisionKeys changed: %+v", wk.DecisionKeys)
	}
	if len(wk.AgencyKeys) != 2 || wk.AgencyKeys[0].Org != home.Org.ID || wk.AgencyKeys[0].Name != "Review Office" ||
		wk.AgencyKeys[0].Hint != attest.KeyHint(homeKey) || wk.AgencyKeys[1].Org != second.ID ||
		wk.AgencyKeys[1].Name != "Second Agency" || wk.AgencyKeys[1].Hint != attest.KeyHint(secondKey) {
		t.Errorf("agencyKeys = %+v", wk.AgencyKeys)
	} else if k, err := attest.ParsePublicKey([]byte(wk.AgencyKeys[1].PEM)); err != nil || !k.Equal(secondKey) {
		t.Errorf("agencyKeys[1].pem is not the second agency's key: %v", err)
	}
	// The public page names the signers.
	resp, err = http.Get(base + "/transparency/" + jointID)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(page, []byte(`<dd id="signers">Review Office, Second Agency`)) {
		t.Errorf("the public decision page does not name both signers:\n%s", page)
	}
}

// coDecision signs a new decision with every key (the first the lead's),
// logs it and publishes it.
func (s *publicSite) coDecision(keys ...*ecdsa.PrivateKey) string {
	s.t.Helper()
	return s.signed(true, func(d *attest.Decision) ([]byte, error) {
		return attest.CoSignDecisionDigest(keys, d, strings.Repeat("ab", 32))
	})
}

// TestVerifyFromCoSigned: verify --from applies --require-signers and
// --min-signers to trust entries: a decision co-signed by two agencies
// (each pinned in its own trust entry) meets a two-signer policy (0), and
// a policy naming an agency that did not sign is not met (19).
func TestVerifyFromCoSigned(t *testing.T) {
	s := newPublicSite(t)
	ctx := context.Background()
	nsa, err := attest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	aisi, err := attest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]*ecdsa.PrivateKey{"nsa": nsa, "aisi": aisi} {
		if err := attest.WriteKeyFiles(s.path(name), k, nil); err != nil {
			t.Fatal(err)
		}
		// Each agency has its own log, so each trust entry its own.
		if _, err := tlog.Init(ctx, s.path(name+"-log"), "clearance.test/"+name); err != nil {
			t.Fatal(err)
		}
	}
	co := s.coDecision(s.key, nsa)
	lead := s.decision(s.key, true)
	bad := s.coDecision(s.key, nsa)
	s.mu.Lock()
	b := s.bundles[bad]
	s.mu.Unlock()
	badPath := s.path("bad.bundle")
	os.WriteFile(s.path("co.bundle"), b, 0o644)
	corruptSignature(t, s.path("co.bundle"), badPath, 1)
	bb, _ := os.ReadFile(badPath)
	s.mu.Lock()
	s.bundles[bad] = bb // the receipt is of the good bytes: the signature fails first
	s.mu.Unlock()

	tf := s.path("trust.json")
	for _, args := range [][]string{
		{"trust", "add", "caisi", "--trust", tf, "--key", s.path("decider.pub"), "--log-key", filepath.Join(s.logDir, "log.pub")},
		{"trust", "add", "nsa", "--trust", tf, "--key", s.path("nsa.pub"), "--log-key", filepath.Join(s.path("nsa-log"), "log.pub")},
		{"trust", "add", "aisi", "--trust", tf, "--key", s.path("aisi.pub"), "--log-key", filepath.Join(s.path("aisi-log"), "log.pub")},
	} {
		if code, out := clearanceRun(t, nil, args...); code != 0 {
			t.Fatalf("clearance %v: exit %d\n%s", args, code, out)
		}
	}
	vars := map[string]string{trustEnv: tf}
	page := func(id string) string { return s.url + "/transparency/" + id }
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"both required", []string{"--from", page(co), "--require-signers", "caisi,nsa"}, 0, []string{"signed by: caisi, nsa (trust entries", "signer policy met", "logged in " + fromOrigin, "verified"}},
		{"two of the trust file", []string{"--from", page(co), "--min-signers", "2", "--format", "json"}, 0, []string{`"signers": [`, `"nsa"`}},
		{"no policy, as before", []string{"--from", page(co)}, 0, []string{"trust entry caisi", "verified"}},
		{"named agency did not sign", []string{"--from", page(co), "--require-signers", "caisi,aisi"}, exitVerifySigners, []string{"aisi did not sign", "signed by: caisi, nsa"}},
		{"too few", []string{"--from", page(co), "--min-signers", "3"}, exitVerifySigners, []string{"2 trust entries signed"}},
		{"one-signature decision", []string{"--from", page(lead), "--require-signers", "caisi,nsa"}, exitVerifySigners, []string{"nsa did not sign"}},
		{"corrupted co-signature", []string{"--from", page(bad), "--require-signers", "caisi,nsa"}, exitVerifySignature, []string{"signature by nsa"}},
		{"unknown entry", []string{"--from", page(co), "--require-signers", "caisi,bob"}, 2, []string{"no entry of that name"}},
		{"more than the entries", []string{"--from", page(co), "--min-signers", "4"}, 2, []string{"has 3 entries"}},
	} {
		code, out := clearanceRun(t, vars, append([]string{"verify"}, tc.args...)...)
		if code != tc.code {
			t.Fatalf("%s: verify %v: exit %d, want %d\n%s", tc.name, tc.args, code, tc.code, out)
		}
		for _, w := range tc.contains {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
	}
}

// TestCoSignedAgencyKeys: an agency's key put in DATA/keys in advance is
// the one that signs, a missing one is generated once and kept, the
// service's own agency signs with DATA/decision.key, an org id that is not
// one never reaches the file system, and a store with no agency yet
// publishes no agency keys (rather than failing).
func TestCoSignedAgencyKeys(t *testing.T) {
	ctx := context.Background()
	sf := serviceFlags{data: privateDir(t)}
	st, closeStore, err := sf.openStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	e, _ := quietEnv()
	svc, err := sf.service(e, st)
	if err != nil {
		t.Fatal(err)
	}
	home, err := attest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k := newAgencyKeys(sf.data, home, st, e.log)
	if got, err := k.published(ctx); err != nil || len(got) != 0 {
		t.Fatalf("published before bootstrap = %v, %v; want none", got, err)
	}
	admin, _, err := svc.Bootstrap(ctx, "Home Office", "root", "")
	if err != nil {
		t.Fatal(err)
	}
	pre, err := svc.CreateOrg(ctx, admin, "Provisioned Agency", review.OrgAgency)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := svc.CreateOrg(ctx, admin, "Fresh Agency", review.OrgAgency)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateOrg(ctx, admin, "Lab", review.OrgDeveloper); err != nil {
		t.Fatal(err)
	}
	preKey, err := attest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(sf.data, "keys"), 0o700)
	if err := attest.WriteKeyFiles(filepath.Join(sf.data, "keys", pre.ID), preKey, nil); err != nil {
		t.Fatal(err)
	}
	c := review.Case{ID: "case_1", Agencies: []review.CaseAgency{{OrgID: fresh.ID}, {OrgID: admin.Org.ID, Lead: true}, {OrgID: pre.ID}}}
	keys, err := k.signingKeys(ctx, c, review.Decision{Concurring: []string{fresh.ID, pre.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || !keys[0].Equal(home) || !keys[2].Equal(preKey) || keys[1].Equal(home) || keys[1].Equal(preKey) {
		t.Fatalf("signing keys: want the home key (lead), then the fresh agency's, then the provisioned one")
	}
	// An agency that did not concur does not sign.
	some, err := k.signingKeys(ctx, c, review.Decision{Concurring: []string{pre.ID}})
	if err != nil || len(some) != 2 || !some[0].Equal(home) || !some[1].Equal(preKey) {
		t.Fatalf("signing keys with only the provisioned agency concurring: %d keys, %v", len(some), err)
	}
	again, err := newAgencyKeys(sf.data, home, st, e.log).key(ctx, fresh.ID)
	if err != nil || !again.Equal(keys[1]) {
		t.Errorf("the generated key is not kept: %v", err)
	}
	if _, err := k.key(ctx, "org_../../x"); err == nil || !strings.Contains(err.Error(), "not an organisation id") {
		t.Errorf("key of a bad org id: %v", err)
	}
	pub, err := k.published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range pub {
		names = append(names, a.Org)
	}
	if want := "[Home Office Provisioned Agency Fresh Agency]"; fmt.Sprint(names) != want {
		t.Errorf("published agencies %v, want %s", names, want)
	}
}
