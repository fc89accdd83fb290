package review

import (
	"errors"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestClockDeadline(t *testing.T) {
	// 2026-03-06 is a Friday.
	tests := []struct {
		name string
		spec ClockSpec
		ext  []int
		want string
	}{
		{"calendar", ClockSpec{Unit: CalendarDays, Length: 30}, nil, "2026-04-05T10:00:00Z"},
		{"business over weekend", ClockSpec{Unit: BusinessDays, Length: 1}, nil, "2026-03-09T10:00:00Z"},
		{"business 5", ClockSpec{Unit: BusinessDays, Length: 5}, nil, "2026-03-13T10:00:00Z"},
		{"business with holiday", ClockSpec{Unit: BusinessDays, Length: 5, Holidays: []string{"2026-03-10"}}, nil, "2026-03-16T10:00:00Z"},
		{"business holiday on weekend", ClockSpec{Unit: BusinessDays, Length: 1, Holidays: []string{"2026-03-07"}}, nil, "2026-03-09T10:00:00Z"},
		{"hours", ClockSpec{Unit: Hours, Length: 72}, nil, "2026-03-09T10:00:00Z"},
		{"calendar extended", ClockSpec{Unit: CalendarDays, Length: 30}, []int{10, 5}, "2026-04-20T10:00:00Z"},
		{"business extended", ClockSpec{Unit: BusinessDays, Length: 1}, []int{1}, "2026-03-10T10:00:00Z"},
	}
	start := day("2026-03-06T10:00:00Z")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.OnExpiry = "cleared"
			k, err := NewClock(tt.spec, start)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.ext {
				if k, err = k.Extend(n, "more time", start); err != nil {
					t.Fatal(err)
				}
			}
			if got := k.Deadline(start); !got.Equal(day(tt.want)) {
				t.Fatalf("Deadline = %s, want %s", got.Format(time.RFC3339), tt.want)
			}
		})
	}
}

func TestClockStopResume(t *testing.T) {
	start := day("2026-03-02T09:00:00Z")
	k, err := NewClock(ClockSpec{Unit: CalendarDays, Length: 10, OnExpiry: "window_expired"}, start)
	if err != nil {
		t.Fatal(err)
	}
	base := day("2026-03-12T09:00:00Z")
	stop := day("2026-03-05T09:00:00Z")
	resume := day("2026-03-08T21:00:00Z") // stopped 3.5 days
	stopped, err := k.Stop(stop)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		k       Clock
		now     time.Time
		want    time.Time
		expired bool
	}{
		{"running", k, stop, base, false},
		{"running at deadline", k, base, base, true},
		{"stopped, just stopped", stopped, stop, base, false},
		{"stopped, deadline moves with time", stopped, day("2026-03-07T09:00:00Z"), base.Add(48 * time.Hour), false},
		{"stopped past the old deadline never expires", stopped, day("2026-03-20T09:00:00Z"), day("2026-03-27T09:00:00Z"), false},
	}
	for _, tt := range tests {
		if got := tt.k.Deadline(tt.now); !got.Equal(tt.want) {
			t.Errorf("%s: Deadline = %s, want %s", tt.name, got, tt.want)
		}
		if got := tt.k.Expired(tt.now); got != tt.expired {
			t.Errorf("%s: Expired = %v, want %v", tt.name, got, tt.expired)
		}
	}
	resumed, err := stopped.Resume(resume)
	if err != nil {
		t.Fatal(err)
	}
	want := base.Add(84 * time.Hour)
	if got := resumed.Deadline(resume); !got.Equal(want) {
		t.Fatalf("after resume Deadline = %s, want %s", got, want)
	}
	if resumed.Expired(want.Add(-time.Second)) || !resumed.Expired(want) {
		t.Fatalf("Expired around the shifted deadline is wrong")
	}
	if got := resumed.Remaining(want.Add(-time.Hour)); got != time.Hour {
		t.Fatalf("Remaining = %s, want 1h", got)
	}
	if k.Running() != true || stopped.Running() || !resumed.Running() {
		t.Fatalf("Running: original %v stopped %v resumed %v", k.Running(), stopped.Running(), resumed.Running())
	}
	// The receiver is not modified.
	if !k.StoppedAt.IsZero() || k.Stopped != 0 {
		t.Fatalf("Stop modified its receiver: %+v", k)
	}
}

func TestClockErrors(t *testing.T) {
	start := day("2026-03-02T09:00:00Z")
	k, _ := NewClock(ClockSpec{Unit: Hours, Length: 1, OnExpiry: "x"}, start)
	stopped, _ := k.Stop(start.Add(time.Minute))
	tests := []struct {
		name string
		err  error
	}{
		{"bad unit", func() error {
			_, err := NewClock(ClockSpec{Unit: "weeks", Length: 1, OnExpiry: "x"}, start)
			return err
		}()},
		{"zero length", func() error { _, err := NewClock(ClockSpec{Unit: Hours, OnExpiry: "x"}, start); return err }()},
		{"huge length", func() error {
			_, err := NewClock(ClockSpec{Unit: Hours, Length: 1 << 30, OnExpiry: "x"}, start)
			return err
		}()},
		{"bad holiday", func() error {
			_, err := NewClock(ClockSpec{Unit: BusinessDays, Length: 1, Holidays: []string{"3/4/2026"}, OnExpiry: "x"}, start)
			return err
		}()},
		{"no outcome", func() error { _, err := NewClock(ClockSpec{Unit: Hours, Length: 1}, start); return err }()},
		{"stop twice", func() error { _, err := stopped.Stop(start.Add(time.Hour)); return err }()},
		{"stop before start", func() error { _, err := k.Stop(start.Add(-time.Hour)); return err }()},
		{"resume running", func() error { _, err := k.Resume(start); return err }()},
		{"resume before stop", func() error { _, err := stopped.Resume(start); return err }()},
		{"extend zero", func() error { _, err := k.Extend(0, "r", start); return err }()},
		{"extend no reason", func() error { _, err := k.Extend(1, "", start); return err }()},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, ErrInvalidInput) {
			t.Errorf("%s: error = %v, want ErrInvalidInput", tt.name, tt.err)
		}
	}
}
