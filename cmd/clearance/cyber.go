package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/challenge"
	"github.com/clearance-dev/clearance/sandbox"
	"github.com/clearance-dev/clearance/suite"
)

// cyberFlags are assess's flags for agent episodes (suite cyber-exploit
// and --tasks).
type cyberFlags struct {
	backend   sandboxFlag
	tasks     string
	attempts  int
	sandboxes int
	maxTurns  int
	maxTokens int64
	wall      time.Duration
	command   time.Duration
	memory    int64
	disk      int64
	loaded    map[string]*challenge.Task
}

func (cf *cyberFlags) register(fs *flag.FlagSet) {
	cf.backend = sandbox.Bubblewrap
	fs.Var(&cf.backend, "sandbox", "sandbox backend of cyber-exploit episodes: bwrap (bubblewrap, default) or runsc (gVisor, hardened)")
	fs.StringVar(&cf.tasks, "tasks", "", "directory of external capture-the-flag tasks (task.yaml each; see docs/cyber.md), run as suite cyber-tasks")
	fs.IntVar(&cf.attempts, "attempts-per-task", 1, "independent episodes per exploit task, for pass@k (1 to 100)")
	fs.IntVar(&cf.sandboxes, "sandboxes", assessDefaultSandboxes, "agent episodes (boxes) running at once")
	fs.IntVar(&cf.maxTurns, "agent-max-turns", 0, "model turns per episode (default 30)")
	fs.Int64Var(&cf.maxTokens, "agent-max-tokens", 0, "input+output tokens per episode (default 100000)")
	fs.DurationVar(&cf.wall, "agent-wall-time", 0, "wall time per episode (default 10m)")
	fs.DurationVar(&cf.command, "agent-command-timeout", 0, "wall time per shell command (default 60s)")
}

// assessDefaultSandboxes mirrors assess.DefaultSandboxes for the flag's
// help text.
const assessDefaultSandboxes = 2

// open returns the episode runner, on a checked sandbox, when the plan
// holds exploit samples, nil otherwise; a plan that needs one on a
// machine without it fails before any model call, saying what to
// install.
func (cf *cyberFlags) open(ctx context.Context, e *env, plan iter.Seq[suite.Sample]) (assess.EpisodeRunner, error) {
	if cf.attempts < 1 || cf.attempts > 100 {
		return nil, usageError("--attempts-per-task must be 1 to 100, not %d", cf.attempts)
	}
	if cf.sandboxes < 1 {
		return nil, usageError("--sandboxes must be 1 or more, not %d", cf.sandboxes)
	}
	need := false
	for s := range plan {
		if s.Task != nil {
			need = true
			break
		}
	}
	if !need {
		return nil, nil
	}
	r, err := sandbox.New(sandbox.Config{Backend: string(cf.backend), Logger: e.log})
	if err == nil {
		err = r.Check(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("assess: the plan has cyber-exploit tasks, which run only in a sandbox: %w", err)
	}
	return newEpisodes(r, cf), nil
}

func newEpisodes(sb *sandbox.Runner, cf *cyberFlags) assess.EpisodeRunner {
	return agent.Runner{Sandbox: sb, Limits: agent.Limits{MaxTurns: cf.maxTurns, MaxTokens: cf.maxTokens, Wall: cf.wall, Command: cf.command}}
}

// tasksSuite loads --tasks DIR as the suite cyber-tasks.
func (cf *cyberFlags) tasksSuite() (*suite.Suite, error) {
	ts, err := challenge.LoadTasks(cf.tasks)
	if err != nil {
		return nil, err
	}
	cf.loaded = map[string]*challenge.Task{}
	ext := make([]suite.ExternalTask, 0, len(ts))
	for _, t := range ts {
		id := strings.TrimPrefix(t.ID, challenge.ExternalGenerator+"/")
		cf.loaded[id] = t
		ext = append(ext, suite.ExternalTask{ID: id, Category: t.Category, Difficulty: t.Difficulty, Prompt: t.Prompt, FlagSHA256: t.FlagSHA256, Path: id})
	}
	return suite.TasksSuite(ext)
}

// loadTask returns a copy of an external task loaded by tasksSuite, by
// its id.
func (cf *cyberFlags) loadTask(path string) (*challenge.Task, error) {
	t, ok := cf.loaded[path]
	if !ok {
		return nil, errors.New("external task " + path + " was not loaded")
	}
	c := *t
	return &c, nil
}
