package work

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/sandbox"
	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// SpecVersion is the version of Spec this package writes and runs.
const SpecVersion = 1

// DefaultShardSize is the number of samples in a shard when the Planner
// sets none.
const DefaultShardSize = 100

// Spec is an assessment's fixed definition, stored as
// review.Assessment.Spec: the suites (each pinned by digest) with their
// sample limits, the seed, and how the plan is cut into shards. Shard i
// runs plan positions [i×ShardSize, (i+1)×ShardSize).
type Spec struct {
	Version   int         `json:"version"`
	Suites    []SpecSuite `json:"suites"`
	Seed      int64       `json:"seed"`
	SkipJudge bool        `json:"skip_judge,omitempty"`
	ShardSize int         `json:"shard_size"`
	Samples   int         `json:"samples"`
	// Source says where the suites came from: "profiles" (the plan the
	// case's profiles require) or "request".
	Source   string   `json:"source"`
	Profiles []string `json:"profiles,omitempty"`
	// Judge, when set, is the LLM judge that scores attack success (the
	// samples the harm scorer would score) and any sample a suite gives
	// to the judge.
	Judge *SpecJudge `json:"judge,omitempty"`
	// Variant, Checkpoint and Scaffold are the variant of the model
	// under test and the scaffold's version, recorded by the review
	// service (review.Variant); the runner does not read them.
	Variant    string `json:"variant,omitempty"`
	Checkpoint string `json:"checkpoint,omitempty"`
	Scaffold   string `json:"scaffold,omitempty"`
	// Private, when set, is the fingerprint of the private seed whose
	// private forms of the suites run after the public plan (private.go).
	Private string `json:"private,omitempty"`
	// Sweep and BudgetTokens, recorded by the review service for an
	// assessment of a token-budget sweep (review.SweepSpec), give each
	// agent episode BudgetTokens tokens (budget.go).
	Sweep        string `json:"sweep,omitempty"`
	BudgetTokens int64  `json:"budget_tokens,omitempty"`
}

// SpecJudge is an assessment's judge: an OpenAI-compatible endpoint (the
// "/v1" root), its model and rubric. Source says whose it is: "agency"
// (the server's default judge, whose key the runner holds) or
// "request" (the assessment's own, whose credentials the service keeps
// sealed with the assessment).
type SpecJudge struct {
	URL    string `json:"url"`
	Model  string `json:"model"`
	Rubric string `json:"rubric"`
	Source string `json:"source"`
}

// JudgeConfig is the agency's default judge (clearance serve --judge-url,
// --judge-model, --judge-key-file, --judge-rubric).
type JudgeConfig struct {
	URL, Model, Rubric string
	Key                []byte
}

// SpecSuite is one suite of a Spec.
type SpecSuite struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Digest  string `json:"digest"`
	Limit   int    `json:"limit,omitempty"`
	// PerKind applies Limit to each kind of item (each metric) of the
	// suite rather than to the suite: a profile requiring n samples of a
	// metric gets n of that metric's kind however the suite mixes kinds.
	PerKind bool `json:"per_kind,omitempty"`
}

// ParseSpec decodes a stored spec.
func ParseSpec(b []byte) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("parse assessment spec: %s", review.DescribeJSONError(err))
	}
	switch {
	case s.Version != SpecVersion:
		return Spec{}, fmt.Errorf("parse assessment spec: version %d, want %d", s.Version, SpecVersion)
	case len(s.Suites) == 0:
		return Spec{}, errors.New("parse assessment spec: no suites")
	case s.ShardSize < 1:
		return Spec{}, fmt.Errorf("parse assessment spec: shard size %d", s.ShardSize)
	}
	return s, nil
}

// Shards returns the number of shards of the spec.
func (s Spec) Shards() int { return max(1, (s.Samples+s.ShardSize-1)/s.ShardSize) }

// suites loads built-in suites once: parsing one costs tens of
// milliseconds and megabytes, and every shard needs them. A loaded Suite
// is not modified by planning, so one value serves every shard.
type suites struct {
	mu     sync.Mutex
	loaded map[string]*suite.Suite
	// seed is the private seed (nil: none); privates caches private forms.
	seed     *suite.PrivateSeed
	privates map[string]*suite.Suite
	// para are the private forms' options: model paraphrases by the
	// agency's judge (paraphrase.go).
	para suite.PrivateOptions
}

