// Package tlog is Clearance's transparency log of decisions: an
// append-only Merkle tree stored as a C2SP tlog-tiles directory by Tessera's
// POSIX driver, with checkpoints that are C2SP signed notes under an
// Ed25519 log key (so witnesses can cosign them).
//
// [Init] creates a log directory and its key; [Open] returns a [Log] whose
// [Log.Append] returns only once a published checkpoint covers the entry,
// with a [Receipt]: the entry's index, its inclusion proof and that signed
// checkpoint, so that [VerifyReceipt] can check inclusion offline with
// nothing but the entry, the receipt and the log's verifier key.
//
// [NewHandler] serves the directory read-only over HTTP; [Monitor] checks a
// whole log (from a directory or a URL): the checkpoint signature, every
// entry against every tile and the checkpoint root, consistency with an
// earlier checkpoint, and optionally each entry's content.
//
// Entries are opaque bytes (Clearance appends whole decision bundles) of at
// most [MaxEntrySize] bytes, the tlog-tiles limit. Duplicates are not
// suppressed: appending the same bytes twice logs them twice.
//
// Layout of a log directory: checkpoint, tile/, entries/ (the public
// tlog-tiles tree), .state/ (Tessera's private state), log.pub (verifier
// key, public) and log.key (signer key, mode 0600, never served).
package tlog

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
)

// File names inside a log directory.
const (
	VerifierKeyFile = "log.pub"
	SignerKeyFile   = "log.key"
)

// MaxEntrySize is the largest entry a tlog-tiles log holds (a uint16 length
// prefix in entry bundles).
const MaxEntrySize = 1<<16 - 1

// ErrExists is returned by Init when the directory already holds a log key.
var ErrExists = errors.New("log already exists")

// ErrEntryTooLarge is returned by Append for entries over MaxEntrySize.
var ErrEntryTooLarge = errors.New("entry too large for the log")

// ErrCheckpoint is returned when a checkpoint does not parse or is not
// signed by the log key.
var ErrCheckpoint = errors.New("checkpoint does not verify")

// ErrNotIncluded is returned when an inclusion proof does not lead from the
// entry to the checkpoint root.
var ErrNotIncluded = errors.New("entry not included")

// ErrTampered is returned by Monitor when the stored entries or tiles do
// not hash to the signed checkpoint (an entry or tile was edited).
var ErrTampered = errors.New("log contents do not match checkpoint")

// ErrInconsistent is returned when a log is not an extension of an earlier
// checkpoint: its history was rewritten.
var ErrInconsistent = errors.New("log inconsistent with earlier checkpoint")

// Init creates a new log in dir (created if needed) with the given origin
// (the checkpoint's first line and the key name, e.g.
// "clearance.example.org/decisions"): it generates an Ed25519 key, writes
// the signer key to dir/log.key (mode 0600) and the C2SP signed-note
// verifier key to dir/log.pub, and publishes the empty checkpoint. It
// returns the verifier key, or ErrExists if dir already has a key.
func Init(ctx context.Context, dir, origin string) (string, error) {
	if strings.ContainsAny(origin, " \t\n+") || origin == "" {
		return "", fmt.Errorf("init log: origin %q must be non-empty, without spaces or '+'", origin)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", fmt.Errorf("init log: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("init log: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, SignerKeyFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("init log in %q: %w", dir, ErrExists)
	}
	if err != nil {
		return "", fmt.Errorf("init log: %w", err)
	}
	_, werr := f.WriteString(skey + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", fmt.Errorf("init log: %w", werr)
	}
	if err := os.WriteFile(filepath.Join(dir, VerifierKeyFile), []byte(vkey+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("init log: %w", err)
	}
	l, err := Open(ctx, dir, Options{})
	if err != nil {
		return "", err
	}
	if err := l.Close(ctx); err != nil {
		return "", err
	}
	return vkey, nil
}

// ReadVerifierKey reads a C2SP signed-note verifier key from a file (such
// as dir/log.pub) and checks that it parses.
func ReadVerifierKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read log key: %w", err)
	}
	k := strings.TrimSpace(string(b))
	if _, err := note.NewVerifier(k); err != nil {
		return "", fmt.Errorf("read log key %s: %w", path, err)
	}
	return k, nil
}

