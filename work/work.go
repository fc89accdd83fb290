// Package work runs Clearance's background jobs on River, over SQLite in
// the embedded mode and PostgreSQL when scaled out.
//
// Two job kinds exist. clock_expiry fires at a case's clock deadline and
// asks an Expirer to deem the outcome; because the job is a row in the
// database with a scheduled time, a restart loses no deadline. assess_shard
// runs one shard of an assessment through a function the caller supplies;
// a shard that fails, or whose worker dies, is retried by River, so the
// function must be idempotent (the response cache makes a repeated shard
// repeat no completed model call).
//
// Open migrates River's schema up before returning. Clock jobs and shard
// jobs run in separate River queues, so long shards never delay a deadline.
package work

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/clearance-dev/clearance/webhook"

	// The SQLite driver registers itself as "sqlite" with database/sql.
	_ "modernc.org/sqlite"
)

const (
	queueClock   = "clock"
	queueAssess  = "assess"
	queueWebhook = "webhook"

	// clockWorkers is the fixed concurrency of the clock queue: expiries
	// are short and rare.
	clockWorkers = 2
	// webhookWorkers deliver webhook events at once.
	webhookWorkers = 4

	// AutoWorkers is Config.Workers for clearance serve and worker
	// without --workers: shards enough for several targets at once, each
	// target's shared limit deciding how many of its shards send.
	AutoWorkers = 16

	defaultShardTimeout = time.Hour
	defaultPollInterval = time.Second
)

// ErrConfig is returned by Open when the Config is invalid.
var ErrConfig = errors.New("invalid work config")

// ErrNotFound is returned by Queue.Job when no job has the given id.
var ErrNotFound = errors.New("job not found")

// ErrLocked is returned by Open with Config.Exclusive when another
// process holds the SQLite job database.
var ErrLocked = errors.New("job database in use by another process")

// Config configures Open. Exactly one of SQLitePath, DB and PGPool names
// the database.
type Config struct {
	// SQLitePath is a SQLite database file that Open opens (and Close
	// closes) with WAL and a busy timeout, through a single connection as
	// River's SQLite driver requires.
	SQLitePath string
	// DB is an already open SQLite database ("sqlite" driver). The caller
	// owns it and should limit it to one open connection.
	DB *sql.DB
	// PGPool is a PostgreSQL pool, for the scale-out mode. The caller owns it.
	PGPool *pgxpool.Pool
	// Schema is the PostgreSQL schema that holds River's tables; empty means
	// the pool's search_path. Ignored for SQLite.
	Schema string
	// Exclusive says that this queue's process is the only one using the
	// SQLite database (clearance serve's embedded job database): a job
	// found running when Start is called was left by a process that
	// died, and is made available at once instead of after ShardTimeout
	// plus RescueMargin. With SQLitePath, Open holds a lock on
	// SQLitePath+".lock" until Close (ErrLocked when another process
	// holds it), so that the claim is true. Not allowed with PGPool,
	// where a running job may be another live worker's.
	Exclusive bool

	// Workers is the number of shards this process takes at once; zero
	// makes an insert-only queue (Start is then an error). With Workers > 0
	// both Expirer and RunShard are required. With a Runner sharing
	// TargetLimits, how many of them send is each target's limit's to
	// say: the others wait without a request, a database connection or
	// CPU, and go back to the queue after RunnerConfig.ShardWait, so a
	// generous cap (AutoWorkers) costs nothing.
	Workers int
	// Expirer deems the outcome of cases whose clock expired.
	Expirer Expirer
	// RunShard runs one assessment shard. It may be called more than once
	// for the same shard and must be idempotent.
	RunShard func(ctx context.Context, shard ShardArgs) error
	// Deliver delivers one webhook event (see webhook.Deliverer); nil
	// means this process delivers none (deliveries wait for one that
	// does). An error wrapping webhook.ErrPermanent is not retried.
	Deliver func(ctx context.Context, d webhook.Delivery) error
	// ShardTimeout bounds one attempt of a shard (default 1h). A shard
	// whose worker died is retried once ShardTimeout plus RescueMargin has
	// passed since the attempt began.
	ShardTimeout time.Duration
	// RescueMargin is added to ShardTimeout to decide that a running shard
	// was abandoned (default 1m).
	RescueMargin time.Duration
	// MaxAttempts bounds the attempts of a job (default River's, 25).
	MaxAttempts int
	// Backoff gives the delay before retry number attempt (1 for the first
	// retry); nil means River's default, attempt^4 seconds.
	Backoff func(attempt int) time.Duration
	// PollInterval is how often an idle worker looks for due jobs (default
	// 1s). Jobs inserted in this process, scheduled jobs falling due and
	// retries wake workers at once (on SQLite through this process's own
	// notifications, see localSQLiteDriver), so the poll only bounds the
	// lateness of a job another process inserted into a SQLite database,
	// or of a notification lost while a PostgreSQL listener reconnected.
	PollInterval time.Duration

	// IdleAfter, on SQLite, stops River's client once nothing has run or
	// been inserted for this long and nothing is running or due, and
	// starts it again when a job is inserted in this process or the next
	// one falls due, so that an idle service uses no CPU (see dozer).
	// Zero keeps the client running. Only for a database no other process
	// inserts into (Exclusive).
	IdleAfter time.Duration

	Logger *slog.Logger // nil: discard
	// Now is the wall clock (nil: time.Now). An expiry job that River
	// hands out before its due time by Now waits until then; retries are
	// scheduled from Now. River itself keeps its own clock.
	Now func() time.Time

	// testOnly sets River's TestOnly: maintenance services start without
	// their jittered delay, so tests see scheduled jobs sooner.
	testOnly bool
}

