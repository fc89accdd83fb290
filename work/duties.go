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

// DutyChecker marks a duty overdue once its deadline has passed
// (review.Service.CheckDuty). A Config's Expirer that implements it gets
// duty_check jobs run.
type DutyChecker interface {
	CheckDuty(ctx context.Context, dutyID string) (review.Duty, bool, error)
}

// DutyArgs are the arguments of a duty_check job.
type DutyArgs struct {
	DutyID string    `json:"duty_id"`
	Due    time.Time `json:"due"`
}

// Kind implements river.JobArgs.
func (DutyArgs) Kind() string { return "duty_check" }

// InsertOpts routes duty checks to the clock queue, one per duty and
// deadline.
func (DutyArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueClock, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ScheduleDuty schedules the check of a duty at its deadline, as
// ScheduleExpiry a case's clock.
func (q *Queue) ScheduleDuty(ctx context.Context, dutyID string, due time.Time) (Enqueued, error) {
	if dutyID == "" {
		return Enqueued{}, fmt.Errorf("schedule duty check: %w: empty duty id", ErrConfig)
	}
	if due.IsZero() {
		return Enqueued{}, fmt.Errorf("schedule check of duty %s: %w: zero due time", dutyID, ErrConfig)
	}
	due = due.UTC()
	opts := &river.InsertOpts{}
	if due.After(q.now()) {
		opts.ScheduledAt = due
	}
	e, err := q.insert(ctx, DutyArgs{DutyID: dutyID, Due: due}, opts)
	if err != nil {
		return Enqueued{}, fmt.Errorf("schedule check of duty %s: %w", dutyID, err)
	}
	return e, nil
}

type dutyWorker struct {
	river.WorkerDefaults[DutyArgs]
	checker DutyChecker
	now     func() time.Time
	logger  *slog.Logger
}

func (w *dutyWorker) Work(ctx context.Context, job *river.Job[DutyArgs]) error {
	if early := job.Args.Due.Sub(w.now()); early > 0 {
		return river.JobSnooze(early)
	}
	_, changed, err := w.checker.CheckDuty(ctx, job.Args.DutyID)
	if errors.Is(err, review.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("check duty %s: %w", job.Args.DutyID, err))
	}
	if err != nil {
		return fmt.Errorf("check duty %s: %w", job.Args.DutyID, err)
	}
	w.logger.InfoContext(ctx, "duty check", "duty", job.Args.DutyID, "due", job.Args.Due, "overdue", changed)
	return nil
}
