package work

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver"
)

// On the embedded job database, with a poll an hour apart, every job
// must still start at once: jobs inserted in quick succession (River sends
// one insert notification per queue per fetch cooldown), a retry due in a
// second (River makes it available at once for a later time and leaves it
// to the poll), and a job an insert-only queue on the same database
// inserts. Before SQLite carried notifications in the process, the retry
// waited for the poll. (On PostgreSQL River's own notifications and the
// service's one-second poll do this.)
func TestSQLiteJobsStartWithoutPolling(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "work.db")
	base := func() Config { return Config{SQLitePath: path} }
	ctx := context.Background()
	var mu sync.Mutex
	attempts := map[int]int{}
	run := func(_ context.Context, s ShardArgs) error {
		mu.Lock()
		defer mu.Unlock()
		attempts[s.Shard]++
		if s.Shard == 0 && attempts[s.Shard] == 1 {
			return errors.New("boom")
		}
		return nil
	}
	cfg := workerConfig(base(), &fakeExpirer{}, run)
	cfg.PollInterval = time.Hour
	// River makes a retry due within its scheduler's interval available
	// at once for a later time: only a poll, or the driver's wake-up when
	// it falls due, finds it.
	cfg.Backoff = func(int) time.Duration { return time.Second }
	q := open(t, cfg)
	defer closeQueue(t, q)
	inserter := open(t, base())
	defer closeQueue(t, inserter)
	if err := q.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	// Let the producers make their first fetch, so that what follows
	// is found by notification alone.
	time.Sleep(200 * time.Millisecond)

	var ids []int64
	for i := range 3 {
		job, err := q.EnqueueShard(ctx, ShardArgs{AssessmentID: "asm_quick", Shard: i, Shards: 4})
		if err != nil {
			t.Fatalf("EnqueueShard %d: %v", i, err)
		}
		ids = append(ids, job.ID)
	}
	for _, id := range ids {
		waitJob(t, q, id, StateCompleted)
	}
	// Inserted once the worker is idle, so that no fetch of its own
	// would find it.
	other, err := inserter.EnqueueShard(ctx, ShardArgs{AssessmentID: "asm_quick", Shard: 3, Shards: 4})
	if err != nil {
		t.Fatalf("EnqueueShard from the insert-only queue: %v", err)
	}
	waitJob(t, q, other.ID, StateCompleted)
	mu.Lock()
	defer mu.Unlock()
	if attempts[0] != 2 {
		t.Errorf("shard 0 ran %d times, want 2 (a failure, then the retry)", attempts[0])
	}
}

