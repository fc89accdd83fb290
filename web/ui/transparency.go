package ui

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
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
	"golang.org/x/mod/sumdb/note"
)

type checkpointView struct {
	Origin string
	Size   uint64
	Root   string // hex
	Raw    string
	// Witnesses is how many witnesses the server is configured with;
	// Cosigners names those whose cosignatures on this checkpoint verify.
	Witnesses int
	Cosigners []string
}

// cosigners names the configured witnesses whose cosignatures on raw
// verify; nil when none are configured or raw does not verify.
func (h *Handler) cosigners(raw []byte, logKey string) []string {
	if len(h.witnesses) == 0 {
		return nil
	}
	p := tlog.WitnessPolicy{}
	for _, w := range h.witnesses {
		p.Keys = append(p.Keys, w.Key)
	}
	c, err := tlog.VerifyCosigned(raw, logKey, p)
	if err != nil {
		return nil
	}
	return c.Witnesses
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
	return &checkpointView{Origin: cp.Origin, Size: cp.Size, Root: hex.EncodeToString(cp.Hash), Raw: string(cp.Raw),
		Witnesses: len(h.witnesses), Cosigners: h.cosigners(raw, key)}, ""
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
	p.LogURL = h.absURL(r, p.LogURL)
	h.render(w, r, http.StatusOK, "verify", p)
}

