package work

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"
)

// A running River client wakes many times a second even with nothing to
// do (its job completer ticks every 50 ms), which kept an idle service
// measurably busy. On the embedded job database, whose jobs all come from
// this process, a dozer stops the client once nothing has run or been
// inserted for a while and nothing is running or due, and starts it again
// when a job is inserted (it hears of every insert through the driver's
// notification hub) or when the next scheduled job falls due. A dozing
// queue has no goroutine awake but the dozer's, which waits on a timer set
// for the next due job.
type dozer struct {
	db     *sql.DB
	after  time.Duration
	kick   chan struct{}
	unhook func()
	log    *slog.Logger
	start  func(context.Context) error
	stop   func(context.Context) error
	quit   chan struct{}
	done   chan struct{}
	// dozes and wakings count stops and starts of the client.
	dozes, wakings atomic.Int32
}

// jobsDue reports whether any job is running, and how long until the
// earliest job waiting to run is due (negative when one is due now; +Inf
// when none waits). Times are River's, UTC, compared by SQLite.
func jobsDue(ctx context.Context, db *sql.DB) (running bool, next time.Duration, err error) {
	var n int
	var secs sql.NullFloat64
	err = db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM river_job WHERE state = 'running'),
		(SELECT (julianday(min(scheduled_at)) - julianday('now')) * 86400.0
		   FROM river_job WHERE state IN ('available', 'scheduled', 'retryable', 'pending'))`).Scan(&n, &secs)
	if err != nil {
		return false, 0, fmt.Errorf("read job states: %w", err)
	}
	if !secs.Valid {
		return n > 0, time.Duration(math.MaxInt64), nil
	}
	return n > 0, time.Duration(secs.Float64 * float64(time.Second)), nil
}

// run works the client until quit is closed, then leaves it running or
// stopped as it was (Queue.Close stops it).
func (d *dozer) run(ctx context.Context) {
	defer close(d.done)
	defer d.unhook()
	awake := true
	timer := time.NewTimer(d.after)
	defer timer.Stop()
	reset := func(wait time.Duration) {
		timer.Stop()
		if wait < time.Duration(math.MaxInt64) {
			timer.Reset(max(wait, 0))
		}
	}
	for {
		kicked := false
		select {
		case <-d.quit:
			return
		case <-ctx.Done():
			return
		case <-d.kick:
			kicked = true
		case <-timer.C:
		}
		if awake {
			if kicked {
				// Activity: look again after a quiet period.
				reset(d.after)
				continue
			}
			running, next, err := jobsDue(ctx, d.db)
			if err != nil || running || next < d.after {
				if err != nil {
					d.log.WarnContext(ctx, "check whether the job queue is idle", "err", err)
				}
				reset(d.after)
				continue
			}
			select {
			case <-d.kick: // inserted meanwhile
				reset(d.after)
				continue
			default:
			}
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			err = d.stop(sctx)
			cancel()
			if err != nil {
				d.log.WarnContext(ctx, "stop idle job queue", "err", err)
			}
			awake = false
			d.dozes.Add(1)
			d.log.DebugContext(ctx, "job queue dozing", "next_due_in", next)
			// A job inserted while the client stopped has kicked.
			reset(next)
			continue
		}
		_, next, err := jobsDue(ctx, d.db)
		if err == nil && next > 0 {
			reset(next) // an insert of a later job: sleep on
			continue
		}
		if err != nil {
			d.log.WarnContext(ctx, "check for due jobs", "err", err)
		}
		if err := d.start(ctx); err != nil {
			d.log.ErrorContext(ctx, "start job queue", "err", err)
			reset(d.after)
			continue
		}
		awake = true
		d.wakings.Add(1)
		d.log.DebugContext(ctx, "job queue awake")
		reset(d.after)
	}
}
