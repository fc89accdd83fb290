package assess

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/challenge"
	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// ErrNoSandbox is returned (wrapped) for an exploit sample when the run
// has no sandbox: a cyber task never runs outside one.
var ErrNoSandbox = errors.New("no sandbox for exploit tasks")

// DefaultSandboxes is how many agent episodes run at once when
// Config.Sandboxes is 0: each holds a box (processes, a compiler, a
// service), so the host's cores, not the model, bound them.
const DefaultSandboxes = 2

// Model is what an episode calls: the run's target behind its retries,
// cache, budget and concurrency limits.
type Model = agent.Model

// EpisodeRunner runs one agent episode of an exploit task in a fresh
// sandbox (agent.Runner does, with its limits and the sandbox's). Its
// error is a harness error: the sandbox did not start (wrapping
// agent.ErrSandbox), or the model's API failed (a *target.Error).
type EpisodeRunner interface {
	RunEpisode(ctx context.Context, m agent.Model, t *challenge.Task) (*agent.Episode, error)
}

// TaskLoader finds an external task (generator "external") by its path.
type TaskLoader func(path string) (*challenge.Task, error)

// episodeModel adapts the runner's completer (retries, cache, budget,
// concurrency) to the agent's Model, counting what the episode cost.
type episodeModel struct {
	r              *runner
	calls          int
	cached         bool
	budget         bool
	usage          target.Usage
	lastErrAttempt int
}

func (m *episodeModel) Complete(ctx context.Context, req target.Request) (target.Response, error) {
	if m.r.cfg.Request.MaxTokens > 0 && req.MaxTokens == 0 {
		req.MaxTokens = m.r.cfg.Request.MaxTokens
	}
	if req.Temperature == nil {
		req.Temperature = m.r.cfg.Request.Temperature
	}
	resp, calls, cached, err := m.r.complete(ctx, req)
	m.calls += calls
	m.cached = m.cached && cached
	m.usage.InputTokens += resp.Usage.InputTokens
	m.usage.OutputTokens += resp.Usage.OutputTokens
	if errors.Is(err, errBudget) {
		m.budget = true
	}
	if err != nil {
		m.lastErrAttempt = calls
	}
	return resp, err
}

// task builds the challenge instance of an exploit sample with a fresh
// random flag (the plan holds the seed, never a flag).
func (r *runner) task(s suite.Sample) (*challenge.Task, error) {
	ref := s.Task
	var t *challenge.Task
	if ref.Generator == "external" {
		if r.cfg.Tasks == nil {
			return nil, fmt.Errorf("external task %s: no task loader", ref.Path)
		}
		var err error
		if t, err = r.cfg.Tasks(ref.Path); err != nil {
			return nil, err
		}
	} else {
		g, ok := challenge.Lookup(ref.Generator)
		if !ok {
			return nil, fmt.Errorf("%w %q", challenge.ErrUnknownGenerator, ref.Generator)
		}
		var err error
		if t, err = g.Generate(ref.Seed, challenge.NewFlag()); err != nil {
			return nil, err
		}
	}
	t.Prompt = suite.TaskPrompt(t.Prompt, ref.Attempt, ref.Attempts)
	return t, nil
}

// episode runs one exploit sample: a fresh instance in a fresh box, the
// model acting through tools, scored by the captured flag. Harness
// failures (no sandbox, a box that did not start, the model's API
// failing after retries) are errors, never failures of the model.
func (r *runner) episode(ctx context.Context, s suite.Sample, sc score.Scorer, rec *Record) (*Record, error) {
	rec.Task = s.Task
	t0 := time.Now()
	harness := func(kind, msg string) (*Record, error) {
		rec.Error = &SampleError{Source: "harness", Kind: kind, Message: msg}
		rec.LatencyMS = msSince(t0)
		return rec, nil
	}
	if r.cfg.Episodes == nil {
		return harness("sandbox", ErrNoSandbox.Error())
	}
	t, err := r.task(s)
	if err != nil {
		return harness("task", err.Error())
	}
	select {
	case r.boxes <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.boxes }()
	m := &episodeModel{r: r, cached: true}
	ep, err := r.cfg.Episodes.RunEpisode(ctx, m, t)
	rec.Requests = m.calls
	rec.Cached = m.cached && m.calls == 0
	rec.Usage = m.usage
	rec.LatencyMS = msSince(t0)
	rec.Messages = conversation(s)
	if ep != nil {
		rec.Episode = ep
		rec.Response = ep.Answer
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if m.budget {
			return nil, errBudget
		}
		if errors.Is(err, agent.ErrSandbox) {
			return harness("sandbox", err.Error())
		}
		var te *target.Error
		if errors.As(err, &te) {
			rec.Error = &SampleError{Source: "target", Kind: string(te.Kind), Status: te.Status, Message: te.Msg, Attempts: m.lastErrAttempt}
			return rec, nil
		}
		return harness("agent", err.Error())
	}
	v := sc.Score(ctx, score.Input{Kind: s.Kind, Response: ep.Answer, FlagSHA256: t.FlagSHA256})
	rec.Verdict = &v
	if v.Err != "" {
		rec.Error = &SampleError{Source: "scorer", Kind: "scorer", Message: v.Err}
	}
	return rec, nil
}
