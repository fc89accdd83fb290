package policy

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Units of time for clocks, due rules and incident deadlines.
const (
	CalendarDays = "calendar_days"
	BusinessDays = "business_days"
	Hours        = "hours"
)

// addUnits moves t by n units forward (n > 0) or back (n < 0). Business
// days skip Saturdays and Sundays; public holidays are not modelled. A
// fractional n is rounded up to whole days (the duty never gets shorter).
func addUnits(t time.Time, n float64, unit string) time.Time {
	switch unit {
	case Hours:
		return t.Add(time.Duration(n * float64(time.Hour)))
	case BusinessDays:
		days := int(math.Ceil(math.Abs(n)))
		step := 1
		if n < 0 {
			step = -1
		}
		for days > 0 {
			t = t.AddDate(0, 0, step)
			if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
				days--
			}
		}
		return t
	default:
		d := int(math.Ceil(math.Abs(n)))
		if n < 0 {
			d = -d
		}
		return t.AddDate(0, 0, d)
	}
}

// businessDaysBetween counts weekdays in (a, b].
func businessDaysBetween(a, b time.Time) int {
	n := 0
	for t := a.AddDate(0, 0, 1); !t.After(b); t = t.AddDate(0, 0, 1) {
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return n
}

func unitText(n float64, unit string) string {
	switch unit {
	case Hours:
		return fmt.Sprintf("%s hours", num(n))
	case BusinessDays:
		return fmt.Sprintf("%s business days", num(n))
	default:
		return fmt.Sprintf("%s calendar days", num(n))
	}
}

// ClockResult is a clock's state at the evaluation date.
type ClockResult struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Status: not_started, running, paused, ended (its purpose was met
	// before the due date), expired.
	Status     string         `json:"status"`
	Length     string         `json:"length"`
	Start      string         `json:"start,omitempty"`
	Due        string         `json:"due,omitempty"`
	EndedAt    string         `json:"endedAt,omitempty"`
	DaysLeft   int            `json:"daysLeft,omitempty"`
	Extensions int            `json:"extensions,omitempty"`
	OnExpiry   string         `json:"onExpiry,omitempty"`
	Cite       string         `json:"cite,omitempty"`
	Provenance []UsedConstant `json:"provenance,omitempty"`

	due time.Time
}

// runClock computes clock k over events (sorted by date, none after asOf).
func runClock(k Clock, length, extLen float64, events []Event, asOf time.Time) ClockResult {
	unit := k.Unit
	if unit == "" {
		unit = CalendarDays
	}
	r := ClockResult{ID: k.ID, Title: k.Title, Status: "not_started", Length: unitText(length, unit), OnExpiry: k.OnExpiry, Cite: k.Cite}
	var start time.Time
	found := false
	for _, e := range events {
		if e.Type == k.Start {
			start, found = e.Date, true
			break
		}
	}
	if !found {
		return r
	}
	in := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	total := length
	var pausedSince time.Time
	var pausedFor time.Duration
	pausedBiz := 0
	var ended time.Time
	for _, e := range events {
		if e.Date.Before(start) {
			continue
		}
		switch {
		case in(k.Ends, e.Type) && ended.IsZero():
			ended = e.Date
		case in(k.Pauses, e.Type) && pausedSince.IsZero():
			pausedSince = e.Date
		case in(k.Resumes, e.Type) && !pausedSince.IsZero():
			pausedFor += e.Date.Sub(pausedSince)
			pausedBiz += businessDaysBetween(pausedSince, e.Date)
			pausedSince = time.Time{}
		case k.Extension != nil && e.Type == k.Extension.On && (k.Extension.Max == 0 || r.Extensions < k.Extension.Max):
			r.Extensions++
			total += extLen
		}
	}
	due := addUnits(start, total, unit)
	if unit == BusinessDays {
		due = addUnits(due, float64(pausedBiz), unit)
	} else {
		due = due.Add(pausedFor)
	}
	r.Start, r.Due, r.due = rfc(start), rfc(due), due
	switch {
	case !ended.IsZero() && !ended.After(due):
		r.Status, r.EndedAt = "ended", rfc(ended)
	case !pausedSince.IsZero() && asOf.Before(due.Add(asOf.Sub(pausedSince))):
		// While paused the due date moves with the pause.
		r.Status = "paused"
		r.due = due.Add(asOf.Sub(pausedSince))
		r.Due = rfc(r.due)
	case !asOf.Before(due):
		r.Status = "expired"
		if !ended.IsZero() {
			r.EndedAt = rfc(ended)
		}
	default:
		r.Status = "running"
		r.DaysLeft = int(math.Ceil(due.Sub(asOf).Hours() / 24))
	}
	return r
}

// relevantEvents returns the events dated at or before asOf, sorted by
// date (stable, so same-day events keep their document order).
func relevantEvents(evs []Event, asOf time.Time) []Event {
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		if !e.Date.After(asOf) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date.Before(out[j].Date) })
	return out
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