func (c *suites) get(name string) (*suite.Suite, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.loaded[name]; ok {
		return s, nil
	}
	s, err := suite.Builtin(name)
	if err != nil {
		return nil, err
	}
	if c.loaded == nil {
		c.loaded = map[string]*suite.Suite{}
	}
	c.loaded[name] = s
	return s, nil
}

// plan returns the spec's samples in plan order, checking that each
// suite is still the one the spec pinned.
func (s Spec) plan(load *suites) (iter.Seq[suite.Sample], int, []*suite.Suite, error) {
	var seqs []iter.Seq[suite.Sample]
	var suites []*suite.Suite
	planOne := func(st *suite.Suite, ss SpecSuite) ([]iter.Seq[suite.Sample], error) {
		kinds := [][]string{nil}
		if ss.PerKind && ss.Limit > 0 {
			kinds = kinds[:0]
			for _, k := range st.Kinds() {
				kinds = append(kinds, []string{k})
			}
		}
		var out []iter.Seq[suite.Sample]
		for _, k := range kinds {
			seq, _, err := suite.Samples([]*suite.Suite{st}, suite.PlanOptions{Limit: ss.Limit, Seed: s.Seed, Kinds: k})
			if err != nil {
				return nil, fmt.Errorf("suite %s: %w", st.Name, err)
			}
			out = append(out, seq)
		}
		return out, nil
	}
	for _, ss := range s.Suites {
		st, err := load.get(ss.Name)
		if err != nil {
			return nil, 0, nil, err
		}
		if st.Digest() != ss.Digest {
			return nil, 0, nil, fmt.Errorf("suite %s changed since the assessment was planned (digest %s, planned %s)", ss.Name, st.Digest(), ss.Digest)
		}
		more, err := planOne(st, ss)
		if err != nil {
			return nil, 0, nil, err
		}
		seqs = append(seqs, more...)
		suites = append(suites, st)
	}
	priv, err := s.privatePlan(load, planOne)
	if err != nil {
		return nil, 0, nil, err
	}
	seqs = append(seqs, priv...)
	all := func(yield func(suite.Sample) bool) {
		for _, seq := range seqs {
			if s.Judge != nil {
				seq = assess.UseJudge(seq)
			}
			for sm := range seq {
				if s.SkipJudge && s.Judge == nil && sm.Scorer == "judge" {
					continue
				}
				if !yield(sm) {
					return
				}
			}
		}
	}
	n := 0
	for range all {
		n++
	}
	return all, n, suites, nil
}

// Planner plans assessments for the review service (review.Planner):
// the suites the caller asks for, or else those of the sampling plan the
// case's profiles require, pinned by digest and cut into shards.
type Planner struct {
	// ShardSize is the number of samples per shard (default
	// DefaultShardSize).
	ShardSize int
	// SkipJudge leaves out samples scored by the LLM judge, for servers
	// with no judge model, unless the assessment has a judge (its own or
	// Judge).
	SkipJudge bool
	// Judge is the agency's default judge, used by assessments that name
	// none; nil means the harm scorer measures attack success unless an
	// assessment names a judge. Only its URL, model and rubric are read.
	Judge *JudgeConfig
	// ProfilePlan returns the suites and per-suite limits the case's
	// profiles require; nil means a request must name its suites.
	ProfilePlan func(ctx context.Context, c review.Case) ([]SpecSuite, error)
	// PrivateSeed is the agency's private seed (clearance serve keeps it in
	// its data directory); nil refuses assessments that ask for private
	// forms.
	PrivateSeed *suite.PrivateSeed

	suites suites
}

var _ review.Planner = (*Planner)(nil)

