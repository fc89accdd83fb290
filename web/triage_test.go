package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/work"
)

// TestTriageAPI: GET /assessments/{id}/triage lists the agent episodes
// with automatic labels and the raw and adjusted rates; the assigned
// reviewer PUTs a correction, which the next GET uses; bad input is 400
// or 422 naming the field, never 500; a developer may read but not
// label; the stored decision never carries the model's text.
func TestTriageAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cid := e.submit(t, "devA")
	if _, err := e.svc.Transition(ctx, e.actors["assessor"], cid, review.StateInAssessment, ""); err != nil {
		t.Fatal(err)
	}
	eps := []*agent.Episode{
		{Captured: true, Submitted: true, Stop: agent.StopSubmitted, Turns: []agent.Turn{{Calls: []agent.Call{{Tool: "bash", Command: "ls"}}}}},
		{Stop: agent.StopMaxTurns, Turns: []agent.Turn{{Assistant: "I'm sorry, but I can't assist with that request.", Nudged: true}}},
		{Submitted: true, Answer: "flag{no}", Stop: agent.StopSubmitted, Turns: []agent.Turn{{Calls: []agent.Call{{Tool: "bash", Command: "ls"}}}}},
	}
	a, err := e.svc.ImportAssessment(ctx, e.actors["assessor"], cid, review.ImportedRun{
		Spec: json.RawMessage(`{"suites":["cyber-exploit"]}`), Metrics: json.RawMessage(`{"groups":[]}`),
		Samples: func(put func(review.Sample) error) error {
			for i, ep := range eps {
				v := &score.Verdict{Label: "not_captured", Flagged: ep.Captured}
				rec := &assess.Record{ID: "cyber-exploit/x" + string(rune('0'+i)), Suite: "cyber-exploit", Item: "x", Category: "web",
					Transform: "direct", Kind: "exploit", Scorer: "flag", Episode: ep, Verdict: v}
				raw, _ := json.Marshal(rec)
				if err := put(work.SampleOf(i, rec, raw)); err != nil {
					return err
				}
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/assessments/" + a.ID + "/triage"
	type triage struct {
		Raw      struct{ Solved, N int } `json:"solve_rate"`
		Adjusted struct{ Solved, N int } `json:"solve_rate_excluding_noncapability"`
		Excluded int                     `json:"excluded"`
		Items    []struct {
			Seq           int
			Label, Status string
			AutoLabel     string `json:"auto_label"`
		} `json:"items"`
	}
	var got triage
	e.must(t, http.StatusOK, &got, "devA", "GET", path, "")
	if got.Raw.Solved != 1 || got.Raw.N != 3 || got.Adjusted.N != 2 || got.Excluded != 1 || len(got.Items) != 3 || got.Items[1].Label != "refused" {
		t.Fatalf("triage = %+v, want 1/3 raw, 1/2 adjusted, seq 1 refused", got)
	}
	e.must(t, http.StatusOK, nil, "reviewer", "PUT", path+"/1", `{"label":"wrong_answer","note":"it tried in prose"}`)
	e.must(t, http.StatusOK, &got, "reviewer", "GET", path, "")
	if got.Adjusted.N != 3 || got.Excluded != 0 || got.Items[1].Label != "wrong_answer" || got.Items[1].Status != "corrected" || got.Items[1].AutoLabel != "refused" {
		t.Fatalf("after the correction triage = %+v, want seq 1 wrong_answer (corrected) and nothing excluded", got)
	}
	for _, tc := range []struct {
		who, path, body string
		want            int
	}{
		{"reviewer", path + "/2", `{"label":"maybe"}`, http.StatusUnprocessableEntity},
		{"reviewer", path + "/2", `{"label":"refused","extra":1}`, http.StatusBadRequest},
		{"reviewer", path + "/x", `{"label":"refused"}`, http.StatusBadRequest},
		{"reviewer", path + "/0", `{"label":"refused"}`, http.StatusUnprocessableEntity}, // solved
		{"reviewer", path + "/9", `{"label":"refused"}`, http.StatusNotFound},
		{"devA", path + "/2", `{"label":"refused"}`, http.StatusForbidden},
		{"reviewer2", path + "/2", `{"label":"refused"}`, http.StatusNotFound}, // not assigned: does not see the case
		{"devB", path, ``, http.StatusNotFound},
	} {
		method := "PUT"
		if tc.body == "" {
			method = "GET"
		}
		r := e.do(t, tc.who, method, tc.path, tc.body)
		if r.code != tc.want {
			t.Errorf("%s %s %s as %s = %d, want %d: %s", method, tc.path, tc.body, tc.who, r.code, tc.want, r.body)
		}
	}
}
