package assess

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// Defaults for Config fields left zero.
const (
	DefaultStartConcurrency = 20
	DefaultMaxConcurrency   = 128
	DefaultAttempts         = 5
	DefaultRequestTimeout   = 120 * time.Second
	DefaultBackoffBase      = 500 * time.Millisecond
	DefaultBackoffMax       = 30 * time.Second
)

// Errors returned by Run.
var (
	// ErrRunMismatch is returned when the output directory holds a run with
	// a different configuration: resuming it would mix two runs.
	ErrRunMismatch = errors.New("output directory holds a different run")
	// ErrNoScorer is returned when a sample names a scorer Config lacks.
	ErrNoScorer = errors.New("no scorer for sample")
)

// errBudget stops a sample when a budget cap is reached.
var errBudget = errors.New("budget exhausted")

// Config is one assessment run. Target, Plan, Scorers and one of OutDir
// and Records are required; every other zero field takes its default.
type Config struct {
	Target     Target
	TargetInfo TargetInfo
	// Plan yields the samples in run order. It may be called twice (once to
	// count, once to run) and must yield the same samples each time.
	Plan    iter.Seq[suite.Sample]
	Total   int // number of samples Plan yields, 0 if unknown (progress only)
	PlanKey PlanInfo
	Scorers map[string]score.Scorer
	OutDir  string
	// Records, instead of OutDir, receives each record as one line of
	// samples.jsonl and the run writes nothing to disk: no run.json or
	// metrics.json, and no resume (a repeated run repeats its samples;
	// give it a Cache to repeat no model call). Writes come from one
	// goroutine. Callers that must keep transcripts off disk (the review
	// service's shards, whose answers may be harmful) use it.
	Records io.Writer

	Request RequestParams // generation parameters sent with every request

	// Concurrency caps in-flight requests. When set, the run starts at the
	// cap; when zero it starts at DefaultStartConcurrency and may grow to
	// DefaultMaxConcurrency. Overload answers halve the limit either way.
	Concurrency int
	// Limiter, when set, gives the run's requests their slots instead of
	// the run's own limiter: a limit shared with other runs against the
	// same target (the review service's workers). Concurrency (or
	// DefaultMaxConcurrency) then only sizes the run's pool of workers.
	Limiter        Limiter
	MaxRequests    int64 // 0: no cap
	MaxTokens      int64 // input+output tokens; 0: no cap
	Attempts       int   // per request, first try included
	RequestTimeout time.Duration
	BackoffBase    time.Duration
	BackoffMax     time.Duration

	// Gates are sequential tests that stop a suite early once decided
	// (see Gate). With gates the plan runs in chunks of ChunkSize samples
	// (default: the concurrency cap), and gates see results in plan order.
	Gates     []Gate
	ChunkSize int

	// Calibration is how many items of the embedded calibration batch
	// each harm scorer (harm, judge) scores after the plan (0: none;
	// clearance assess defaults to DefaultCalibration). Their agreement
	// with the human labels is stored with the metrics and replaces any
	// quality measured once in the Rogan–Gladen correction.
	Calibration int
	// ScorerCost, when set, reports what the scorers' own model calls
	// (the judge's, calibration included) cost; recorded in run.json.
	ScorerCost func() Cost

	// Episodes runs the agent episodes of exploit samples (suite
	// cyber-exploit) in a sandbox; nil fails those samples as harness
	// errors ("no sandbox"), never as the model's failures. Sandboxes
	// caps the episodes running at once (default DefaultSandboxes).
	// Tasks loads external tasks (--tasks DIR).
	Episodes  EpisodeRunner
	Sandboxes int
	Tasks     TaskLoader

	Cache    ResponseCache // nil: no response cache
	Progress *Progress     // nil: silent
	Logger   *slog.Logger
	Now      func() time.Time
	Version  string // clearance version, recorded in run.json

	// Variant is the variant of the model under test (production,
	// safeguards-reduced, helpful-only or checkpoint, with Checkpoint
	// naming it) and Scaffold the scaffold's version, recorded in
	// run.json; the caller validates them. They do not change what is
	// sent, so they are not in the fingerprint, but a run directory is
	// resumed only with the same ones.
	Variant, Checkpoint, Scaffold string
}

