package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// maxFormBytes bounds a form body; the largest field (a finding's
// description) is limited by the service to 64 KiB.
const maxFormBytes = 256 << 10

// session is what the session cookie seals: the secret of the session's
// own token (a child of the API token signed in with, revoked at sign-out),
// the session's CSRF token and when the session ends.
type session struct {
	Token   string `json:"t"`
	CSRF    string `json:"c"`
	Expires int64  `json:"e"` // Unix seconds
}

// user is the signed-in actor with the session's CSRF token, handed to
// authenticated handlers.
type user struct {
	review.Actor
	CSRF string
}

func (h *Handler) sessionCookieName() string {
	if h.secure {
		return "__Host-clearance_session"
	}
	return "clearance_session"
}

func (h *Handler) loginCookieName() string {
	if h.secure {
		return "__Host-clearance_login"
	}
	return "clearance_login"
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// seal encrypts s under the session key, bound to the cookie name.
func (h *Handler) seal(s session) (string, error) {
	pt, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, h.aead.NonceSize(), h.aead.NonceSize()+len(pt)+h.aead.Overhead())
	_, _ = rand.Read(nonce)
	ct := h.aead.Seal(nonce, nonce, pt, []byte(h.sessionCookieName()))
	return base64.RawURLEncoding.EncodeToString(ct), nil
}

var errBadSession = errors.New("bad session cookie")

// open decrypts and checks a session cookie value: it must decrypt under
// the key, parse, and not have expired.
func (h *Handler) open(v string) (session, error) {
	ct, err := base64.RawURLEncoding.Strict().DecodeString(v)
	if err != nil || len(ct) < h.aead.NonceSize()+h.aead.Overhead() {
		return session{}, errBadSession
	}
	n := h.aead.NonceSize()
	pt, err := h.aead.Open(nil, ct[:n], ct[n:], []byte(h.sessionCookieName()))
	if err != nil {
		return session{}, errBadSession
	}
	var s session
	if err := json.Unmarshal(pt, &s); err != nil || s.Token == "" || s.CSRF == "" {
		return session{}, errBadSession
	}
	if !h.now().Before(time.Unix(s.Expires, 0)) {
		return session{}, errBadSession
	}
	return s, nil
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode})
}