func (c *Config) validate() error {
	n := 0
	for _, set := range []bool{c.SQLitePath != "", c.DB != nil, c.PGPool != nil} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		return fmt.Errorf("%w: exactly one of SQLitePath, DB and PGPool must be set, got %d", ErrConfig, n)
	case c.Workers < 0:
		return fmt.Errorf("%w: Workers %d is negative", ErrConfig, c.Workers)
	case c.Workers > 0 && c.Expirer == nil:
		return fmt.Errorf("%w: Workers %d needs an Expirer", ErrConfig, c.Workers)
	case c.Workers > 0 && c.RunShard == nil:
		return fmt.Errorf("%w: Workers %d needs RunShard", ErrConfig, c.Workers)
	case c.ShardTimeout < 0 || c.RescueMargin < 0 || c.PollInterval < 0 || c.IdleAfter < 0:
		return fmt.Errorf("%w: negative duration", ErrConfig)
	case c.MaxAttempts < 0:
		return fmt.Errorf("%w: MaxAttempts %d is negative", ErrConfig, c.MaxAttempts)
	case c.Exclusive && c.PGPool != nil:
		return fmt.Errorf("%w: Exclusive is for SQLite: on PostgreSQL other workers' jobs run", ErrConfig)
	case c.IdleAfter > 0 && !c.Exclusive:
		return fmt.Errorf("%w: IdleAfter needs Exclusive: a dozing queue would miss other processes' jobs", ErrConfig)
	}
	return nil
}

// client is the part of river.Client used here; both driver
// instantiations satisfy it.
type client interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Queue inserts jobs and, when started, works them.
type Queue struct {
	client  client
	workers int
	now     func() time.Time
	log     *slog.Logger
	closeDB func() error // nil unless Open opened the database
	// releaseHub gives up this queue's share of its SQLite database's
	// notifications; nil on PostgreSQL.
	releaseHub func()
	// doze stops and starts the client with the work; nil unless
	// Config.IdleAfter.
	doze   *dozer
	unlock func() error // nil unless Open locked the database
	// requeue makes jobs left running by a dead process available; nil
	// unless Config.Exclusive.
	requeue func(context.Context) (int, error)
}

// Open opens the database named by cfg, migrates River's schema up and
// returns a queue. Call Start to work jobs and Close when done.
func Open(ctx context.Context, cfg Config) (*Queue, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	rc := riverConfig(cfg)

	q := &Queue{workers: cfg.Workers, now: cfg.Now, log: cfg.Logger}
	var err error
	switch {
	case cfg.PGPool != nil:
		q.client, err = openClient(ctx, riverpgxv5.New(cfg.PGPool), cfg.Schema, rc)
	default:
		if cfg.Exclusive && cfg.SQLitePath != "" {
			q.unlock, err = lockFile(cfg.SQLitePath + ".lock")
			if errors.Is(err, errors.ErrUnsupported) {
				cfg.Exclusive, err = false, nil
			}
			if err != nil {
				return nil, fmt.Errorf("open job database %s: %w", cfg.SQLitePath, err)
			}
		}
		db := cfg.DB
		if db == nil {
			if db, err = openSQLite(ctx, cfg.SQLitePath); err != nil {
				q.release()
				return nil, err
			}
			q.closeDB = db.Close
		}
		rc.Schema = ""
		key := fmt.Sprintf("handle %p", db)
		if cfg.SQLitePath != "" {
			if abs, err := filepath.Abs(cfg.SQLitePath); err == nil {
				key = "file " + abs
			}
		}
		driver, releaseHub := newLocalSQLiteDriver(db, key)
		q.releaseHub = releaseHub
		if cfg.IdleAfter > 0 && cfg.Workers > 0 {
			q.doze = &dozer{db: db, after: cfg.IdleAfter, kick: make(chan struct{}, 1), log: cfg.Logger,
				quit: make(chan struct{}), done: make(chan struct{})}
			q.doze.unhook = driver.hub.onInsert(q.doze.kick)
		}
		if cfg.Exclusive {
			q.requeue = func(ctx context.Context) (int, error) { return requeueRunning(ctx, driver.GetExecutor()) }
		}
		q.client, err = openClient(ctx, driver, "", rc)
	}
	if err != nil {
		q.release()
		return nil, err
	}
	return q, nil
}

