package work

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// conformExpirer is an Expirer that also runs conformance checks (the
// first stop calls say go on) and records fingerprints.
type conformExpirer struct {
	fakeExpirer
	stop int

	mu           sync.Mutex
	checks       []string
	fingerprints []string
}

func (c *conformExpirer) RunScheduledConformance(_ context.Context, decisionID string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks = append(c.checks, decisionID)
	return len(c.checks) < c.stop, nil
}

func (c *conformExpirer) RunFingerprint(_ context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fingerprints = append(c.fingerprints, id)
	if id == "fpr_gone" {
		return review.ErrNotFound
	}
	return nil
}

func (c *conformExpirer) counts() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.checks), len(c.fingerprints)
}

// TestConformCheckJob: a conform_check job runs the scheduled check again
// and again (it snoozes itself between checks) until the checker says
// stop, then completes: with MaxAttempts 2 it runs 6 checks, since River
// does not count a snooze as an attempt. Scheduling checks a second time
// is a duplicate, and a period under a minute is refused.
func TestConformCheckJob(t *testing.T) {
	forEachBackend(t, func(t *testing.T, base func() Config) {
		ctx := context.Background()
		x := &conformExpirer{stop: 6}
		cfg := workerConfig(base(), x, noShard)
		cfg.MaxAttempts = 2
		q := open(t, cfg)
		defer closeQueue(t, q)
		if _, err := q.ScheduleConformance(ctx, "dec_1", time.Second); err == nil {
			t.Error("ScheduleConformance every second: no error")
		}
		if _, err := q.ScheduleConformance(ctx, "", time.Hour); err == nil {
			t.Error("ScheduleConformance with no decision: no error")
		}
		if e, err := q.ScheduleConformance(ctx, "dec_1", time.Hour); err != nil {
			t.Fatalf("ScheduleConformance: %v", err)
		} else if again, err := q.ScheduleConformance(ctx, "dec_1", time.Hour); err != nil || !again.Duplicate || again.ID != e.ID {
			t.Errorf("ScheduleConformance again = %+v, %v; want a duplicate of %d", again, err, e.ID)
		}
		// Checks every 10ms (ScheduleConformance allows no such period;
		// the job's own loop is what is tested), due now.
		job, err := q.insert(ctx, ConformArgs{DecisionID: "dec_2", Every: 10 * time.Millisecond}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		info := waitJob(t, q, job.ID, StateCompleted)
		n, _ := x.counts()
		if n != 6 || info.Kind != "conform_check" || len(info.Errors) != 0 {
			t.Errorf("%d checks, job %+v; want 6 (more than MaxAttempts 2) and no errors", n, info)
		}
		x.mu.Lock()
		for _, d := range x.checks {
			if d != "dec_2" {
				t.Errorf("a check of %s ran: the hourly one is not due", d)
			}
		}
		x.mu.Unlock()
	})
}

// TestFingerprintJob: a queued fingerprint is recorded by a
// conform_fingerprint job; one whose fingerprint is gone is cancelled.
func TestFingerprintJob(t *testing.T) {
	forEachBackend(t, func(t *testing.T, base func() Config) {
		ctx := context.Background()
		x := &conformExpirer{}
		q := open(t, workerConfig(base(), x, noShard))
		defer closeQueue(t, q)
		if _, err := q.EnqueueFingerprint(ctx, ""); err == nil {
			t.Error("EnqueueFingerprint with no id: no error")
		}
		ok, err := q.EnqueueFingerprint(ctx, "fpr_1")
		if err != nil {
			t.Fatal(err)
		}
		gone, err := q.EnqueueFingerprint(ctx, "fpr_gone")
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		if info := waitJob(t, q, ok.ID, StateCompleted); info.Kind != "conform_fingerprint" {
			t.Errorf("job kind %s", info.Kind)
		}
		waitJob(t, q, gone.ID, StateCancelled)
		if _, n := x.counts(); n != 2 {
			t.Errorf("RunFingerprint ran %d times, want 2", n)
		}
	})
}
