package main

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
)

// TestDemoVariants: the demo's assessments record the variant they
// tested: the profiles' plans (safeguard suites) on production, the
// cyber plans on helpful-only, each with the demo's scaffold version.
func TestDemoVariants(t *testing.T) {
	demo := sharedDemo(t)
	token := demoToken(t, filepath.Join(demo.data, "demo-tokens.txt"), "reviewer")
	c := &apiClient{base: demo.base, token: token, hc: http.DefaultClient}
	ctx := context.Background()
	var cases struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := c.do(ctx, "GET", "/api/v1/cases", nil, nil, &cases); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, cs := range cases.Items {
		var as struct {
			Items []struct {
				ID       string `json:"id"`
				Variant  string `json:"variant"`
				Scaffold string `json:"scaffold"`
				Imported bool   `json:"imported"`
			} `json:"items"`
		}
		if err := c.do(ctx, "GET", "/api/v1/cases/"+cs.ID+"/assessments", nil, nil, &as); err != nil {
			t.Fatal(err)
		}
		for _, a := range as.Items {
			seen[a.Variant]++
			if a.Variant == "" {
				t.Errorf("assessment %s has no variant label", a.ID)
			}
		}
	}
	if seen["production"] == 0 || seen["helpful-only"] == 0 {
		t.Errorf("demo variants = %v, want production and helpful-only assessments", seen)
	}
}
