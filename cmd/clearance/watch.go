package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/trust"
)

// exitLogWitness is clearance log watch's exit code for a checkpoint
// without the cosignatures the trust entry's witness policy requires
// (beside log verify's 20–23, which watch shares).
const exitLogWitness = 24

// watchDieEnv, in tests only, makes log watch kill its own process after
// checking that many new entries of a step and before recording the step
// in the state file: the crash-and-restart test.
const watchDieEnv = "CLEARANCE_TEST_WATCH_DIE_AFTER"

// watchState is log watch's state file: the last checkpoint it verified
// in full (signature, witness policy, consistency with the one before,
// every entry up to Size).
type watchState struct {
	Origin     string `json:"origin"`
	Size       uint64 `json:"size"`
	Hash       []byte `json:"hash"`
	Checkpoint string `json:"checkpoint"`
}

// anomaly is something log watch reports: the log misbehaved, or an entry
// is not what the trust file allows.
type anomaly struct {
	Event  string `json:"event"` // always "clearance.log.anomaly"
	Log    string `json:"log"`
	URL    string `json:"url"`
	Kind   string `json:"kind"` // checkpoint, witness, tampered, inconsistent, entry
	Index  *int64 `json:"index,omitempty"`
	Detail string `json:"detail"`
	Time   string `json:"time"`
	code   int
}

type watcher struct {
	e         *env
	src       tlog.Source
	url       string
	entry     trust.Entry
	keys      []*ecdsa.PublicKey
	statePath string
	webhook   string
	hc        *http.Client
	dieAfter  int
}

func runLogWatch(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "log watch", "log watch --url URL --state FILE [--trust FILE] [--trust-name NAME] [--interval 30s] [--once] [--webhook URL]\n\n"+
		"Exit codes: 0 clean (--once) or stopped; 1 error; 2 usage; 20 checkpoint not signed by the log key; 21 entries or tiles do not match it;\n"+
		"22 log inconsistent with the last checkpoint seen; 23 an entry is not a decision signed by a trusted key; 24 witness policy not met.")
	logURL := fs.String("url", "", "the log's URL (tlog-tiles)")
	statePath := fs.String("state", "", "state file: the last checkpoint verified (created on first run)")
	file := fs.String("trust", "", "trust file (default $CLEARANCE_TRUST or USERCONFIG/clearance/trust.json)")
	name := fs.String("trust-name", "", "trust entry (default: the one whose log URL or log origin matches)")
	interval := fs.Duration("interval", 30*time.Second, "time between polls")
	once := fs.Bool("once", false, "poll once and exit (non-zero on an anomaly)")
	webhook := fs.String("webhook", "", "POST each anomaly as JSON to this URL")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *logURL == "" || *statePath == "" {
		return usageError("log watch: --url and --state are required")
	}
	if !strings.HasPrefix(*logURL, "http://") && !strings.HasPrefix(*logURL, "https://") {
		return usageError("log watch: --url %q: want an http:// or https:// URL", *logURL)
	}
	if *webhook != "" && !strings.HasPrefix(*webhook, "http://") && !strings.HasPrefix(*webhook, "https://") {
		return usageError("log watch: --webhook %q: want an http:// or https:// URL", *webhook)
	}
	if *interval < time.Second && !*once {
		return usageError("log watch: --interval %s: at least 1s", *interval)
	}
	hc := fetchClient()
	src, err := tlog.OpenSource(*logURL, hc)
	if err != nil {
		return err
	}
	tf, path, err := loadTrustFile(e, *file)
	if err != nil {
		return err
	}
	en, err := watchTrust(ctx, tf, path, *name, *logURL, src)
	if err != nil {
		return err
	}
	keys, err := en.PublicKeys()
	if err != nil {
		return fmt.Errorf("trust entry %s: %w", en.Name, err)
	}
	w := &watcher{e: e, src: src, url: *logURL, entry: en, keys: keys, statePath: *statePath, webhook: *webhook, hc: hc}
	if s := e.getenv(watchDieEnv); s != "" {
		w.dieAfter, _ = strconv.Atoi(s)
	}
	for {
		err := w.step(ctx)
		var xe *exitError
		switch {
		case errors.As(err, &xe):
			return err // an anomaly, reported already
		case err != nil && (*once || ctx.Err() != nil):
			return err
		case err != nil:
			e.log.WarnContext(ctx, "log watch: poll failed; retrying", slog.String("url", *logURL), slog.Any("err", err))
		}
		if *once {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}

// watchTrust picks the trust entry for a log: by name, else the entry
// whose log URL is url, else by the origin the log announces (which only
// selects the pinned key; the checkpoint is then verified with it).
func watchTrust(ctx context.Context, tf *trust.File, path, name, url string, src tlog.Source) (trust.Entry, error) {
	if name != "" {
		return tf.Get(name)
	}
	for _, en := range tf.Entries {
		if en.LogURL != "" && strings.TrimRight(en.LogURL, "/") == strings.TrimRight(url, "/") {
			return en, nil
		}
	}
	raw, err := src.ReadCheckpoint(ctx)
	if err != nil {
		return trust.Entry{}, fmt.Errorf("read checkpoint: %w", err)
	}
	origin, _, _ := strings.Cut(string(raw), "\n")
	return pickTrust(tf, path, "", origin)
}

// loadWatchState reads the state file; a missing file is the empty state.
func loadWatchState(path string) (watchState, error) {
	var s watchState
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read state: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("state file %s: %v", path, err)
	}
	return s, nil
}

