package work

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/webhook"
)

// Expirer deems the outcome of a case whose clock has expired. It reports
// whether it changed the case; false with a nil error means there was
// nothing to do (clock stopped, extended or the case already decided).
// *review.Service satisfies it.
type Expirer interface {
	Expire(ctx context.Context, caseID string) (review.Case, bool, error)
}

// ExpiryArgs are the arguments of a clock_expiry job.
type ExpiryArgs struct {
	CaseID string    `json:"case_id"`
	Due    time.Time `json:"due"`
}

// Kind implements river.JobArgs.
func (ExpiryArgs) Kind() string { return "clock_expiry" }

// InsertOpts routes expiries to the clock queue and makes one per case
// and deadline: scheduling the same deadline twice inserts one job.
func (ExpiryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueClock, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ScheduleExpiry schedules the expiry of caseID's clock at due; a past
// due time runs at once. The job fires within about five seconds after
// due (River's scheduler interval), or when a worker next starts. Scheduling
// the same case and deadline again is a no-op reported as Duplicate. A
// changed deadline (an extension) is a new job; the old one finds the
// clock not yet expired and does nothing.
func (q *Queue) ScheduleExpiry(ctx context.Context, caseID string, due time.Time) (Enqueued, error) {
	if caseID == "" {
		return Enqueued{}, fmt.Errorf("schedule expiry: %w: empty case id", ErrConfig)
	}
	if due.IsZero() {
		return Enqueued{}, fmt.Errorf("schedule expiry of case %s: %w: zero due time", caseID, ErrConfig)
	}
	due = due.UTC()
	opts := &river.InsertOpts{}
	if due.After(q.now()) {
		// A scheduled job becomes available when River's scheduler next
		// runs (every 5s) on the leader, so it fires up to that late.
		opts.ScheduledAt = due
	}
	e, err := q.insert(ctx, ExpiryArgs{CaseID: caseID, Due: due}, opts)
	if err != nil {
		return Enqueued{}, fmt.Errorf("schedule expiry of case %s: %w", caseID, err)
	}
	return e, nil
}

type expiryWorker struct {
	river.WorkerDefaults[ExpiryArgs]
	expirer Expirer
	now     func() time.Time
	logger  *slog.Logger
}

func (w *expiryWorker) Work(ctx context.Context, job *river.Job[ExpiryArgs]) error {
	// A job may be handed out slightly early (River's scheduler looks
	// ahead); the service would then find the clock running and do
	// nothing, losing the deadline. Wait instead.
	if early := job.Args.Due.Sub(w.now()); early > 0 {
		return river.JobSnooze(early)
	}
	_, changed, err := w.expirer.Expire(ctx, job.Args.CaseID)
	if errors.Is(err, review.ErrNotFound) {
		// Retrying cannot help a case that does not exist.
		return river.JobCancel(fmt.Errorf("expire case %s: %w", job.Args.CaseID, err))
	}
	if err != nil {
		return fmt.Errorf("expire case %s: %w", job.Args.CaseID, err)
	}
	w.logger.InfoContext(ctx, "clock expiry", "case", job.Args.CaseID, "due", job.Args.Due, "changed", changed)
	return nil
}

// ShardArgs names one shard of an assessment stored by the review
// service: the spec fixed at planning says which samples it holds.
type ShardArgs struct {
	AssessmentID string `json:"assessment_id"`
	Shard        int    `json:"shard"`
	Shards       int    `json:"shards"`
}

// Kind implements river.JobArgs.
func (ShardArgs) Kind() string { return "assess_shard" }

// InsertOpts routes shards to the assess queue and makes each shard
// unique while it waits or runs.
func (ShardArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueAssess, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func (a ShardArgs) validate() error {
	switch {
	case a.AssessmentID == "":
		return errors.New("empty assessment id")
	case a.Shards < 1:
		return fmt.Errorf("shard count %d is below 1", a.Shards)
	case a.Shard < 0 || a.Shard >= a.Shards:
		return fmt.Errorf("shard index %d is outside [0, %d)", a.Shard, a.Shards)
	}
	return nil
}

// EnqueueShard inserts a shard job, to run as soon as a worker is free.
// Enqueueing a shard that is already waiting or running is a no-op
// reported as Duplicate.
func (q *Queue) EnqueueShard(ctx context.Context, shard ShardArgs) (Enqueued, error) {
	if err := shard.validate(); err != nil {
		return Enqueued{}, fmt.Errorf("enqueue shard: %w: %v", ErrConfig, err)
	}
	e, err := q.insert(ctx, shard, nil)
	if err != nil {
		return Enqueued{}, fmt.Errorf("enqueue shard %d/%d of %s: %w", shard.Shard, shard.Shards, shard.AssessmentID, err)
	}
	return e, nil
}

type shardWorker struct {
	river.WorkerDefaults[ShardArgs]
	run     func(context.Context, ShardArgs) error
	timeout time.Duration
}

func (w *shardWorker) Timeout(*river.Job[ShardArgs]) time.Duration { return w.timeout }

func (w *shardWorker) Work(ctx context.Context, job *river.Job[ShardArgs]) error {
	if err := job.Args.validate(); err != nil {
		return river.JobCancel(fmt.Errorf("run shard: %v", err))
	}
	if err := w.run(ctx, job.Args); err != nil {
		if errors.Is(err, ErrShardDeferred) {
			// Back to the queue, where any worker may take it: waiting
			// for the target's limit is not an attempt.
			return river.JobSnooze(time.Second)
		}
		if errors.Is(err, errPermanent) {
			return river.JobCancel(err)
		}
		return fmt.Errorf("run shard %d/%d of %s: %w", job.Args.Shard, job.Args.Shards, job.Args.AssessmentID, err)
	}
	return nil
}

// EnqueueAssessment queues every shard of an assessment; shards already
// waiting or running are not queued twice. It implements part of
// review.Scheduler (see Scheduler).
func (q *Queue) EnqueueAssessment(ctx context.Context, a review.Assessment) error {
	params := make([]river.InsertManyParams, 0, a.Shards)
	for i := range a.Shards {
		args := ShardArgs{AssessmentID: a.ID, Shard: i, Shards: a.Shards}
		if err := args.validate(); err != nil {
			return fmt.Errorf("enqueue assessment %s: %w: %v", a.ID, ErrConfig, err)
		}
		params = append(params, river.InsertManyParams{Args: args})
	}
	if _, err := q.client.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("enqueue assessment %s: %w", a.ID, err)
	}
	return nil
}

// Scheduler adapts a Queue to review.Scheduler.
type Scheduler struct{ Q *Queue }

var _ review.Scheduler = Scheduler{}

// ScheduleExpiry implements review.Scheduler.
func (s Scheduler) ScheduleExpiry(ctx context.Context, caseID string, due time.Time) error {
	_, err := s.Q.ScheduleExpiry(ctx, caseID, due)
	return err
}

// EnqueueAssessment implements review.Scheduler.
func (s Scheduler) EnqueueAssessment(ctx context.Context, a review.Assessment) error {
	return s.Q.EnqueueAssessment(ctx, a)
}

// webhookArgs are the arguments of a webhook job: one event for one
// webhook.
type webhookArgs struct {
	webhook.Delivery
}

// Kind implements river.JobArgs.
func (webhookArgs) Kind() string { return "webhook" }

// InsertOpts routes deliveries to the webhook queue and makes one job
// per webhook and event, however often the dispatcher offers it. Retries
// are capped at 12 (about a day with River's backoff).
func (webhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueWebhook, MaxAttempts: 12,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueForever}}
}

