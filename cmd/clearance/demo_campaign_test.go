package main

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
)

// TestDemoCampaign: the demo's red-team campaign finds a universal attack
// on the vulnerable chat model, and after the developer's new version
// (the robust reference model) the automatic retest shows it no longer
// works.
func TestDemoCampaign(t *testing.T) {
	demo := sharedDemo(t)
	defer demo.stop()
	token := demoToken(t, filepath.Join(demo.data, "demo-tokens.txt"), "reviewer")
	c := &apiClient{base: demo.base, token: token, hc: http.DefaultClient}
	ctx := context.Background()
	var cases struct {
		Items []struct {
			ID        string `json:"id"`
			ModelName string `json:"model_name"`
		} `json:"items"`
	}
	if err := c.do(ctx, "GET", "/api/v1/cases", nil, nil, &cases); err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, k := range cases.Items {
		if k.ModelName == "contoso-chat-v2" {
			id = k.ID
		}
	}
	if id == "" {
		t.Fatalf("no demo case now on contoso-chat-v2 in %+v", cases.Items)
	}
	var camp struct {
		Attempts []struct {
			Universal    bool   `json:"universal"`
			TransferHits int    `json:"transfer_hits"`
			TransferN    int    `json:"transfer_n"`
			FindingID    string `json:"finding_id"`
		} `json:"attempts"`
		Overall struct {
			FirstUniversal *struct{ Attempts int } `json:"first_universal"`
		} `json:"overall"`
	}
	if err := c.do(ctx, "GET", "/api/v1/cases/"+id+"/campaign", nil, nil, &camp); err != nil {
		t.Fatal(err)
	}
	universal := 0
	for _, at := range camp.Attempts {
		if at.Universal && at.FindingID != "" {
			universal++
		}
	}
	if universal != 1 || camp.Overall.FirstUniversal == nil {
		t.Fatalf("demo campaign = %+v, want one universal attack with a finding", camp)
	}
	var sum struct {
		Versions  []struct{ Seq int } `json:"versions"`
		Retested  int                 `json:"retested"`
		StillWork int                 `json:"still_work"`
		State     string              `json:"state"`
		Judge     string              `json:"judge"`
	}
	if err := c.do(ctx, "GET", "/api/v1/cases/"+id+"/retests", nil, nil, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Versions) != 2 || sum.Retested != 1 || sum.StillWork != 0 || sum.State != "done" || sum.Judge != "offline harm scorer" {
		t.Errorf("demo retests = %+v, want 2 versions and the attack retested (done, by the offline harm scorer), no longer working", sum)
	}
	// The demo's red-teamer has a token and sees the campaign.
	red := &apiClient{base: demo.base, token: demoToken(t, filepath.Join(demo.data, "demo-tokens.txt"), "redteamer"), hc: http.DefaultClient}
	var own struct {
		Attempts []struct{ ID string } `json:"attempts"`
	}
	if err := red.do(ctx, "GET", "/api/v1/cases/"+id+"/campaign", nil, nil, &own); err != nil || len(own.Attempts) == 0 {
		t.Errorf("the campaign as the demo's red-teamer = %+v, %v; want its attempts", own, err)
	}
}
