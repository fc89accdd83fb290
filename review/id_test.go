package review

import (
	"testing"
	"time"
)

// TestNewIDMonotonic: ids made in the same millisecond, or with a clock
// that went back, still sort in the order they were made.
func TestNewIDMonotonic(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 1000 {
		at := now
		if i%7 == 0 {
			at = now.Add(-time.Second) // a clock that went back
		}
		id, err := newID("org", at)
		if err != nil {
			t.Fatal(err)
		}
		if id <= prev {
			t.Fatalf("id %d %s is not after %s", i, id, prev)
		}
		prev = id
	}
	later, _ := newID("org", now.Add(time.Hour))
	if later <= prev {
		t.Fatalf("an id an hour later %s is not after %s", later, prev)
	}
}
