// Package web serves Clearance's REST API under /api/v1 over a
// review.Service, with health at /healthz and, optionally, the
// transparency log read-only under /log/. Prometheus metrics are not on
// this handler: MetricsHandler serves them on a listener of their own.
//
// Every /api/v1 resource except /api/v1/openapi.json requires an
// "Authorization: Bearer <token>" header; a missing or bad token is 401.
// Errors are RFC 9457 problem details (application/problem+json), mapped
// from review's sentinels in one table (problem.go); internal errors are
// logged and never shown. Request bodies are one JSON object of type
// application/json, at most Config.MaxBodyBytes long, with no unknown
// fields and nothing after it; a request refused for its body changes
// nothing. Lists take ?limit= and ?after= and return
// {"items":[...],"next":"..."}, next being empty on the last page.
//
// The routes are one table (routes.go) from which both the ServeMux and
// the OpenAPI 3.1 document at /api/v1/openapi.json are built, so the two
// cannot drift; a test also checks the mux against the document.
package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clearance-dev/clearance/oscal"
	"github.com/clearance-dev/clearance/review"
)

// DefaultMaxBodyBytes bounds request bodies when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// Config configures a Server.
type Config struct {
	// Service is required.
	Service *review.Service
	// Logger is optional; nil discards.
	Logger *slog.Logger
	// LogHandler, if set, serves the transparency log read-only (GET and
	// HEAD) under /log/; it sees paths with the /log prefix removed.
	LogHandler http.Handler
	// UI, if set, serves every request no other route takes (the web
	// pages, package web/ui).
	UI http.Handler
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes,
	// except for submissions, which may then be review.MaxSubmissionBytes
	// long so that a dossier of the largest size review accepts fits.
	MaxBodyBytes int64
	// TempDir holds uploads spooled to disk (imports, sealed and removed
	// when the request ends); "" means os.TempDir().
	TempDir string
	// Evaluate, if set, judges a case under its profiles for the OSCAL
	// export's per-criterion findings; nil exports per profile only.
	Evaluate oscal.Evaluator
}

func (c Config) validate() error {
	switch {
	case c.Service == nil:
		return errors.New("web config: Service is required")
	case c.MaxBodyBytes < 0:
		return errors.New("web config: MaxBodyBytes is negative")
	}
	return nil
}

// Server is the HTTP API. It is safe for concurrent use.
type Server struct {
	svc      *review.Service
	log      *slog.Logger
	now      func() time.Time
	maxBody  int64
	maxSub   int64 // body limit of submissions
	tempDir  string
	evaluate oscal.Evaluator
	mux      *http.ServeMux
	handler  http.Handler
	patterns []string // every pattern registered on mux, in order
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	metrics  http.Handler // Prometheus exposition of the server's registry
}

// New returns a Server, or an error naming a bad configuration field.
func New(c Config) (*Server, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	s := &Server{svc: c.Service, log: c.Logger, now: c.Now, maxBody: c.MaxBodyBytes, tempDir: c.TempDir, evaluate: c.Evaluate, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.maxSub = s.maxBody
	if s.maxBody == 0 {
		s.maxBody, s.maxSub = DefaultMaxBodyBytes, review.MaxSubmissionBytes
	}

	reg := prometheus.NewRegistry()
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "clearance_http_requests_total",
		Help: "HTTP requests by route pattern and status code.",
	}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "clearance_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern and status code.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"route", "code"})
	reg.MustRegister(s.requests, s.latency,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))

	doc, err := openAPIDocument(apiRoutes())
	if err != nil {
		return nil, err
	}
	s.handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	// /metrics is not served here: its counters by route and status and
	// the process's figures are for operators, not the public. See
	// MetricsHandler.
	s.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	if c.LogHandler != nil {
		s.handle("GET /log/", http.StripPrefix("/log", c.LogHandler))
	}
	s.handle("GET /api/v1/openapi.json", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}))
	for _, rt := range apiRoutes() {
		s.handle(rt.method+" "+rt.path, s.authed(rt.handle))
	}
	// Anything else under /api/v1 is a problem, not the mux's text.
	s.handle(catchAll, http.HandlerFunc(s.unrouted))
	if c.UI != nil {
		s.handle("/", c.UI)
	}
	s.handler = s.instrument(s.mux)
	return s, nil
}

// catchAll is the pattern answering unknown /api/v1 requests.
const catchAll = "/api/v1/"

// unrouted answers a /api/v1 request no route took: 405 with Allow when
// the path exists for other methods, else 404.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != catchAll && p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeProblem(w, r, Problem{Type: problemBase + "method-not-allowed", Title: "Method Not Allowed",
			Status: http.StatusMethodNotAllowed, Detail: r.Method + " is not allowed here"})
		return
	}
	writeProblem(w, r, Problem{Type: problemBase + notFoundSlug, Title: "Not Found",
		Status: http.StatusNotFound, Detail: notFoundDetail})
}

// Handler returns the server's root handler. It does not serve /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// MetricsHandler returns the Prometheus metrics of this server (requests
// by route pattern and status, latency, Go runtime and process figures)
// in the text exposition format, for a separate, operator-only listener.
// With a non-empty token it answers only requests carrying
// "Authorization: Bearer <token>" (compared in constant time), others
// 401; with an empty token it answers everyone who reaches it, so serve
// it on a loopback or otherwise private address.
func (s *Server) MetricsHandler(token string) http.Handler {
	if token == "" {
		return s.metrics
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		h := sha256.Sum256([]byte(got))
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(h[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need the bearer token of --metrics-token-file", http.StatusUnauthorized)
			return
		}
		s.metrics.ServeHTTP(w, r)
	})
}

func (s *Server) handle(pattern string, h http.Handler) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, h)
}

type apiFunc func(w http.ResponseWriter, r *http.Request, a review.Actor) error

// authed authenticates the bearer token before calling h, and writes
// h's error as a problem.
func (s *Server) authed(h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		// Responses hold tenant data and secrets: no shared caches.
		w.Header().Set("Cache-Control", "no-store")
		ctx := context.WithValue(r.Context(), serverKey{}, s)
		if err := h(w, r.WithContext(ctx), a); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) authenticate(r *http.Request) (review.Actor, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" {
		return review.Actor{}, errUnauth("no Authorization header")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return review.Actor{}, errUnauth("Authorization header is not \"Bearer <token>\"")
	}
	a, err := s.svc.Authenticate(r.Context(), token)
	if errors.Is(err, review.ErrUnauthenticated) {
		// The service's message says why (revoked, expired, unknown);
		// the client is told only that the token was not accepted.
		return review.Actor{}, errUnauth("token not accepted")
	}
	return a, err
}

// errUnauth is an ErrUnauthenticated saying why, without the service's
// detail (which would tell a client whether a token exists).
func errUnauth(why string) error { return &unauthError{why: why} }

type unauthError struct{ why string }

func (e *unauthError) Error() string { return "authenticate: " + e.why }
func (e *unauthError) Unwrap() error { return review.ErrUnauthenticated }

// statusWriter records the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument counts requests and observes their latency by the route
// pattern the mux matched (never the raw path, whose ids would make the
// label set unbounded) and status code.
func (s *Server) instrument(next *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		_, pattern := next.Handler(r)
		next.ServeHTTP(sw, r)
		if pattern == "" {
			pattern = "unmatched"
		}
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		c := strconv.Itoa(code)
		s.requests.WithLabelValues(pattern, c).Inc()
		s.latency.WithLabelValues(pattern, c).Observe(time.Since(start).Seconds())
	})
}
