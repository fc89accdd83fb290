package review

import (
	"fmt"
	"slices"
	"time"
)

// Unit is the unit a clock counts in.
type Unit string

// Clock units. Business days skip Saturdays, Sundays and the clock's
// holidays.
const (
	CalendarDays Unit = "calendar_days"
	BusinessDays Unit = "business_days"
	Hours        Unit = "hours"
)

// maxClockLength bounds a clock or extension length (ten years of days).
const maxClockLength = 3660

// ClockSpec is a clock as a profile states it.
type ClockSpec struct {
	Unit   Unit `json:"unit"`
	Length int  `json:"length"`
	// Holidays are dates (YYYY-MM-DD, UTC) that are not business days.
	Holidays []string `json:"holidays,omitempty"`
	// OnExpiry is the outcome deemed when the clock runs out, for
	// example "cleared" or "window_expired".
	OnExpiry string `json:"on_expiry,omitempty"`
}

// Validate returns nil or an error wrapping ErrInvalidInput that names
// the bad field.
func (s ClockSpec) Validate() error {
	switch s.Unit {
	case CalendarDays, BusinessDays, Hours:
	default:
		return fmt.Errorf("clock unit %q: want calendar_days, business_days or hours: %w", s.Unit, ErrInvalidInput)
	}
	if s.Length <= 0 || s.Length > maxClockLength {
		return fmt.Errorf("clock length %d: want 1..%d: %w", s.Length, maxClockLength, ErrInvalidInput)
	}
	for i, h := range s.Holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			return fmt.Errorf("clock holidays[%d] %q: want YYYY-MM-DD: %w", i, h, ErrInvalidInput)
		}
	}
	if s.OnExpiry == "" {
		return fmt.Errorf("clock on_expiry: empty: %w", ErrInvalidInput)
	}
	return nil
}

// Extension lengthens a clock.
type Extension struct {
	Length int       `json:"length"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Clock is a review clock: a deadline that moves with extensions and
// with the time it spent stopped. Clock is a value; its methods return
// an updated copy and never modify the receiver.
type Clock struct {
	ClockSpec
	Start      time.Time   `json:"start"`
	Extensions []Extension `json:"extensions,omitempty"`
	// StoppedAt is when the clock was stopped; zero while it runs.
	StoppedAt time.Time `json:"stopped_at,omitzero"`
	// Stopped is the total time spent stopped before StoppedAt.
	Stopped time.Duration `json:"stopped,omitempty"`
}

// NewClock starts a clock of spec at start.
func NewClock(spec ClockSpec, start time.Time) (Clock, error) {
	if err := spec.Validate(); err != nil {
		return Clock{}, err
	}
	spec.Holidays = slices.Clone(spec.Holidays)
	return Clock{ClockSpec: spec, Start: start.UTC()}, nil
}

// Running reports whether the clock is running (not stopped).
func (c Clock) Running() bool { return c.StoppedAt.IsZero() }

// TotalLength returns the clock's length with its extensions, in its unit.
func (c Clock) TotalLength() int {
	n := c.Length
	for _, e := range c.Extensions {
		n += e.Length
	}
	return n
}

// Deadline returns when the clock runs out, as seen at now: the start
// plus the length and extensions in the clock's unit, shifted by the time
// spent stopped (including, while stopped, the time since StoppedAt).
// Because the shift is a duration, a business-day deadline shifted by a
// stop may fall outside business hours or days.
func (c Clock) Deadline(now time.Time) time.Time {
	d := c.addUnits(c.Start, c.TotalLength()).Add(c.Stopped)
	if !c.Running() && now.After(c.StoppedAt) {
		d = d.Add(now.Sub(c.StoppedAt))
	}
	return d
}

// Remaining returns the time left at now; it is zero or negative once the
// clock has expired, and keeps its value while the clock is stopped.
func (c Clock) Remaining(now time.Time) time.Duration {
	return c.Deadline(now).Sub(now)
}

// Expired reports whether the clock is running and its deadline has
// passed at now. A stopped clock never expires.
func (c Clock) Expired(now time.Time) bool {
	return c.Running() && !now.Before(c.Deadline(now))
}

// Stop stops the clock at at. It fails with ErrInvalidInput when the
// clock is already stopped or at is before the start.
func (c Clock) Stop(at time.Time) (Clock, error) {
	if !c.Running() {
		return c, fmt.Errorf("stop clock: already stopped at %s: %w", c.StoppedAt.Format(time.RFC3339), ErrInvalidInput)
	}
	if at.Before(c.Start) {
		return c, fmt.Errorf("stop clock: %s is before its start: %w", at.Format(time.RFC3339), ErrInvalidInput)
	}
	c.StoppedAt = at.UTC()
	return c, nil
}

// Resume restarts a stopped clock at at, adding the stopped time to the
// deadline. It fails with ErrInvalidInput when the clock is running or at
// is before StoppedAt.
func (c Clock) Resume(at time.Time) (Clock, error) {
	if c.Running() {
		return c, fmt.Errorf("resume clock: not stopped: %w", ErrInvalidInput)
	}
	if at.Before(c.StoppedAt) {
		return c, fmt.Errorf("resume clock: %s is before it stopped: %w", at.Format(time.RFC3339), ErrInvalidInput)
	}
	c.Stopped += at.Sub(c.StoppedAt)
	c.StoppedAt = time.Time{}
	return c, nil
}

// Extend lengthens the clock by n units for reason.
func (c Clock) Extend(n int, reason string, at time.Time) (Clock, error) {
	if n <= 0 || n > maxClockLength {
		return c, fmt.Errorf("extend clock: length %d: want 1..%d: %w", n, maxClockLength, ErrInvalidInput)
	}
	if reason == "" {
		return c, fmt.Errorf("extend clock: reason: empty: %w", ErrInvalidInput)
	}
	c.Extensions = append(slices.Clone(c.Extensions), Extension{Length: n, Reason: reason, At: at.UTC()})
	return c, nil
}

// addUnits moves t forward by n of the clock's units, keeping the time of
// day for day units.
func (c Clock) addUnits(t time.Time, n int) time.Time {
	switch c.Unit {
	case Hours:
		return t.Add(time.Duration(n) * time.Hour)
	case BusinessDays:
		for n > 0 {
			t = t.AddDate(0, 0, 1)
			if c.businessDay(t) {
				n--
			}
		}
		return t
	default:
		return t.AddDate(0, 0, n)
	}
}

func (c Clock) businessDay(t time.Time) bool {
	t = t.UTC()
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !slices.Contains(c.Holidays, t.Format(time.DateOnly))
}
