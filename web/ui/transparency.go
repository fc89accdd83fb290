package ui

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/tlog"
)

type checkpointView struct {
	Origin string
	Size   uint64
	Root   string // hex
	Raw    string
}

type publicRow struct {
	review.PublicDecision
	Outcomes []outcomeRow
}

type transparencyPage struct {
	base
	Log           *checkpointView
	LogErr        string
	LogURL        string
	HasDeciderKey bool
	Decisions     []publicRow
	Next          string
	Paged         bool
}

// publicPerPage is how many decisions the public page lists at a time.
const publicPerPage = 100

// transparency is the public page: no sign-in, nothing confidential. It
// shows the log's latest checkpoint, verified with the log's key, and the
// logged decisions.
func (h *Handler) transparency(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	p := &transparencyPage{base: base{Title: "Transparency log", Nav: "transparency"}, LogURL: h.logURL,
		HasDeciderKey: len(h.deciderKey) > 0}
	if u, err := h.currentUser(r); err == nil {
		p.setUser(u)
	}
	p.Log, p.LogErr = h.checkpoint(r)
	after := r.URL.Query().Get("after")
	p.Paged = after != ""
	ds, err := h.publicDecisions(r.Context(), review.Page{After: after, Limit: publicPerPage})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	for _, d := range ds {
		p.Decisions = append(p.Decisions, publicRow{PublicDecision: d, Outcomes: outcomeRows(d.Outcomes)})
	}
	if len(ds) == publicPerPage {
		// The whole path: html/template escapes a query string
		// interpolated after a "?" into one broken key.
		p.Next = "/transparency?" + url.Values{"after": {ds[len(ds)-1].ID}}.Encode()
	}
	h.render(w, r, http.StatusOK, "transparency", p)
}

// checkpoint reads and verifies the log's latest checkpoint. It returns
// a message for the page instead when there is no log or it does not
// verify (the detail is logged).
func (h *Handler) checkpoint(r *http.Request) (*checkpointView, string) {
	if h.logDir == "" {
		return nil, "No transparency log is configured on this server."
	}
	key, err := tlog.ReadVerifierKey(filepath.Join(h.logDir, "log.pub"))
	if err != nil {
		h.log.ErrorContext(r.Context(), "read log key", slog.Any("err", err))
		return nil, "The log's verifier key could not be read."
	}
	raw, err := os.ReadFile(filepath.Join(h.logDir, "checkpoint"))
	if err != nil {
		h.log.ErrorContext(r.Context(), "read checkpoint", slog.Any("err", err))
		return nil, "The log's checkpoint could not be read."
	}
	cp, err := tlog.ParseCheckpoint(raw, key)
	if err != nil {
		h.log.ErrorContext(r.Context(), "verify checkpoint", slog.Any("err", err))
		return nil, "The log's checkpoint does NOT verify with the log's key. Do not rely on this log until this is explained."
	}
	return &checkpointView{Origin: cp.Origin, Size: cp.Size, Root: hex.EncodeToString(cp.Hash), Raw: string(cp.Raw)}, ""
}

// verifyPage is the public guide to verifying a decision.
type verifyPage struct {
	base
	LogURL        string
	HasDeciderKey bool
	Origin        string // the log's origin, "" when unknown
}

// verifyGuide is the public "how to verify" page: what a decision's
// files are, where the keys are, and the clearance verify commands that
// check them offline.
func (h *Handler) verifyGuide(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	p := &verifyPage{base: base{Title: "How to verify a decision", Nav: "transparency"}, LogURL: h.logURL,
		HasDeciderKey: len(h.deciderKey) > 0}
	if u, err := h.currentUser(r); err == nil {
		p.setUser(u)
	}
	if cp, _ := h.checkpoint(r); cp != nil {
		p.Origin = cp.Origin
	}
	// The commands run elsewhere: a log served on this host is named by
	// its full URL, as the reader reached the host.
	if strings.HasPrefix(p.LogURL, "/") && r.Host != "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		p.LogURL = scheme + "://" + r.Host + p.LogURL
	}
	h.render(w, r, http.StatusOK, "verify", p)
}

func (h *Handler) logKey(w http.ResponseWriter, r *http.Request) {
	if h.logDir == "" {
		h.notFound(w, r)
		return
	}
	b, err := os.ReadFile(filepath.Join(h.logDir, "log.pub"))
	if errors.Is(err, fs.ErrNotExist) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	download(w, "log.pub", b)
}

func (h *Handler) deciderPub(w http.ResponseWriter, r *http.Request) {
	if len(h.deciderKey) == 0 {
		h.notFound(w, r)
		return
	}
	download(w, "decider.pub", h.deciderKey)
}

func (h *Handler) trustedRoot(w http.ResponseWriter, _ *http.Request) {
	download(w, "trusted_root.json", []byte(attest.CosignTrustedRoot))
}

var publicFileRE = regexp.MustCompile(`^([a-z]+_[0-9a-f]{1,64})\.json$`)

// publicJSON is a published decision as downloaded from the public page:
// the signed bundle and where it is in the log, nothing confidential.
type publicJSON struct {
	ID        string          `json:"id"`
	Model     publicModel     `json:"model"`
	Outcomes  json.RawMessage `json:"outcomes"`
	Deemed    bool            `json:"deemed"`
	LogIndex  int64           `json:"log_index"`
	CreatedAt string          `json:"created_at"`
	// Bundle is the Sigstore bundle itself when it is JSON.
	Bundle json.RawMessage `json:"bundle,omitempty"`
	// BundleBytes carries a bundle that is not JSON.
	BundleBytes []byte `json:"bundle_bytes,omitempty"`
}

type publicModel struct {
	Digest string `json:"digest"`
	Name   string `json:"name"`
}

// publicDecision serves /transparency/decisions/{id}.json: a logged
// decision's public part and its bundle.
func (h *Handler) publicDecision(w http.ResponseWriter, r *http.Request) {
	m := publicFileRE.FindStringSubmatch(r.PathValue("file"))
	if m == nil {
		h.notFound(w, r)
		return
	}
	d, err := h.publicDecisionByID(r.Context(), m[1])
	if errors.Is(err, review.ErrNotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	out := publicJSON{ID: d.ID, Model: publicModel{Digest: d.ModelDigest, Name: d.ModelName},
		Outcomes: compactJSON(d.Outcomes), Deemed: d.Deemed, LogIndex: d.LogIndex,
		CreatedAt: d.CreatedAt.UTC().Format(time.RFC3339)}
	if out.Bundle = compactJSON(d.Bundle); out.Bundle == nil {
		out.BundleBytes = d.Bundle
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	download(w, d.ID+".json", append(b, '\n'))
}
