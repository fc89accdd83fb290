// Package witness runs a transparency-log witness speaking the C2SP
// tlog-witness protocol: a log POSTs each new checkpoint to
// /add-checkpoint with a consistency proof from the last checkpoint the
// witness cosigned, and the witness returns its cosignature (C2SP
// tlog-cosignature, cosignature/v1, Ed25519) only if the new checkpoint is
// signed by the log's key and extends what it cosigned before. A log that
// shows two different histories (a split view) can therefore get
// cosignatures for at most one of them from each honest witness.
//
// The checking and cosigning is the transparency-dev witness
// (github.com/transparency-dev/witness/witness); this package adds the
// witness directory (key, configured logs, durable state) and an HTTP
// handler that explains every refusal.
//
// Layout of a witness directory: witness.key (signer key, mode 0600),
// witness.pub (cosignature/v1 verifier key, public), logs.json (the logs
// it witnesses: origin and checkpoint verifier key) and state/ (the latest
// cosigned checkpoint of each log, one file per log, replaced atomically).
package witness

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	twitness "github.com/transparency-dev/witness/witness"
	"golang.org/x/mod/sumdb/note"
)

// File names inside a witness directory.
const (
	SignerKeyFile   = "witness.key"
	VerifierKeyFile = "witness.pub"
	LogsFile        = "logs.json"
	StateDir        = "state"
)

// ErrExists is returned by Init when the directory already holds a witness
// key, and by AddLog when the origin is already configured.
var ErrExists = errors.New("already exists")

// LogConfig is one log a witness follows.
type LogConfig struct {
	// Origin is the checkpoint's first line.
	Origin string `json:"origin"`
	// Key is the log's C2SP signed-note verifier key.
	Key string `json:"key"`
}

type logsFile struct {
	Logs []LogConfig `json:"logs"`
}

