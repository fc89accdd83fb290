package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/clearance-dev/clearance/review"
)

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// problemBase prefixes the type URIs of this API's problems. The URIs
// name the problem; they are not promised to resolve.
const problemBase = "https://clearance.dev/problems/"

// errorStatus is the one table mapping review's sentinels to HTTP. The
// first sentinel err wraps wins, so the order matters only for errors
// wrapping two (none do today).
//
// ErrInvalidTransition is 409: the request is well formed but conflicts
// with the case's current state (another state, or another role, would
// accept it). ErrInvalidInput is 422: the JSON was well formed but a
// value is unacceptable; malformed JSON itself is 400 (see decode.go).
//
// ErrQuotaExceeded is 429: the organisation holds too much (its detail
// names the limit and the use); it clears when cases close, so no
// Retry-After is given.
//
// A not-found problem never carries the service's message: it could tell
// another tenant's record from a missing one (and, for a finding, name
// its case). Its detail is the same fixed text either way.
var errorStatus = []struct {
	err    error
	status int
	slug   string
}{
	{review.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{review.ErrNotFound, http.StatusNotFound, notFoundSlug},
	{review.ErrForbidden, http.StatusForbidden, "forbidden"},
	{review.ErrInvalidTransition, http.StatusConflict, "invalid-transition"},
	{review.ErrConflict, http.StatusConflict, "conflict"},
	{review.ErrInvalidInput, http.StatusUnprocessableEntity, "invalid-input"},
	{errBadRequest, http.StatusBadRequest, "bad-request"},
	{errTooLarge, http.StatusRequestEntityTooLarge, "too-large"},
	{errMediaType, http.StatusUnsupportedMediaType, "unsupported-media-type"},
	{review.ErrIdempotencyMismatch, http.StatusUnprocessableEntity, "idempotency-key-reused"},
	{review.ErrQuotaExceeded, http.StatusTooManyRequests, "quota-exceeded"},
	{review.ErrModelUnavailable, http.StatusBadGateway, "model-unavailable"},
}

const (
	notFoundSlug   = "not-found"
	notFoundDetail = "no such resource, or not visible to the caller"
)

// Errors of the HTTP layer itself, mapped in errorStatus.
var (
	// errBadRequest is returned for malformed JSON, wrong types, unknown
	// fields, trailing data and bad query parameters.
	errBadRequest = errors.New("bad request")
	// errTooLarge is returned for a body over Config.MaxBodyBytes.
	errTooLarge = errors.New("request body too large")
	// errMediaType is returned for a body that is not application/json.
	errMediaType = errors.New("unsupported media type")
)

// problemFor maps err to a problem. An error matching no entry is an
// internal error: it is logged and its text is never shown.
func problemFor(err error) (Problem, bool) {
	for _, e := range errorStatus {
		if errors.Is(err, e.err) {
			p := Problem{Type: problemBase + e.slug, Title: http.StatusText(e.status), Status: e.status, Detail: err.Error()}
			if e.slug == notFoundSlug {
				p.Detail = notFoundDetail
			}
			return p, true
		}
	}
	return Problem{Type: "about:blank", Title: http.StatusText(http.StatusInternalServerError),
		Status: http.StatusInternalServerError, Detail: "internal error; see the server log"}, false
}

// writeError writes err as a problem; internal errors are logged.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p, known := problemFor(err)
	if !known {
		s.log.ErrorContext(r.Context(), "internal error", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	writeProblem(w, r, p)
}

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	p.Instance = r.URL.Path
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="clearance"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
