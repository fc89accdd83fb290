package review

import "time"

// TargetLimit is the adaptive concurrency limit that the workers running
// assessments share for one target (a model endpoint, by identity),
// stored so that worker processes on one database coordinate: the AIMD
// state (Limit, Max, PauseUntil, LastCut) and the slots each live worker
// process holds (Leases). The work package keeps the rules; the store
// only serialises updates (Store.UpdateTargetLimit).
type TargetLimit struct {
	Target string
	// Limit is the current limit (0 for a target never seen), Max its
	// ceiling.
	Limit float64
	Max   int
	// PauseUntil is the end of the last Retry-After: no new request
	// before it. LastCut is when Limit was last halved.
	PauseUntil time.Time
	LastCut    time.Time
	Leases     []TargetLease
	UpdatedAt  time.Time
}

// TargetLease is the slots one worker process holds of a TargetLimit
// until Expires, and how many it wants.
type TargetLease struct {
	Holder  string    `json:"holder"`
	Slots   int       `json:"slots"`
	Want    int       `json:"want"`
	Expires time.Time `json:"expires"`
}
