package ui_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/web/ui"
)

// TestWellKnownAgencyKeys checks that the agencies' decision keys are
// published in /.well-known/clearance.json with their organisations, and
// that a decision's public page names the agency whose key id its
// signature carries, or says that the key is not published here.
func TestWellKnownAgencyKeys(t *testing.T) {
	key, err := attest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := attest.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	other, err := attest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	var published []*ecdsa.PublicKey
	e := newEnv(t, func(c *envConfig) {
		c.signer, c.deciderKey = attestSigner{key}, pub
		c.agencyKeys = func(context.Context) ([]ui.AgencyKey, error) {
			var out []ui.AgencyKey
			for i, k := range published {
				out = append(out, ui.AgencyKey{OrgID: []string{"org_01", "org_02"}[i], Org: []string{"Home Office", "Second Agency"}[i], Key: k})
			}
			return out, nil
		}
	})
	c := e.submit(t, "devA", "frontier-x")
	d := decideAs(t, e, c, `{"us-caisi":{"outcome":"cleared"},"eu-gpai":{"outcome":"cleared"}}`)
	anon := e.client(t)

	published = []*ecdsa.PublicKey{&key.PublicKey, &other.PublicKey}
	p := anon.get(t, "/.well-known/clearance.json")
	var wk struct {
		DecisionKeys []struct{ Hint string }                 `json:"decisionKeys"`
		AgencyKeys   []struct{ Org, Name, PEM, Hint string } `json:"agencyKeys"`
	}
	if err := json.Unmarshal([]byte(p.body), &wk); err != nil {
		t.Fatalf("%v\n%s", err, p.body)
	}
	if len(wk.DecisionKeys) != 1 || len(wk.AgencyKeys) != 2 || wk.AgencyKeys[0].Org != "org_01" || wk.AgencyKeys[0].Name != "Home Office" ||
		wk.AgencyKeys[0].PEM != string(pub) || wk.AgencyKeys[0].Hint != attest.KeyHint(&key.PublicKey) ||
		wk.AgencyKeys[1].Name != "Second Agency" || wk.AgencyKeys[1].Hint != attest.KeyHint(&other.PublicKey) {
		t.Errorf("well-known keys: %s", p.body)
	}
	if page := anon.get(t, "/transparency/"+d.ID); !strings.Contains(page.body, `<dd id="signers">Home Office <span`) {
		t.Errorf("the public page does not name the signing agency:\n%s", page.body)
	}
	// A signature by a key the server does not publish is shown by key id.
	published = published[1:]
	if page := anon.get(t, "/transparency/"+d.ID); !strings.Contains(page.body, "1 key(s) not published here") ||
		!strings.Contains(page.body, htmlText(attest.KeyHint(&key.PublicKey))) || strings.Contains(page.body, "Second Agency") {
		t.Errorf("the public page does not show the unpublished signer:\n%s", page.body)
	}
}

// htmlText is s as html/template writes it in text: a base64 key id's
// '+' becomes &#43;.
func htmlText(s string) string { return strings.ReplaceAll(s, "+", "&#43;") }
