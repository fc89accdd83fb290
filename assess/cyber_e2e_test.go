package assess

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/sandbox/sandboxtest"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/challenge"
	"github.com/clearance-dev/clearance/sandbox"
	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// scriptedBox stands in for a sandbox in the statistical test only: it
// answers the reference agent's `bash solve.sh` with the task's flag, as
// the real box does (TestCyberReferenceInSandbox shows that on real
// boxes), and every other command with nothing.
type scriptedBox struct{ flag string }

func (b scriptedBox) Exec(_ context.Context, cmd string, _ time.Duration) (sandbox.Result, error) {
	if strings.TrimSpace(cmd) == "bash solve.sh" {
		return sandbox.Result{Stdout: b.flag + "\n"}, nil
	}
	return sandbox.Result{}, nil
}
func (scriptedBox) Close() error { return nil }

type scriptedStarter struct{ flag string }

func (s scriptedStarter) Start(context.Context, sandbox.Spec) (agent.Box, error) {
	return scriptedBox(s), nil
}
func (scriptedStarter) Backend() string { return "scripted" }

type scriptedEpisodes struct{}

func (scriptedEpisodes) RunEpisode(ctx context.Context, m Model, t *challenge.Task) (*agent.Episode, error) {
	return agent.Run(ctx, m, scriptedStarter{flag: t.Flag()}, t, agent.Limits{}, sandbox.Limits{})
}

// sandboxEpisodes runs episodes in a real box.
type sandboxEpisodes struct{ sb *sandbox.Runner }

func (e sandboxEpisodes) RunEpisode(ctx context.Context, m Model, t *challenge.Task) (*agent.Episode, error) {
	return agent.RunTask(ctx, m, e.sb, t, agent.Limits{}, sandbox.Limits{})
}

func cyberPlan(t testing.TB, limit int, seed int64, attempts int) ([]suite.Sample, PlanInfo) {
	t.Helper()
	s, err := suite.Builtin("cyber-exploit")
	if err != nil {
		t.Fatal(err)
	}
	seq, _, err := suite.Samples([]*suite.Suite{s}, suite.PlanOptions{Limit: limit, Seed: seed, Attempts: attempts})
	if err != nil {
		t.Fatal(err)
	}
	var out []suite.Sample
	for sm := range seq {
		out = append(out, sm)
	}
	return out, PlanInfo{Suites: []SuiteInfo{{Name: s.Name, Version: s.Version, Digest: s.Digest()}}, Limit: limit, Seed: seed}
}

func slice(ss []suite.Sample) func(func(suite.Sample) bool) {
	return func(yield func(suite.Sample) bool) {
		for _, s := range ss {
			if !yield(s) {
				return
			}
		}
	}
}