// The driver's own contract: a transaction's notifications reach
// listeners when it commits, never when it rolls back, and a savepoint's
// go with its parent.
func TestLocalNotificationsFollowTransactions(t *testing.T) {
	ctx := context.Background()
	db, err := openSQLite(ctx, filepath.Join(t.TempDir(), "n.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d, release := newLocalSQLiteDriver(db, "test "+t.Name())
	defer release()
	l := d.GetListener(&riverdriver.GetListenenerParams{})
	if err := l.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer l.Close(ctx)
	if err := l.Listen(ctx, "t"); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	notify := func(e riverdriver.Executor, payload string) {
		t.Helper()
		if err := e.NotifyMany(ctx, &riverdriver.NotifyManyParams{Topic: "t", Payload: []string{payload}}); err != nil {
			t.Fatalf("NotifyMany: %v", err)
		}
		if err := e.NotifyMany(ctx, &riverdriver.NotifyManyParams{Topic: "unheard", Payload: []string{payload}}); err != nil {
			t.Fatalf("NotifyMany: %v", err)
		}
	}
	next := func() string {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		n, err := l.WaitForNotification(wctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return ""
		}
		if err != nil {
			t.Fatalf("WaitForNotification: %v", err)
		}
		if n.Topic != "t" {
			t.Fatalf("notification on topic %q, listening only to t", n.Topic)
		}
		return n.Payload
	}
	begin := func(e riverdriver.Executor) riverdriver.ExecutorTx {
		t.Helper()
		tx, err := e.Begin(ctx)
		if err != nil {
			t.Fatalf("Begin: %v", err)
		}
		return tx
	}

	exec := d.GetExecutor()
	notify(exec, "direct")
	if got := next(); got != "direct" {
		t.Fatalf("outside a transaction: got %q, want direct", got)
	}

	tx := begin(exec)
	notify(tx, "committed")
	if got := next(); got != "" {
		t.Fatalf("before commit: got %q, want nothing", got)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "committed" {
		t.Fatalf("after commit: got %q, want committed", got)
	}

	tx = begin(exec)
	notify(tx, "rolled back")
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "" {
		t.Fatalf("after rollback: got %q, want nothing", got)
	}

	tx = begin(exec)
	sub := begin(tx)
	notify(sub, "savepoint")
	if err := sub.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "" {
		t.Fatalf("savepoint committed, transaction open: got %q, want nothing", got)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "" {
		t.Fatalf("savepoint committed, transaction rolled back: got %q, want nothing", got)
	}

	tx = begin(exec)
	sub = begin(tx)
	notify(sub, "both committed")
	if err := sub.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "both committed" {
		t.Fatalf("savepoint and transaction committed: got %q, want both committed", got)
	}

	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.WaitForNotification(ctx); err == nil {
		t.Error("WaitForNotification on a closed listener: no error")
	}
}

// A queue with IdleAfter stops its client when idle and starts it again
// for a job inserted while it dozes and for a scheduled job falling due,
// and every job runs.
func TestQueueDozesAndWakes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ran := make(chan ShardArgs, 4)
	run := func(_ context.Context, s ShardArgs) error {
		ran <- s
		return nil
	}
	expirer := &fakeExpirer{}
	cfg := workerConfig(Config{SQLitePath: filepath.Join(t.TempDir(), "work.db"), Exclusive: true}, expirer, run)
	cfg.PollInterval = time.Hour
	cfg.IdleAfter = 200 * time.Millisecond
	q := open(t, cfg)
	defer closeQueue(t, q)
	if err := q.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	waitDozes := func(n int32) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for q.doze.dozes.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("queue dozed %d times after 15s, want %d", q.doze.dozes.Load(), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitDozes(1)

	// Inserted while dozing: the insert wakes the client.
	shard := ShardArgs{AssessmentID: "asm_doze", Shard: 0, Shards: 1}
	job, err := q.EnqueueShard(ctx, shard)
	if err != nil {
		t.Fatalf("EnqueueShard: %v", err)
	}
	waitJob(t, q, job.ID, StateCompleted)
	if got := <-ran; got != shard {
		t.Errorf("ran %+v, want %+v", got, shard)
	}
	waitDozes(2)

	// Scheduled while dozing: nothing is due, so it sleeps on until the
	// expiry falls due, then wakes to run it.
	wakings := q.doze.wakings.Load()
	due := time.Now().Add(time.Second)
	exp, err := q.ScheduleExpiry(ctx, "case_doze", due)
	if err != nil {
		t.Fatalf("ScheduleExpiry: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	if got := q.doze.wakings.Load(); got != wakings {
		t.Errorf("woke %d times for a job due in a second, want to sleep on", got-wakings)
	}
	waitJob(t, q, exp.ID, StateCompleted)
	calls := expirer.Calls()
	if len(calls) != 1 || calls[0].caseID != "case_doze" || calls[0].at.Before(due) {
		t.Errorf("expirer calls = %+v, want case_doze once at or after %v", calls, due)
	}
	waitDozes(3)
}

func TestIdleAfterNeedsExclusive(t *testing.T) {
	_, err := Open(context.Background(), Config{SQLitePath: filepath.Join(t.TempDir(), "w.db"), IdleAfter: time.Second})
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("Open with IdleAfter and not Exclusive: err = %v, want ErrConfig", err)
	}
}