// Options tunes an open Log. Zero values take the defaults, which favour
// the latency of one awaited append.
type Options struct {
	// BatchMaxAge is how long an entry may wait for others to share its
	// batch (default 20ms).
	BatchMaxAge time.Duration
	// BatchMaxSize is the largest batch (default 256).
	BatchMaxSize uint
	// CheckpointInterval is the least time between checkpoints (default
	// and minimum 100ms, Tessera's POSIX floor).
	CheckpointInterval time.Duration
	// Witnesses cosign each new checkpoint before it is published (C2SP
	// tlog-witness); none by default. See WitnessConfig.
	Witnesses []WitnessConfig
	// WitnessThreshold is how many of Witnesses must cosign a checkpoint
	// before it is published (default: all of them). Below it the
	// checkpoint is not published, and appends wait, unless
	// WitnessFailOpen.
	WitnessThreshold int
	// WitnessTimeout bounds the wait for cosignatures (default 5s).
	WitnessTimeout time.Duration
	// WitnessFailOpen publishes a checkpoint that did not reach
	// WitnessThreshold cosignatures (with those it got) instead of holding
	// it back. Verifiers with a witness policy still reject it.
	WitnessFailOpen bool
	// WitnessClient makes the requests to witnesses (default
	// http.DefaultClient).
	WitnessClient *http.Client
	// IdleClose is how long the log's appender keeps running with no
	// append in flight (default 5s; negative: until Close). See Log.
	IdleClose time.Duration
}

func (o Options) withDefaults() Options {
	if o.BatchMaxAge <= 0 {
		o.BatchMaxAge = 20 * time.Millisecond
	}
	if o.BatchMaxSize == 0 {
		o.BatchMaxSize = 256
	}
	if o.CheckpointInterval < 100*time.Millisecond {
		o.CheckpointInterval = 100 * time.Millisecond
	}
	if o.IdleClose == 0 {
		o.IdleClose = 5 * time.Second
	}
	return o
}

// Log is an open log directory accepting appends. Its methods are safe for
// concurrent use; several processes may append to one directory (Tessera
// serialises them with file locks).
//
// Tessera's appender polls its state files several times a second for as
// long as it runs, so a Log runs one only while appends are in flight: it
// starts one on demand and stops it once no append has been in flight for
// Options.IdleClose. An idle serving process does no log work.
type Log struct {
	dir      string
	origin   string
	vkey     string
	verifier note.Verifier
	// reader reads the published tiles straight from dir.
	reader    Source
	start     func() (*appender, error)
	idleClose time.Duration

	mu     sync.Mutex
	app    *appender // nil while idle
	users  int       // appends in flight
	timer  *time.Timer
	gen    uint64 // counts idle timers, so a stale one does nothing
	closed bool

	// once serialises AppendOnce and holds its index of leaf hashes.
	once struct {
		sync.Mutex
		index map[[32]byte]uint64 // nil until built
	}
}

// appender is a running Tessera appender and its background context.
type appender struct {
	add      tessera.AddFn
	reader   tessera.LogReader
	bg       context.Context
	shutdown func(context.Context) error
	stop     context.CancelFunc
}

// close waits (at most ctx) for the appender's entries to be published
// and stops it.
func (a *appender) close(ctx context.Context) error {
	err := a.shutdown(ctx)
	a.stop()
	return err
}

