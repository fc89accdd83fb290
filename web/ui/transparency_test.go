package ui_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/web/ui/uitest"
)

// attestSigner signs decisions as real Sigstore bundles with attest, as
// the server's signer does (rationale included), so that the public
// downloads can be verified as clearance verify does.
type attestSigner struct{ key *ecdsa.PrivateKey }

func (s attestSigner) SignDecision(_ context.Context, c review.Case, d review.Decision) ([]byte, error) {
	var outs map[string]struct {
		Outcome attest.Outcome `json:"outcome"`
	}
	if err := json.Unmarshal(d.Outcomes, &outs); err != nil {
		return nil, err
	}
	ad := &attest.Decision{CaseID: c.ID, DecisionID: d.ID, Outcome: attest.OutcomeCleared,
		DecidedAt: d.CreatedAt.UTC().Truncate(time.Second), Verifier: attest.Verifier{ID: "https://agency.example"},
		Model: attest.Model{Name: c.ModelName}}
	ids := make([]string, 0, len(outs))
	for id := range outs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		sum := sha256.Sum256([]byte(id))
		ad.Profiles = append(ad.Profiles, attest.ProfileOutcome{ID: id, Outcome: outs[id].Outcome, Rationale: d.Rationale,
			Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}})
		if outs[id].Outcome == attest.OutcomeRefused {
			ad.Outcome = attest.OutcomeRefused
		}
	}
	return attest.SignDecisionDigest(s.key, ad, strings.TrimPrefix(c.ModelDigest, "sha256:"))
}

// withDecider signs decisions with a fresh key and publishes its public
// key; it returns the key's PEM.
func withDecider(tb testing.TB) (envOption, []byte) {
	tb.Helper()
	key, err := attest.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := attest.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return func(c *envConfig) { c.signer, c.deciderKey = attestSigner{key}, pub }, pub
}

// flakyPublisher fails while down is set, leaving decisions unlogged.
type flakyPublisher struct {
	review.Publisher
	down *atomic.Bool
}

func (p flakyPublisher) Publish(ctx context.Context, entry []byte) (int64, []byte, error) {
	if p.down.Load() {
		return 0, nil, errors.New("log unavailable")
	}
	return p.Publisher.Publish(ctx, entry)
}

// wellKnownJSON is /.well-known/clearance.json as a verifier reads it.
type wellKnownJSON struct {
	Pinning      string `json:"pinning"`
	DecisionKeys []struct {
		PEM  string `json:"pem"`
		Hint string `json:"hint"`
	} `json:"decisionKeys"`
	Log *struct {
		Origin     string `json:"origin"`
		Key        string `json:"key"`
		URL        string `json:"url"`
		Checkpoint string `json:"checkpoint"`
	} `json:"log"`
	Witnesses    []struct{ Name, Key string } `json:"witnesses"`
	Transparency string                       `json:"transparency"`
}

func readWellKnown(tb testing.TB, c *client) wellKnownJSON {
	tb.Helper()
	p := c.get(tb, "/.well-known/clearance.json")
	if p.code != 200 || p.header.Get("Content-Type") != "application/json" {
		tb.Fatalf("/.well-known/clearance.json = %d %q:\n%s", p.code, p.header.Get("Content-Type"), p.body)
	}
	dec := json.NewDecoder(strings.NewReader(p.body))
	dec.DisallowUnknownFields()
	var wk wellKnownJSON
	if err := dec.Decode(&wk); err != nil {
		tb.Fatalf("/.well-known/clearance.json does not parse: %v\n%s", err, p.body)
	}
	return wk
}