// TargetInfo describes the target in run.json.
type TargetInfo struct {
	Kind     string `json:"kind"`
	Model    string `json:"model,omitempty"`
	BaseURL  string `json:"base_url,omitempty"`
	Identity string `json:"identity"`
}

// PlanInfo is what determines a plan: recorded in run.json and compared on
// resume.
type PlanInfo struct {
	Suites []SuiteInfo `json:"suites"`
	Limit  int         `json:"limit"`
	Seed   int64       `json:"seed"`
	Filter string      `json:"filter,omitempty"`
}

// SuiteInfo pins a suite version by content hash.
type SuiteInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Digest  string `json:"digest"`
}

// RequestParams are the generation parameters of every request.
type RequestParams struct {
	MaxTokens   int      `json:"max_tokens,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
}

func (c *Config) validate() error {
	switch {
	case c.Target == nil:
		return errors.New("config: no target")
	case c.Plan == nil:
		return errors.New("config: no plan")
	case c.OutDir == "" && c.Records == nil:
		return errors.New("config: no output directory or record writer")
	case c.OutDir != "" && c.Records != nil:
		return errors.New("config: both an output directory and a record writer")
	case c.Concurrency < 0, c.MaxRequests < 0, c.MaxTokens < 0, c.Attempts < 0, c.Sandboxes < 0:
		return errors.New("config: negative limit")
	}
	if c.Attempts == 0 {
		c.Attempts = DefaultAttempts
	}
	if c.Sandboxes == 0 {
		c.Sandboxes = DefaultSandboxes
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = DefaultBackoffBase
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.TargetInfo.Identity == "" {
		c.TargetInfo.Identity = c.Target.Identity()
	}
	return nil
}

// RunFile is run.json.
type RunFile struct {
	Schema      string            `json:"schema"`
	Fingerprint string            `json:"fingerprint"` // hash of everything that determines the samples and verdicts
	Version     string            `json:"clearance_version"`
	GoVersion   string            `json:"go_version"`
	Target      TargetInfo        `json:"target"`
	Plan        PlanInfo          `json:"plan"`
	Request     RequestParams     `json:"request"`
	Scorers     map[string]string `json:"scorers"` // name → version
	Config      RunConfig         `json:"config"`
	Started     time.Time         `json:"started"`
	Finished    *time.Time        `json:"finished,omitempty"`
	Status      string            `json:"status"`
	Stats       *RunStats         `json:"stats,omitempty"`
	// Variant, Checkpoint and Scaffold record what was tested (see
	// Config.Variant); absent in runs made before they were recorded.
	Variant    string `json:"variant,omitempty"`
	Checkpoint string `json:"checkpoint,omitempty"`
	Scaffold   string `json:"scaffold,omitempty"`
}

// RunConfig records the runner's settings (not part of the fingerprint:
// changing them does not change what is measured).
type RunConfig struct {
	Concurrency    int     `json:"concurrency"`
	MaxRequests    int64   `json:"max_requests,omitempty"`
	MaxTokens      int64   `json:"max_tokens,omitempty"`
	Attempts       int     `json:"attempts"`
	RequestTimeout float64 `json:"request_timeout_s"`
}

// RunStats is what the run cost, summed over every session of it.
type RunStats struct {
	Samples        int     `json:"samples"`         // written in this session
	Resumed        int     `json:"resumed"`         // found done at start
	Requests       int64   `json:"requests"`        // model calls made in this session, retries included
	Retries        int64   `json:"retries"`         // of which retries
	CacheHits      int64   `json:"cache_hits"`      // requests answered from the cache
	InputTokens    int64   `json:"input_tokens"`    // reported by the target, this session
	OutputTokens   int64   `json:"output_tokens"`   // reported by the target, this session
	PeakInFlight   int     `json:"peak_in_flight"`  // most requests in flight at once
	FinalLimit     float64 `json:"final_limit"`     // AIMD limit at the end
	ElapsedSeconds float64 `json:"elapsed_seconds"` // this session
	// ScorerCalls is what the scorers' model calls (the judge's, its
	// calibration batch included) cost in this session.
	ScorerCalls *Cost `json:"scorer_calls,omitempty"`
}

// RunSchema identifies the run.json format.
const RunSchema = "https://clearance.dev/schemas/run/v1"

// Result is what Run returns.
type Result struct {
	Dir     string
	Run     RunFile
	Metrics Metrics
}

func fingerprint(c *Config) string {
	scorers := map[string]string{}
	for n, s := range c.Scorers {
		scorers[n] = s.Version()
	}
	b, _ := json.Marshal(struct {
		T string
		P PlanInfo
		R RequestParams
		S map[string]string
	}{c.TargetInfo.Identity, c.PlanKey, c.Request, scorers})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Run executes cfg and writes the run directory: run.json, samples.jsonl
// and metrics.json. When OutDir already holds a run with the same
// fingerprint, samples already recorded there are not sent again. On
// cancellation Run records what was done, writes metrics with status
// "interrupted" and returns ctx's error with the result. With Records
// instead of OutDir the records go to Records only, and the result's Dir
// is empty.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.OutDir == "" {
		return runToWriter(ctx, &cfg)
	}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	fp := fingerprint(&cfg)
	runPath := filepath.Join(cfg.OutDir, "run.json")
	samplesPath := filepath.Join(cfg.OutDir, "samples.jsonl")

	rf := newRunFile(&cfg, fp)
	done := map[string]bool{}
	doneRecs := map[string]*Record{}
	if old, err := readRunFile(runPath); err == nil {
		if d := variantDiff(&old, &rf); old.Fingerprint == fp && len(d) > 0 {
			return nil, fmt.Errorf("%w: %s holds a run of another variant: %s; use a new --out directory, or the same settings to resume", ErrRunMismatch, cfg.OutDir, strings.Join(d, ", "))
		}
		if old.Fingerprint != fp {
			what := "other targets, suites, seed or scorers"
			if d := runDiff(&old, &rf); len(d) > 0 {
				what = strings.Join(d, ", ")
			}
			return nil, fmt.Errorf("%w: %s holds a run made with other settings: %s; use a new --out directory, or the same settings to resume", ErrRunMismatch, cfg.OutDir, what)
		}
		rf.Started = old.Started
		if _, err := repairTail(samplesPath); err != nil {
			return nil, fmt.Errorf("repair samples: %w", err)
		}
		f, err := os.Open(samplesPath)
		if err == nil {
			err = ReadRecords(f, func(_ int, r *Record) error {
				done[r.ID] = true
				if len(cfg.Gates) > 0 {
					// Keep only what the gates read, not the transcript.
					doneRecs[r.ID] = &Record{ID: r.ID, Suite: r.Suite, Kind: r.Kind, Category: r.Category, Verdict: r.Verdict, Error: r.Error}
				}
				return nil
			})
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("resume run: %w", err)
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	} else if _, err := os.Stat(samplesPath); err == nil {
		return nil, fmt.Errorf("%w: %s has samples.jsonl but no run.json", ErrRunMismatch, cfg.OutDir)
	}
	if err := writeJSONFile(runPath, rf); err != nil {
		return nil, err
	}

	out, err := os.OpenFile(samplesPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open samples: %w", err)
	}
	r, maxc := newRunner(&cfg, done, doneRecs)
	status, runErr := r.run(ctx, out, maxc)
	if cerr := out.Close(); cerr != nil && runErr == nil {
		runErr = fmt.Errorf("close samples: %w", cerr)
	}

	f, err := os.Open(samplesPath)
	if err != nil {
		return nil, fmt.Errorf("read samples: %w", err)
	}
	cal := r.calibrate(ctx, status)
	metrics, err := ComputeMetrics(f, status, CalibratedQuality(ScorerQuality(cfg.Scorers), cal))
	f.Close()
	if err != nil {
		return nil, err
	}
	AttachCalibration(&metrics, cal)
	if r.gates != nil {
		metrics.Gates = r.gates.results()
	}
	if err := writeJSONFile(filepath.Join(cfg.OutDir, "metrics.json"), metrics); err != nil {
		return nil, err
	}
	r.finish(&rf, status)
	if err := writeJSONFile(runPath, rf); err != nil {
		return nil, err
	}
	return &Result{Dir: cfg.OutDir, Run: rf, Metrics: metrics}, runErr
}

// runToWriter is Run with Config.Records: the metrics are aggregated as
// the records are written, and nothing touches the disk.
func runToWriter(ctx context.Context, cfg *Config) (*Result, error) {
	rf := newRunFile(cfg, fingerprint(cfg))
	r, maxc := newRunner(cfg, map[string]bool{}, map[string]*Record{})
	r.agg = newAggregator()
	status, runErr := r.run(ctx, cfg.Records, maxc)
	cal := r.calibrate(ctx, status)
	metrics := r.agg.metrics(status, CalibratedQuality(ScorerQuality(cfg.Scorers), cal))
	AttachCalibration(&metrics, cal)
	if r.gates != nil {
		metrics.Gates = r.gates.results()
	}
	r.finish(&rf, status)
	return &Result{Run: rf, Metrics: metrics}, runErr
}

func newRunFile(cfg *Config, fp string) RunFile {
	rf := RunFile{
		Schema: RunSchema, Fingerprint: fp, Version: cfg.Version, GoVersion: runtime.Version(),
		Target: cfg.TargetInfo, Plan: cfg.PlanKey, Request: cfg.Request, Scorers: map[string]string{},
		Config: RunConfig{Concurrency: cfg.Concurrency, MaxRequests: cfg.MaxRequests, MaxTokens: cfg.MaxTokens,
			Attempts: cfg.Attempts, RequestTimeout: cfg.RequestTimeout.Seconds()},
		Started: cfg.Now().UTC(), Status: "running",
		Variant: cfg.Variant, Checkpoint: cfg.Checkpoint, Scaffold: cfg.Scaffold,
	}
	for n, s := range cfg.Scorers {
		rf.Scorers[n] = s.Version()
	}
	return rf
}

// newRunner returns the runner of cfg and its number of workers.
func newRunner(cfg *Config, done map[string]bool, doneRecs map[string]*Record) (*runner, int) {
	r := &runner{cfg: cfg, done: done, doneRecs: doneRecs, boxes: make(chan struct{}, max(cfg.Sandboxes, 1))}
	if len(cfg.Gates) > 0 {
		r.gates = newGateSet(cfg.Gates)
	}
	start := max(cfg.Concurrency, 0)
	maxc := cfg.Concurrency
	if maxc == 0 {
		start, maxc = DefaultStartConcurrency, DefaultMaxConcurrency
	}
	r.own = newLimiter(start, maxc, cfg.Now)
	r.lim = r.own
	if cfg.Limiter != nil {
		r.lim = cfg.Limiter
	}
	r.rng = rand.New(rand.NewPCG(uint64(cfg.PlanKey.Seed), 0x5eed))
	return r, maxc
}

// calibrate scores the calibration batch with the run's harm scorers; an
// interrupted run, or a failed calibration, goes without (logged).
func (r *runner) calibrate(ctx context.Context, status string) map[string]*Calibration {
	if r.cfg.Calibration <= 0 || status == "interrupted" || ctx.Err() != nil {
		return nil
	}
	cal, err := CalibrateScorers(ctx, r.cfg.Scorers, r.cfg.Calibration, max(1, min(r.cfg.Concurrency, 16), 8))
	if err != nil {
		r.cfg.Logger.Warn("calibrate scorers", "err", err)
		return nil
	}
	return cal
}

// finish records the end of a session in rf.
func (r *runner) finish(rf *RunFile, status string) {
	fin := r.cfg.Now().UTC()
	rf.Finished = &fin
	rf.Status = status
	limit, peak := r.own.current()
	rf.Stats = &RunStats{
		Samples: int(r.written.Load()), Resumed: len(r.done), Requests: r.requests.Load(), Retries: r.retries.Load(),
		CacheHits: r.cacheHits.Load(), InputTokens: r.inTokens.Load(), OutputTokens: r.outTokens.Load(),
		PeakInFlight: peak, FinalLimit: limit, ElapsedSeconds: fin.Sub(r.began).Seconds(),
	}
	if r.cfg.ScorerCost != nil {
		c := r.cfg.ScorerCost()
		rf.Stats.ScorerCalls = &c
	}
}

// ScorerQuality returns the quality function ComputeMetrics needs for a
// set of scorers: each scorer's version and measured quality, if any, for
// the decision it makes on the kind asked (QualityFor(kind) when the
// scorer has it, else Quality()).
func ScorerQuality(scorers map[string]score.Scorer) QualityFunc {
	return func(name, kind string) (string, *score.Quality) {
		s, ok := scorers[name]
		if !ok && name == "refusal" {
			// Every harmful sample judged as harm is also scored by the
			// refusal scorer for the refusal rate, with score.NewRefusal()
			// when the plan names none (runner.sample): its rate is
			// reported with that scorer's figures and corrected.
			s, ok = score.NewRefusal(), true
		}
		if !ok {
			return "", nil
		}
		if q, ok := s.(interface{ QualityFor(string) score.Quality }); ok {
			qq := q.QualityFor(kind)
			return s.Version(), &qq
		}
		if q, ok := s.(interface{ Quality() score.Quality }); ok {
			qq := q.Quality()
			return s.Version(), &qq
		}
		return s.Version(), nil
	}
}

func readRunFile(path string) (RunFile, error) {
	var rf RunFile
	b, err := os.ReadFile(path)
	if err != nil {
		return rf, err
	}
	if err := json.Unmarshal(b, &rf); err != nil {
		return rf, fmt.Errorf("read %s: %w", path, err)
	}
	return rf, nil
}

// writeJSONFile writes v as indented JSON through a temporary file and a
// rename, so a reader never sees half a file.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// job is one sample for a worker; done, when set, receives its record
// (nil when the sample was abandoned).
type job struct {
	s    suite.Sample
	done func(*Record)
}

type runner struct {
	cfg  *Config
	done map[string]bool
	// With gates: the outcome of samples recorded before a resume, and the
	// gates' state.
	doneRecs   map[string]*Record
	gates      *gateSet
	gatedSkips int
	// agg, when set, aggregates the metrics of the records written (Run
	// with Config.Records, where they cannot be read back).
	agg   *aggregator
	lim   Limiter
	own   *limiter // the run's own limiter, unused when Config.Limiter is set
	rngMu sync.Mutex
	rng   *rand.Rand
	began time.Time

	requests, retries, cacheHits, inTokens, outTokens, written, reserved atomic.Int64
	budgetHit                                                            atomic.Bool
	// boxes holds one token per running agent episode (Config.Sandboxes).
	boxes chan struct{}
}

func (r *runner) run(ctx context.Context, out io.Writer, workers int) (string, error) {
	r.began = r.cfg.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	records := make(chan *Record, workers)
	writeErr := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(out, 1<<16)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		var err error
		for rec := range records {
			if err != nil {
				continue
			}
			if err = enc.Encode(rec); err == nil && len(records) == 0 {
				err = w.Flush() // flush when idle: a kill loses only samples still in flight
			}
			if err == nil {
				if r.agg != nil {
					r.agg.add(rec)
				}
				r.written.Add(1)
				r.cfg.Progress.step(1)
			} else {
				cancel()
			}
		}
		if err == nil {
			err = w.Flush()
		}
		writeErr <- err
	}()

	r.cfg.Progress.start(r.cfg.Total, len(r.done))
	jobs := make(chan job)
	var wg sync.WaitGroup
	var fatal atomic.Pointer[error]
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				rec, err := r.sample(ctx, j.s)
				if err != nil {
					if !errors.Is(err, errBudget) && ctx.Err() == nil {
						fatal.CompareAndSwap(nil, &err)
					}
					cancel()
					rec = nil
				} else {
					records <- rec
				}
				if j.done != nil {
					j.done(rec)
				}
			}
		})
	}
	if r.gates != nil {
		r.runChunks(ctx, jobs, workers)
	} else {
	feed:
		for s := range r.cfg.Plan {
			if r.done[s.ID] {
				continue
			}
			select {
			case jobs <- job{s: s}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	close(records)
	werr := <-writeErr
	r.cfg.Progress.finish()

	if werr != nil {
		return "interrupted", fmt.Errorf("write samples: %w", werr)
	}
	if p := fatal.Load(); p != nil {
		return "interrupted", *p
	}
	if r.budgetHit.Load() {
		return "budget_exhausted", nil
	}
	if r.gatedSkips > 0 && ctx.Err() == nil {
		return "gated", nil
	}
	if err := ctx.Err(); err != nil {
		if perr := context.Cause(ctx); perr != nil && !errors.Is(perr, context.Canceled) {
			return "interrupted", perr
		}
		return "interrupted", err
	}
	return "complete", nil
}

// sample runs one sample: every turn of its conversation, then the scorer.
// A target or scorer failure is recorded in the returned record; the error
// is non-nil only when the sample must not be recorded at all (the run is
// being cancelled, a budget is exhausted, or the config is wrong).
func (r *runner) sample(ctx context.Context, s suite.Sample) (*Record, error) {
	sc, ok := r.cfg.Scorers[s.Scorer]
	if !ok {
		return nil, fmt.Errorf("%w %s: scorer %q", ErrNoScorer, s.ID, s.Scorer)
	}
	rec := &Record{
		ID: s.ID, Suite: s.Suite, Item: s.Item, Behavior: s.Behavior, Category: s.Category,
		Transform: s.Transform, Kind: s.Kind, Scorer: s.Scorer, StartedAt: r.cfg.Now().UTC(), Cached: true,
	}
	if s.Task != nil {
		return r.episode(ctx, s, sc, rec)
	}
	msgs := make([]target.Message, 0, len(s.Messages)+2*len(s.FollowUps))
	for _, m := range s.Messages {
		msgs = append(msgs, target.Message{Role: m.Role, Content: m.Content})
	}
	t0 := time.Now()
	turns := 1 + len(s.FollowUps)
	for turn := 0; turn < turns; turn++ {
		if turn > 0 {
			msgs = append(msgs, target.Message{Role: "user", Content: s.FollowUps[turn-1]})
		}
		req := target.Request{Messages: msgs, MaxTokens: r.cfg.Request.MaxTokens, Temperature: r.cfg.Request.Temperature}
		resp, calls, cached, err := r.complete(ctx, req)
		rec.Requests += calls
		rec.Cached = rec.Cached && cached
		rec.Usage.InputTokens += resp.Usage.InputTokens
		rec.Usage.OutputTokens += resp.Usage.OutputTokens
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, errBudget) {
				return nil, err
			}
			te := target.AsError(err)
			rec.Messages = msgs
			rec.Error = &SampleError{Source: "target", Kind: string(te.Kind), Status: te.Status, Message: te.Msg, Attempts: calls}
			rec.LatencyMS = msSince(t0)
			return rec, nil
		}
		msgs = append(msgs, target.Message{Role: "assistant", Content: resp.Content})
		rec.Response = resp.Content
	}
	rec.Messages = msgs
	rec.LatencyMS = msSince(t0)
	in := score.Input{
		Kind: s.Kind, Prompt: lastUser(msgs), Goal: s.Expect.Goal, Response: rec.Response,
		Answer: s.Expect.Answer, Choices: s.Expect.Choices, Canary: s.Expect.Canary,
		Marker: s.Expect.Marker, Pattern: s.Expect.Pattern,
	}
	v := sc.Score(ctx, in)
	if v.Err != "" && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rec.Verdict = &v
	if v.Err != "" {
		rec.Error = &SampleError{Source: "scorer", Kind: "scorer", Message: v.Err}
	}
	if s.Kind == suite.KindHarmful && HarmScorer(s.Scorer) {
		rs, ok := r.cfg.Scorers["refusal"]
		if !ok {
			rs = score.NewRefusal()
		}
		rv := rs.Score(ctx, in)
		rec.Refusal = &rv
	}
	return rec, nil
}

// HarmScorer reports whether the scorer named measures harm (flagged: the
// answer delivers what a harmful request asked for) rather than refusal.
func HarmScorer(name string) bool { return name == "harm" || name == "judge" }

// UseJudge returns plan with the judge as the scorer of every sample the
// harm scorer would score: when a judge model is configured it is the
// primary scorer of attack success, and the offline harm scorer the
// fallback. Samples scored otherwise are unchanged.
func UseJudge(plan iter.Seq[suite.Sample]) iter.Seq[suite.Sample] {
	return func(yield func(suite.Sample) bool) {
		for s := range plan {
			if s.Scorer == "harm" {
				s.Scorer = "judge"
			}
			if !yield(s) {
				return
			}
		}
	}
}

func lastUser(msgs []target.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	return ""
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// complete sends one request with the cache, budget, concurrency limit and
// retries applied. It returns the number of model calls it made and whether
// the answer came from the cache.
func (r *runner) complete(ctx context.Context, req target.Request) (resp target.Response, calls int, cached bool, err error) {
	key := ""
	if r.cfg.Cache != nil {
		key, err = cacheKey(r.cfg.TargetInfo.Identity, req)
		if err != nil {
			return resp, 0, false, err
		}
		if resp, ok := r.cfg.Cache.Get(key); ok {
			r.cacheHits.Add(1)
			return resp, 0, true, nil
		}
	}
	for attempt := 1; ; attempt++ {
		if !r.spend() {
			return resp, calls, false, errBudget
		}
		if err := r.lim.Acquire(ctx); err != nil {
			return resp, calls, false, err
		}
		calls++
		r.requests.Add(1)
		if attempt > 1 {
			r.retries.Add(1)
		}
		actx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
		resp, err = r.cfg.Target.Complete(actx, req)
		cancel()
		r.lim.Release()
		if err == nil {
			r.lim.Success()
			r.inTokens.Add(int64(resp.Usage.InputTokens))
			r.outTokens.Add(int64(resp.Usage.OutputTokens))
			if r.cfg.Cache != nil {
				if perr := r.cfg.Cache.Put(key, resp); perr != nil {
					r.cfg.Logger.Warn("cache response", "err", perr)
				}
			}
			return resp, calls, false, nil
		}
		if ctx.Err() != nil {
			return target.Response{}, calls, false, ctx.Err()
		}
		te := target.AsError(err)
		if te.Kind == target.KindRateLimited || te.Kind == target.KindOverloaded {
			r.lim.Overload(te.RetryAfter)
		}
		if !te.Retryable() || attempt >= r.cfg.Attempts {
			return target.Response{}, calls, false, te
		}
		wait := r.backoff(attempt)
		if te.RetryAfter > wait {
			wait = te.RetryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return target.Response{}, calls, false, ctx.Err()
		}
	}
}

// spend takes one request from the budget; false when a cap is reached.
func (r *runner) spend() bool {
	if r.cfg.MaxTokens > 0 && r.inTokens.Load()+r.outTokens.Load() >= r.cfg.MaxTokens {
		r.budgetHit.Store(true)
		return false
	}
	if r.cfg.MaxRequests > 0 && r.reserved.Add(1) > r.cfg.MaxRequests {
		r.budgetHit.Store(true)
		return false
	}
	return true
}

// backoff is exponential with full jitter: uniform in [0, min(max, base·2^(n-1))].
func (r *runner) backoff(attempt int) time.Duration {
	d := r.cfg.BackoffBase << (attempt - 1)
	if d > r.cfg.BackoffMax || d <= 0 {
		d = r.cfg.BackoffMax
	}
	r.rngMu.Lock()
	j := time.Duration(r.rng.Int64N(int64(d) + 1))
	r.rngMu.Unlock()
	return j
}
