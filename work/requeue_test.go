package work

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// leaveRunning inserts a shard job into the SQLite job database at path
// and marks it running on attempt 1 by a process that is gone, as a
// server killed mid-shard leaves it. It returns the job's id.
func leaveRunning(t *testing.T, path string, shard ShardArgs) int64 {
	t.Helper()
	q := open(t, Config{SQLitePath: path})
	job, err := q.EnqueueShard(context.Background(), shard)
	if err != nil {
		t.Fatal(err)
	}
	closeQueue(t, q)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Now().UTC().Format("2006-01-02 15:04:05.999999")
	if _, err := db.Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = ?, attempted_by = json('["dead-host"]') WHERE id = ?`, at, job.ID); err != nil {
		t.Fatal(err)
	}
	return job.ID
}

// TestExclusiveQueueRequeuesRunningJobs: a shard left running by a dead
// process waits for River's rescuer (ShardTimeout plus RescueMargin, an
// hour here) on a shared database, and runs at once when the queue is
// Exclusive. Only the re-queue at start-up can explain its completion
// within the test.
func TestExclusiveQueueRequeuesRunningJobs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobs.db")
	shard := ShardArgs{AssessmentID: "asm_dead", Shard: 0, Shards: 1}
	id := leaveRunning(t, path, shard)
	var runs atomic.Int64
	run := func(context.Context, ShardArgs) error { runs.Add(1); return nil }
	cfg := func(exclusive bool) Config {
		c := workerConfig(Config{SQLitePath: path}, &fakeExpirer{}, run)
		c.ShardTimeout, c.RescueMargin, c.Exclusive = time.Hour, time.Hour, exclusive
		return c
	}

	// Shared (the multi-process rule): the job stays running.
	q := open(t, cfg(false))
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if info, err := q.Job(ctx, id); err != nil || info.State != StateRunning {
		t.Fatalf("on a shared queue the dead process's job is %+v (%v), want still running", info, err)
	}
	closeQueue(t, q)
	if runs.Load() != 0 {
		t.Fatalf("the shared queue ran the job %d times", runs.Load())
	}

	// Exclusive: re-queued at start-up and run.
	q = open(t, cfg(true))
	defer closeQueue(t, q)
	// A second exclusive queue on the same database is refused.
	if _, err := Open(ctx, cfg(true)); !errors.Is(err, ErrLocked) {
		t.Errorf("second exclusive Open error = %v, want ErrLocked", err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	info := waitJob(t, q, id, StateCompleted)
	if runs.Load() != 1 || info.Attempt != 2 {
		t.Errorf("job %+v after %d runs, want completed on attempt 2 after one run", info, runs.Load())
	}
	if len(info.Errors) != 1 || !strings.Contains(info.Errors[0], "re-queued") {
		t.Errorf("job errors %q, want the re-queue recorded", info.Errors)
	}
}
