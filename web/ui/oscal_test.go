package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/oscal"
)

// TestOscalDownloads: the case page links the three OSCAL documents; each
// downloads, with the session's authorisation, as JSON that validates
// against NIST's schema. Another organisation's developer gets 404, a
// signed-out browser is sent to sign in, an unknown kind is 400.
func TestOscalDownloads(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-x")
	dev := e.client(t)
	dev.signIn(t, "devA")
	p := dev.get(t, "/cases/"+c.ID)
	for _, k := range oscal.Kinds() {
		href := "/cases/" + c.ID + "/oscal/" + string(k)
		if !strings.Contains(p.body, `href="`+href+`"`) {
			t.Errorf("case page has no link to %s", href)
		}
		d := dev.get(t, href)
		if d.code != http.StatusOK || d.header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s = %d %s %.300s", href, d.code, d.header.Get("Content-Type"), d.body)
		}
		if cd := d.header.Get("Content-Disposition"); !strings.Contains(cd, oscal.FileName(c.ID, k)) {
			t.Errorf("Content-Disposition = %q", cd)
		}
		if err := oscal.Validate(k, []byte(d.body)); err != nil {
			t.Errorf("%s: %v", href, err)
		}
	}
	// The stand-in evaluation is used: the AR names its profile.
	if ar := dev.get(t, "/cases/"+c.ID+"/oscal/ar"); !strings.Contains(ar.body, "Profile us-caisi") {
		t.Errorf("AR does not use the evaluation:\n%.2000s", ar.body)
	}
	if d := dev.get(t, "/cases/"+c.ID+"/oscal/ssp"); d.code != http.StatusBadRequest {
		t.Errorf("unknown kind = %d, want 400", d.code)
	}
	other := e.client(t)
	other.signIn(t, "devB")
	page404 := other.get(t, "/cases/"+c.ID)
	if d := other.get(t, "/cases/"+c.ID+"/oscal/ar"); d.code != http.StatusNotFound || page404.code != http.StatusNotFound {
		t.Errorf("devB: oscal %d, case page %d; want 404 for both", d.code, page404.code)
	}
	if d := e.client(t).get(t, "/cases/"+c.ID+"/oscal/ar"); d.code == http.StatusOK || strings.Contains(d.body, "assessment-results") {
		t.Errorf("signed out: %d %.200s, want no document", d.code, d.body)
	}
}
