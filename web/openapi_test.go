package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
)

type noEvidence struct{}

func (noEvidence) MissingEvidence(context.Context, review.Case) ([]string, error) { return nil, nil }

func newTestServer(t *testing.T) *Server {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	id, err := review.GenerateAgeIdentity()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := review.NewAgeSealer(id)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := review.New(review.Config{Store: db, Sealer: sealer, Evidence: noEvidence{}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Service: svc, LogHandler: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// undocumented lists the patterns registered on the mux that the
// document leaves out, and why.
var undocumented = map[string]string{
	"/api/v1/":  "catch-all answering 404 problem details for unknown /api/v1 paths",
	"GET /log/": "the transparency log, specified by its own protocol (tlog-tiles)",
}

// TestDocumentMatchesMux checks both ways that the OpenAPI document and
// the ServeMux agree: every registered pattern is documented with its
// method, and every documented operation is routed by the mux to the
// pattern of the same method and path.
func TestDocumentMatchesMux(t *testing.T) {
	s := newTestServer(t)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if rec.Code != 200 {
		t.Fatalf("GET openapi.json = %d", rec.Code)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+path] = true
		}
	}
	if len(documented) < 20 {
		t.Fatalf("only %d operations documented", len(documented))
	}

	// Mux → document.
	for _, p := range s.patterns {
		if _, ok := undocumented[p]; ok {
			continue
		}
		if !documented[p] {
			t.Errorf("pattern %q is served but not in the OpenAPI document", p)
		}
	}
	// Document → mux.
	for op := range documented {
		method, path, _ := strings.Cut(op, " ")
		concrete := pathParamRE.ReplaceAllString(path, "x1")
		req := httptest.NewRequest(method, concrete, nil)
		_, pattern := s.mux.Handler(req)
		if pattern != op {
			t.Errorf("documented %q: %s %s is routed to pattern %q", op, method, concrete, pattern)
		}
		if !slices.Contains(s.patterns, op) {
			t.Errorf("documented %q is not registered", op)
		}
	}
}

func TestSchemaName(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{caseJSON{}, "Case"},
		{list[caseJSON]{}, "CaseList"},
		{review.Submission{}, "Submission"},
		{createOrgRequest{}, "CreateOrgRequest"},
	} {
		schemas := map[string]any{}
		got := schemaOf(reflect.TypeOf(tc.v), schemas)
		if got["$ref"] != "#/components/schemas/"+tc.want {
			t.Errorf("schemaOf(%T) = %v, want ref to %s", tc.v, got, tc.want)
		}
		if schemas[tc.want] == nil {
			t.Errorf("schemaOf(%T) did not define %s", tc.v, tc.want)
		}
	}
}