// step polls the log once. It returns an *exitError for an anomaly (after
// reporting it) and a plain error for a failure to poll. The state file
// moves forward only once a new checkpoint and every entry it adds were
// checked; entry anomalies are reported before that, so that a crash
// cannot lose one, and a crash before it makes the next run check the
// same entries again, so that none is skipped.
func (w *watcher) step(ctx context.Context) error {
	st, err := loadWatchState(w.statePath)
	if err != nil {
		return err
	}
	if st.Checkpoint != "" {
		prev, err := tlog.ParseCheckpoint([]byte(st.Checkpoint), w.entry.LogKey)
		if err != nil || prev.Size != st.Size || !bytes.Equal(prev.Hash, st.Hash) {
			return fmt.Errorf("state file %s: its checkpoint does not verify under trust entry %s's log key, or does not match its size and hash", w.statePath, w.entry.Name)
		}
	}
	raw, err := w.src.ReadCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	policy := w.entry.Policy()
	cur, err := tlog.VerifyCosigned(raw, w.entry.LogKey, policy)
	switch {
	case errors.Is(err, tlog.ErrWitnessPolicy):
		return w.fail(ctx, exitLogWitness, "witness", nil, err.Error())
	case errors.Is(err, tlog.ErrCheckpoint):
		return w.fail(ctx, exitLogCheckpoint, "checkpoint", nil, err.Error())
	case err != nil:
		return err
	}
	if st.Checkpoint != "" && cur.Size == st.Size && bytes.Equal(cur.Hash, st.Hash) {
		return nil // nothing new
	}
	if cur.Size < st.Size {
		return w.fail(ctx, exitLogInconsistent, "inconsistent", nil, fmt.Sprintf("log shrank from %d to %d entries", st.Size, cur.Size))
	}

	type checked struct {
		index uint64
		what  string
	}
	var done []checked
	var bad []anomaly
	opts := tlog.MonitorOptions{CheckEntry: func(i uint64, entry []byte) error {
		if i < st.Size {
			return nil // checked in an earlier step
		}
		what, err := classifyEntry(entry, w.keys)
		if err != nil {
			idx := int64(i)
			bad = append(bad, w.anomaly("entry", &idx, fmt.Sprintf("entry %d: %v", i, err)))
			what = "ANOMALY: " + err.Error()
		}
		done = append(done, checked{i, what})
		if w.dieAfter > 0 && len(done) == w.dieAfter {
			p, _ := os.FindProcess(os.Getpid())
			p.Kill()
			select {} // until the signal lands
		}
		return nil
	}}
	if st.Checkpoint != "" {
		opts.Since = []byte(st.Checkpoint)
	}
	rep, err := tlog.Monitor(ctx, pinnedSource{Source: w.src, checkpoint: raw}, w.entry.LogKey, opts)
	switch {
	case errors.Is(err, tlog.ErrInconsistent):
		return w.fail(ctx, exitLogInconsistent, "inconsistent", nil, err.Error())
	case errors.Is(err, tlog.ErrTampered):
		return w.fail(ctx, exitLogTampered, "tampered", nil, err.Error())
	case errors.Is(err, tlog.ErrCheckpoint):
		return w.fail(ctx, exitLogCheckpoint, "checkpoint", nil, err.Error())
	case err != nil:
		return err
	}
	for _, a := range bad {
		w.report(ctx, a)
	}
	next := watchState{Origin: rep.Checkpoint.Origin, Size: rep.Checkpoint.Size, Hash: rep.Checkpoint.Hash, Checkpoint: string(raw)}
	b, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return err
	}
	if err := trust.WriteAtomic(w.statePath, append(b, '\n'), 0o644); err != nil {
		return err
	}
	for _, c := range done {
		fmt.Fprintf(w.e.stdout, "checked entry %d: %s\n", c.index, c.what)
	}
	fmt.Fprintf(w.e.stdout, "ok: log %s at %d entries, consistent with %d, cosigned by %d of %d required witnesses\n",
		cur.Origin, cur.Size, st.Size, len(cur.Witnesses), policy.Threshold)
	if len(bad) > 0 {
		return &exitError{code: exitLogEntry, err: fmt.Errorf("log watch: %d entries are not decisions signed by trust entry %s's keys", len(bad), w.entry.Name)}
	}
	return nil
}