// PlanAssessment implements review.Planner.
func (p *Planner) PlanAssessment(ctx context.Context, c review.Case, in review.AssessmentInput) (json.RawMessage, int, error) {
	spec := Spec{Version: SpecVersion, Seed: in.Seed, SkipJudge: p.SkipJudge, ShardSize: p.ShardSize, Source: "request"}
	switch {
	case in.Judge != nil:
		rubric := in.Judge.Rubric
		if rubric == "" {
			rubric = score.RubricStrongREJECT
		}
		spec.Judge = &SpecJudge{URL: in.Judge.URL, Model: in.Judge.Model, Rubric: rubric, Source: "request"}
	case p.Judge != nil:
		rubric := p.Judge.Rubric
		if rubric == "" {
			rubric = score.RubricStrongREJECT
		}
		spec.Judge = &SpecJudge{URL: p.Judge.URL, Model: p.Judge.Model, Rubric: rubric, Source: "agency"}
	}
	if spec.Judge != nil {
		if r, err := score.LookupRubric(spec.Judge.Rubric); err != nil || !r.Harm() {
			return nil, 0, fmt.Errorf("plan assessment: judge.rubric: %q is not a harm rubric: %w", spec.Judge.Rubric, review.ErrInvalidInput)
		}
	}
	if err := p.privateSpec(&spec, in); err != nil {
		return nil, 0, err
	}
	if spec.Seed == 0 {
		spec.Seed = 1
	}
	if spec.ShardSize <= 0 {
		spec.ShardSize = DefaultShardSize
	}
	var want []SpecSuite
	if len(in.Suites) > 0 {
		for _, name := range in.Suites {
			want = append(want, SpecSuite{Name: name, Limit: in.Limit})
		}
	} else {
		if p.ProfilePlan == nil {
			return nil, 0, fmt.Errorf("plan assessment: name the suites: %w", review.ErrInvalidInput)
		}
		var err error
		if want, err = p.ProfilePlan(ctx, c); err != nil {
			return nil, 0, fmt.Errorf("plan assessment from profiles: %w", err)
		}
		if len(want) == 0 {
			return nil, 0, fmt.Errorf("plan assessment: the case's profiles require no evaluation; name the suites: %w", review.ErrInvalidInput)
		}
		if in.Limit > 0 {
			for i := range want {
				want[i].Limit = in.Limit
			}
		}
		spec.Source, spec.Profiles = "profiles", c.Profiles
	}
	for _, w := range want {
		st, err := p.suites.get(w.Name)
		if errors.Is(err, suite.ErrUnknownSuite) {
			return nil, 0, fmt.Errorf("plan assessment: suites: unknown suite %q (built-in: %s): %w", w.Name, strings.Join(suite.BuiltinNames(), ", "), review.ErrInvalidInput)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("plan assessment: %w", err)
		}
		spec.Suites = append(spec.Suites, SpecSuite{Name: st.Name, Version: st.Version, Digest: st.Digest(), Limit: w.Limit, PerKind: w.PerKind})
	}
	_, n, _, err := spec.plan(&p.suites)
	if err != nil {
		return nil, 0, fmt.Errorf("plan assessment: %w", err)
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("plan assessment: the plan has no samples: %w", review.ErrInvalidInput)
	}
	spec.Samples = n
	if err := checkSweepable(spec, &p.suites, in.Budgets); err != nil {
		return nil, 0, err
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, 0, err
	}
	return b, spec.Shards(), nil
}

// Assessor is what the shard runner needs of the review service;
// *review.Service satisfies it.
type Assessor interface {
	AssessmentTarget(ctx context.Context, assessmentID string) (review.Assessment, review.Case, []byte, error)
	AssessmentJudgeCredentials(ctx context.Context, assessmentID string) ([]byte, error)
	RecordShard(ctx context.Context, assessmentID string, shard int, samples []review.Sample) (review.Assessment, error)
	ShardSamples(ctx context.Context, assessmentID string, fn func(review.Sample) error) error
	CompleteAssessment(ctx context.Context, assessmentID string, metrics json.RawMessage) (review.Assessment, error)
	FailAssessment(ctx context.Context, assessmentID, reason string) (review.Assessment, error)
	ResponseStore
}

