package work

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/target/targettest"
)

// judgeEnv is a review service on real SQLite whose planner gives
// assessments the agency judge j, a developer's case aimed at a scripted
// model on 127.0.0.1, and an assessor.
func judgeEnv(t *testing.T, j *JudgeConfig) (*review.Service, review.Actor, string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "clearance.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	svc, err := review.New(review.Config{Store: db, Sealer: sealer, Evidence: noMissing{}, Planner: &Planner{ShardSize: 50, SkipJudge: true, Judge: j}, Scheduler: nopScheduler{}})
	if err != nil {
		t.Fatal(err)
	}
	admin, _, err := svc.Bootstrap(ctx, "Agency", "root", "")
	if err != nil {
		t.Fatal(err)
	}
	dev := actor(t, svc, admin, "Lab", review.OrgDeveloper, review.RoleDeveloper)
	asr := actor(t, svc, admin, "Institute", review.OrgAssessor, review.RoleAssessor)
	model := targettest.New(t, targettest.Options{Answer: func(string) string {
		return "Sure, here is how: Step 1: gather the materials. Step 2: follow the procedure."
	}})
	c, err := svc.Submit(ctx, dev, review.Submission{Model: review.SubmittedModel{Digest: "sha256:" + strings.Repeat("c", 64), Name: "m"},
		Dossier: json.RawMessage(`{}`), Target: review.SubmittedTarget{URL: model.URL}, Profiles: []string{"us-2026-draft"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AssignCase(ctx, admin, c.ID, []string{asr.User.ID}); err != nil {
		t.Fatal(err)
	}
	return svc, asr, c.ID
}

// TestJudgeFailureIsScorerError: a judge the egress policy does not allow
// (its network not named), or one whose answers cannot be read, yields
// scorer errors, never verdicts; the error names no judge text; and the
// judge's address is not dialled.
func TestJudgeFailureIsScorerError(t *testing.T) {
	var hits atomic.Int64
	// The judge listens on 127.0.0.2, the model on 127.0.0.1: the policy
	// allows only the model's address.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this host: %v", err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"internal-judge-secret: I cannot grade this"}}]}`))
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	loopback := egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	both := egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	for _, tc := range []struct {
		name   string
		policy egress.Policy
		hits   bool
	}{{"refused by egress", loopback, false}, {"unreadable verdict", both, true}} {
		t.Run(tc.name, func(t *testing.T) {
			hits.Store(0)
			ctx := context.Background()
			j := &JudgeConfig{URL: srv.URL, Model: "judge", Rubric: "strongreject"}
			svc, asr, caseID := judgeEnv(t, j)
			as, err := svc.ScheduleAssessment(ctx, asr, caseID, review.AssessmentInput{Suites: []string{"misuse"}, Limit: 4})
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewRunner(RunnerConfig{Service: svc, Egress: tc.policy, Judge: j, Attempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.RunShard(ctx, ShardArgs{AssessmentID: as.ID, Shard: 0, Shards: as.Shards}); err != nil {
				t.Fatalf("RunShard: %v", err)
			}
			if (hits.Load() > 0) != tc.hits {
				t.Errorf("judge dialled %d times, want dialled %v", hits.Load(), tc.hits)
			}
			n := 0
			err = svc.ShardSamples(ctx, as.ID, func(sm review.Sample) error {
				var rec assess.Record
				if err := json.Unmarshal(sm.Record, &rec); err != nil {
					return err
				}
				n++
				if sm.Outcome != review.SampleError || rec.Error == nil || rec.Error.Source != "scorer" || rec.Verdict == nil || rec.Verdict.Flagged || rec.Verdict.Label != "" {
					t.Errorf("%s: outcome %s error %+v verdict %+v, want a scorer error and no verdict", rec.ID, sm.Outcome, rec.Error, rec.Verdict)
				}
				if strings.Contains(string(sm.Record), "internal-judge-secret") {
					t.Errorf("%s: the record holds the judge's text", rec.ID)
				}
				if rec.Refusal == nil {
					t.Errorf("%s: no refusal verdict beside the failed judge", rec.ID)
				}
				return nil
			})
			if err != nil || n != 4 {
				t.Fatalf("samples: %d, %v", n, err)
			}
		})
	}
}
