package work

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/clearance-dev/clearance/review"
)

// ConformanceChecker runs the scheduled conformance check of a cleared
// decision (review.Service.RunScheduledConformance) and says whether
// checks should go on. A Config's Expirer that implements it gets
// conform_check jobs run.
type ConformanceChecker interface {
	RunScheduledConformance(ctx context.Context, decisionID string) (bool, error)
}

// ConformArgs are the arguments of a conform_check job: one per decision,
// run every Every, for as long as the checker says so.
type ConformArgs struct {
	DecisionID string        `json:"decision_id"`
	Every      time.Duration `json:"every"`
}

// Kind implements river.JobArgs.
func (ConformArgs) Kind() string { return "conform_check" }

// InsertOpts routes conformance checks to the clock queue, one job per
// decision and period.
func (ConformArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueClock, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ScheduleConformance schedules the periodic conformance checks of a
// decision: the first one every after now, then every every (the job
// snoozes itself between checks).
func (q *Queue) ScheduleConformance(ctx context.Context, decisionID string, every time.Duration) (Enqueued, error) {
	if decisionID == "" {
		return Enqueued{}, fmt.Errorf("schedule conformance checks: %w: empty decision id", ErrConfig)
	}
	if every < time.Minute {
		return Enqueued{}, fmt.Errorf("schedule conformance checks of %s: %w: period %v is under a minute", decisionID, ErrConfig, every)
	}
	e, err := q.insert(ctx, ConformArgs{DecisionID: decisionID, Every: every}, &river.InsertOpts{ScheduledAt: q.now().Add(every)})
	if err != nil {
		return Enqueued{}, fmt.Errorf("schedule conformance checks of %s: %w", decisionID, err)
	}
	return e, nil
}

type conformWorker struct {
	river.WorkerDefaults[ConformArgs]
	checker ConformanceChecker
	logger  *slog.Logger
}

// Timeout: a check sends a few hundred requests.
func (w *conformWorker) Timeout(*river.Job[ConformArgs]) time.Duration { return 30 * time.Minute }

func (w *conformWorker) Work(ctx context.Context, job *river.Job[ConformArgs]) error {
	more, err := w.checker.RunScheduledConformance(ctx, job.Args.DecisionID)
	if errors.Is(err, review.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("conformance check of %s: %w", job.Args.DecisionID, err))
	}
	if err != nil {
		// An endpoint that did not answer concludes nothing: the next
		// period's check runs as planned.
		w.logger.WarnContext(ctx, "scheduled conformance check", "decision", job.Args.DecisionID, "err", err)
	}
	if !more {
		w.logger.InfoContext(ctx, "conformance checks end", "decision", job.Args.DecisionID)
		return nil
	}
	return river.JobSnooze(job.Args.Every)
}