// Open opens the log in dir, created by Init. Close it to flush.
func Open(ctx context.Context, dir string, opts Options) (*Log, error) {
	opts = opts.withDefaults()
	skey, err := os.ReadFile(filepath.Join(dir, SignerKeyFile))
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, fmt.Errorf("open log %s: signer key: %w", dir, err)
	}
	vkey, err := ReadVerifierKey(filepath.Join(dir, VerifierKeyFile))
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	verifier, _ := note.NewVerifier(vkey)
	if verifier.Name() != signer.Name() || verifier.KeyHash() != signer.KeyHash() {
		return nil, fmt.Errorf("open log %s: %s does not match %s", dir, VerifierKeyFile, SignerKeyFile)
	}
	wg, err := witnessGroup(opts.Witnesses, opts.WitnessThreshold)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	// Tessera's background work (batching, integration, publishing) lives
	// until the appender stops, not for the duration of Open's context.
	base := context.WithoutCancel(ctx)
	start := func() (*appender, error) {
		bg, stop := context.WithCancel(base)
		driver, err := posix.New(bg, posix.Config{Path: dir, HTTPClient: opts.WitnessClient})
		if err != nil {
			stop()
			return nil, fmt.Errorf("open log: %w", err)
		}
		ao := tessera.NewAppendOptions().
			WithCheckpointSigner(signer).
			WithBatching(opts.BatchMaxSize, opts.BatchMaxAge).
			WithCheckpointInterval(opts.CheckpointInterval)
		if len(opts.Witnesses) > 0 {
			ao = ao.WithWitnesses(wg, &tessera.WitnessOptions{Timeout: opts.WitnessTimeout, FailOpen: opts.WitnessFailOpen})
		}
		app, shutdown, reader, err := tessera.NewAppender(bg, driver, ao)
		if err != nil {
			stop()
			return nil, fmt.Errorf("open log %s: %w", dir, err)
		}
		return &appender{add: app.Add, reader: reader, bg: bg, shutdown: shutdown, stop: stop}, nil
	}
	// Start one now, so that a log Tessera cannot open fails here; it
	// stops when idle like any other.
	app, err := start()
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, origin: signer.Name(), vkey: vkey, verifier: verifier,
		reader: client.FileFetcher{Root: dir}, start: start, idleClose: opts.IdleClose, app: app}
	l.mu.Lock()
	l.armIdle()
	l.mu.Unlock()
	return l, nil
}

// acquire returns the running appender, starting one if the log is idle,
// and counts the caller as an append in flight until release.
func (l *Log) acquire() (*appender, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errors.New("log closed")
	}
	if l.app == nil {
		app, err := l.start()
		if err != nil {
			return nil, err
		}
		l.app = app
	}
	l.users++
	l.gen++ // a pending idle timer no longer applies
	return l.app, nil
}

// release ends an append; the last one arms the idle timer.
func (l *Log) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.users--
	if l.users == 0 {
		l.armIdle()
	}
}

// armIdle starts the timer that stops the appender after idleClose with
// no append in flight. Callers hold l.mu.
func (l *Log) armIdle() {
	if l.idleClose < 0 || l.closed {
		return
	}
	l.gen++
	gen := l.gen
	l.timer = time.AfterFunc(l.idleClose, func() { l.idle(gen) })
}

// idle stops the appender if no append started since timer gen was armed.
// Entries of appends whose context ended before publication are still
// published first: Tessera's shutdown waits (here at most a minute) for
// a checkpoint covering every index it handed out.
func (l *Log) idle(gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if gen != l.gen || l.users > 0 || l.app == nil || l.closed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// An error leaves sequenced entries for the next appender to publish.
	_ = l.app.close(ctx)
	l.app = nil
}

// running reports whether an appender is running (for tests).
func (l *Log) running() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.app != nil
}

// awaitCheckpoint resolves f and waits until a published checkpoint
// covers its index, polling every 10 ms, and returns the index and that
// checkpoint. It returns ctx's error, or bg's once the log is closed.
func awaitCheckpoint(ctx, bg context.Context, reader Source, v note.Verifier, f tessera.IndexFuture) (tessera.Index, []byte, error) {
	idx, err := f()
	if err != nil {
		return idx, nil, err
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		raw, err := reader.ReadCheckpoint(ctx)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return idx, nil, err
		default:
			cp, err := parseCheckpoint(raw, v)
			if err != nil {
				return idx, nil, err
			}
			if cp.Size > idx.Index {
				return idx, raw, nil
			}
		}
		select {
		case <-ctx.Done():
			return idx, nil, ctx.Err()
		case <-bg.Done():
			return idx, nil, fmt.Errorf("log closed: %w", bg.Err())
		case <-t.C:
		}
	}
}

// Origin returns the log's origin.
func (l *Log) Origin() string { return l.origin }

// VerifierKey returns the log's C2SP verifier key.
func (l *Log) VerifierKey() string { return l.vkey }

