package work

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/clearance-dev/clearance/review"
)

// queueCampaign holds red-team regression retests: minutes of model
// calls, kept apart from deadlines and shards.
const (
	queueCampaign   = "campaign"
	campaignWorkers = 2
	// retestAttempts bounds the tries of a retest job (River's backoff
	// or Config.Backoff between them).
	retestAttempts = 8
)

// RetestRunner runs the regression retest of a case's model version
// (review.Service.RunRetest). A Config's Expirer that implements it gets
// campaign_retest jobs run.
type RetestRunner interface {
	RunRetest(ctx context.Context, caseID, versionID string) error
}

// RetestArgs are the arguments of a campaign_retest job: one per model
// version.
type RetestArgs struct {
	CaseID    string `json:"case_id"`
	VersionID string `json:"version_id"`
}

// Kind implements river.JobArgs.
func (RetestArgs) Kind() string { return "campaign_retest" }

// InsertOpts routes retests to the campaign queue, one job per version
// while it waits or runs.
func (RetestArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueCampaign, MaxAttempts: retestAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// EnqueueRetest queues the regression retest of a case's model version,
// to run as soon as a worker is free; one already waiting or running is
// not queued twice.
func (q *Queue) EnqueueRetest(ctx context.Context, caseID, versionID string) (Enqueued, error) {
	if caseID == "" || versionID == "" {
		return Enqueued{}, fmt.Errorf("enqueue retest: %w: case %q version %q", ErrConfig, caseID, versionID)
	}
	e, err := q.insert(ctx, RetestArgs{CaseID: caseID, VersionID: versionID}, nil)
	if err != nil {
		return Enqueued{}, fmt.Errorf("enqueue retest of case %s version %s: %w", caseID, versionID, err)
	}
	return e, nil
}

// RetestJob returns the newest retest job of a case's model version;
// found is false when the queue holds none.
func (q *Queue) RetestJob(ctx context.Context, caseID, versionID string) (info JobInfo, found bool, err error) {
	params := river.NewJobListParams().Kinds(RetestArgs{}.Kind()).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(200)
	for {
		res, err := q.client.JobList(ctx, params)
		if err != nil {
			return JobInfo{}, false, fmt.Errorf("find retest job of version %s: %w", versionID, err)
		}
		for _, j := range res.Jobs {
			var a RetestArgs
			if json.Unmarshal(j.EncodedArgs, &a) != nil || a.CaseID != caseID || a.VersionID != versionID {
				continue
			}
			info, err := q.Job(ctx, j.ID)
			return info, err == nil, err
		}
		if len(res.Jobs) < 200 || res.LastCursor == nil {
			return JobInfo{}, false, nil
		}
		params = params.After(res.LastCursor)
	}
}

type retestWorker struct {
	river.WorkerDefaults[RetestArgs]
	runner RetestRunner
	logger *slog.Logger
}

// Timeout: a retest sends up to ten requests per universal attack, each
// allowed two minutes.
func (w *retestWorker) Timeout(*river.Job[RetestArgs]) time.Duration { return 30 * time.Minute }

func (w *retestWorker) Work(ctx context.Context, job *river.Job[RetestArgs]) error {
	err := w.runner.RunRetest(ctx, job.Args.CaseID, job.Args.VersionID)
	if errors.Is(err, review.ErrNotFound) || errors.Is(err, review.ErrNoRedTeam) {
		return river.JobCancel(fmt.Errorf("retest case %s version %s: %w", job.Args.CaseID, job.Args.VersionID, err))
	}
	if err != nil {
		return fmt.Errorf("retest case %s version %s: %w", job.Args.CaseID, job.Args.VersionID, err)
	}
	w.logger.InfoContext(ctx, "regression retest", "case", job.Args.CaseID, "version", job.Args.VersionID)
	return nil
}

// addRetestWorker registers the retest worker and its queue when the
// Expirer runs retests.
func addRetestWorker(cfg Config, ws *river.Workers, queues map[string]river.QueueConfig) {
	rr, ok := cfg.Expirer.(RetestRunner)
	if !ok {
		return
	}
	river.AddWorker(ws, &retestWorker{runner: rr, logger: cfg.Logger})
	queues[queueCampaign] = river.QueueConfig{MaxWorkers: campaignWorkers}
}

// RetestState maps a retest job's state to review's.
func RetestState(state string) review.RetestState {
	switch state {
	case StateRunning:
		return review.RetestRunning
	case StateCompleted:
		return review.RetestDone
	case StateCancelled, StateDiscarded:
		return review.RetestFailed
	default: // available, scheduled, retryable, pending
		return review.RetestQueued
	}
}

var _ review.RetestQueue = Scheduler{}

// EnqueueRetest implements review.RetestQueue.
func (s Scheduler) EnqueueRetest(ctx context.Context, caseID, versionID string) error {
	_, err := s.Q.EnqueueRetest(ctx, caseID, versionID)
	return err
}

// RetestJob implements review.RetestQueue.
func (s Scheduler) RetestJob(ctx context.Context, caseID, versionID string) (review.RetestState, bool, error) {
	info, found, err := s.Q.RetestJob(ctx, caseID, versionID)
	if err != nil || !found {
		return review.RetestNone, false, err
	}
	return RetestState(info.State), true, nil
}
