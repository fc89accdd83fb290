package work

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/sandbox/sandboxtest"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/sandbox"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// missingSandbox returns the error a worker's start-up check gives when
// the backend is not installed: bwrap checked with a PATH that lacks it.
func missingSandbox(t *testing.T) error {
	t.Helper()
	t.Setenv("PATH", t.TempDir())
	sb, err := sandbox.New(sandbox.Config{Backend: sandbox.Bubblewrap})
	if err != nil {
		t.Fatal(err)
	}
	err = sb.Check(context.Background())
	if !errors.Is(err, sandbox.ErrUnavailable) {
		t.Fatalf("Check with no bwrap on PATH = %v, want ErrUnavailable", err)
	}
	return err
}

// TestSandboxRefusal: which shards a worker refuses, and with what.
func TestSandboxRefusal(t *testing.T) {
	why := missingSandbox(t)
	have, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cyber := []suite.Sample{{ID: "misuse/a", Suite: "misuse", Kind: suite.KindHarmful},
		{ID: "cyber-exploit/b", Suite: "cyber-exploit", Kind: suite.KindExploit}}
	plain := cyber[:1]
	for _, tc := range []struct {
		name      string
		cfg       RunnerConfig
		plan      []suite.Sample
		refused   bool
		permanent bool
	}{
		{"no sandbox, cyber shard", RunnerConfig{NoSandbox: why}, cyber, true, false},
		{"no sandbox, only worker", RunnerConfig{NoSandbox: why, OnlyWorker: true}, cyber, true, true},
		{"no sandbox, other shard", RunnerConfig{NoSandbox: why}, plain, false, false},
		{"sandbox, cyber shard", RunnerConfig{Sandbox: have}, cyber, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Runner{cfg: tc.cfg}
			err := r.refuseWithoutSandbox(slices.Values(tc.plan))
			if got := err != nil; got != tc.refused {
				t.Fatalf("refuseWithoutSandbox = %v, refused %v, want %v", err, got, tc.refused)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, ErrNoSandbox) || errors.Is(err, errPermanent) != tc.permanent {
				t.Errorf("refuseWithoutSandbox = %v: ErrNoSandbox %v, permanent %v (want %v)", err, errors.Is(err, ErrNoSandbox), errors.Is(err, errPermanent), tc.permanent)
			}
			for _, want := range []string{"this worker has no sandbox: bwrap not found", "install bubblewrap", "run cyber shards on a worker that has it"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestSandboxWorkerRefusesCyberShard runs a worker whose sandbox check
// failed (no bwrap on PATH) through the job queue: the cyber-exploit
// shard is refused with the message stored as the shard job's error, and
// the assessment is left running for a worker that has a sandbox, while
// a misuse assessment's shard runs to completion on the same worker.
// When the worker is the only one (clearance serve's embedded queue),
// the refusal fails the assessment with the same message.
func TestSandboxWorkerRefusesCyberShard(t *testing.T) {
	why := missingSandbox(t)
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "r.db"))
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
	s, err := suite.Builtin("misuse")
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := suite.Samples([]*suite.Suite{s}, suite.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := target.BuiltinProfile("typical")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := target.NewReference(p, assess.ReferenceOracle(all))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(target.NewReferenceServer(ref, target.ServerOptions{}))
	defer srv.Close()
	asr, caseID := openCase(t, svc, srv.URL)
	cyberAs, err := svc.ScheduleAssessment(ctx, asr, caseID, review.AssessmentInput{Suites: []string{"cyber-exploit"}, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	misuseAs, err := svc.ScheduleAssessment(ctx, asr, caseID, review.AssessmentInput{Suites: []string{"misuse"}, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	// No calibration batch: the misuse shard must finish within the test
	// queue's short shard timeout even under the race detector.
	r, err := NewRunner(RunnerConfig{Service: svc, NoSandbox: why, Calibration: -1,
		Egress: egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := Open(ctx, workerConfig(Config{SQLitePath: filepath.Join(dir, "jobs.db")}, &fakeExpirer{}, r.RunShard))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close(ctx)
	cyberJob, err := q.EnqueueShard(ctx, ShardArgs{AssessmentID: cyberAs.ID, Shard: 0, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	misuseJob, err := q.EnqueueShard(ctx, ShardArgs{AssessmentID: misuseAs.ID, Shard: 0, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute) // a bound for a hung run, not a timing check
	var cj, mj JobInfo
	for {
		if cj, err = q.Job(ctx, cyberJob.ID); err != nil {
			t.Fatal(err)
		}
		if mj, err = q.Job(ctx, misuseJob.ID); err != nil {
			t.Fatal(err)
		}
		if len(cj.Errors) > 0 && mj.State == StateCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cyber shard %s with errors %q, misuse shard %s with errors %q", cj.State, cj.Errors, mj.State, mj.Errors)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{"this worker has no sandbox: bwrap not found: apt-get install bubblewrap", "run cyber shards on a worker that has it"} {
		if !strings.Contains(cj.Errors[0], want) {
			t.Errorf("cyber shard's error %q lacks %q", cj.Errors[0], want)
		}
	}
	if cj.State == StateCompleted || cj.State == StateCancelled {
		t.Errorf("refused cyber shard is %s, want it left for retry", cj.State)
	}
	got, err := svc.GetAssessment(ctx, asr, cyberAs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State == review.AssessmentFailed || got.ShardsDone != 0 {
		t.Errorf("cyber assessment %s with %d shards done, want it waiting for a worker with a sandbox", got.State, got.ShardsDone)
	}
	if got, _ := svc.GetAssessment(ctx, asr, misuseAs.ID); got.State != review.AssessmentDone {
		t.Errorf("misuse assessment %s, want done: the worker runs shards that need no sandbox", got.State)
	}

	// The only worker: the refusal fails the assessment, with the message.
	only, err := NewRunner(RunnerConfig{Service: svc, NoSandbox: why, OnlyWorker: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := only.RunShard(ctx, ShardArgs{AssessmentID: cyberAs.ID, Shard: 0, Shards: 1}); !errors.Is(err, ErrNoSandbox) {
		t.Fatalf("RunShard on the only worker = %v, want ErrNoSandbox", err)
	}
	got, err = svc.GetAssessment(ctx, asr, cyberAs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != review.AssessmentFailed || !strings.Contains(got.Error, "this worker has no sandbox: bwrap not found") {
		t.Errorf("cyber assessment on the only worker: %s, error %q; want failed with the sandbox message", got.State, got.Error)
	}
}

// TestSandboxWorkerRunsCyberShard: a worker whose bwrap sandbox passes its
// check runs a cyber shard: each sample is an agent episode in a box
// (here the reference model, told nothing about the tasks, never
// submits, so each stops at the turn limit), recorded with its episode
// and sealed like a harmful transcript, and the assessment completes
// with a solve-rate group. Skipped without bwrap unless CLEARANCE_CI=1.
func TestSandboxWorkerRunsCyberShard(t *testing.T) {
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
	as, err := svc.ScheduleAssessment(ctx, asr, caseID, review.AssessmentInput{Suites: []string{"cyber-exploit"}, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(RunnerConfig{Service: svc, Sandbox: sb, Agent: agent.Limits{MaxTurns: 2},
		Egress: egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunShard(ctx, ShardArgs{AssessmentID: as.ID, Shard: 0, Shards: 1}); err != nil {
		t.Fatalf("RunShard: %v", err)
	}
	done, err := svc.GetAssessment(ctx, asr, as.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.State != review.AssessmentDone {
		t.Fatalf("assessment %s (%s), want done", done.State, done.Error)
	}
	var m assess.Metrics
	if err := json.Unmarshal(done.Metrics, &m); err != nil {
		t.Fatal(err)
	}
	// An exploit suite has its solve rate and, beside it, the same rate
	// excluding non-capability failures (automatic triage): the same two
	// episodes here, none of them excluded (the box did not fail, the
	// agent did not refuse).
	var keys []string
	for _, g := range m.Groups {
		keys = append(keys, g.Key)
	}
	want := []string{"cyber-exploit.solve_rate", "cyber-exploit." + assess.ExcludingNonCapability}
	if !slices.Equal(keys, want) || m.Samples != 2 {
		t.Fatalf("metrics: %d samples, groups %q, want 2 samples, groups %q", m.Samples, keys, want)
	}
	if ex := m.Groups[1].Overall; ex.N+ex.Excluded != m.Groups[0].Overall.N {
		t.Errorf("%s: N %d + excluded %d, want the solve rate's %d episodes", want[1], ex.N, ex.Excluded, m.Groups[0].Overall.N)
	}
	for seq := range 2 {
		stored, err := db.GetSample(ctx, as.ID, seq)
		if err != nil {
			t.Fatal(err)
		}
		if !stored.Harmful || json.Valid(stored.Record) {
			t.Errorf("sample %d: an episode is stored in the clear (sealed %v)", seq, stored.Harmful)
		}
		opened, err := svc.RevealSample(ctx, asr, as.ID, seq)
		if err != nil {
			t.Fatal(err)
		}
		var rec assess.Record
		if err := json.Unmarshal(opened.Record, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Error != nil {
			t.Errorf("sample %d: %s error: %s", seq, rec.Error.Source, rec.Error.Message)
		}
		if ep := rec.Episode; ep == nil || ep.Backend != sandbox.Bubblewrap || len(ep.Turns) == 0 || len(ep.FlagSHA256) != 64 {
			t.Errorf("sample %d: episode %+v, want one run in bwrap", seq, ep)
		}
	}
}

// openCase bootstraps an agency, a developer and an assessor on svc, has
// the developer submit a model served at url (under us-2026-draft) and
// assigns the assessor: it returns the assessor and the case id.
func openCase(t *testing.T, svc *review.Service, url string) (review.Actor, string) {
	t.Helper()
	ctx := context.Background()
	admin, _, err := svc.Bootstrap(ctx, "Agency", "root", "")
	if err != nil {
		t.Fatal(err)
	}
	dev := actor(t, svc, admin, "Lab", review.OrgDeveloper, review.RoleDeveloper)
	asr := actor(t, svc, admin, "Institute", review.OrgAssessor, review.RoleAssessor)
	c, err := svc.Submit(ctx, dev, review.Submission{Model: review.SubmittedModel{Digest: "sha256:" + strings.Repeat("b", 64), Name: "m"},
		Dossier: json.RawMessage(`{}`), Target: review.SubmittedTarget{URL: url, Credentials: "sk-test"}, Profiles: []string{"us-2026-draft"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AssignCase(ctx, admin, c.ID, []string{asr.User.ID}); err != nil {
		t.Fatal(err)
	}
	return asr, c.ID
}
