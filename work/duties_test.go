package work

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// dutyExpirer is an Expirer that also checks duties.
type dutyExpirer struct {
	fakeExpirer
	mu     sync.Mutex
	duties []string
}

func (d *dutyExpirer) CheckDuty(_ context.Context, id string) (review.Duty, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.duties = append(d.duties, id)
	return review.Duty{ID: id, State: review.DutyOverdue}, true, nil
}

// TestDutyCheckJob: a duty check scheduled at a deadline runs the
// service's CheckDuty once as a duty_check job; scheduling it again is a
// duplicate.
func TestDutyCheckJob(t *testing.T) {
	forEachBackend(t, func(t *testing.T, base func() Config) {
		ctx := context.Background()
		x := &dutyExpirer{}
		q := open(t, workerConfig(base(), x, noShard))
		defer closeQueue(t, q)
		due := time.Now().Add(100 * time.Millisecond)
		job, err := q.ScheduleDuty(ctx, "duty_1", due)
		if err != nil {
			t.Fatalf("ScheduleDuty: %v", err)
		}
		if again, err := q.ScheduleDuty(ctx, "duty_1", due); err != nil || !again.Duplicate {
			t.Errorf("ScheduleDuty again = %+v, %v; want a duplicate", again, err)
		}
		if _, err := q.ScheduleDuty(ctx, "", due); err == nil {
			t.Error("ScheduleDuty with no duty id: no error")
		}
		if err := q.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		info := waitJob(t, q, job.ID, StateCompleted)
		x.mu.Lock()
		defer x.mu.Unlock()
		if len(x.duties) != 1 || x.duties[0] != "duty_1" || info.Kind != "duty_check" {
			t.Errorf("CheckDuty calls %v, job kind %s; want one for duty_1 by duty_check", x.duties, info.Kind)
		}
	})
}
