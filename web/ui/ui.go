// Package ui is Clearance's web user interface: server-rendered HTML pages
// for the people who run a review (developers, assessors, reviewers,
// officials, auditors) and a public transparency page for everyone else.
//
// A Handler serves these routes (see routes for the full table):
//
//	GET  /login, POST /login       sign in with an API token
//	POST /logout                   sign out
//	GET  /cases                    case list with clocks, filters and search
//	GET  /cases/{id}               case page: dossier, regime comparison,
//	                               assessments with charts, findings,
//	                               decisions, timeline and the role's actions
//	GET  /cases/{id}/samples       transcript browser
//	GET  /cases/{id}/trajectory?assessment=A&seq=N, POST …/trajectory/reveal
//	                               trajectory viewer of one cyber-exploit
//	                               episode, sealed until revealed
//	GET  /decisions/{id}           decision page with verification commands
//	GET  /tokens, POST /tokens/{id}/revoke
//	                               the user's tokens and sessions (an
//	                               admin's view of anyone's with ?user=)
//	GET  /people, POST /people/{id}/disable|enable
//	                               admin: every user, disable or enable
//	GET  /submit, POST /submit     developer: submit a model (dossier upload
//	                               or pasted, endpoint, credentials, profiles)
//	POST /tokens                   mint a token (an admin's for anyone); the
//	                               secret is shown once
//	GET  /orgs, POST /orgs, POST /users
//	                               admin: organisations, create org and user
//	GET  /cases/{id}/extend, POST …/extend
//	                               official: extend a case's review clock
//	GET  /portfolio                officials, admins, auditors: models ×
//	                               regimes matrix and key-rate trends
//	GET  /transparency             public: log checkpoint and decisions
//	GET  /transparency/verify      public: how to verify a decision yourself
//	GET  /transparency/models/{digest}  public JSON: the logged decisions
//	                               about those weights, newest first
//	GET  /transparency/{decision}  public: one logged decision, its exact
//	                               bundle and receipt (…/bundle.json,
//	                               …/receipt.json) and how to verify them
//	GET  /.well-known/clearance.json
//	                               public: decision keys, log origin, key
//	                               and URL, witnesses (pin them out of band)
//	GET  /static/style.css         the one stylesheet
//
// Sign-in exchanges an API token for a session: the service mints a child
// of that token for the session (review.Service.StartSession: it expires
// with the session or the token, whichever is first), and the session
// cookie holds the child's secret sealed with AES-256-GCM under
// Config.SessionKey (HttpOnly, SameSite=Strict, Secure and __Host- when
// Config.Secure, with an expiry). Signing out revokes the child token on
// the server (review.Service.EndSession), so a copy of the cookie stops
// working too. Every request authenticates the session's token again
// through review.Service.Authenticate, so a revoked token (the session's
// or the one it was made from) or a disabled user loses access at once. Every POST carries the session's CSRF
// token in a hidden field; the sign-in form, which has no session yet, is
// protected by a double-submit cookie. Every response carries a strict
// Content-Security-Policy with no script source at all: the UI uses no
// JavaScript.
//
// Authorisation is the review service's: pages call the service as the
// signed-in actor and map its errors to pages (ErrNotFound, including
// another organisation's case, to one 404 page that does not tell the two
// apart; ErrForbidden to 403). The UI hides actions the actor's roles do not
// allow, but never relies on hiding. Forms reject bad input with a message
// next to the field and status 422, changing nothing.
//
// Harmful transcripts are never in a page unless the actor asked for one
// (a POST "reveal") and the service allowed it; the service records each
// reveal in the audit trail. Authenticated pages are sent with
// Cache-Control: no-store.
package ui

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/tlog"
)

// SessionKeySize is the length of Config.SessionKey in bytes.
const SessionKeySize = 32

// DefaultSessionTTL is how long a session lasts when Config.SessionTTL is
// zero.
const DefaultSessionTTL = 12 * time.Hour