// release closes what Open opened, returning the first error.
func (q *Queue) release() error {
	var errs []error
	if d := q.doze; d != nil && d.start == nil {
		d.unhook() // never started: run did not take it over
	}
	if q.releaseHub != nil {
		q.releaseHub()
		q.releaseHub = nil
	}
	if q.closeDB != nil {
		if err := q.closeDB(); err != nil {
			errs = append(errs, fmt.Errorf("close queue database: %w", err))
		}
	}
	if q.unlock != nil {
		if err := q.unlock(); err != nil {
			errs = append(errs, fmt.Errorf("unlock queue database: %w", err))
		}
	}
	return errors.Join(errs...)
}

// requeueRunning makes every job in the running state available now (or
// discards it when it has no attempt left), recording why in the job's
// errors. It must run before this process starts working: every running
// job is then a dead process's.
func requeueRunning(ctx context.Context, exec riverdriver.Executor) (int, error) {
	now := time.Now().UTC() // River's clock, not Config.Now
	// A far horizon: whatever the clocks did, every running job is stuck.
	horizon := now.AddDate(1, 0, 0)
	n := 0
	for after := int64(0); ; {
		jobs, err := exec.JobGetStuck(ctx, &riverdriver.JobGetStuckParams{AfterID: after, Max: 100, StuckHorizon: horizon})
		if err != nil {
			return n, fmt.Errorf("list running jobs: %w", err)
		}
		if len(jobs) == 0 {
			return n, nil
		}
		p := &riverdriver.JobRescueManyParams{StuckHorizon: horizon}
		for _, j := range jobs {
			after = j.ID
			e, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: max(j.Attempt, 0),
				Error: "the process running this job stopped; re-queued when the next one started"})
			if err != nil {
				return n, err
			}
			state, finalized, scheduled := rivertype.JobStateAvailable, (*time.Time)(nil), now
			if j.Attempt >= j.MaxAttempts {
				state, finalized, scheduled = rivertype.JobStateDiscarded, &now, j.ScheduledAt
			} else {
				n++
			}
			p.ID, p.Error = append(p.ID, j.ID), append(p.Error, e)
			p.State, p.FinalizedAt, p.ScheduledAt = append(p.State, string(state)), append(p.FinalizedAt, finalized), append(p.ScheduledAt, scheduled)
		}
		if _, err := exec.JobRescueMany(ctx, p); err != nil {
			return n, fmt.Errorf("re-queue running jobs: %w", err)
		}
	}
}

func openSQLite(ctx context.Context, path string) (*sql.DB, error) {
	// Created 0600 before the driver opens it: SQLite gives the -wal and
	// -shm files the database file's mode.
	if err := privateFile(path); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

func openClient[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], schema string, rc *river.Config) (client, error) {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: rc.Logger, Schema: schema})
	if err != nil {
		return nil, fmt.Errorf("create river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("migrate river schema: %w", err)
	}
	c, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("create river client: %w", err)
	}
	return c, nil
}