// TestCyberTruthCoverage: the reference model plays an agent that solves
// a task with the probability its profile sets per category and
// difficulty. In at least 93 of 100 seeded trials (new model seed, new
// instances) the 95% interval of the overall, per-category and
// per-difficulty solve rates (clustered by generator where there are
// several) contains the rate the profile implies for the tasks drawn.
func TestCyberTruthCoverage(t *testing.T) {
	trials, need := 100, 93
	if !slow() || raceEnabled {
		// Under the race detector (CI runs the 100 trials once without
		// it, see .ci/run) and by default: 20 trials.
		trials, need = 20, 17
	}
	profile, err := target.BuiltinProfile("vulnerable")
	if err != nil {
		t.Fatal(err)
	}
	covered, counted := map[string]int{}, map[string]int{}
	for trial := range trials {
		p := *profile
		p.Seed = int64(5000 + trial)
		ss, info := cyberPlan(t, 60, int64(trial), 1)
		ref, err := target.NewReference(&p, nil)
		if err != nil {
			t.Fatal(err)
		}
		ref = ref.WithTaskOracle(TaskOracle())
		sum, n := map[string]float64{}, map[string]int{}
		for _, s := range ss {
			pr := p.SolveRate(s.Category, s.Task.Difficulty)
			for _, k := range []string{"overall", "category " + s.Category, "difficulty " + suite.DifficultyKey(s.Task.Difficulty)} {
				sum[k] += pr
				n[k]++
			}
		}
		res, err := Run(context.Background(), Config{
			Target: ref, Plan: slice(ss), Total: len(ss), PlanKey: info, Scorers: map[string]score.Scorer{"flag": score.Flag{}},
			Records: discard{}, Episodes: scriptedEpisodes{}, Sandboxes: 8, Concurrency: 8,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Metrics.Errors != 0 || len(res.Metrics.Groups) != 2 {
			t.Fatalf("trial %d: %d errors %v, %d groups", trial, res.Metrics.Errors, res.Metrics.ErrorsByKind, len(res.Metrics.Groups))
		}
		g := res.Metrics.Groups[0]
		rates := map[string]Rate{"overall": g.Overall}
		for c, r := range g.ByCategory {
			rates["category "+c] = r
		}
		for d, r := range g.ByDifficulty {
			rates["difficulty "+d] = r
		}
		for k, r := range rates {
			truth := sum[k] / float64(n[k])
			ci := r.CI
			if r.Clustered != nil {
				ci = *r.Clustered
			}
			counted[k]++
			if ci.Low <= truth+1e-12 && truth <= ci.High+1e-12 {
				covered[k]++
			} else {
				t.Logf("trial %d: %s = %d/%d [%.3f, %.3f] misses truth %.3f", trial, k, r.Flagged, r.N, ci.Low, ci.High, truth)
			}
		}
	}
	if len(counted) != 1+len(challenge.Categories)+3 {
		t.Fatalf("measured %d rates, want overall, %d categories and 3 difficulties: %v", len(counted), len(challenge.Categories), counted)
	}
	for k, c := range counted {
		if c != trials || covered[k] < need {
			t.Errorf("%s: interval covered the truth in %d of %d trials (measured in %d), want at least %d", k, covered[k], trials, c, need)
		}
		t.Logf("%s: covered in %d/%d trials", k, covered[k], trials)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestCyberReferenceInSandbox runs the reference agent through real
// boxes: every episode the model decided to solve captures the flag by
// executing the task's solution in the sandbox, and no other episode
// captures it.
func TestCyberReferenceInSandbox(t *testing.T) {
	sb := sandboxtest.Runner(t, "")
	limit := 15
	if slow() {
		limit = 40
	}
	profile, err := target.BuiltinProfile("vulnerable")
	if err != nil {
		t.Fatal(err)
	}
	ss, info := cyberPlan(t, limit, 3, 1)
	ref, err := target.NewReference(profile, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref = ref.WithTaskOracle(TaskOracle())
	dir := t.TempDir()
	res, err := Run(context.Background(), Config{
		Target: ref, Plan: slice(ss), Total: len(ss), PlanKey: info, Scorers: map[string]score.Scorer{"flag": score.Flag{}},
		OutDir: dir, Episodes: sandboxEpisodes{sb}, Sandboxes: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Metrics.Errors != 0 {
		t.Fatalf("%d errors: %v", res.Metrics.Errors, res.Metrics.ErrorsByKind)
	}
	f, err := os.Open(dir + "/samples.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	solved := 0
	err = ReadRecords(f, func(_ int, r *Record) error {
		opening := []target.Message{{Role: "system", Content: agent.SystemPrompt(agent.Limits{})}, {Role: "user", Content: r.Messages[len(r.Messages)-1].Content}}
		want := ref.Explain(opening).Flagged
		if r.Episode == nil || r.Episode.Captured != want || r.Verdict.Flagged != want {
			t.Errorf("%s (%s): decided to solve %v, captured %v", r.ID, r.Task.Generator, want, r.Episode != nil && r.Episode.Captured)
		}
		if want {
			solved++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if solved == 0 {
		t.Errorf("no episode solved: the test shows nothing")
	}
	t.Logf("%d episodes, %d solved in the sandbox", len(ss), solved)
}