// Config configures a Handler.
type Config struct {
	// Service is required: every page reads and acts through it.
	Service *review.Service
	// Evaluate judges a case's evidence under its profiles for the regime
	// comparison matrix on the case page. Nil shows the section as
	// unavailable; an error is logged and shown as unavailable.
	Evaluate func(ctx context.Context, c review.Case) (*policy.Decision, error)
	// LogDir is the transparency log directory (DIR/checkpoint,
	// DIR/log.pub); the public page shows its latest checkpoint, verified
	// with log.pub. Empty shows the log as not configured.
	LogDir string
	// LogURL is where the log is served, for links; "" means "/log/".
	LogURL string
	// Witnesses cosign the log's checkpoints (tlog.Options.Witnesses):
	// their keys are published in /.well-known/clearance.json and the
	// public pages show which of them cosigned a checkpoint.
	Witnesses []tlog.WitnessConfig
	// DeciderKey is the PEM public key decisions are signed with, offered
	// for download on the transparency page; nil leaves it out.
	DeciderKey []byte
	// AgencyKeys lists the decision keys of the agencies that co-sign
	// the decisions of joint reviews, published in
	// /.well-known/clearance.json (agencyKeys) and matched against a
	// bundle's signatures on the public decision pages ("signed by");
	// nil leaves both out.
	AgencyKeys func(ctx context.Context) ([]AgencyKey, error)
	// SessionKey seals session cookies; required, SessionKeySize bytes.
	// Changing it signs everyone out.
	SessionKey []byte
	// SessionTTL is a session's lifetime; zero means DefaultSessionTTL.
	SessionTTL time.Duration
	// Secure sets the Secure flag (and the __Host- prefix) on cookies; set
	// it whenever the UI is served over HTTPS.
	Secure bool
	// Logger receives internal errors; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c Config) validate() error {
	switch {
	case c.Service == nil:
		return errors.New("ui config: Service is required")
	case len(c.SessionKey) != SessionKeySize:
		return fmt.Errorf("ui config: SessionKey is %d bytes, want %d", len(c.SessionKey), SessionKeySize)
	case c.SessionTTL < 0:
		return fmt.Errorf("ui config: SessionTTL %s is negative", c.SessionTTL)
	}
	return nil
}

// Handler serves the web UI. It is safe for concurrent use.
type Handler struct {
	svc        *review.Service
	evaluate   func(ctx context.Context, c review.Case) (*policy.Decision, error)
	logDir     string
	logURL     string
	witnesses  []tlog.WitnessConfig
	deciderKey []byte
	agencyKeys func(ctx context.Context) ([]AgencyKey, error)
	aead       cipher.AEAD
	ttl        time.Duration
	secure     bool
	log        *slog.Logger
	now        func() time.Time
	pages      pages
	mux        *http.ServeMux
}

