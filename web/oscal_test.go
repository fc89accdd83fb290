package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/oscal"
)

// TestOscalExport exports the fixture's cases through
// GET /api/v1/cases/{id}/oscal as their developer and as staff: every
// kind is served, validates against NIST's schema, and the decided
// case's results reference its bundle by the SHA-256 of its exact bytes.
func TestOscalExport(t *testing.T) {
	e := newEnv(t)
	f := setup(t, e)
	for _, who := range []string{"devA", "reviewer", "official"} {
		for _, c := range []string{f.open, f.decided} {
			for _, k := range oscal.Kinds() {
				r := e.do(t, who, "GET", "/api/v1/cases/"+c+"/oscal?kind="+string(k), "")
				if r.code != 200 {
					t.Fatalf("%s: GET oscal %s of %s = %d %s", who, k, c, r.code, r.body)
				}
				if ct := r.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
				if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, oscal.FileName(c, k)) {
					t.Errorf("Content-Disposition = %q", cd)
				}
				if err := oscal.Validate(k, r.body); err != nil {
					t.Errorf("%s of %s: %v", k, c, err)
				}
			}
		}
	}
	r := e.do(t, "devA", "GET", "/api/v1/cases/"+f.decided+"/oscal?kind=ar", "")
	var doc oscal.ARDocument
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("signed:" + f.decided + ":" + f.decision))
	found := false
	for _, res := range doc.AssessmentResults.BackMatter.Resources {
		for _, l := range res.RLinks {
			for _, h := range l.Hashes {
				if h.Algorithm == "SHA-256" && h.Value == hex.EncodeToString(sum[:]) && l.Href == "/api/v1/decisions/"+f.decision+"/bundle" {
					found = true
					if links := doc.AssessmentResults.Results[0].Links; len(links) != 1 || links[0].Href != "#"+res.UUID {
						t.Errorf("result links %+v, want #%s", links, res.UUID)
					}
				}
			}
		}
	}
	if !found {
		t.Errorf("AR back matter has no resource with the bundle's SHA-256 %x:\n%s", sum, r.body)
	}
	// The open case's POA&M has its finding, with the developer's response.
	r = e.do(t, "devA", "GET", "/api/v1/cases/"+f.open+"/oscal?kind=poam", "")
	var poam oscal.POAMDocument
	if err := json.Unmarshal(r.body, &poam); err != nil {
		t.Fatal(err)
	}
	if len(poam.POAM.Risks) != 1 || len(poam.POAM.Risks[0].Remediations) != 1 || poam.POAM.Risks[0].Remediations[0].Description != "fixed" ||
		poam.POAM.Risks[0].Deadline == "" {
		t.Errorf("POA&M risks = %+v, want the finding with its deadline and the response \"fixed\"", poam.POAM.Risks)
	}
}

// TestOscalAccess: the export has the case's authorisation: no token is
// 401, a developer of another organisation and an unassigned reviewer get
// 404 as for the case itself; a missing or unknown kind is 400 naming
// the kind.
func TestOscalAccess(t *testing.T) {
	e := newEnv(t)
	f := setup(t, e)
	tests := []struct {
		who, path string
		want      int
	}{
		{"", "/api/v1/cases/" + f.decided + "/oscal?kind=ar", 401},
		{"devB", "/api/v1/cases/" + f.decided + "/oscal?kind=ar", 404},
		{"devB", "/api/v1/cases/" + f.open + "/oscal?kind=poam", 404},
		{"reviewer2", "/api/v1/cases/" + f.open + "/oscal?kind=ap", 404},
		{"devA", "/api/v1/cases/nope/oscal?kind=ar", 404},
		{"devA", "/api/v1/cases/" + f.open + "/oscal?kind=ssp", 400},
		{"devA", "/api/v1/cases/" + f.open + "/oscal", 400},
	}
	for _, tt := range tests {
		r := e.do(t, tt.who, "GET", tt.path, "")
		if r.code != tt.want {
			t.Errorf("GET %s as %q = %d %s, want %d", tt.path, tt.who, r.code, r.body, tt.want)
		}
		if tt.want == 400 && !strings.Contains(string(r.body), "kind") {
			t.Errorf("GET %s: 400 body %s does not name the kind", tt.path, r.body)
		}
		// devB's 404 says what the case's own 404 says.
		if tt.who == "devB" {
			c := e.do(t, "devB", "GET", "/api/v1/cases/"+f.decided, "")
			var p1, p2 struct{ Type, Detail string }
			json.Unmarshal(r.body, &p1)
			json.Unmarshal(c.body, &p2)
			if c.code != 404 || p1 != p2 {
				t.Errorf("404 for oscal %s differs from the case's %d %s", r.body, c.code, c.body)
			}
		}
	}
}