func riverConfig(cfg Config) *river.Config {
	shardTimeout := cmp.Or(cfg.ShardTimeout, defaultShardTimeout)
	rc := &river.Config{
		Logger:            cfg.Logger,
		Schema:            cfg.Schema,
		MaxAttempts:       cfg.MaxAttempts,
		FetchPollInterval: cmp.Or(cfg.PollInterval, defaultPollInterval),
		// Clock jobs share the shard timeout: River needs the rescue delay
		// to exceed every timeout, and an expiry is quick anyway.
		JobTimeout:           shardTimeout,
		RescueStuckJobsAfter: shardTimeout + cmp.Or(cfg.RescueMargin, time.Minute),
		// Every client may insert every kind, workers or not.
		SkipUnknownJobCheck: true,
		TestOnly:            cfg.testOnly,
	}
	if rc.FetchPollInterval < river.FetchCooldownDefault {
		// River requires the cooldown to be no longer than the poll interval.
		rc.FetchCooldown = rc.FetchPollInterval
	}
	if cfg.Backoff != nil {
		rc.RetryPolicy = backoffPolicy{backoff: cfg.Backoff, now: cfg.Now}
	}
	if cfg.Workers > 0 {
		ws := river.NewWorkers()
		river.AddWorker(ws, &expiryWorker{expirer: cfg.Expirer, now: cfg.Now, logger: cfg.Logger})
		river.AddWorker(ws, &shardWorker{run: cfg.RunShard, timeout: shardTimeout})
		if dc, ok := cfg.Expirer.(DutyChecker); ok {
			river.AddWorker(ws, &dutyWorker{checker: dc, now: cfg.Now, logger: cfg.Logger})
		}
		rc.Workers = ws
		rc.Queues = map[string]river.QueueConfig{
			queueClock:  {MaxWorkers: clockWorkers},
			queueAssess: {MaxWorkers: cfg.Workers},
		}
		addRetestWorker(cfg, ws, rc.Queues)
		addConformWorkers(cfg, ws, rc.Queues)
		if cfg.Deliver != nil {
			river.AddWorker(ws, &webhookWorker{deliver: cfg.Deliver, now: cfg.Now})
			rc.Queues[queueWebhook] = river.QueueConfig{MaxWorkers: webhookWorkers}
		}
	}
	return rc
}

// backoffPolicy adapts Config.Backoff to River's retry policy.
type backoffPolicy struct {
	backoff func(attempt int) time.Duration
	now     func() time.Time
}

func (p backoffPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	// River counts errors, not attempts, so that snoozes do not count.
	return p.now().UTC().Add(p.backoff(len(job.Errors) + 1))
}

// Start begins working jobs; it returns once workers are running. It is
// an error on an insert-only queue (Workers zero).
func (q *Queue) Start(ctx context.Context) error {
	if q.workers == 0 {
		return fmt.Errorf("start queue: %w: insert-only queue (Workers is 0)", ErrConfig)
	}
	if q.requeue != nil {
		n, err := q.requeue(ctx)
		if err != nil {
			return fmt.Errorf("start queue: %w", err)
		}
		if n > 0 {
			q.log.InfoContext(ctx, "re-queued jobs left running by a stopped process", "jobs", n)
		}
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start queue: %w", err)
	}
	if d := q.doze; d != nil && d.start == nil {
		d.start, d.stop = q.client.Start, q.client.Stop
		go d.run(ctx)
	}
	return nil
}

// Close stops working (waiting for running jobs to finish or ctx to end)
// and closes the database if Open opened it. Jobs not yet run stay in the
// database for the next queue.
func (q *Queue) Close(ctx context.Context) error {
	var errs []error
	if d := q.doze; d != nil && d.start != nil {
		close(d.quit)
		<-d.done
		q.doze = nil // a second Close has no dozer to stop
	}
	if q.workers > 0 {
		if err := q.client.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop queue: %w", err))
		}
	}
	if err := q.release(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Enqueued describes an inserted job.
type Enqueued struct {
	ID int64
	// Duplicate is true when an identical job was already waiting or
	// running, in which case ID is that job's and nothing was inserted.
	Duplicate bool
}

func (q *Queue) insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (Enqueued, error) {
	res, err := q.client.Insert(ctx, args, opts)
	if err != nil {
		return Enqueued{}, err
	}
	return Enqueued{ID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate}, nil
}

// Job states, as River names them.
const (
	StateAvailable = "available"
	StateScheduled = "scheduled"
	StateRunning   = "running"
	StateRetryable = "retryable"
	StateCompleted = "completed"
	StateCancelled = "cancelled"
	StateDiscarded = "discarded"
)

// JobInfo is the state of a job.
type JobInfo struct {
	ID          int64
	Kind        string
	State       string
	Attempt     int       // attempts begun so far
	Errors      []string  // one per failed attempt, oldest first
	ScheduledAt time.Time // UTC
}

// Job returns the state of the job with the given id, or ErrNotFound.
func (q *Queue) Job(ctx context.Context, id int64) (JobInfo, error) {
	row, err := q.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return JobInfo{}, fmt.Errorf("get job %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return JobInfo{}, fmt.Errorf("get job %d: %w", id, err)
	}
	info := JobInfo{
		ID:          row.ID,
		Kind:        row.Kind,
		State:       string(row.State),
		Attempt:     row.Attempt,
		ScheduledAt: row.ScheduledAt.UTC(),
	}
	for _, e := range row.Errors {
		info.Errors = append(info.Errors, e.Error)
	}
	return info, nil
}