// uniqueForever keeps a delivery unique across every state, completed
// included, so a re-dispatched event is never delivered twice.
var uniqueForever = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateCompleted, rivertype.JobStatePending,
	rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// EnqueueDelivery queues a webhook delivery; one already queued or done
// is not queued again. It is webhook.DispatcherConfig.Enqueue.
func (q *Queue) EnqueueDelivery(ctx context.Context, d webhook.Delivery) error {
	if d.WebhookID == "" || d.Seq <= 0 {
		return fmt.Errorf("enqueue delivery: %w: webhook %q seq %d", ErrConfig, d.WebhookID, d.Seq)
	}
	if _, err := q.insert(ctx, webhookArgs{d}, nil); err != nil {
		return fmt.Errorf("enqueue delivery %s: %w", d.ID(), err)
	}
	return nil
}

// unfinished are the states of a job that is not finished.
var unfinished = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// OutstandingDeliveries counts, by webhook id, the deliveries in the
// queue that are not finished: waiting, running, waiting to retry or
// snoozed while their webhook is paused. It is
// webhook.DispatcherConfig.Outstanding; the Dispatcher's limits keep
// the count small, so it reads every such job.
func (q *Queue) OutstandingDeliveries(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	params := river.NewJobListParams().Kinds(webhookArgs{}.Kind()).States(unfinished...).First(1000)
	for {
		res, err := q.client.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("count outstanding deliveries: %w", err)
		}
		for _, j := range res.Jobs {
			var a webhookArgs
			if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
				return nil, fmt.Errorf("count outstanding deliveries: job %d: %w", j.ID, err)
			}
			out[a.WebhookID]++
		}
		if len(res.Jobs) < 1000 || res.LastCursor == nil {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}

type webhookWorker struct {
	river.WorkerDefaults[webhookArgs]
	deliver func(context.Context, webhook.Delivery) error
	now     func() time.Time
}

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[webhookArgs]) error {
	err := w.deliver(ctx, job.Args.Delivery)
	if pe := (*webhook.PausedError)(nil); errors.As(err, &pe) {
		// Waiting for a pause to end is not an attempt.
		return river.JobSnooze(max(pe.Until.Sub(w.now()), 100*time.Millisecond))
	}
	if errors.Is(err, webhook.ErrPermanent) {
		return river.JobCancel(err)
	}
	return err
}
