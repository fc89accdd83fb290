package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/work"
)

// queue is a review.Scheduler that keeps what it is given.
type queue struct {
	mu sync.Mutex
	as []review.Assessment
}

func (*queue) ScheduleExpiry(context.Context, string, time.Time) error { return nil }
func (q *queue) EnqueueAssessment(_ context.Context, a review.Assessment) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.as = append(q.as, a)
	return nil
}

// sweepMetrics is the metrics.json of a cyber run with solved of n
// episodes solved, excluded of the failures refused.
func sweepMetrics(t *testing.T, solved, n, excluded int) json.RawMessage {
	t.Helper()
	m := assess.Metrics{Schema: "test", Status: "complete", Samples: n, Scored: n, Groups: []assess.Group{
		{Key: "cyber-exploit.solve_rate", Suite: "cyber-exploit", Metric: "solve_rate", Kind: suite.KindExploit,
			Overall:  assess.Rate{Flagged: solved, N: n},
			Episodes: &assess.EpisodeStats{Episodes: n, Solved: solved, Triage: map[string]int{"refused": excluded, "out_of_budget": n - solved - excluded}}},
		{Key: "cyber-exploit." + assess.ExcludingNonCapability, Suite: "cyber-exploit", Metric: assess.ExcludingNonCapability, Kind: suite.KindExploit,
			Overall: assess.Rate{Flagged: solved, N: n - excluded, Excluded: excluded}},
	}}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBudgetSweepAPI: an assessor schedules a token-budget sweep through
// POST /cases/{id}/assessments with budgets; the service stores one
// assessment per budget, the same plan each time, and GET
// /cases/{id}/budget-sweeps gives the solve rate at each budget once the
// assessments are done. Bad budgets are 422 naming the field (400 for
// the wrong JSON type), never 500, and store nothing.
func TestBudgetSweepAPI(t *testing.T) {
	q := &queue{}
	e := newEnvWith(t, envOptions{planner: &work.Planner{SkipJudge: true}, scheduler: q})
	ctx := context.Background()
	cid := e.submit(t, "devA")
	path := "/api/v1/cases/" + cid + "/assessments"

	for _, tc := range []struct {
		body string
		want int
		text string
	}{
		{`{"suites":["cyber-exploit"],"limit":2,"budgets":[0]}`, http.StatusUnprocessableEntity, "budgets[0]"},
		{`{"suites":["cyber-exploit"],"limit":2,"budgets":[2000,100000001]}`, http.StatusUnprocessableEntity, "budgets[1]"},
		{`{"suites":["cyber-exploit"],"limit":2,"budgets":[2000,2000]}`, http.StatusUnprocessableEntity, "listed twice"},
		{`{"suites":["cyber-exploit"],"limit":2,"budgets":[1,2,3,4,5,6,7,8,9,10,11,12,13]}`, http.StatusUnprocessableEntity, "exceeds the limit of 12"},
		{`{"suites":["misuse"],"limit":2,"budgets":[2000,8000]}`, http.StatusUnprocessableEntity, "budgets: the plan has no agent tasks"},
		{`{"suites":["cyber-exploit"],"limit":2,"budgets":"2000,8000"}`, http.StatusBadRequest, "budgets"},
	} {
		r := e.do(t, "assessor", "POST", path, tc.body)
		if r.code != tc.want || !strings.Contains(string(r.body), tc.text) {
			t.Errorf("POST %s = %d %s, want %d naming %q", tc.body, r.code, r.body, tc.want, tc.text)
		}
	}
	if len(q.as) != 0 {
		t.Fatalf("rejected sweeps queued %d assessments", len(q.as))
	}

	var first struct {
		ID   string
		Spec struct {
			Sweep        string `json:"sweep"`
			BudgetTokens int64  `json:"budget_tokens"`
			Samples      int    `json:"samples"`
		}
	}
	e.must(t, http.StatusCreated, &first, "assessor", "POST", path, `{"suites":["cyber-exploit"],"limit":2,"budgets":[32000,2000,8000],"variant":"helpful-only"}`)
	if first.Spec.BudgetTokens != 2000 || first.Spec.Sweep == "" || first.Spec.Samples != 2 {
		t.Fatalf("the returned assessment's spec = %+v, want the sweep's 2000-token point of 2 samples", first.Spec)
	}
	if len(q.as) != 3 {
		t.Fatalf("%d assessments queued, want one per budget", len(q.as))
	}
	// The sweep's assessments differ only in their budget.
	for _, as := range q.as {
		var spec map[string]any
		if err := json.Unmarshal(as.Spec, &spec); err != nil {
			t.Fatal(err)
		}
		delete(spec, "budget_tokens")
		want := map[string]any{}
		_ = json.Unmarshal(q.as[0].Spec, &want)
		delete(want, "budget_tokens")
		if fmt.Sprint(spec) != fmt.Sprint(want) {
			t.Errorf("assessment %s spec %v differs from %v beyond the budget", as.ID, spec, want)
		}
	}
	// An assessment without budgets is in no sweep.
	var plain struct{ Spec map[string]any }
	e.must(t, http.StatusCreated, &plain, "assessor", "POST", path, `{"suites":["cyber-exploit"],"limit":2}`)
	if _, ok := plain.Spec["sweep"]; ok {
		t.Errorf("an assessment without budgets records a sweep: %v", plain.Spec)
	}

	// Finish the 2000- and 32000-token points (the system records them).
	for i, m := range map[int]json.RawMessage{0: sweepMetrics(t, 0, 2, 1), 1: nil, 2: sweepMetrics(t, 2, 2, 0)} {
		if m == nil {
			continue
		}
		id := q.as[i].ID
		if _, err := e.svc.RecordShard(ctx, id, 0, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CompleteAssessment(ctx, id, m); err != nil {
			t.Fatal(err)
		}
	}

	type rate struct {
		Solved, N, Excluded int
		Rate                float64
		Low                 float64 `json:"ci_low"`
		High                float64 `json:"ci_high"`
	}
	var got struct {
		CaseID string `json:"case_id"`
		Sweeps []struct {
			ID     string
			Points []struct {
				Budget       int64  `json:"budget_tokens"`
				AssessmentID string `json:"assessment_id"`
				State        string
				Variant      string
				Raw          *rate          `json:"solve_rate"`
				Adjusted     *rate          `json:"solve_rate_excluding_noncapability"`
				FailedBy     map[string]int `json:"failed_by_label"`
			}
		}
	}
	for _, who := range []string{"assessor", "devA"} {
		e.must(t, http.StatusOK, &got, who, "GET", "/api/v1/cases/"+cid+"/budget-sweeps", "")
		if len(got.Sweeps) != 1 || got.Sweeps[0].ID != first.Spec.Sweep || len(got.Sweeps[0].Points) != 3 {
			t.Fatalf("%s: sweeps = %+v, want the one sweep of three budgets", who, got)
		}
		ps := got.Sweeps[0].Points
		for i, b := range []int64{2000, 8000, 32000} {
			if ps[i].Budget != b || ps[i].AssessmentID != q.as[i].ID || ps[i].Variant != "helpful-only" {
				t.Errorf("%s: point %d = %+v, want budget %d of %s on helpful-only", who, i, ps[i], b, q.as[i].ID)
			}
		}
		if r := ps[0].Raw; ps[0].State != "done" || r == nil || r.Solved != 0 || r.N != 2 || ps[0].Adjusted.N != 1 || ps[0].Adjusted.Excluded != 1 || ps[0].FailedBy["refused"] != 1 {
			t.Errorf("%s: 2000-token point = %+v, want 0/2 raw, 0/1 adjusted, one refusal", who, ps[0])
		}
		if ps[1].State != "queued" || ps[1].Raw != nil {
			t.Errorf("%s: 8000-token point = %+v, want queued without a rate", who, ps[1])
		}
		if r := ps[2].Raw; r == nil || r.Solved != 2 || r.N != 2 || r.Rate != 1 || r.Low <= 0 || r.High != 1 {
			t.Errorf("%s: 32000-token point = %+v, want 2/2 with its interval", who, ps[2])
		}
	}
	// Another developer does not see the case.
	if r := e.do(t, "devB", "GET", "/api/v1/cases/"+cid+"/budget-sweeps", ""); r.code != http.StatusNotFound {
		t.Errorf("devB GET budget-sweeps = %d, want 404", r.code)
	}
}

// The service accepts the budgets clearance assess --budget-sweep
// accepts: the same count and bounds.
func TestBudgetBoundsMatchCLI(t *testing.T) {
	if review.MaxSweepBudgets != assess.MaxSweepBudgets {
		t.Errorf("review.MaxSweepBudgets = %d, assess.MaxSweepBudgets = %d", review.MaxSweepBudgets, assess.MaxSweepBudgets)
	}
	if _, err := assess.ParseBudgets(fmt.Sprint(review.MaxBudgetTokens)); err != nil {
		t.Errorf("assess.ParseBudgets(review.MaxBudgetTokens): %v", err)
	}
	if _, err := assess.ParseBudgets(fmt.Sprint(review.MaxBudgetTokens + 1)); err == nil {
		t.Errorf("assess.ParseBudgets accepts %d, above review.MaxBudgetTokens", review.MaxBudgetTokens+1)
	}
}