// TestTransparencyDecisionPublicVerifies checks that a logged decision's
// public page is served without sign-in and shows its summary, the
// pinning warning and the commands but nothing confidential; that its
// bundle download is byte for byte the logged entry and, with its receipt
// saved under the names the page gives, verifies as clearance verify
// checks it (attest.VerifyDecision, tlog.VerifyReceipt) with the keys of
// /.well-known/clearance.json; and that a flipped byte does not.
func TestTransparencyDecisionPublicVerifies(t *testing.T) {
	opt, pubPEM := withDecider(t)
	e := newEnv(t, opt)
	ctx := context.Background()
	c := e.submit(t, "devA", "frontier-x")
	d := decideWith(t, e, c, `{"us-caisi":{"outcome":"cleared"},"eu-gpai":{"outcome":"refused"}}`, "confidential rationale")
	anon := e.client(t)

	list := anon.get(t, "/transparency")
	if !strings.Contains(list.body, `<a href="/transparency/`+d.ID+`">`) || !strings.Contains(list.body, "pinned out of band") {
		t.Errorf("/transparency does not link to the decision's page or lacks the pinning warning:\n%s", list.body)
	}

	page := anon.get(t, "/transparency/"+d.ID)
	if page.code != 200 {
		t.Fatalf("/transparency/%s signed out = %d:\n%s", d.ID, page.code, page.body)
	}
	pageURL := e.http.URL + "/transparency/" + d.ID
	bundleName := d.ID + ".bundle.json"
	for _, want := range []string{
		"frontier-x", digest, "Log index</dt><dd><strong>0</strong>", "clearance.test/decisions", "us-caisi: <span class=\"outcome outcome-cleared\">cleared</span>",
		"eu-gpai: <span class=\"outcome outcome-refused\">refused</span>",
		`href="/transparency/` + d.ID + `/bundle.json" download="` + bundleName + `"`,
		`href="/transparency/` + d.ID + `/receipt.json" download="` + bundleName + `.receipt.json"`,
		"curl -fsSL -o " + bundleName + " " + pageURL + "/bundle.json",
		"curl -fsSL -o " + bundleName + ".receipt.json " + pageURL + "/receipt.json",
		"clearance verify --bundle " + bundleName + " --key decider.pub --log-key log.pub</code>",
		"clearance verify --bundle " + bundleName + " --key decider.pub --log-key log.pub --log " + e.http.URL + "/log/",
		"clearance verify --from " + pageURL,
		"Keys must be pinned out of band", "must not trust keys served by the server it is checking",
		`href="/.well-known/clearance.json"`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("public decision page lacks %q", want)
		}
	}
	for _, secret := range []string{"confidential rationale", "sk-secret", "training_compute_flop", c.ID, "api.example"} {
		if strings.Contains(page.body, secret) {
			t.Errorf("public decision page shows confidential %q", secret)
		}
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("public decision page CSP = %q", csp)
	}

	b := anon.get(t, "/transparency/"+d.ID+"/bundle.json")
	if b.code != 200 || b.header.Get("Content-Type") != "application/json" ||
		b.header.Get("Content-Disposition") != `attachment; filename="`+bundleName+`"` {
		t.Fatalf("bundle download = %d %q %q", b.code, b.header.Get("Content-Type"), b.header.Get("Content-Disposition"))
	}
	r := anon.get(t, "/transparency/"+d.ID+"/receipt.json")
	if r.code != 200 || r.header.Get("Content-Type") != "application/json" ||
		r.header.Get("Content-Disposition") != `attachment; filename="`+tlog.ReceiptPath(bundleName)+`"` {
		t.Fatalf("receipt download = %d %q %q", r.code, r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
	}
	// The long names serve the same bytes (for curl -O).
	if p := anon.get(t, "/transparency/"+d.ID+"/"+bundleName); p.body != b.body {
		t.Error("…/ID.bundle.json differs from …/bundle.json")
	}
	if p := anon.get(t, "/transparency/"+d.ID+"/"+tlog.ReceiptPath(bundleName)); p.body != r.body {
		t.Error("…/ID.bundle.json.receipt.json differs from …/receipt.json")
	}

	// Byte for byte what was stored, logged and recorded.
	stored, err := e.svc.GetDecision(ctx, e.actors["official"], d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal([]byte(b.body), stored.Bundle) || !bytes.Equal([]byte(r.body), stored.Receipt) {
		t.Fatal("downloaded bundle or receipt differs from the stored bytes")
	}
	src, err := tlog.OpenSource(e.logDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	vkeyFile, err := tlog.ReadVerifierKey(filepath.Join(e.logDir, tlog.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	_, entry, err := tlog.Prove(ctx, src, vkeyFile, uint64(stored.LogIndex))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(entry, []byte(b.body)) {
		t.Fatal("downloaded bundle differs from the log's entry at its index")
	}

	// Verify with keys from /.well-known/clearance.json, as saved files.
	wk := readWellKnown(t, anon)
	if len(wk.DecisionKeys) != 1 || wk.DecisionKeys[0].PEM != string(pubPEM) || wk.Log == nil {
		t.Fatalf("well-known keys = %+v", wk)
	}
	dir := t.TempDir()
	bundlePath := filepath.Join(dir, bundleName)
	if err := os.WriteFile(bundlePath, []byte(b.body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, tlog.ReceiptPath(bundleName)), []byte(r.body), 0o644); err != nil {
		t.Fatal(err)
	}
	pub, err := attest.ParsePublicKey([]byte(wk.DecisionKeys[0].PEM))
	if err != nil {
		t.Fatal(err)
	}
	verify := func(bundle []byte) (decErr, logErr error) {
		_, decErr = attest.VerifyDecision(bundle, pub)
		raw, err := os.ReadFile(tlog.ReceiptPath(bundlePath)) // where clearance verify looks by default
		if err != nil {
			t.Fatal(err)
		}
		rc, err := tlog.ParseReceipt(raw)
		if err != nil {
			t.Fatalf("parse downloaded receipt: %v", err)
		}
		_, logErr = tlog.VerifyReceipt(bundle, rc, wk.Log.Key)
		return decErr, logErr
	}
	saved, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	if decErr, logErr := verify(saved); decErr != nil || logErr != nil {
		t.Fatalf("downloaded bundle does not verify: signature %v, receipt %v", decErr, logErr)
	}

	// A flipped byte anywhere fails: the receipt no longer includes it,
	// and a byte of the signed payload breaks the signature too.
	payload := bytes.Index(saved, []byte(`"payload"`)) + len(`"payload": "`) + 20
	for _, at := range []int{0, len(saved) / 2, payload, len(saved) - 2} {
		bad := bytes.Clone(saved)
		bad[at] ^= 0x01
		decErr, logErr := verify(bad)
		if !errors.Is(logErr, tlog.ErrNotIncluded) {
			t.Errorf("byte %d flipped: receipt check = %v, want ErrNotIncluded", at, logErr)
		}
		if at == payload && decErr == nil {
			t.Errorf("byte %d (payload) flipped: signature still verifies", at)
		}
	}
}

// TestTransparencyDecisionNotFound checks that unknown ids, things that
// are not decision ids and unknown files get a 404 page, never a 500, and
// that a decision not yet in the log gets a page saying it has no receipt
// yet, and its page once it is logged.
func TestTransparencyDecisionNotFound(t *testing.T) {
	down := &atomic.Bool{}
	e := newEnv(t, func(c *envConfig) {
		c.publisher = func(p review.Publisher) review.Publisher { return flakyPublisher{p, down} }
	})
	anon := e.client(t)
	unknown := "dec_" + strings.Repeat("0a", 16)
	for _, path := range []string{
		"/transparency/" + unknown, "/transparency/" + unknown + "/bundle.json", "/transparency/" + unknown + "/receipt.json",
		"/transparency/dec_XYZ", "/transparency/case_0123", "/transparency/decisions", "/transparency/" + strings.Repeat("a", 5000),
		"/transparency/dec_%00", "/transparency/dec_0a/",
	} {
		p := anon.get(t, path)
		if p.code != 404 {
			t.Errorf("GET %s = %d, want 404:\n%s", path, p.code, p.body)
		}
	}
	if p := anon.get(t, "/transparency/"+unknown); !strings.Contains(p.body, "No logged decision") {
		t.Errorf("unknown decision page does not say so:\n%s", p.body)
	}

	down.Store(true)
	c := e.submit(t, "devA", "frontier-x")
	d := decideAs(t, e, c, `{"us-caisi":{"outcome":"cleared"},"eu-gpai":{"outcome":"cleared"}}`)
	for _, path := range []string{"/transparency/" + d.ID, "/transparency/" + d.ID + "/bundle.json", "/transparency/" + d.ID + "/receipt.json"} {
		p := anon.get(t, path)
		if p.code != 404 || !strings.Contains(p.body, "no receipt yet") || strings.Contains(p.body, "frontier-x") {
			t.Errorf("GET %s before it is logged = %d:\n%s", path, p.code, p.body)
		}
	}
	down.Store(false)
	if n, err := e.svc.PublishPending(context.Background()); err != nil || n != 1 {
		t.Fatalf("PublishPending = %d, %v", n, err)
	}
	if p := anon.get(t, "/transparency/"+d.ID); p.code != 200 || !strings.Contains(p.body, "frontier-x") {
		t.Errorf("GET /transparency/%s once logged = %d", d.ID, p.code)
	}
	if p := anon.get(t, "/transparency/"+d.ID+"/other.json"); p.code != 404 {
		t.Errorf("unknown file of a logged decision = %d, want 404", p.code)
	}
	// The test env's decider key is not a real key: it is left out of
	// the well-known document, which is still served.
	if wk := readWellKnown(t, anon); len(wk.DecisionKeys) != 0 {
		t.Errorf("a decider key that does not parse is published: %+v", wk.DecisionKeys)
	}
}

// TestWellKnownClearance checks /.well-known/clearance.json: served at the
// root without sign-in, with the decision key and its hint, the log's
// origin, key and URL, an empty witness list and the pinning statement;
// and that its log key verifies a downloaded receipt's checkpoint. The
// how-to page says that keys are pinned out of band.
func TestWellKnownClearance(t *testing.T) {
	opt, pubPEM := withDecider(t)
	e := newEnv(t, opt)
	c := e.submit(t, "devA", "frontier-x")
	d := decideAs(t, e, c, `{"us-caisi":{"outcome":"cleared"},"eu-gpai":{"outcome":"cleared"}}`)
	anon := e.client(t)
	wk := readWellKnown(t, anon)
	pub, err := attest.ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if len(wk.DecisionKeys) != 1 || wk.DecisionKeys[0].PEM != string(pubPEM) || wk.DecisionKeys[0].Hint != attest.KeyHint(pub) {
		t.Errorf("decisionKeys = %+v", wk.DecisionKeys)
	}
	file, err := os.ReadFile(filepath.Join(e.logDir, tlog.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if wk.Log == nil || wk.Log.Origin != "clearance.test/decisions" || wk.Log.Key != strings.TrimSpace(string(file)) ||
		wk.Log.URL != e.http.URL+"/log/" || wk.Log.Checkpoint != e.http.URL+"/log/checkpoint" {
		t.Errorf("log = %+v", wk.Log)
	}
	if wk.Witnesses == nil || len(wk.Witnesses) != 0 {
		t.Errorf("witnesses = %#v, want []", wk.Witnesses)
	}
	if !strings.Contains(wk.Pinning, "pinned out of band") || !strings.Contains(wk.Pinning, "must not trust keys served by the server") {
		t.Errorf("pinning = %q", wk.Pinning)
	}
	if wk.Transparency != e.http.URL+"/transparency" {
		t.Errorf("transparency = %q", wk.Transparency)
	}
	r := anon.get(t, "/transparency/"+d.ID+"/receipt.json")
	rc, err := tlog.ParseReceipt([]byte(r.body))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := tlog.ParseCheckpoint([]byte(rc.Checkpoint), wk.Log.Key)
	if err != nil || cp.Origin != wk.Log.Origin {
		t.Errorf("well-known log key does not verify the receipt's checkpoint: %v", err)
	}
	g := anon.get(t, "/transparency/verify")
	for _, want := range []string{"Keys must be pinned out of band", "must not trust keys served by the server it is checking",
		`href="/.well-known/clearance.json"`, "clearance verify --from"} {
		if !strings.Contains(g.body, want) {
			t.Errorf("/transparency/verify lacks %q", want)
		}
	}
}

// TestBrowserPublicDecision follows, signed out in Chromium, the link from
// /transparency to a decision's public page, which shows the summary, the
// pinning warning and the commands without overflowing the window.
func TestBrowserPublicDecision(t *testing.T) {
	opt, _ := withDecider(t)
	e := newEnv(t, opt)
	b := uitest.New(t, e.http.URL)
	c := e.submit(t, "devA", "frontier-x")
	d := decideAs(t, e, c, `{"us-caisi":{"outcome":"cleared"},"eu-gpai":{"outcome":"refused"}}`)
	as(t, b, e, "")
	b.Open("/transparency")
	b.Submit(`a[href="/transparency/` + d.ID + `"]`)
	b.WantText("h1", "frontier-x")
	b.WantText("#pinning", "pinned out of band")
	b.WantText("main", d.ID+".bundle.json", "clearance verify --from "+e.http.URL+"/transparency/"+d.ID, "refused")
	if w := eval(t, b, `String(document.documentElement.scrollWidth <= window.innerWidth)`); w != "true" {
		t.Errorf("public decision page overflows the window horizontally")
	}
	b.Screenshot("public-decision")
}
