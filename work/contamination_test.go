package work

import (
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target/targettest"
)

// leakyModel echoes each prompt and remembers every canary-shaped string
// it was shown; once leaking, it adds a remembered canary to its answer to
// a prompt that carries none: a model whose training data took in an
// earlier private run.
type leakyModel struct {
	mu   sync.Mutex
	seen []string
	leak atomic.Bool
}

var canaryShape = regexp.MustCompile(`cx[0-9a-f]{20}`)

func (m *leakyModel) answer(prompt string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	cs := canaryShape.FindAllString(prompt, -1)
	m.seen = append(m.seen, cs...)
	out := targettest.Echo(prompt)
	if m.leak.Load() && len(cs) == 0 && len(m.seen) > 0 {
		out += "\n\nSee also " + m.seen[0] + "."
	}
	return out
}

// TestContaminationSignal runs, through the service's runner, a private
// assessment against a model that echoes its prompt (each private sample's
// answer carries the canary of its own prompt: no signal), then a public
// assessment of the same model after it took in the private canaries: its
// answers carry canaries their prompts did not, the metrics count them and
// the case gets one finding, which a developer sees while the scan itself
// stays with agency staff.
func TestContaminationSignal(t *testing.T) {
	ctx := context.Background()
	seed := suite.PrivateSeed{7, 7, 7}
	model := &leakyModel{}
	srv := targettest.New(t, targettest.Options{Answer: model.answer})
	w := newPrivateWorld(t, seed, nil)
	svc, dev, asr, r := w.svc, w.dev, w.asr, w.runner
	assessCase := func(name string, private bool) (review.Case, review.Assessment) {
		t.Helper()
		return w.assess(t, srv.URL, name, private)
	}
	contamination := func(as review.Assessment) *assess.Contamination {
		t.Helper()
		var m assess.Metrics
		if err := json.Unmarshal(as.Metrics, &m); err != nil {
			t.Fatal(err)
		}
		return m.Contamination
	}
	findings := func(c review.Case) []review.Finding {
		t.Helper()
		fs, err := svc.Findings(ctx, asr, c.ID, review.Page{})
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}

	// 1. A clean model: the private samples' answers repeat their own
	// canaries, which is no signal.
	c1, as1 := assessCase("clean", true)
	if len(model.seen) == 0 {
		t.Fatal("the private run showed the model no canary")
	}
	c := contamination(as1)
	if c == nil || c.Scanned != 12 || c.Canaries != 0 || len(c.Samples) != 0 {
		t.Fatalf("clean model: contamination %+v, want 12 samples scanned and no hit", c)
	}
	if fs := findings(c1); len(fs) != 0 {
		t.Fatalf("clean model: findings %+v", fs)
	}

	// 2. The model took in the private canaries: a public assessment's
	// answers carry one.
	model.leak.Store(true)
	c2, as2 := assessCase("leaky", false)
	c = contamination(as2)
	if c == nil || c.Scanned != 6 || c.Canaries != 6 || len(c.Samples) != 6 || !strings.HasPrefix(c.Samples[0], "misuse/") {
		t.Fatalf("leaky model: contamination %+v, want 6 hits in 6 public samples", c)
	}
	fs := findings(c2)
	if len(fs) != 1 || !strings.Contains(fs[0].Title, "private canary appeared in model output") || len(fs[0].SampleIDs) != 6 {
		t.Fatalf("leaky model: findings %+v, want one contamination finding naming 6 samples", fs)
	}
	if strings.Contains(fs[0].Description, "cx") {
		t.Errorf("the finding names a canary: %s", fs[0].Description)
	}
	// A developer sees the finding, not the scan.
	seen, err := svc.GetAssessment(ctx, dev, as2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(seen.Metrics), "contamination") {
		t.Errorf("a developer's metrics carry the canary scan: %s", seen.Metrics)
	}
	if fs, err := svc.Findings(ctx, dev, c2.ID, review.Page{}); err != nil || len(fs) != 1 {
		t.Errorf("developer's findings = %d, %v; want the contamination finding", len(fs), err)
	}
	// Completing again (a retried last shard) opens no second finding.
	if err := r.RunShard(ctx, ShardArgs{AssessmentID: as2.ID, Shard: 0, Shards: as2.Shards}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CompleteAssessment(ctx, as2.ID, as2.Metrics); err != nil {
		t.Fatal(err)
	}
	if fs := findings(c2); len(fs) != 1 {
		t.Errorf("%d findings after completing again, want 1", len(fs))
	}
}

// privateWorld is a review service with a planner and a runner holding a
// private seed (and, when judge is set, an agency judge).
type privateWorld struct {
	svc             *review.Service
	admin, dev, asr review.Actor
	runner          *Runner
}

func newPrivateWorld(t *testing.T, seed suite.PrivateSeed, judge *JudgeConfig) *privateWorld {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	planner := &Planner{ShardSize: 4, SkipJudge: true, PrivateSeed: &seed}
	svc, err := review.New(review.Config{Store: db, Sealer: sealer, Evidence: noMissing{}, Planner: planner, Scheduler: nopScheduler{}})
	if err != nil {
		t.Fatal(err)
	}
	admin, _, err := svc.Bootstrap(ctx, "Agency", "root", "")
	if err != nil {
		t.Fatal(err)
	}
	w := &privateWorld{svc: svc, admin: admin}
	w.dev = actor(t, svc, admin, "Lab", review.OrgDeveloper, review.RoleDeveloper)
	w.asr = actor(t, svc, admin, "Institute", review.OrgAssessor, review.RoleAssessor)
	w.runner, err = NewRunner(RunnerConfig{Service: svc, Concurrency: 1, PrivateSeed: &seed, Judge: judge,
		Egress: egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// assess submits a case for the model at url, runs an assessment of 6
// misuse items (and their private forms) to the end and returns both.
func (w *privateWorld) assess(t *testing.T, url, name string, private bool) (review.Case, review.Assessment) {
	t.Helper()
	ctx := context.Background()
	c, err := w.svc.Submit(ctx, w.dev, review.Submission{Model: review.SubmittedModel{Digest: "sha256:" + strings.Repeat("b", 64), Name: name},
		Dossier: json.RawMessage(`{}`), Target: review.SubmittedTarget{URL: url, Credentials: "sk-test"}, Profiles: []string{"us-2026-draft"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.AssignCase(ctx, w.admin, c.ID, []string{w.asr.User.ID}); err != nil {
		t.Fatal(err)
	}
	as, err := w.svc.ScheduleAssessment(ctx, w.asr, c.ID, review.AssessmentInput{Suites: []string{"misuse"}, Limit: 6, Private: private})
	if err != nil {
		t.Fatal(err)
	}
	for i := range as.Shards {
		if err := w.runner.RunShard(ctx, ShardArgs{AssessmentID: as.ID, Shard: i, Shards: as.Shards}); err != nil {
			t.Fatalf("RunShard(%d): %v", i, err)
		}
	}
	done, err := w.svc.GetAssessment(ctx, w.asr, as.ID)
	if err != nil || done.State != review.AssessmentDone {
		t.Fatalf("assessment %s: %v", done.State, err)
	}
	return c, done
}
