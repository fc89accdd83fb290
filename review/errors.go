package review

import "errors"

// ErrNotFound is returned when a record does not exist or, for a tenant
// that may not see it, is treated as not existing. Stores return it for a
// missing row.
var ErrNotFound = errors.New("not found")

// ErrForbidden is returned by Service when the actor may see the record
// but its roles do not allow the action.
var ErrForbidden = errors.New("forbidden")

// ErrUnauthenticated is returned by Service.Authenticate for a missing,
// unknown, revoked or expired token, or a disabled user.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrConflict is returned when a write collides with existing data: a
// duplicate key in a Store, or an optimistic version check that lost to a
// concurrent update.
var ErrConflict = errors.New("conflict")

// ErrInvalidTransition is returned when a case cannot move from its
// current state to the requested one, or not by the actor's roles.
var ErrInvalidTransition = errors.New("invalid state transition")

// ErrInvalidInput is returned (wrapped with the field and the problem)
// when input fails validation.
var ErrInvalidInput = errors.New("invalid input")

// ErrQuotaExceeded is returned, wrapped in a *QuotaError naming the limit
// and the use, by Submit and SubmitOnce when opening the case would take
// the organisation over its Quota. Nothing is stored.
var ErrQuotaExceeded = errors.New("quota exceeded")
