package work

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestMain lets the test binary act as a worker process for
// TestShardSurvivesKilledWorker.
func TestMain(m *testing.M) {
	if path := os.Getenv("WORK_TEST_WORKER_DB"); path != "" {
		runDoomedWorker(path)
		return
	}
	os.Exit(m.Run())
}

// runDoomedWorker works shards on path, announcing each shard by creating
// path+".started" and then hanging until killed.
func runDoomedWorker(path string) {
	ctx := context.Background()
	q, err := Open(ctx, Config{
		SQLitePath: path, Workers: 1, Expirer: &fakeExpirer{}, testOnly: true,
		PollInterval: 50 * time.Millisecond,
		RunShard: func(context.Context, ShardArgs) error {
			if err := os.WriteFile(path+".started", nil, 0o600); err != nil {
				os.Exit(3)
			}
			select {} // hang: the parent kills the process
		},
	})
	if err != nil {
		os.Exit(2)
	}
	if err := q.Start(ctx); err != nil {
		os.Exit(2)
	}
	select {}
}

// TestShardSurvivesKilledWorker kills a worker process mid-shard and
// checks that another worker runs the shard to completion. It takes up to
// a minute (River's rescuer runs every 30s), so it needs CLEARANCE_SLOW=1.
func TestShardSurvivesKilledWorker(t *testing.T) {
	if os.Getenv("CLEARANCE_SLOW") == "" {
		t.Skip("set CLEARANCE_SLOW=1 to run the killed-worker test (up to a minute)")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "work.db")
	q := open(t, Config{SQLitePath: path})
	shard := ShardArgs{AssessmentID: "asm_k", Shard: 0, Shards: 1}
	job, err := q.EnqueueShard(ctx, shard)
	if err != nil {
		t.Fatalf("EnqueueShard: %v", err)
	}
	closeQueue(t, q)

	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find test binary: %v", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "WORK_TEST_WORKER_DB="+path)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(path + ".started"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("worker did not start the shard within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill worker: %v", err)
	}
	_ = cmd.Wait()

	done := make(chan ShardArgs, 2)
	cfg := workerConfig(Config{SQLitePath: path}, &fakeExpirer{}, func(_ context.Context, s ShardArgs) error {
		done <- s
		return nil
	})
	cfg.ShardTimeout, cfg.RescueMargin = time.Second, time.Second
	q2 := open(t, cfg)
	defer closeQueue(t, q2)
	if err := q2.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	select {
	case got := <-done:
		if got.AssessmentID != shard.AssessmentID {
			t.Errorf("rescued shard = %+v, want %+v", got, shard)
		}
	case <-time.After(90 * time.Second):
		info, _ := q2.Job(ctx, job.ID)
		t.Fatalf("shard not rescued within 90s: %+v", info)
	}
	info := waitJob(t, q2, job.ID, StateCompleted)
	if info.Attempt != 2 {
		t.Errorf("job = %+v, want completed on attempt 2", info)
	}
}
