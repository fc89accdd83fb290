package tlog

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"
)

// Cache-Control values, following the tlog-tiles guidance: the checkpoint
// changes with every publication; full tiles and entry bundles never
// change; partial ones are replaced as the log grows and may be garbage
// collected, so they are cached briefly.
const (
	cacheCheckpoint = "no-cache"
	cacheImmutable  = "public, max-age=31536000, immutable"
	cachePartial    = "public, max-age=60"
)

// Handler serves a log directory read-only over HTTP: GET and HEAD of
// /checkpoint and /tile/… (hash tiles and entry bundles) only (never the key files or
// Tessera's state), confined to the directory with os.Root so that no path
// or symbolic link leads out of it. It is safe for concurrent use.
type Handler struct {
	root *os.Root
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a Handler serving the log in dir. Close it when done.
func NewHandler(dir string) (*Handler, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Handler{root: r}, nil
}

// Close releases the directory.
func (h *Handler) Close() error { return h.root.Close() }

// ServeHTTP implements http.Handler. The handler may be mounted under a
// prefix with http.StripPrefix.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	var cache, ctype string
	switch {
	case p == "checkpoint":
		cache, ctype = cacheCheckpoint, "text/plain; charset=utf-8"
	case strings.HasPrefix(p, "tile/"): // hash tiles and tile/entries/ bundles
		ctype = "application/octet-stream"
		cache = cacheImmutable
		if strings.Contains(p, ".p/") {
			cache = cachePartial
		}
	default:
		http.NotFound(w, r)
		return
	}
	if !fs.ValidPath(p) {
		http.NotFound(w, r)
		return
	}
	f, err := h.root.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "not available", http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", cache)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	http.ServeContent(w, r, "", modTime(p, st.ModTime()), f)
}

// modTime hides the checkpoint's modification time from conditional
// requests: it is rewritten in place, and clients must always revalidate
// it by content, not date.
func modTime(p string, t time.Time) time.Time {
	if p == "checkpoint" {
		return time.Time{}
	}
	return t
}