// New returns a Handler, or an error naming the bad Config field.
func New(cfg Config) (*Handler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cfg.SessionKey)
	if err != nil {
		return nil, fmt.Errorf("ui config: session key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("ui config: session key: %w", err)
	}
	ps, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{svc: cfg.Service, evaluate: cfg.Evaluate, logDir: cfg.LogDir, logURL: cfg.LogURL, witnesses: cfg.Witnesses,
		deciderKey: cfg.DeciderKey, agencyKeys: cfg.AgencyKeys, aead: aead, ttl: cfg.SessionTTL, secure: cfg.Secure,
		log: cfg.Logger, now: cfg.Now, pages: ps}
	if h.logURL == "" {
		h.logURL = "/log/"
	}
	if h.ttl == 0 {
		h.ttl = DefaultSessionTTL
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.mux = h.routes()
	return h, nil
}

// ServeHTTP sets the security headers every response carries and
// dispatches to the route.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy allows the page's own stylesheet and inline SVG
// (data: images), nothing else: no script of any origin, no frames, and
// forms only to this origin.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (h *Handler) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /static/style.css", h.style)
	m.HandleFunc("GET /login", h.loginForm)
	m.HandleFunc("POST /login", h.login)
	m.HandleFunc("POST /logout", h.logout)
	m.HandleFunc("GET /transparency", h.transparency)
	m.HandleFunc("GET /transparency/log.pub", h.logKey)
	m.HandleFunc("GET /transparency/decider.pub", h.deciderPub)
	m.HandleFunc("GET /transparency/trusted_root.json", h.trustedRoot)
	m.HandleFunc("GET /transparency/decisions/{file}", h.publicDecision)
	m.HandleFunc("GET /transparency/verify", h.verifyGuide)
	m.HandleFunc("GET /transparency/models/{digest}", h.publicModel)
	m.HandleFunc("GET /transparency/{decision}", h.publicDecisionPage)
	m.HandleFunc("GET /transparency/{decision}/{file}", h.publicDecisionFile)
	m.HandleFunc("GET /.well-known/clearance.json", h.wellKnown)

	m.HandleFunc("GET /{$}", h.authed(h.home))
	m.HandleFunc("GET /cases", h.authed(h.caseList))
	m.HandleFunc("GET /incidents", h.authed(h.incidents))
	m.HandleFunc("GET /cases/{id}", h.authed(h.casePage))
	m.HandleFunc("POST /cases/{id}/assessments", h.authed(h.scheduleAssessment))
	m.HandleFunc("POST /cases/{id}/findings", h.authed(h.recordFinding))
	m.HandleFunc("POST /cases/{id}/incidents", h.authed(h.fileIncident))
	m.HandleFunc("POST /cases/{id}/incidents/{iid}/resolve", h.authed(h.resolveIncident))
	m.HandleFunc("POST /cases/{id}/duties/{did}/reports", h.authed(h.fileDutyReport))
	m.HandleFunc("POST /cases/{id}/findings/{fid}/responses", h.authed(h.respond))
	m.HandleFunc("POST /cases/{id}/findings/{fid}/status", h.authed(h.findingStatus))
	m.HandleFunc("POST /cases/{id}/transition", h.authed(h.transition))
	m.HandleFunc("POST /cases/{id}/assignees", h.authed(h.assign))
	m.HandleFunc("POST /cases/{id}/decision", h.authed(h.decide))
	m.HandleFunc("POST /cases/{id}/appeal", h.authed(h.appeal))
	m.HandleFunc("GET /cases/{id}/samples", h.authed(h.samples))
	m.HandleFunc("POST /cases/{id}/samples/reveal", h.authed(h.reveal))
	m.HandleFunc("GET /cases/{id}/oscal/{kind}", h.authed(h.caseOSCAL))
	m.HandleFunc("GET /cases/{id}/trajectory", h.authed(h.trajectory))
	m.HandleFunc("POST /cases/{id}/trajectory/reveal", h.authed(h.revealTrajectory))
	m.HandleFunc("GET /cases/{id}/triage", h.authed(h.triage))
	m.HandleFunc("POST /cases/{id}/triage", h.authed(h.reviewTriage))
	m.HandleFunc("GET /cases/{id}/campaign", h.authed(h.campaign))
	m.HandleFunc("POST /cases/{id}/campaign/exchange", h.authed(h.campaignExchange))
	m.HandleFunc("POST /cases/{id}/campaign/open", h.authed(h.campaignOpen))
	m.HandleFunc("POST /cases/{id}/campaign/success", h.authed(h.campaignTag))
	m.HandleFunc("POST /cases/{id}/campaign/universal", h.authed(h.campaignUniversal))
	m.HandleFunc("POST /cases/{id}/campaign/finding", h.authed(h.campaignFinding))
	m.HandleFunc("POST /cases/{id}/campaign/retest", h.authed(h.campaignRetest))
	m.HandleFunc("POST /cases/{id}/model-version", h.authed(h.modelVersion))
	m.HandleFunc("GET /decisions/{id}", h.authed(h.decisionPage))
	m.HandleFunc("GET /decisions/{id}/bundle", h.authed(h.decisionBundle))
	m.HandleFunc("GET /decisions/{id}/receipt", h.authed(h.decisionReceipt))
	m.HandleFunc("GET /tokens", h.authed(h.tokens))
	m.HandleFunc("POST /tokens/{id}/revoke", h.authed(h.revokeToken))
	m.HandleFunc("GET /people", h.authed(h.people))
	m.HandleFunc("POST /people/{id}/disable", h.authed(h.setDisabled(true)))
	m.HandleFunc("POST /people/{id}/enable", h.authed(h.setDisabled(false)))
	m.HandleFunc("GET /webhooks", h.authed(h.webhooks))
	m.HandleFunc("POST /webhooks/{id}/disable", h.authed(h.setWebhookDisabled(true)))
	m.HandleFunc("POST /webhooks/{id}/enable", h.authed(h.setWebhookDisabled(false)))
	m.HandleFunc("GET /submit", h.authed(h.submitForm))
	m.HandleFunc("POST /submit", h.authed(h.submit))
	m.HandleFunc("POST /tokens", h.authed(h.mintToken))
	m.HandleFunc("GET /orgs", h.authed(h.orgs))
	m.HandleFunc("POST /orgs", h.authed(h.createOrg))
	m.HandleFunc("POST /users", h.authed(h.createUser))
	m.HandleFunc("GET /cases/{id}/extend", h.authed(h.extendForm))
	m.HandleFunc("POST /cases/{id}/extend", h.authed(h.extend))
	m.HandleFunc("GET /portfolio", h.authed(h.portfolio))
	m.HandleFunc("/", h.notFound)
	return m
}
