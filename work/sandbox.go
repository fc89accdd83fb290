package work

import (
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/sandbox"
	"github.com/clearance-dev/clearance/suite"
)

// suiteCyber is the suite whose samples are agent episodes in a sandbox
// (kind suite.KindExploit), which a worker runs only with a sandbox of
// its own.
const suiteCyber = "cyber-exploit"

// ErrNoSandbox is returned (wrapped, with the reason and what to do) by
// Runner.RunShard for a shard holding cyber-exploit samples on a worker
// whose sandbox backend is unavailable (RunnerConfig.Sandbox is nil). The
// error is the shard job's error: with a shared job database the shard
// is retried, so a worker that has a sandbox takes it up; a worker that
// is the only one (RunnerConfig.OnlyWorker) fails the assessment with it.
var ErrNoSandbox = errors.New("this worker has no sandbox")

// needsSandbox reports whether a plan holds a sample only a worker with a
// sandbox can run.
func needsSandbox(plan iter.Seq[suite.Sample]) bool {
	for sm := range plan {
		if sm.Kind == suite.KindExploit || sm.Suite == suiteCyber {
			return true
		}
	}
	return false
}

// refuseWithoutSandbox returns the error a worker without a sandbox
// gives a shard that needs one (naming RunnerConfig.NoSandbox, the
// start-up check's failure), nil when the shard can run here: it needs
// none, or the worker has one.
func (r *Runner) refuseWithoutSandbox(plan iter.Seq[suite.Sample]) error {
	if r.cfg.Sandbox != nil || !needsSandbox(plan) {
		return nil
	}
	why := "no sandbox backend configured"
	if r.cfg.NoSandbox != nil {
		// The check's error starts with ErrUnavailable's text, which
		// ErrNoSandbox already says.
		why = strings.TrimPrefix(r.cfg.NoSandbox.Error(), sandbox.ErrUnavailable.Error()+": ")
	}
	err := fmt.Errorf("%w: %s — install bubblewrap (or runsc, for --sandbox runsc) or run cyber shards on a worker that has it", ErrNoSandbox, why)
	if r.cfg.OnlyWorker {
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	return err
}

// episodeRunner returns the runner's episodes, nil without a sandbox
// (assess then fails exploit samples as harness errors; refuseWithoutSandbox
// keeps such shards from running here at all). A budget above 0 (an
// assessment of a token-budget sweep) replaces the worker's token limit
// per episode.
func (r *Runner) episodeRunner(budget int64) assess.EpisodeRunner {
	if r.cfg.Sandbox == nil {
		return nil
	}
	return agent.Runner{Sandbox: r.cfg.Sandbox, Limits: episodeLimits(r.cfg.Agent, budget)}
}