// ResponseStore is the response cache the runner keeps in the database.
// The service seals the answers it stores (they may be harmful), which
// is why the runner takes it from the Assessor and not from the store.
type ResponseStore interface {
	CachedResponse(ctx context.Context, key string) ([]byte, error)
	PutCachedResponse(ctx context.Context, key string, resp []byte) error
}

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	// Service is required; it is also the response cache.
	Service Assessor
	// Target builds the client of a case's endpoint; nil means an
	// OpenAI-compatible endpoint at the case's target URL (the "/v1"
	// root), the case's model name, and the credentials as bearer key,
	// reached through an HTTP client of Egress. Whichever target runs,
	// a failed request is recorded with its error kind and HTTP status
	// only, never the endpoint's text (see redactTarget).
	Target func(c review.Case, credentials []byte) (assess.Target, assess.TargetInfo, error)
	// Judge is the agency's default judge, which assessments planned with
	// it (SpecJudge.Source "agency") are scored by; nil when the server
	// has none. A judge, the agency's or an assessment's, is reached
	// through an HTTP client of Egress, as targets are: an operator whose
	// judge is on an internal network allows that network with
	// --allow-target-net.
	Judge *JudgeConfig
	// Egress decides which addresses the default Target may dial: the
	// zero Policy allows public addresses only, so a developer's
	// target URL cannot reach the service's loopback, internal hosts or
	// a metadata service; Allow names the networks an operator
	// evaluates models on (clearance serve --allow-target-net).
	Egress egress.Policy

	// PrivateSeed is the agency's private seed, for assessments planned
	// with private forms (Planner.PrivateSeed); nil fails their shards.
	PrivateSeed *suite.PrivateSeed

	// Calibration is the size of the calibration batch the harm scorers
	// (harm, the judge) score when an assessment completes (0:
	// assess.DefaultCalibration; negative: none). Judge calls are cached.
	Calibration int

	// Sandbox runs the shell commands of cyber-exploit episodes (the
	// worker's --sandbox backend, checked at start-up); nil when this
	// worker has none, and then NoSandbox says why. A shard holding
	// cyber-exploit samples is refused without one (ErrNoSandbox);
	// other shards run.
	Sandbox   *sandbox.Runner
	NoSandbox error
	// Agent bounds each episode (turns, tokens, wall time, command
	// time); zero fields take the agent package's defaults.
	Agent agent.Limits
	// OnlyWorker says that this process is the only one working shards
	// (clearance serve's embedded job database): a shard it refuses for
	// want of a sandbox fails its assessment at once, since no other
	// worker would take it up. Otherwise the refusal is the shard job's
	// error and the shard is retried, by whichever worker next takes it.
	OnlyWorker bool

	// Limits, when set, is the concurrency limit per target that this
	// process's shards share with every worker process on the database
	// (NewTargetLimits; clearance serve and worker set it), and
	// Concurrency only sizes each shard's pool of requests. Nil: each
	// shard has its own adaptive limit, capped at Concurrency.
	Limits *TargetLimits
	// ShardWait is how long a shard waits for its target's limit to let
	// it send (see TargetLimits) before it goes back to the queue
	// (ErrShardDeferred; default DefaultShardWait). Only with Limits.
	ShardWait time.Duration

	Concurrency    int           // per shard; 0: the runner's adaptive default
	RequestTimeout time.Duration // 0: the runner's default
	Attempts       int           // 0: the runner's default
	Logger         *slog.Logger
	Now            func() time.Time
	Version        string
}

// Runner runs assessment shards (Config.RunShard): it runs a shard's
// samples against the case's target with the service's response cache,
// records them with the service and, when the last shard is in, computes
// the metrics from every stored sample and completes the assessment.
// Running a shard again repeats no completed model call. A shard's
// transcripts are kept in memory until the service stores them (sealing
// the harmful ones): they never reach a file in the clear.
type Runner struct {
	cfg    RunnerConfig
	suites suites
}

// NewRunner returns a Runner.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if cfg.Service == nil {
		return nil, fmt.Errorf("%w: runner needs Service", ErrConfig)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Target == nil {
		cfg.Target = openAITarget(cfg.RequestTimeout, cfg.Egress.Client(0))
	}
	cfg.Target = redactTarget(cfg.Target)
	r := &Runner{cfg: cfg, suites: suites{seed: cfg.PrivateSeed}}
	r.suites.para = r.paraphraseOptions()
	return r, nil
}

// errPermanent marks shard failures that retrying cannot fix.
var errPermanent = errors.New("permanent shard failure")