// Append adds entry to the log and waits until a published checkpoint
// covers it. The returned receipt holds the inclusion proof against that
// checkpoint and has been verified. It returns ErrEntryTooLarge for
// entries over MaxEntrySize, or the context's error.
func (l *Log) Append(ctx context.Context, entry []byte) (*Receipt, error) {
	if len(entry) > MaxEntrySize {
		return nil, fmt.Errorf("append: %d bytes: %w", len(entry), ErrEntryTooLarge)
	}
	if len(entry) == 0 {
		return nil, errors.New("append: empty entry")
	}
	app, err := l.acquire()
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	defer l.release()
	idx, cpRaw, err := awaitCheckpoint(ctx, app.bg, l.reader, l.verifier, app.add(ctx, tessera.NewEntry(entry)))
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	cp, err := parseCheckpoint(cpRaw, l.verifier)
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	r, err := prove(ctx, l.reader, cp, idx.Index, entry)
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	if _, err := VerifyReceipt(entry, r, l.vkey); err != nil {
		return nil, fmt.Errorf("append: own receipt: %w", err)
	}
	return r, nil
}

// AppendOnce appends entry unless the log already holds the same bytes,
// in which case it returns a fresh receipt for the first copy. It is how
// a service that may crash between appending and recording the index
// avoids logging an entry twice on its next try. The first call reads
// the whole log to index it; later calls see their own appends and this
// Log's. Entries appended by other processes after the first call are not
// seen, so one process should own AppendOnce for a log.
func (l *Log) AppendOnce(ctx context.Context, entry []byte) (*Receipt, error) {
	l.once.Lock()
	defer l.once.Unlock()
	if l.once.index == nil {
		idx, err := indexEntries(ctx, l.reader, l.vkey)
		if err != nil {
			return nil, fmt.Errorf("append once: %w", err)
		}
		l.once.index = idx
	}
	var key [32]byte
	copy(key[:], leafHash(entry))
	if i, ok := l.once.index[key]; ok {
		r, got, err := Prove(ctx, l.reader, l.vkey, i)
		if err != nil {
			return nil, fmt.Errorf("append once: %w", err)
		}
		if !bytes.Equal(got, entry) {
			return nil, fmt.Errorf("append once: entry %d changed: %w", i, ErrTampered)
		}
		return r, nil
	}
	r, err := l.Append(ctx, entry)
	if err != nil {
		return nil, err
	}
	l.once.index[key] = r.Index
	return r, nil
}

// indexEntries maps the leaf hash of every entry under the current
// checkpoint to its first index.
func indexEntries(ctx context.Context, src Source, vkey string) (map[[32]byte]uint64, error) {
	idx := make(map[[32]byte]uint64)
	raw, err := src.ReadCheckpoint(ctx)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(raw) == 0) {
		return idx, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	cp, err := ParseCheckpoint(raw, vkey)
	if err != nil {
		return nil, err
	}
	for b := uint64(0); b*256 < cp.Size; b++ {
		eb, err := client.GetEntryBundle(ctx, src.ReadEntryBundle, b, cp.Size)
		if err != nil {
			return nil, fmt.Errorf("read entry bundle %d: %w", b, err)
		}
		for j, e := range eb.Entries {
			var key [32]byte
			copy(key[:], leafHash(e))
			if _, dup := idx[key]; !dup {
				idx[key] = b*256 + uint64(j)
			}
		}
	}
	return idx, nil
}

// Close waits for appends in flight to be published, then stops the log.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	l.closed = true
	l.gen++
	app := l.app
	l.app = nil
	l.mu.Unlock()
	if app == nil {
		return nil
	}
	if err := app.close(ctx); err != nil {
		return fmt.Errorf("close log %s: %w", l.dir, err)
	}
	return nil
}

// prove builds the receipt of entry at index against checkpoint cp, reading
// tiles from src.
func prove(ctx context.Context, src Source, cp *Checkpoint, index uint64, entry []byte) (*Receipt, error) {
	if index >= cp.Size {
		return nil, fmt.Errorf("entry %d is beyond checkpoint size %d", index, cp.Size)
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, src.ReadTile)
	if err != nil {
		return nil, fmt.Errorf("proof builder: %w", err)
	}
	p, err := pb.InclusionProof(ctx, index)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof for %d: %w", index, err)
	}
	return &Receipt{
		Origin:         cp.Origin,
		Index:          index,
		LeafHash:       leafHash(entry),
		InclusionProof: p,
		Checkpoint:     string(cp.Raw),
	}, nil
}
