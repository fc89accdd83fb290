package review

import (
	"context"
	"errors"
	"fmt"
)

// RetestQueue may be implemented by the Scheduler: it queues the
// regression retest of a case's model version as a job (RunRetest), which
// is retried on failure and survives a restart, and reports the job's
// state. Without it SubmitModelVersion runs the retest in the request.
type RetestQueue interface {
	EnqueueRetest(ctx context.Context, caseID, versionID string) error
	// RetestJob reports the state of the version's retest job; found is
	// false when the queue holds none (never queued, or finished long
	// enough ago to have been cleaned up).
	RetestJob(ctx context.Context, caseID, versionID string) (state RetestState, found bool, err error)
}

// RetestState is where the retest of the current model version stands.
type RetestState string

const (
	// RetestNone: no new model version, so nothing to retest.
	RetestNone RetestState = ""
	// RetestQueued: the job waits for a worker (or for its next try after
	// a failure).
	RetestQueued RetestState = "queued"
	// RetestRunning: a worker is running it.
	RetestRunning RetestState = "running"
	// RetestDone: every regression item has a result on the version.
	RetestDone RetestState = "done"
	// RetestFailed: the job gave up (its tries spent); RetestCase runs it
	// again.
	RetestFailed RetestState = "failed"
	// RetestNotRun: no job and not every item has a result.
	RetestNotRun RetestState = "not run"
)

// ErrRetestIncomplete is returned by RunRetest when some regression item
// could not be run (the model or the judge did not answer): the results
// are stored and the job is tried again.
var ErrRetestIncomplete = errors.New("some regression items could not be run")

// JudgeNamer may be implemented by the RedTeam: it names the scorer that
// judges transfer checks and retests ("LLM judge MODEL (rubric R)" or
// "offline harm scorer"), for the campaign page.
type JudgeNamer interface {
	JudgeName() string
}

// CampaignJudge names the scorer that judges the service's transfer
// checks and retests; "" when the service has no RedTeam.
func (s *Service) CampaignJudge() string {
	if s.redteam == nil {
		return ""
	}
	if n, ok := s.redteam.(JudgeNamer); ok {
		return n.JudgeName()
	}
	return "red-team backend's judge"
}

// startRetest queues the retest of version v of a case when the
// scheduler can, else runs it now. A failure is logged: the version is
// already recorded and RetestCase runs the suite again.
func (s *Service) startRetest(ctx context.Context, caseID string, v ModelVersion) {
	if s.redteam == nil {
		return
	}
	if q, ok := s.scheduler.(RetestQueue); ok {
		err := q.EnqueueRetest(ctx, caseID, v.ID)
		if err == nil {
			return
		}
		s.log.WarnContext(ctx, "queue regression retest; running it now", "case", caseID, "version", v.ID, "err", err)
	}
	if _, err := s.retest(ctx, caseID, v.ID); err != nil {
		s.log.WarnContext(ctx, "regression retest failed", "case", caseID, "version", v.ID, "err", err)
	}
}

// RunRetest runs a case's regression suite against model version
// versionID, as the system: the retest job's work. A version that is no
// longer the case's current one is not retested (the newer version's job
// does it). Results replace the version's earlier ones, so running it
// again is harmless. It returns an error wrapping ErrRetestIncomplete when
// an item could not be run, ErrNotFound when the case or version is gone.
func (s *Service) RunRetest(ctx context.Context, caseID, versionID string) error {
	if s.redteam == nil {
		return fmt.Errorf("retest case %s: %w", caseID, ErrNoRedTeam)
	}
	rs, err := s.retest(ctx, caseID, versionID)
	if errors.Is(err, errStaleVersion) {
		s.log.InfoContext(ctx, "regression retest of a superseded version skipped", "case", caseID, "version", versionID)
		return nil
	}
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range rs {
		if r.Error != "" {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("retest case %s version %s: %d of %d: %w", caseID, versionID, failed, len(rs), ErrRetestIncomplete)
	}
	return nil
}

// errStaleVersion: the version to retest is not the case's current one.
var errStaleVersion = errors.New("not the case's current model version")

// retestState says where the current version's retest stands from the
// queue (when the scheduler keeps one) and the stored results.
func (s *Service) retestState(ctx context.Context, caseID string, sum RetestSummary) (RetestState, error) {
	if len(sum.Versions) < 2 {
		return RetestNone, nil
	}
	complete := sum.Retested >= sum.Items
	if q, ok := s.scheduler.(RetestQueue); ok && s.redteam != nil {
		st, found, err := q.RetestJob(ctx, caseID, sum.Versions[len(sum.Versions)-1].ID)
		if err != nil {
			return RetestNone, err
		}
		if found && (st != RetestDone || complete) {
			return st, nil
		}
	}
	if complete {
		return RetestDone, nil
	}
	return RetestNotRun, nil
}
