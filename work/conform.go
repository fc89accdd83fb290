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

// InsertOpts routes conformance checks to the conform queue, one job per
// decision and period.
func (ConformArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueConform, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// queueConform holds conformance checks and fingerprint recordings: a few
// hundred model calls each, kept apart from deadlines and shards.
const (
	queueConform   = "conform"
	conformWorkers = 2
	// fingerprintAttempts bounds the tries of a fingerprint job; only a
	// store error, or a stop midway, makes one try again.
	fingerprintAttempts = 5
)

// FingerprintRecorder records a pending endpoint fingerprint
// (review.Service.RunFingerprint). A Config's Expirer that implements it
// gets conform_fingerprint jobs run.
type FingerprintRecorder interface {
	RunFingerprint(ctx context.Context, fingerprintID string) error
}

// FingerprintArgs are the arguments of a conform_fingerprint job.
type FingerprintArgs struct {
	FingerprintID string `json:"fingerprint_id"`
}

// Kind implements river.JobArgs.
func (FingerprintArgs) Kind() string { return "conform_fingerprint" }

// InsertOpts routes recordings to the conform queue, one job per
// fingerprint.
func (FingerprintArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueConform, MaxAttempts: fingerprintAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// EnqueueFingerprint queues the recording of a pending fingerprint.
func (q *Queue) EnqueueFingerprint(ctx context.Context, fingerprintID string) (Enqueued, error) {
	if fingerprintID == "" {
		return Enqueued{}, fmt.Errorf("enqueue fingerprint: %w: empty fingerprint id", ErrConfig)
	}
	e, err := q.insert(ctx, FingerprintArgs{FingerprintID: fingerprintID}, nil)
	if err != nil {
		return Enqueued{}, fmt.Errorf("enqueue fingerprint %s: %w", fingerprintID, err)
	}
	return e, nil
}

// EnqueueFingerprint implements review.FingerprintQueue.
func (s Scheduler) EnqueueFingerprint(ctx context.Context, fingerprintID string) error {
	_, err := s.Q.EnqueueFingerprint(ctx, fingerprintID)
	return err
}

type fingerprintWorker struct {
	river.WorkerDefaults[FingerprintArgs]
	recorder FingerprintRecorder
}

// Timeout: a recording sends a few hundred requests.
func (w *fingerprintWorker) Timeout(*river.Job[FingerprintArgs]) time.Duration {
	return 30 * time.Minute
}

func (w *fingerprintWorker) Work(ctx context.Context, job *river.Job[FingerprintArgs]) error {
	err := w.recorder.RunFingerprint(ctx, job.Args.FingerprintID)
	if errors.Is(err, review.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("record fingerprint %s: %w", job.Args.FingerprintID, err))
	}
	return err
}

// addConformWorkers registers the conform queue's workers for an Expirer
// that runs conformance checks or records fingerprints.
func addConformWorkers(cfg Config, ws *river.Workers, queues map[string]river.QueueConfig) {
	cc, checks := cfg.Expirer.(ConformanceChecker)
	fr, records := cfg.Expirer.(FingerprintRecorder)
	if checks {
		river.AddWorker(ws, &conformWorker{checker: cc, logger: cfg.Logger})
	}
	if records {
		river.AddWorker(ws, &fingerprintWorker{recorder: fr})
	}
	if checks || records {
		queues[queueConform] = river.QueueConfig{MaxWorkers: conformWorkers}
	}
}

// ScheduleConformance schedules the periodic conformance checks of a
// decision: the first one every after now, then every every (the job
// snoozes itself between checks; River does not count a snooze as an
// attempt, so MaxAttempts never ends the checks).
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
