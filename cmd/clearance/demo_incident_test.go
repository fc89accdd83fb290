package main

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// TestDemoIncident: the demo files one incident (weight exfiltration)
// against a cleared demo decision, with the duties of the demo's regimes:
// the EU Code of Practice's 5-day initial and 28-day intermediate reports
// and SB 53's 15 days.
func TestDemoIncident(t *testing.T) {
	demo := sharedDemo(t)
	token := demoToken(t, filepath.Join(demo.data, "demo-tokens.txt"), "reviewer")
	c := &apiClient{base: demo.base, token: token, hc: http.DefaultClient}
	ctx := context.Background()
	var is struct {
		Items []review.Incident `json:"items"`
	}
	if err := c.do(ctx, "GET", "/api/v1/incidents", nil, nil, &is); err != nil {
		t.Fatal(err)
	}
	if len(is.Items) != 1 || is.Items[0].Class != review.ClassCyber {
		t.Fatalf("demo incidents = %+v, want one cyber incident", is.Items)
	}
	var v review.IncidentView
	if err := c.do(ctx, "GET", "/api/v1/incidents/"+is.Items[0].ID, nil, nil, &v); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, d := range v.Duties {
		got[d.Profile+"/"+string(d.Kind)] = d.DueAt.Sub(v.DiscoveredAt).Hours() / 24
	}
	for k, days := range map[string]float64{"eu-ai-act-gpai-sr/initial": 5, "eu-ai-act-gpai-sr/intermediate": 28, "ca-sb-53/initial": 15} {
		if got[k] != days {
			t.Errorf("demo duty %s due %v days after discovery, want %v (duties %v)", k, got[k], days, got)
		}
	}
}
