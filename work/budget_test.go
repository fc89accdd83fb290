package work

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/sandbox"
	"github.com/clearance-dev/clearance/sandbox/sandboxtest"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/target"
)

// A budget sweep scheduled in the service is one assessment per budget,
// the same plan each time; the runner gives each episode its
// assessment's budget (a 1-token budget stops every episode at
// max_tokens, a large one at none), and a plan without agent tasks
// cannot be swept.
func TestSweepRunsEachBudget(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.Runner(t, sandbox.Bubblewrap)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	svc, err := review.New(review.Config{Store: db, Sealer: sealer, Evidence: noMissing{}, Planner: &Planner{ShardSize: 50, SkipJudge: true}, Scheduler: nopScheduler{}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := target.BuiltinProfile("typical")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := target.NewReference(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(target.NewReferenceServer(ref, target.ServerOptions{}))
	defer srv.Close()
	asr, caseID := openCase(t, svc, srv.URL)

	_, err = svc.ScheduleAssessment(ctx, asr, caseID, review.AssessmentInput{Suites: []string{"misuse"}, Limit: 2, Budgets: []int64{1, 10}})
	if !errors.Is(err, review.ErrInvalidInput) || !strings.Contains(err.Error(), "budgets: the plan has no agent tasks") {
		t.Fatalf("sweep of a plan without agent tasks: err = %v, want invalid budgets", err)
	}

	first, err := svc.ScheduleAssessment(ctx, asr, caseID, review.AssessmentInput{Suites: []string{"cyber-exploit"}, Limit: 2, Budgets: []int64{1_000_000, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if sw := first.Sweep(); sw.BudgetTokens != 1 || !strings.HasPrefix(sw.Sweep, "swp_") {
		t.Fatalf("first assessment of the sweep records %+v, want budget 1 and a sweep id", sw)
	}
	sweeps, err := svc.BudgetSweeps(ctx, asr, caseID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sweeps) != 1 || len(sweeps[0].Assessments) != 2 {
		t.Fatalf("BudgetSweeps = %+v, want one sweep of two assessments", sweeps)
	}
	r, err := NewRunner(RunnerConfig{Service: svc, Sandbox: sb, Agent: agent.Limits{MaxTurns: 2, MaxTokens: 5},
		Egress: egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		budget  int64
		maxToks bool // every episode stopped at its token budget
	}{{1, true}, {1_000_000, false}} {
		as := sweeps[0].Assessments[i]
		if got := as.Sweep().BudgetTokens; got != want.budget {
			t.Fatalf("assessment %d of the sweep has budget %d, want %d", i, got, want.budget)
		}
		spec, err := ParseSpec(as.Spec)
		if err != nil {
			t.Fatalf("the runner cannot read a sweep's spec: %v", err)
		}
		if spec.Samples != 2 || spec.Suites[0].Name != "cyber-exploit" {
			t.Fatalf("spec %+v, want the same two cyber-exploit samples", spec)
		}
		if err := r.RunShard(ctx, ShardArgs{AssessmentID: as.ID, Shard: 0, Shards: 1}); err != nil {
			t.Fatalf("RunShard at budget %d: %v", want.budget, err)
		}
		done, err := svc.GetAssessment(ctx, asr, as.ID)
		if err != nil {
			t.Fatal(err)
		}
		if done.State != review.AssessmentDone {
			t.Fatalf("budget %d: assessment %s (%s), want done", want.budget, done.State, done.Error)
		}
		for seq := range 2 {
			opened, err := svc.RevealSample(ctx, asr, as.ID, seq)
			if err != nil {
				t.Fatal(err)
			}
			var rec assess.Record
			if err := json.Unmarshal(opened.Record, &rec); err != nil {
				t.Fatal(err)
			}
			if rec.Episode == nil {
				t.Fatalf("budget %d sample %d: no episode", want.budget, seq)
			}
			if got := rec.Episode.Stop == agent.StopMaxTokens; got != want.maxToks {
				t.Errorf("budget %d sample %d: episode stopped at %q (usage %+v); stopped at max_tokens = %v, want %v",
					want.budget, seq, rec.Episode.Stop, rec.Episode.Usage, got, want.maxToks)
			}
		}
	}
}