// Init creates a witness in dir (created if needed) named name (the name
// on its cosignatures, e.g. "witness.agency.example"): it generates an
// Ed25519 key, writes the signer key to dir/witness.key (mode 0600) and the
// cosignature/v1 verifier key to dir/witness.pub, and returns the verifier
// key, or an error wrapping ErrExists.
func Init(dir, name string) (string, error) {
	if name == "" || strings.ContainsAny(name, " \t\n+") {
		return "", fmt.Errorf("init witness: name %q must be non-empty, without spaces or '+'", name)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", fmt.Errorf("init witness: %w", err)
	}
	if vkey, err = fnote.VKeyToCosignatureV1(vkey); err != nil {
		return "", fmt.Errorf("init witness: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("init witness: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, SignerKeyFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("init witness in %s: key %w", dir, ErrExists)
	}
	if err != nil {
		return "", fmt.Errorf("init witness: %w", err)
	}
	_, werr := f.WriteString(skey + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", fmt.Errorf("init witness: %w", werr)
	}
	if err := os.WriteFile(filepath.Join(dir, VerifierKeyFile), []byte(vkey+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("init witness: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, LogsFile), []byte("{\"logs\": []}\n"), 0o644); err != nil {
		return "", fmt.Errorf("init witness: %w", err)
	}
	return vkey, nil
}

// AddLog adds a log to the witness in dir: checkpoints with this origin
// must be signed by key (a signed-note verifier key). It returns an error
// wrapping ErrExists if the origin is already configured. A running
// server picks the log up when restarted.
func AddLog(dir, origin, key string) error {
	if origin == "" || strings.ContainsAny(origin, "\n") {
		return fmt.Errorf("add log: origin %q must be one non-empty line", origin)
	}
	key = strings.TrimSpace(key)
	if _, err := note.NewVerifier(key); err != nil {
		return fmt.Errorf("add log %s: key: %w", origin, err)
	}
	logs, err := ReadLogs(dir)
	if err != nil {
		return fmt.Errorf("add log: %w", err)
	}
	for _, l := range logs {
		if l.Origin == origin {
			return fmt.Errorf("add log %s: %w", origin, ErrExists)
		}
	}
	b, _ := json.MarshalIndent(logsFile{Logs: append(logs, LogConfig{Origin: origin, Key: key})}, "", "  ")
	if err := writeFileAtomic(filepath.Join(dir, LogsFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("add log: %w", err)
	}
	return nil
}

// ReadLogs reads the logs configured in dir.
func ReadLogs(dir string) ([]LogConfig, error) {
	b, err := os.ReadFile(filepath.Join(dir, LogsFile))
	if err != nil {
		return nil, fmt.Errorf("read witness logs: %w", err)
	}
	var lf logsFile
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, fmt.Errorf("read witness logs %s: %w", filepath.Join(dir, LogsFile), err)
	}
	return lf.Logs, nil
}

// ReadVerifierKey reads the witness's cosignature/v1 verifier key from dir.
func ReadVerifierKey(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, VerifierKeyFile))
	if err != nil {
		return "", fmt.Errorf("read witness key: %w", err)
	}
	k := strings.TrimSpace(string(b))
	if _, err := fnote.NewVerifierForCosignatureV1(k); err != nil {
		return "", fmt.Errorf("read witness key %s: %w", filepath.Join(dir, VerifierKeyFile), err)
	}
	return k, nil
}

// Server is an open witness directory serving add-checkpoint.
type Server struct {
	name  string
	vkey  string
	logs  map[string]note.Verifier
	state *fileState
	w     *twitness.Witness
	log   *slog.Logger
}

// Open opens the witness in dir, created by Init. logger may be nil.
func Open(ctx context.Context, dir string, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	skey, err := os.ReadFile(filepath.Join(dir, SignerKeyFile))
	if err != nil {
		return nil, fmt.Errorf("open witness: %w", err)
	}
	signer, err := fnote.NewSignerForCosignatureV1(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, fmt.Errorf("open witness %s: signer key: %w", dir, err)
	}
	vkey, err := ReadVerifierKey(dir)
	if err != nil {
		return nil, fmt.Errorf("open witness: %w", err)
	}
	if v, _ := fnote.NewVerifierForCosignatureV1(vkey); v.Name() != signer.Name() || v.KeyHash() != signer.KeyHash() {
		return nil, fmt.Errorf("open witness %s: %s does not match %s", dir, VerifierKeyFile, SignerKeyFile)
	}
	cfg, err := ReadLogs(dir)
	if err != nil {
		return nil, fmt.Errorf("open witness: %w", err)
	}
	logs := make(map[string]note.Verifier, len(cfg))
	for _, l := range cfg {
		v, err := note.NewVerifier(l.Key)
		if err != nil {
			return nil, fmt.Errorf("open witness: log %s: key: %w", l.Origin, err)
		}
		logs[l.Origin] = v
	}
	s := &Server{
		name:  signer.Name(),
		vkey:  vkey,
		logs:  logs,
		state: &fileState{dir: filepath.Join(dir, StateDir)},
		log:   logger,
	}
	s.w, err = twitness.New(ctx, twitness.Opts{
		Persistence: s.state,
		Signers:     []note.Signer{signer},
		VerifierForLog: func(_ context.Context, origin string) (note.Verifier, bool, error) {
			v, ok := s.logs[origin]
			return v, ok, nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("open witness: %w", err)
	}
	return s, nil
}

// Name returns the witness's name (the key name on its cosignatures).
func (s *Server) Name() string { return s.name }

// VerifierKey returns the witness's cosignature/v1 verifier key.
func (s *Server) VerifierKey() string { return s.vkey }

// Latest returns the latest checkpoint the witness cosigned for origin
// (with its cosignature), or nil if none.
func (s *Server) Latest(ctx context.Context, origin string) ([]byte, error) {
	return s.state.Latest(ctx, origin)
}

// ServeHTTP serves POST /add-checkpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/add-checkpoint" {
		http.Error(w, "not found: the witness serves POST /add-checkpoint", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "add-checkpoint: method must be POST", http.StatusMethodNotAllowed)
		return
	}
	code, ctype, body := s.addCheckpoint(r)
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// addCheckpoint handles one add-checkpoint request and returns the status,
// content type and body of the response.
func (s *Server) addCheckpoint(r *http.Request) (int, string, string) {
	const text = "text/plain; charset=utf-8"
	ctx := r.Context()
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestSize+1))
	if err != nil {
		return http.StatusBadRequest, text, fmt.Sprintf("add-checkpoint: read body: %v\n", err)
	}
	if len(body) > MaxRequestSize {
		return http.StatusRequestEntityTooLarge, text, fmt.Sprintf("add-checkpoint: body over %d bytes\n", MaxRequestSize)
	}
	req, err := ParseRequest(body)
	if err != nil {
		return http.StatusBadRequest, text, fmt.Sprintf("add-checkpoint: %v\n", err)
	}
	origin, _, _ := strings.Cut(string(req.Checkpoint), "\n")
	v, ok := s.logs[origin]
	if !ok {
		return http.StatusNotFound, text, fmt.Sprintf("add-checkpoint: unknown log origin %q\n", origin)
	}
	n, err := note.Open(req.Checkpoint, note.VerifierList(v))
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &unverified):
		return http.StatusForbidden, text, fmt.Sprintf("add-checkpoint: checkpoint is not signed by the key of log %q\n", origin)
	case err != nil:
		return http.StatusBadRequest, text, fmt.Sprintf("add-checkpoint: checkpoint: %v\n", err)
	}
	var cp log.Checkpoint
	if _, err := cp.Unmarshal([]byte(n.Text)); err != nil {
		return http.StatusBadRequest, text, fmt.Sprintf("add-checkpoint: checkpoint: %v\n", err)
	}
	if req.OldSize > cp.Size {
		return http.StatusBadRequest, text, fmt.Sprintf("add-checkpoint: old size %d is larger than the checkpoint's size %d\n", req.OldSize, cp.Size)
	}
	if req.OldSize == 0 && len(req.Proof) > 0 {
		return http.StatusUnprocessableEntity, text, "add-checkpoint: the consistency proof must be empty when the old size is 0\n"
	}
	// The transparency-dev witness trusts the first checkpoint of a log
	// whatever old size it is sent with; the spec wants 409 with size 0.
	prev, err := s.state.Latest(ctx, origin)
	if err != nil {
		s.log.ErrorContext(ctx, "witness state", "origin", origin, "err", err)
		return http.StatusInternalServerError, text, "add-checkpoint: witness state unavailable\n"
	}
	if prev == nil && req.OldSize != 0 {
		return http.StatusConflict, "text/x.tlog.size", "0\n"
	}
	sigs, size, err := s.w.Update(ctx, req.OldSize, req.Checkpoint, req.Proof)
	switch {
	case err == nil:
		s.log.InfoContext(ctx, "cosigned checkpoint", "origin", origin, "size", cp.Size)
		return http.StatusOK, text, string(sigs)
	case errors.Is(err, twitness.ErrCheckpointStale):
		return http.StatusConflict, "text/x.tlog.size", fmt.Sprintf("%d\n", size)
	case errors.Is(err, twitness.ErrInvalidProof):
		s.log.WarnContext(ctx, "refused checkpoint: consistency proof does not verify (possible split view)",
			"origin", origin, "old_size", req.OldSize, "size", cp.Size)
		return http.StatusUnprocessableEntity, text, fmt.Sprintf("add-checkpoint: consistency proof from size %d to %d does not verify against the checkpoint this witness cosigned\n", req.OldSize, cp.Size)
	case errors.Is(err, twitness.ErrRootMismatch) && cp.Size == 0:
		return http.StatusUnprocessableEntity, text, "add-checkpoint: a checkpoint of size 0 must have the empty tree's root hash\n"
	case errors.Is(err, twitness.ErrRootMismatch):
		s.log.WarnContext(ctx, "refused checkpoint: root hash differs from the cosigned checkpoint of the same size (split view)",
			"origin", origin, "size", cp.Size)
		return http.StatusConflict, text, fmt.Sprintf("add-checkpoint: root hash differs from the checkpoint of size %d this witness cosigned\n", cp.Size)
	case errors.Is(err, twitness.ErrOldSizeInvalid):
		return http.StatusBadRequest, text, fmt.Sprintf("add-checkpoint: old size %d is invalid for checkpoint size %d\n", req.OldSize, cp.Size)
	case errors.Is(err, twitness.ErrUnknownLog):
		return http.StatusNotFound, text, fmt.Sprintf("add-checkpoint: unknown log origin %q\n", origin)
	case errors.Is(err, twitness.ErrNoValidSignature):
		return http.StatusForbidden, text, fmt.Sprintf("add-checkpoint: checkpoint is not signed by the key of log %q\n", origin)
	default:
		s.log.ErrorContext(ctx, "witness update", "origin", origin, "err", err)
		return http.StatusInternalServerError, text, "add-checkpoint: internal error\n"
	}
}