// classifyEntry says what a log entry is: an audit anchor (which the
// service logs beside decisions), or a decision bundle signed by one of
// keys; anything else is an error.
func classifyEntry(entry []byte, keys []*ecdsa.PublicKey) (string, error) {
	var a review.AnchorStatement
	dec := json.NewDecoder(bytes.NewReader(entry))
	dec.DisallowUnknownFields()
	if dec.Decode(&a) == nil && !dec.More() && a.Type == review.AnchorType && a.Hash != "" {
		return fmt.Sprintf("audit anchor at sequence %d", a.Seq), nil
	}
	v, _, err := verifyDecisionKeys(entry, keys)
	if err != nil {
		return "", err
	}
	return decisionName(v.Decision) + " is " + string(v.Decision.Outcome), nil
}

func (w *watcher) anomaly(kind string, index *int64, detail string) anomaly {
	return anomaly{Event: "clearance.log.anomaly", Log: w.entry.Origin(), URL: w.url, Kind: kind, Index: index, Detail: detail,
		Time: w.e.now().UTC().Format(time.RFC3339)}
}

// fail reports a log-level anomaly and returns it as the exit error.
func (w *watcher) fail(ctx context.Context, code int, kind string, index *int64, detail string) error {
	w.report(ctx, w.anomaly(kind, index, detail))
	return &exitError{code: code, err: fmt.Errorf("log watch: %s: %s", kind, detail)}
}

// report writes an anomaly to stderr and POSTs it to the webhook; a
// webhook that fails is logged, not retried.
func (w *watcher) report(ctx context.Context, a anomaly) {
	fmt.Fprintf(w.e.stderr, "ANOMALY %s: log %s: %s\n", a.Kind, a.Log, a.Detail)
	if w.webhook == "" {
		return
	}
	b, err := json.Marshal(a)
	if err != nil {
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.webhook, bytes.NewReader(b))
	if err != nil {
		w.e.log.ErrorContext(ctx, "log watch: webhook", slog.Any("err", err))
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.hc.Do(req)
	if err != nil {
		w.e.log.ErrorContext(ctx, "log watch: webhook", slog.Any("err", err))
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		w.e.log.ErrorContext(ctx, "log watch: webhook", slog.String("status", resp.Status))
	}
}