// absURL makes a path on this host a full URL, as the reader reached the
// host, for commands and documents used elsewhere; anything else is
// returned as is.
func (h *Handler) absURL(r *http.Request, path string) string {
	if !strings.HasPrefix(path, "/") || r.Host == "" {
		return path
	}
	scheme := "http"
	if r.TLS != nil || h.secure {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
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

// PinningNotice is what the public pages and /.well-known/clearance.json
// say about keys: a verifier pins them out of band.
const PinningNotice = "Keys must be pinned out of band: get the decision and log keys from the review office through a channel " +
	"other than this server (its website, a signed announcement, a letter) and verify with those. A verifier must not trust keys " +
	"served by the server it is checking: a server that lies would serve its own keys, and everything it serves would verify under them."

// decisionIDRE matches a decision id (review's newID("dec", …)).
var decisionIDRE = regexp.MustCompile(`^dec_[0-9a-f]{1,64}$`)

// publicBundleFile is the name a decision's bundle is downloaded as from
// the public page; the receipt's is tlog.ReceiptPath of it, where
// clearance verify --bundle looks for it by default.
func publicBundleFile(id string) string { return id + ".bundle.json" }

// publicDecisionView is the public page of one logged decision.
type publicDecisionView struct {
	base
	Decision     review.PublicDecision
	Outcomes     []outcomeRow
	PageURL      string // this page, as a full URL
	BundleURL    string // full URLs of the downloads
	ReceiptURL   string
	BundleFile   string // names to save the downloads as
	ReceiptFile  string
	BundleSHA256 string // hex
	HasReceipt   bool
	// Witnesses is how many witnesses the server has; Cosigners those
	// whose cosignatures on the receipt's checkpoint verify.
	Witnesses     int
	Cosigners     []string
	Origin        string // the log's origin, "" when unknown
	LogURL        string // full URL
	WellKnownURL  string
	HasDeciderKey bool
	// Signers are the names of the agencies whose published keys
	// (Config.AgencyKeys) the bundle's signatures name by key id, the
	// lead's first; OtherSigners the key ids of signatures by keys not
	// published here. Neither is verified: the page names, the verifier
	// checks.
	Signers      []string
	OtherSigners []string
	FetchCmd     string
	VerifyCmd    string
	LiveCmd      string
	FromCmd      string
	Pinning      string
}

// lookupPublic returns the logged decision named by the request's
// {decision}, or writes a 404 page: one page for an id that is not a
// decision, an unknown decision and one not logged yet, so that the
// public learns nothing about decisions before they are published.
func (h *Handler) lookupPublic(w http.ResponseWriter, r *http.Request) (review.PublicDecision, bool) {
	id := r.PathValue("decision")
	if !decisionIDRE.MatchString(id) {
		h.notFound(w, r)
		return review.PublicDecision{}, false
	}
	d, err := h.publicDecisionByID(r.Context(), id)
	if errors.Is(err, review.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "No logged decision",
			"There is no decision "+id+" in the transparency log. A decision appears here, with its receipt, once it has been "+
				"appended to the log, normally moments after it is issued: if it was issued just now it has no receipt yet, "+
				"so try again shortly. Until then there is nothing here to verify.")
		return review.PublicDecision{}, false
	}
	if err != nil {
		h.internalError(w, r, err)
		return review.PublicDecision{}, false
	}
	return d, true
}

// publicDecisionPage serves /transparency/{decision}: a logged decision's
// public summary, links to its exact bundle and receipt, and the commands
// that verify them. No sign-in, nothing confidential: what
// review.PublicDecision holds.
func (h *Handler) publicDecisionPage(w http.ResponseWriter, r *http.Request) {
	d, ok := h.lookupPublic(w, r)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	sum := sha256.Sum256(d.Bundle)
	path := "/transparency/" + d.ID
	p := &publicDecisionView{base: base{Title: "Decision on " + d.ModelName, Nav: "transparency"}, Decision: d,
		Outcomes: outcomeRows(d.Outcomes), PageURL: h.absURL(r, path),
		BundleURL: h.absURL(r, path+"/bundle.json"), ReceiptURL: h.absURL(r, path+"/receipt.json"),
		BundleFile: publicBundleFile(d.ID), ReceiptFile: tlog.ReceiptPath(publicBundleFile(d.ID)),
		BundleSHA256: hex.EncodeToString(sum[:]), HasReceipt: len(d.Receipt) > 0,
		LogURL: h.absURL(r, h.logURL), WellKnownURL: h.absURL(r, "/.well-known/clearance.json"),
		HasDeciderKey: len(h.deciderKey) > 0, Pinning: PinningNotice}
	if u, err := h.currentUser(r); err == nil {
		p.setUser(u)
	}
	if cp, _ := h.checkpoint(r); cp != nil {
		p.Origin = cp.Origin
	}
	p.Signers, p.OtherSigners = h.bundleSigners(r.Context(), d.Bundle)
	p.Witnesses = len(h.witnesses)
	if rc, err := tlog.ParseReceipt(d.Receipt); err == nil && p.Witnesses > 0 {
		if key, err := tlog.ReadVerifierKey(filepath.Join(h.logDir, tlog.VerifierKeyFile)); err == nil {
			p.Cosigners = h.cosigners([]byte(rc.Checkpoint), key)
		}
	}
	p.FetchCmd = "curl -fsSL -o " + p.BundleFile + " " + p.BundleURL + "\n" +
		"curl -fsSL -o " + p.ReceiptFile + " " + p.ReceiptURL
	p.VerifyCmd = "clearance verify --bundle " + p.BundleFile + " --key decider.pub --log-key log.pub"
	p.LiveCmd = p.VerifyCmd + " --log " + p.LogURL
	p.FromCmd = "clearance verify --from " + p.PageURL
	h.render(w, r, http.StatusOK, "public_decision", p)
}

// publicDecisionFile serves a logged decision's exact bundle
// (/transparency/{decision}/bundle.json, or …/ID.bundle.json) and receipt
// (…/receipt.json, or …/ID.bundle.json.receipt.json): the bytes that were
// signed and logged, and the receipt recorded when they were, never
// re-encoded.
func (h *Handler) publicDecisionFile(w http.ResponseWriter, r *http.Request) {
	d, ok := h.lookupPublic(w, r)
	if !ok {
		return
	}
	bundle := publicBundleFile(d.ID)
	switch r.PathValue("file") {
	case "bundle.json", bundle:
		if len(d.Bundle) == 0 {
			h.errorPage(w, r, http.StatusNotFound, "No bundle", "This decision has no signed bundle.")
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		download(w, bundle, d.Bundle)
	case "receipt.json", tlog.ReceiptPath(bundle):
		if len(d.Receipt) == 0 {
			h.errorPage(w, r, http.StatusNotFound, "No receipt",
				"No inclusion receipt was recorded for this decision. Fetch one from the log with clearance log proof (see How to verify).")
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		download(w, tlog.ReceiptPath(bundle), d.Receipt)
	default:
		h.notFound(w, r)
	}
}

// wellKnownDoc is /.well-known/clearance.json.
type wellKnownDoc struct {
	// Pinning says that these keys are to be pinned out of band.
	Pinning string `json:"pinning"`
	// DecisionKeys are the keys decisions are signed with.
	DecisionKeys []wellKnownKey `json:"decisionKeys"`
	// Log is the transparency log; null when none is configured.
	Log *wellKnownLog `json:"log"`
	// AgencyKeys are the decision keys of the agencies that co-sign the
	// decisions of joint reviews, each with its organisation; absent
	// when the server has none.
	AgencyKeys []wellKnownAgencyKey `json:"agencyKeys,omitempty"`
	// Witnesses cosign the log's checkpoints; empty when none are
	// configured.
	Witnesses []wellKnownWitness `json:"witnesses"`
	// Transparency is the public page; a decision's is Transparency/ID.
	Transparency string `json:"transparency"`
}

type wellKnownKey struct {
	PEM string `json:"pem"`
	// Hint is attest.KeyHint: what a bundle's
	// verificationMaterial.publicKey.hint says for this key.
	Hint string `json:"hint"`
}

// wellKnownAgencyKey is one agency's decision key.
type wellKnownAgencyKey struct {
	Org  string `json:"org"`  // organisation id
	Name string `json:"name"` // organisation name
	PEM  string `json:"pem"`
	Hint string `json:"hint"` // attest.KeyHint: the keyid of its DSSE signatures
}

type wellKnownLog struct {
	Origin     string `json:"origin"`
	Key        string `json:"key"` // C2SP signed-note verifier key
	URL        string `json:"url"` // C2SP tlog-tiles
	Checkpoint string `json:"checkpoint"`
}

type wellKnownWitness struct {
	Name string `json:"name"`
	Key  string `json:"key"` // C2SP signed-note verifier key
}

// wellKnown serves /.well-known/clearance.json: the keys and log a
// verifier needs, for comparison with the keys it pinned out of band.
func (h *Handler) wellKnown(w http.ResponseWriter, r *http.Request) {
	doc := wellKnownDoc{Pinning: PinningNotice, DecisionKeys: h.decisionKeys(r),
		Witnesses: []wellKnownWitness{}, Transparency: h.absURL(r, "/transparency")}
	for _, w := range h.witnesses {
		name := w.Name
		if v, err := note.NewVerifier(strings.TrimSpace(w.Key)); err == nil && name == "" {
			name = v.Name()
		}
		doc.Witnesses = append(doc.Witnesses, wellKnownWitness{Name: name, Key: strings.TrimSpace(w.Key)})
	}
	if h.agencyKeys != nil {
		keys, err := h.agencyKeys(r.Context())
		if err != nil {
			h.internalError(w, r, err)
			return
		}
		for _, k := range keys {
			b, err := attest.MarshalPublicKey(k.Key)
			if err != nil {
				h.log.ErrorContext(r.Context(), "agency key", slog.String("org", k.OrgID), slog.Any("err", err))
				continue
			}
			doc.AgencyKeys = append(doc.AgencyKeys, wellKnownAgencyKey{Org: k.OrgID, Name: k.Org, PEM: string(b), Hint: attest.KeyHint(k.Key)})
		}
	}
	if h.logDir != "" {
		vkey, err := tlog.ReadVerifierKey(filepath.Join(h.logDir, tlog.VerifierKeyFile))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			h.internalError(w, r, err)
			return
		default:
			v, err := note.NewVerifier(vkey)
			if err != nil { // ReadVerifierKey parsed it
				h.internalError(w, r, err)
				return
			}
			u := h.absURL(r, h.logURL)
			doc.Log = &wellKnownLog{Origin: v.Name(), Key: vkey, URL: u, Checkpoint: strings.TrimSuffix(u, "/") + "/checkpoint"}
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(append(b, '\n'))
}

// decisionKeys returns each PEM public key in Config.DeciderKey with its
// hint; a block that is not an ECDSA P-256 public key is logged and left
// out.
func (h *Handler) decisionKeys(r *http.Request) []wellKnownKey {
	out := []wellKnownKey{}
	for rest := h.deciderKey; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return out
		}
		b := pem.EncodeToMemory(block)
		pub, err := attest.ParsePublicKey(b)
		if err != nil {
			h.log.ErrorContext(r.Context(), "decider key", slog.Any("err", err))
			continue
		}
		out = append(out, wellKnownKey{PEM: string(b), Hint: attest.KeyHint(pub)})
	}
}

// AgencyKey is the decision key of one agency organisation
// (Config.AgencyKeys).
type AgencyKey struct {
	OrgID string
	Org   string // the organisation's name
	Key   *ecdsa.PublicKey
}

// bundleSigners names the signers of a decision bundle by the key ids of
// its DSSE signatures (a lone signature without one: the bundle's key
// hint), matched against Config.AgencyKeys: the names of the agencies,
// in the bundle's order, and the key ids matching none. It verifies
// nothing; an unreadable bundle or key list names no one.
func (h *Handler) bundleSigners(ctx context.Context, bundle []byte) (names, others []string) {
	if h.agencyKeys == nil || len(bundle) == 0 {
		return nil, nil
	}
	b, err := attest.ParseBundle(bundle)
	if err != nil {
		return nil, nil
	}
	keys, err := h.agencyKeys(ctx)
	if err != nil {
		h.log.ErrorContext(ctx, "agency keys", slog.Any("err", err))
		return nil, nil
	}
	byHint := make(map[string]string, len(keys))
	for _, k := range keys {
		byHint[attest.KeyHint(k.Key)] = cmp.Or(k.Org, k.OrgID)
	}
	for _, s := range b.GetDsseEnvelope().GetSignatures() {
		id := s.GetKeyid()
		if id == "" {
			id = b.GetVerificationMaterial().GetPublicKey().GetHint()
		}
		if name, ok := byHint[id]; ok {
			names = append(names, name)
		} else {
			others = append(others, id)
		}
	}
	return names, others
}

// modelIndex is /transparency/models/{digest}: the logged decisions about
// one set of weights, newest first, for `clearance verify --from SITE
// --digest D` to find the one to verify.
type modelIndex struct {
	Model     string           `json:"model"`
	Decisions []modelIndexItem `json:"decisions"`
}

type modelIndexItem struct {
	ID        string `json:"id"`
	CreatedAt string `json:"createdAt"`
	LogIndex  int64  `json:"logIndex"`
	Page      string `json:"page"`
}

// maxModelDecisions bounds /transparency/models/{digest}.
const maxModelDecisions = 100

func (h *Handler) publicModel(w http.ResponseWriter, r *http.Request) {
	digest := strings.TrimSuffix(r.PathValue("digest"), ".json")
	ds, err := h.svc.PublicDecisionsForModel(r.Context(), digest, maxModelDecisions)
	if errors.Is(err, review.ErrInvalidInput) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		b, _ := json.Marshal(map[string]string{"error": err.Error()})
		_, _ = w.Write(append(b, '\n'))
		return
	}
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	out := modelIndex{Model: digest, Decisions: []modelIndexItem{}}
	for _, d := range ds {
		out.Decisions = append(out.Decisions, modelIndexItem{ID: d.ID, CreatedAt: d.CreatedAt.UTC().Format(time.RFC3339),
			LogIndex: d.LogIndex, Page: h.absURL(r, "/transparency/"+d.ID)})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(append(b, '\n'))
}