// authed wraps a handler that needs a signed-in user. Without a valid
// session, or when the service no longer accepts its token, a GET is sent
// to the sign-in page (with where it was going) and anything else gets 401.
func (h *Handler) authed(next func(http.ResponseWriter, *http.Request, user)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		u, err := h.currentUser(r)
		if err != nil {
			if !errors.Is(err, errBadSession) && !errors.Is(err, review.ErrUnauthenticated) {
				h.internalError(w, r, err)
				return
			}
			h.setCookie(w, h.sessionCookieName(), "", -1)
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.errorPage(w, r, http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again and retry.")
			return
		}
		if r.Method == http.MethodPost {
			if err := parsePost(w, r); err != nil {
				h.errorPage(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
				return
			}
			if !sameToken(r.PostForm.Get("csrf"), u.CSRF) {
				h.errorPage(w, r, http.StatusForbidden, "Form expired",
					"This form did not carry a valid security token (it may be from an old page). Reload the page and try again.")
				return
			}
		}
		next(w, r, u)
	}
}

// parsePost reads a POST body: a URL-encoded form of up to maxFormBytes,
// or a multipart form (the submission form's file upload) of up to
// maxUploadBytes, held in memory.
func parsePost(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		// Only the submission form uploads a file (a dossier of up to
		// about 2 MiB); every other form keeps the small limit.
		limit := int64(maxFormBytes)
		if r.URL.Path == "/submit" {
			limit = maxUploadBytes
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		return r.ParseMultipartForm(limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	return r.ParseForm()
}

func (h *Handler) currentUser(r *http.Request) (user, error) {
	c, err := r.Cookie(h.sessionCookieName())
	if err != nil {
		return user{}, errBadSession
	}
	s, err := h.open(c.Value)
	if err != nil {
		return user{}, err
	}
	a, err := h.svc.Authenticate(r.Context(), s.Token)
	if err != nil {
		return user{}, err
	}
	return user{Actor: a, CSRF: s.CSRF}, nil
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

type loginPage struct {
	base
	Next  string
	Token string // never echoed: always empty
	Err   string
}

// loginForm shows the sign-in form and sets the double-submit cookie its
// POST must echo.
func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, err := h.currentUser(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, safeNext(r.URL.Query().Get("next")), "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	tok := randomToken()
	h.setCookie(w, h.loginCookieName(), tok, 3600)
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, "login", &loginPage{base: base{Title: "Sign in", CSRF: tok}, Next: next, Err: msg})
}

// login checks the double-submit token, authenticates the API token and
// starts a session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	c, err := r.Cookie(h.loginCookieName())
	if err != nil || !sameToken(r.PostForm.Get("csrf"), c.Value) {
		h.errorPage(w, r, http.StatusForbidden, "Form expired",
			"The sign-in form did not carry a valid security token. Open the sign-in page again and retry.")
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	token := strings.TrimSpace(r.PostForm.Get("token"))
	if token == "" {
		h.renderLogin(w, r, http.StatusUnprocessableEntity, next, "Enter your API token.")
		return
	}
	a, err := h.svc.Authenticate(r.Context(), token)
	if errors.Is(err, review.ErrUnauthenticated) {
		h.log.InfoContext(r.Context(), "sign-in refused", "err", err)
		h.renderLogin(w, r, http.StatusUnprocessableEntity, next, "This token is not valid: it is unknown, revoked or expired, or its user is disabled.")
		return
	}
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	// The cookie holds a token of its own, minted from the one signed in
	// with and revoked at sign-out, never the API token itself.
	st, child, err := h.svc.StartSession(r.Context(), a, h.ttl)
	if errors.Is(err, review.ErrUnauthenticated) {
		h.renderLogin(w, r, http.StatusUnprocessableEntity, next, "This token is not valid: it is unknown, revoked or expired, or its user is disabled.")
		return
	}
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	v, err := h.seal(session{Token: child, CSRF: randomToken(), Expires: st.ExpiresAt.Unix()})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	h.setCookie(w, h.sessionCookieName(), v, int(h.ttl/time.Second))
	h.setCookie(w, h.loginCookieName(), "", -1)
	h.log.InfoContext(r.Context(), "signed in", "user", a.User.ID)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session: it revokes the session's token on the server,
// so that a copy of the cookie stops working too, and clears the cookie.
// It needs the session's CSRF token, so that another site cannot sign a
// user out; a request with no valid session just clears the cookie.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	if c, err := r.Cookie(h.sessionCookieName()); err == nil {
		if s, err := h.open(c.Value); err == nil {
			if !sameToken(r.PostForm.Get("csrf"), s.CSRF) {
				h.errorPage(w, r, http.StatusForbidden, "Form expired", "Reload the page and sign out again.")
				return
			}
			if err := h.svc.EndSession(r.Context(), s.Token); err != nil && !errors.Is(err, review.ErrUnauthenticated) {
				h.internalError(w, r, err)
				return
			}
		}
	}
	h.setCookie(w, h.sessionCookieName(), "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-sign-in redirect on this site. It reads next as
// a browser would (the WHATWG URL standard): leading and trailing C0
// controls and spaces are stripped, ASCII tab, LF and CR are removed
// wherever they are, and in a URL with a special scheme (http, https) a
// backslash is a slash. The result must then be a path-absolute URL: no
// scheme, no host, starting with "/" but not with "//" or "/\" (which a
// browser would read as "//host"). It is parsed with net/url, rebuilt
// from its escaped parts and checked again; anything else, or anything
// net/url refuses (such as other control characters), is "/cases".
func safeNext(next string) string {
	const fallback = "/cases"
	next = strings.TrimFunc(next, func(r rune) bool { return r <= 0x20 })
	next = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, next)
	if !pathAbsolute(next) {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return fallback
	}
	out := u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		out += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		out += "#" + u.EscapedFragment()
	}
	if !pathAbsolute(out) || strings.IndexFunc(out, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) >= 0 {
		return fallback
	}
	return out
}

// pathAbsolute reports whether s starts with one slash: "/" then anything
// but a slash or a backslash.
func pathAbsolute(s string) bool {
	return len(s) > 0 && s[0] == '/' && (len(s) == 1 || (s[1] != '/' && s[1] != '\\'))
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request, _ user) {
	http.Redirect(w, r, "/cases", http.StatusSeeOther)
}
