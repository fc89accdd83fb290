package ui

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/review"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// pageNames are the templates under templates/, each rendered inside
// layout.html.
var pageNames = []string{"login", "error", "cases", "case", "samples", "decision", "transparency", "tokens", "people", "webhooks", "trajectory", "triage", "submit", "orgs", "minted", "extend", "portfolio", "verify", "public_decision", "incidents", "campaign"}

type pages map[string]*template.Template

func parsePages() (pages, error) {
	ps := pages{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		ps[name] = t
	}
	return ps, nil
}

// base is what the layout needs; every page's data embeds it.
type base struct {
	Title string
	// User is nil on pages shown signed out.
	User *user
	// CSRF is the token every form on the page carries.
	CSRF string
	// Nav names the current section, for aria-current.
	Nav string
}

func (b *base) setUser(u user) {
	b.User = &u
	b.CSRF = u.CSRF
}

// RoleList returns the signed-in user's roles as text.
func (b *base) RoleList() string {
	if b.User == nil {
		return ""
	}
	rs := make([]string, len(b.User.User.Roles))
	for i, r := range b.User.User.Roles {
		rs[i] = string(r)
	}
	return strings.Join(rs, ", ")
}

// render executes a page into a buffer first, so that a template error
// becomes a clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t := h.pages[name]
	var buf bytes.Buffer
	if t == nil {
		h.internalError(w, r, fmt.Errorf("render: no page %q", name))
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		h.internalError(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct {
	base
	Status  int
	Heading string
	Message string
}

// errorPage renders a plain error page. It never includes an internal
// error's text.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	d := &errorData{base: base{Title: heading}, Status: status, Heading: heading, Message: msg}
	if u, err := h.currentUser(r); err == nil {
		d.setUser(u)
	}
	t := h.pages["error"]
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		h.log.ErrorContext(r.Context(), "render error page", slog.Any("err", err))
		http.Error(w, heading, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "internal error", slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.Any("err", err))
	h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong",
		"The server could not complete this request. The error has been logged.")
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusNotFound, "Not found",
		"There is no such page, or it is not visible to you.")
}

// serviceError renders the page for an error from the review service:
// the one table from its sentinels to pages. ErrNotFound never says
// more than "not found", so another tenant's record reads the same as a
// missing one.
func (h *Handler) serviceError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, review.ErrNotFound):
		h.notFound(w, r)
	case errors.Is(err, review.ErrForbidden):
		h.errorPage(w, r, http.StatusForbidden, "Not allowed", "Your roles do not allow this.")
	case errors.Is(err, review.ErrUnauthenticated):
		h.errorPage(w, r, http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again.")
	case errors.Is(err, review.ErrInvalidTransition), errors.Is(err, review.ErrConflict):
		h.errorPage(w, r, http.StatusConflict, "Not possible now", conflictText(err))
	case errors.Is(err, review.ErrInvalidInput):
		h.errorPage(w, r, http.StatusUnprocessableEntity, "Invalid input", err.Error())
	default:
		h.internalError(w, r, err)
	}
}

// conflictText explains a transition or conflict error without internal
// detail: the service's messages for these name states and roles only.
func conflictText(err error) string {
	switch {
	case errors.Is(err, review.ErrInvalidTransition):
		return "The case is not in a state where your roles allow this: " + err.Error()
	case errors.Is(err, review.ErrConflict):
		return "The case changed or does not accept this now: " + err.Error()
	}
	return err.Error()
}

func (h *Handler) style(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(styleCSS)
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"has": func(list []string, s string) bool { return slices.Contains(list, s) },
	// who names a user id from a page's Names map, falling back to the id.
	"who": func(names map[string]string, id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	},
	"pct": pct,
	// ms is a duration in milliseconds as text.
	"ms": func(v float64) string {
		if v >= 1000 {
			return fmt.Sprintf("%.1f s", v/1000)
		}
		return fmt.Sprintf("%.0f ms", v)
	},
	"label": func(s any) string {
		return strings.ReplaceAll(fmt.Sprint(s), "_", " ")
	},
	// pair hands a sub-template the page beside the item it renders.
	"pair": func(page, item any) pagePair { return pagePair{Page: page, Item: item} },
	"form": func(m map[string]*form, key string) *form {
		if f := m[key]; f != nil {
			return f
		}
		return &form{}
	},
	"short": func(s string) string {
		if len(s) > 19 {
			return s[:19] + "…"
		}
		return s
	},
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

// pagePair is the data of a sub-template that renders Item and needs the
// page (its forms, CSRF token, case) too.
type pagePair struct {
	Page any
	Item any
}
