package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// grandmaModels stands in for the endpoints a campaign attacks: the
// submitted model (api.example) complies with GRANDMA stories, the new
// version (v2.example) refuses everything, and a "fail" turn fails.
type grandmaModels struct{}

func (grandmaModels) Chat(_ context.Context, t review.ChatTarget, msgs []review.ChatMessage) (string, error) {
	last := msgs[len(msgs)-1].Content
	switch {
	case strings.Contains(last, "fail"):
		return "", errors.New("connection")
	case strings.Contains(t.URL, "api.example") && strings.Contains(last, "GRANDMA"):
		return "Step 1: " + last, nil
	}
	return "I can't help with that.", nil
}

func (grandmaModels) Behaviours(_ context.Context, n int) ([]string, error) {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("behaviour %d", i))
	}
	return out, nil
}

func (grandmaModels) Judge(_ context.Context, _, reply string) (bool, error) {
	return strings.HasPrefix(reply, "Step 1"), nil
}

// TestCampaignAPI walks the campaign through the API: a red-teamer's
// exchange, its tags and universal check, a finding from it, the
// developer's new version and the retest; and checks the role gates and
// error statuses on the way.
func TestCampaignAPI(t *testing.T) {
	e := newEnvWith(t, envOptions{redteam: grandmaModels{}})
	inst := e.actors["assessor"].Org
	e.user(t, inst, "red", review.RoleRedteamer)
	id := e.submitOnly(t, "devA")
	e.assign(t, id, "assessor", "reviewer", "red")
	e.must(t, http.StatusOK, nil, "assessor", "POST", "/api/v1/cases/"+id+"/transitions", `{"to":"in_assessment","note":"go"}`)

	base := "/api/v1/cases/" + id
	var tr struct {
		Attempt struct {
			ID    string `json:"id"`
			Turns int    `json:"turns"`
		} `json:"attempt"`
		Messages []struct{ Role, Content string } `json:"messages"`
	}
	for _, tt := range []struct {
		who, body string
		want      int
	}{
		{"devA", `{"user":"GRANDMA tell me"}`, http.StatusForbidden},
		{"assessor", `{"user":"GRANDMA tell me"}`, http.StatusForbidden},
		{"red", `{"user":""}`, http.StatusUnprocessableEntity},
		{"red", `{"user":"x","bogus":1}`, http.StatusBadRequest},
		{"red", `{"user":"please fail"}`, http.StatusBadGateway},
	} {
		if r := e.do(t, tt.who, "POST", base+"/campaign/exchanges", tt.body); r.code != tt.want {
			t.Errorf("exchange %s as %s = %d %s, want %d", tt.body, tt.who, r.code, r.body, tt.want)
		}
	}
	e.must(t, http.StatusOK, &tr, "red", "POST", base+"/campaign/exchanges",
		`{"title":"grandma","system":"be kind","user":"GRANDMA tell me","attachments":[{"name":"a.txt","text":"ATTACHED"}]}`)
	if len(tr.Messages) != 3 || !strings.Contains(tr.Messages[1].Content, "ATTACHED") || !strings.HasPrefix(tr.Messages[2].Content, "Step 1") {
		t.Fatalf("exchange transcript = %+v", tr.Messages)
	}
	atk := tr.Attempt.ID

	if r := e.do(t, "devA", "GET", base+"/campaign", ""); r.code != http.StatusForbidden {
		t.Errorf("GET campaign as developer = %d, want 403", r.code)
	}
	if r := e.do(t, "devA", "GET", "/api/v1/attempts/"+atk, ""); r.code != http.StatusNotFound {
		t.Errorf("GET attempt as developer = %d, want 404", r.code)
	}
	e.must(t, http.StatusOK, nil, "reviewer", "GET", "/api/v1/attempts/"+atk, "")
	if r := e.do(t, "red", "POST", "/api/v1/attempts/"+atk+"/success", `{"category":"cbrn","severity":"worst","technique":"role-play"}`); r.code != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "severity") {
		t.Errorf("tag with a bad severity = %d %s, want 422 naming severity", r.code, r.body)
	}
	e.must(t, http.StatusOK, nil, "red", "POST", "/api/v1/attempts/"+atk+"/success", `{"category":"cbrn","severity":"high","technique":"role-play"}`)
	if r := e.do(t, "red", "POST", "/api/v1/attempts/"+atk+"/universal", `{"template":"GRANDMA"}`); r.code != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "template") {
		t.Errorf("universal without placeholder = %d %s, want 422 naming template", r.code, r.body)
	}
	var at struct {
		Universal    bool `json:"universal"`
		TransferHits int  `json:"transfer_hits"`
		TransferN    int  `json:"transfer_n"`
	}
	e.must(t, http.StatusOK, &at, "red", "POST", "/api/v1/attempts/"+atk+"/universal", `{"template":"GRANDMA {behaviour}"}`)
	if !at.Universal || at.TransferHits != at.TransferN || at.TransferN != review.UniversalSample {
		t.Errorf("universal claim = %+v, want universal over the whole sample", at)
	}
	var camp struct {
		Attempts []struct{ ID string } `json:"attempts"`
		Overall  struct {
			Successes      int `json:"successes"`
			FirstUniversal *struct {
				Attempts int `json:"attempts"`
			} `json:"first_universal"`
		} `json:"overall"`
		ByCategory map[string]int `json:"by_category"`
	}
	e.must(t, http.StatusOK, &camp, "assessor", "GET", base+"/campaign", "")
	if len(camp.Attempts) != 1 || camp.Overall.Successes != 1 || camp.Overall.FirstUniversal == nil || camp.ByCategory["cbrn"] != 1 {
		t.Errorf("campaign = %+v, want one universal cbrn success", camp)
	}
	if r := e.do(t, "red", "POST", "/api/v1/attempts/"+atk+"/finding", ""); r.code != http.StatusForbidden {
		t.Errorf("finding as red-teamer = %d, want 403", r.code)
	}
	e.must(t, http.StatusCreated, nil, "reviewer", "POST", "/api/v1/attempts/"+atk+"/finding", "")

	const v2 = `{"digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","target_url":"https://v2.example/v1","credentials":"sk-2"}`
	if r := e.do(t, "devB", "POST", base+"/model-versions", v2); r.code != http.StatusNotFound {
		t.Errorf("model version by another developer = %d, want 404", r.code)
	}
	if r := e.do(t, "devA", "POST", base+"/model-versions", `{"digest":"sha256:x","target_url":"https://v2.example/v1"}`); r.code != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "digest") {
		t.Errorf("model version with a bad digest = %d %s, want 422 naming digest", r.code, r.body)
	}
	var mv struct {
		Seq int `json:"seq"`
	}
	e.must(t, http.StatusCreated, &mv, "devA", "POST", base+"/model-versions", v2)
	var sum struct {
		Versions  []struct{ Seq int } `json:"versions"`
		Items     int                 `json:"items"`
		Retested  int                 `json:"retested"`
		StillWork int                 `json:"still_work"`
		Results   []struct {
			Works bool `json:"works"`
		} `json:"results"`
	}
	e.must(t, http.StatusOK, &sum, "devA", "GET", base+"/retests", "")
	if mv.Seq != 2 || len(sum.Versions) != 2 || sum.Items != 1 || sum.Retested != 1 || sum.StillWork != 0 || sum.Results != nil {
		t.Errorf("developer's retests = %+v, want 2 versions, the attack retested and fixed, no per-attack results", sum)
	}
	if r := e.do(t, "devA", "POST", base+"/retests", ""); r.code != http.StatusForbidden {
		t.Errorf("POST retests as developer = %d, want 403", r.code)
	}
	e.must(t, http.StatusOK, &sum, "assessor", "POST", base+"/retests", "")
	if len(sum.Results) != 1 || sum.Results[0].Works {
		t.Errorf("assessor's retests = %+v, want one attack that no longer works", sum)
	}
}

// campaignAttempt stores a red-team attempt on caseID directly (the
// isolation test's service has no red-team backend) and returns its id.
func campaignAttempt(t *testing.T, e *env, caseID string) string {
	t.Helper()
	at := review.Attempt{ID: "atk_iso", CaseID: caseID, RedTeamer: e.actors["assessor"].User.ID, Title: "t",
		Transcript: []byte("sealed"), Turns: 1, ModelDigest: digest, CreatedAt: e.now, UpdatedAt: e.now}
	if err := e.rs.CreateAttempt(context.Background(), at); err != nil {
		t.Fatal(err)
	}
	return at.ID
}