// RunShard runs one shard; it is Config.RunShard.
func (r *Runner) RunShard(ctx context.Context, args ShardArgs) error {
	err := r.runShard(ctx, args)
	if errors.Is(err, errPermanent) {
		if _, ferr := r.cfg.Service.FailAssessment(ctx, args.AssessmentID, err.Error()); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	return err
}

func (r *Runner) runShard(ctx context.Context, args ShardArgs) error {
	as, c, cred, err := r.cfg.Service.AssessmentTarget(ctx, args.AssessmentID)
	if errors.Is(err, review.ErrNotFound) {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	if err != nil {
		return err
	}
	if as.State == review.AssessmentDone || as.State == review.AssessmentFailed {
		return nil
	}
	spec, err := ParseSpec(as.Spec)
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	if args.Shard < 0 || args.Shard >= spec.Shards() {
		return fmt.Errorf("%w: shard %d of an assessment with %d", errPermanent, args.Shard, spec.Shards())
	}
	plan, _, _, err := spec.plan(&r.suites)
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	lo, hi := args.Shard*spec.ShardSize, (args.Shard+1)*spec.ShardSize
	seqOf := map[string]int{}
	shardPlan := func(yield func(suite.Sample) bool) {
		i := 0
		for sm := range plan {
			if i >= lo && i < hi && !yield(sm) {
				return
			}
			i++
			if i >= hi {
				return
			}
		}
	}
	n := 0
	for sm := range shardPlan {
		seqOf[sm.ID] = lo + n
		n++
	}
	if err := r.refuseWithoutSandbox(shardPlan); err != nil {
		r.cfg.Logger.WarnContext(ctx, "shard refused", "assessment", as.ID, "shard", args.Shard, "err", err)
		return err
	}
	judge, err := r.judge(ctx, as.ID, spec.Judge)
	if err != nil {
		return err
	}
	scorers, err := scorersFor(shardPlan, judge)
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	t, info, err := r.cfg.Target(c, cred)
	if err != nil {
		return fmt.Errorf("%w: target of case %s: %v", errPermanent, c.ID, err)
	}
	// The shard's records stay in memory: a file would hold harmful
	// answers in the clear, and outlive a crash.
	var records bytes.Buffer
	var lim assess.Limiter
	endTurn := func() {}
	if r.cfg.Limits != nil {
		key := targetKey(info)
		if key == "" {
			key = t.Identity()
		}
		sl := r.cfg.Limits.limiter(key)
		// Shards beyond what the target's limit can feed wait here, or
		// back in the queue, instead of competing for its slots.
		pool := min(cmp.Or(r.cfg.Concurrency, assess.DefaultMaxConcurrency), n)
		if endTurn, err = sl.admit(ctx, pool, cmp.Or(r.cfg.ShardWait, DefaultShardWait)); err != nil {
			return err
		}
		defer endTurn()
		lim = sl
	}
	res, err := assess.Run(ctx, assess.Config{
		Target: t, TargetInfo: info, Plan: shardPlan, Total: n, Scorers: scorers, Records: &records,
		PlanKey:     assess.PlanInfo{Seed: spec.Seed, Filter: fmt.Sprintf("assessment=%s;shard=%d", as.ID, args.Shard)},
		Concurrency: r.cfg.Concurrency, Limiter: lim, Attempts: r.cfg.Attempts, RequestTimeout: r.cfg.RequestTimeout,
		Episodes: r.episodeRunner(spec.BudgetTokens),
		Cache:    storeCache{ctx: ctx, st: r.cfg.Service, log: r.cfg.Logger}, Logger: r.cfg.Logger, Now: r.cfg.Now, Version: r.cfg.Version,
	})
	endTurn() // the shard sends no more: the next may start
	if err != nil {
		return fmt.Errorf("run shard %d of %s: %w", args.Shard, as.ID, err)
	}
	if res.Metrics.Status != "complete" {
		return fmt.Errorf("run shard %d of %s: run %s", args.Shard, as.ID, res.Metrics.Status)
	}
	samples, err := readShard(&records, seqOf)
	if err != nil {
		return fmt.Errorf("%w: shard %d of %s: %v", errPermanent, args.Shard, as.ID, err)
	}
	if len(samples) != n {
		return fmt.Errorf("run shard %d of %s: %d samples recorded, %d planned", args.Shard, as.ID, len(samples), n)
	}
	as, err = r.cfg.Service.RecordShard(ctx, as.ID, args.Shard, samples)
	if err != nil {
		return err
	}
	r.cfg.Logger.InfoContext(ctx, "shard done", "assessment", as.ID, "shard", args.Shard, "samples", n, "done", as.ShardsDone, "of", as.Shards)
	if as.State == review.AssessmentRunning && as.ShardsDone == as.Shards {
		if judge != nil {
			scorers["judge"] = judge // every shard's judge, whether or not this shard used it
		}
		return r.complete(ctx, as.ID, scorers)
	}
	return nil
}

// complete computes an assessment's metrics from its stored samples, in
// plan order, exactly as a single run computes them from samples.jsonl.
func (r *Runner) complete(ctx context.Context, id string, scorers map[string]score.Scorer) error {
	pr, pw := io.Pipe()
	scan, scanned := r.contaminationScan(), make(chan struct{})
	go func() {
		defer close(scanned)
		err := r.cfg.Service.ShardSamples(ctx, id, func(sm review.Sample) error {
			scan.add(sm.Record)
			if _, err := pw.Write(sm.Record); err != nil {
				return err
			}
			_, err := pw.Write([]byte("\n"))
			return err
		})
		pw.CloseWithError(err)
	}()
	all, err := allScorers()
	if err != nil {
		return err
	}
	for k, v := range scorers {
		all[k] = v
	}
	n := r.cfg.Calibration
	if n == 0 {
		n = assess.DefaultCalibration
	}
	cal, err := assess.CalibrateScorers(ctx, all, n, 8)
	if err != nil {
		pr.Close()
		return fmt.Errorf("calibrate scorers of %s: %w", id, err)
	}
	m, err := assess.ComputeMetrics(pr, "complete", assess.CalibratedQuality(assess.ScorerQuality(all), cal))
	pr.Close()
	<-scanned
	if err != nil {
		return fmt.Errorf("metrics of %s: %w", id, err)
	}
	assess.AttachCalibration(&m, cal)
	m.Contamination = scan.result()
	if g := assess.ComparePrivate(m, "", 0); len(g.Gaps) > 0 {
		g.Paraphrase = r.paraphraseStats(scan)
		m.PrivateGap = &g
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = r.cfg.Service.CompleteAssessment(ctx, id, b)
	return err
}

// judge builds the judge scorer of a spec, nil when it has none. Its
// requests go through the egress policy's client, and its failures are
// redacted as a target's are (a scorer error names the kind and status,
// never the judge endpoint's text). Its answers are cached in the
// service's sealed response cache.
func (r *Runner) judge(ctx context.Context, assessmentID string, sj *SpecJudge) (score.Scorer, error) {
	if sj == nil {
		return nil, nil
	}
	var key []byte
	switch sj.Source {
	case "agency":
		if r.cfg.Judge == nil {
			return nil, fmt.Errorf("%w: assessment %s was planned with the agency's judge, and this server has none (serve --judge-url)", errPermanent, assessmentID)
		}
		key = r.cfg.Judge.Key
	default:
		var err error
		if key, err = r.cfg.Service.AssessmentJudgeCredentials(ctx, assessmentID); err != nil {
			return nil, err
		}
	}
	base := strings.TrimRight(sj.URL, "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	t, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: base, Model: sj.Model, APIKey: strings.TrimSpace(string(key)),
		Timeout: r.cfg.RequestTimeout, HTTPClient: r.cfg.Egress.Client(0)})
	if err != nil {
		return nil, fmt.Errorf("%w: judge of assessment %s: %v", errPermanent, assessmentID, err)
	}
	c := assess.CachedCompleter(redactedTarget{t}, t.Identity(), storeCache{ctx: ctx, st: r.cfg.Service, log: r.cfg.Logger})
	j, err := score.NewJudgeWith(c, score.JudgeOptions{Rubric: sj.Rubric, Model: sj.Model + "@" + base})
	if err != nil {
		return nil, fmt.Errorf("%w: judge of assessment %s: %v", errPermanent, assessmentID, err)
	}
	return redactedJudge{j}, nil
}

// redactedJudge is the service's judge whose scorer errors carry no text
// of the judge's answer: a failed call is already described by kind and
// status (redactedTarget), and an unreadable answer by its rubric only.
// The judge endpoint is configured by the agency or an assessor and may
// be inside the agency's networks; what it says is not the developer's to
// read.
type redactedJudge struct{ *score.Judge }

func (j redactedJudge) Score(ctx context.Context, in score.Input) score.Verdict {
	v := j.Judge.Score(ctx, in)
	if v.Err != "" && !strings.HasPrefix(v.Err, "judge: complete: ") && !strings.HasPrefix(v.Err, "judge: rubric ") {
		v.Err = fmt.Sprintf("judge: the judge's answer holds no usable verdict under rubric %s", j.Rubric().Version)
	}
	return v
}

// scorersFor builds the scorers a plan uses; judge (nil when the
// assessment has none) scores the samples given to the judge.
func scorersFor(plan iter.Seq[suite.Sample], judge score.Scorer) (map[string]score.Scorer, error) {
	out := map[string]score.Scorer{}
	for sm := range plan {
		if _, ok := out[sm.Scorer]; ok {
			continue
		}
		if sm.Scorer == "judge" {
			if judge == nil {
				return nil, errors.New("the plan needs the judge scorer, and the assessment has no judge (plan with SkipJudge, or configure one)")
			}
			out["judge"] = judge
			continue
		}
		sc, err := score.New(sm.Scorer, nil)
		if err != nil {
			return nil, err
		}
		out[sm.Scorer] = sc
	}
	return out, nil
}

// allScorers builds every scorer that needs no judge, so that metrics
// name each scorer's version and quality whichever shard ran it.
func allScorers() (map[string]score.Scorer, error) {
	out := map[string]score.Scorer{}
	for _, name := range []string{"refusal", "harm", "exact", "regex", "choice", "canary", "marker", "flag"} {
		sc, err := score.New(name, nil)
		if err != nil {
			continue
		}
		out[name] = sc
	}
	return out, nil
}

// readShard turns a shard's samples.jsonl stream into review samples.
func readShard(r io.Reader, seqOf map[string]int) ([]review.Sample, error) {
	var out []review.Sample
	err := assess.ReadRecords(r, func(line int, rec *assess.Record) error {
		seq, ok := seqOf[rec.ID]
		if !ok {
			return fmt.Errorf("line %d: sample %s is not in the shard", line, rec.ID)
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		out = append(out, SampleOf(seq, rec, b))
		return nil
	})
	return out, err
}

// SampleOf makes the review sample of a run record at plan position seq;
// raw is the record's JSON. Samples of harmful requests are marked
// Harmful, so the service seals them: the answer may be harmful content.
// So are cyber-exploit episodes: their transcripts hold working exploits
// and, when captured, the flag in clear.
func SampleOf(seq int, rec *assess.Record, raw []byte) review.Sample {
	sm := review.Sample{Seq: seq, ID: rec.ID, Suite: rec.Suite, Category: rec.Category, Transform: rec.Transform,
		Kind: rec.Kind, Harmful: rec.Kind == suite.KindHarmful || rec.Kind == suite.KindExploit, Record: raw}
	switch {
	case rec.Failed():
		sm.Outcome = review.SampleError
	case rec.Verdict == nil || rec.Verdict.Err != "":
		sm.Outcome = review.SampleError
	case rec.Verdict.Flagged:
		sm.Outcome = review.SampleFlagged
	default:
		sm.Outcome = review.SamplePassed
	}
	return sm
}

// RemoveShardDirs removes the "shard-*" run directories that runners
// before this one kept in dir while a shard ran, in plaintext, and that a
// crash left behind; the runner keeps shards in memory now. It returns
// how many it removed; a missing dir is none.
func RemoveShardDirs(dir string) (int, error) {
	dirs, err := filepath.Glob(filepath.Join(dir, "shard-*"))
	if err != nil {
		return 0, fmt.Errorf("remove shard directories: %w", err)
	}
	n := 0
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			return n, fmt.Errorf("remove shard directories: %w", err)
		}
		n++
	}
	return n, nil
}

// storeCache adapts a ResponseStore to assess.ResponseCache.
type storeCache struct {
	ctx context.Context
	st  ResponseStore
	log *slog.Logger
}

func (c storeCache) Get(key string) (target.Response, bool) {
	b, err := c.st.CachedResponse(c.ctx, key)
	if err != nil {
		if !errors.Is(err, review.ErrNotFound) {
			c.log.Warn("read cached response", "err", err)
		}
		return target.Response{}, false
	}
	var resp target.Response
	if err := json.Unmarshal(b, &resp); err != nil {
		c.log.Warn("decode cached response", "err", err)
		return target.Response{}, false
	}
	return resp, true
}

func (c storeCache) Put(key string, resp target.Response) error {
	b, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	return c.st.PutCachedResponse(c.ctx, key, b)
}
