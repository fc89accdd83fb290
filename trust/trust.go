// Package trust is Clearance's trust file: the keys a verifier pinned out
// of band for each agency whose decisions it checks. An entry names the
// agency's decision keys (ECDSA P-256 PEM), its transparency log's verifier
// key (a C2SP signed-note key, whose name is the log's origin), optionally
// where the log is served, and a witness policy ("k of these n witnesses"
// must cosign every checkpoint).
//
// The file exists so that a verifier never checks a download against keys
// that came with the download: clearance verify --from and clearance log
// watch read their keys from here only.
//
// Parse rejects anything it does not understand (unknown fields, bad keys,
// an unmeetable policy, duplicate names) with an error naming the file,
// the entry and the field. Save writes atomically (a temporary file in the
// same directory, synced, then renamed) with mode 0600.
package trust

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/tlog"
	"golang.org/x/mod/sumdb/note"
)

// Version is the trust file format version Parse accepts.
const Version = 1

// maxFileSize bounds a trust file: it is small, hand-managed data.
const maxFileSize = 4 << 20

// ErrNotFound is returned by File.Get and File.Remove for an unknown name.
var ErrNotFound = errors.New("no such trust entry")

// ErrExists is returned by File.Add when the name is taken.
var ErrExists = errors.New("trust entry already exists")

// File is a trust file: its entries, by name, in the order added.
type File struct {
	Version int     `json:"version"`
	Entries []Entry `json:"entries"`
}

// Entry is one agency's pinned keys.
type Entry struct {
	// Name is the local name of the entry: letters, digits, '.', '_', '-'.
	Name string `json:"name"`
	// DecisionKeys are the PEM public keys that may sign decisions
	// (several during a key rotation).
	DecisionKeys []string `json:"decisionKeys"`
	// LogKey is the log's signed-note verifier key; its name is the log's
	// origin.
	LogKey string `json:"logKey"`
	// LogURL is where the log is served (tlog-tiles); optional.
	LogURL string `json:"logURL,omitempty"`
	// Witnesses are the witnesses whose cosignatures count.
	Witnesses []Witness `json:"witnesses,omitempty"`
	// WitnessThreshold is how many of Witnesses must cosign a checkpoint;
	// 0 accepts the log's signature alone.
	WitnessThreshold int `json:"witnessThreshold"`
}

// Witness is a witness's local name and its signed-note verifier key.
type Witness struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Origin returns the log origin the entry's log key verifies: the key's
// name. It is "" when the key does not parse (Validate reports it).
func (e Entry) Origin() string {
	v, err := note.NewVerifier(strings.TrimSpace(e.LogKey))
	if err != nil {
		return ""
	}
	return v.Name()
}

// Policy returns the entry's witness policy.
func (e Entry) Policy() tlog.WitnessPolicy {
	p := tlog.WitnessPolicy{Threshold: e.WitnessThreshold}
	for _, w := range e.Witnesses {
		p.Keys = append(p.Keys, w.Key)
	}
	return p
}

// PublicKeys parses the decision keys.
func (e Entry) PublicKeys() ([]*ecdsa.PublicKey, error) {
	var out []*ecdsa.PublicKey
	for i, k := range e.DecisionKeys {
		pub, err := attest.ParsePublicKey([]byte(k))
		if err != nil {
			return nil, fmt.Errorf("decisionKeys[%d]: %w", i, err)
		}
		out = append(out, pub)
	}
	return out, nil
}

// Validate reports the first problem with the entry, naming the field.
func (e Entry) Validate() error {
	if !nameRE.MatchString(e.Name) {
		return fmt.Errorf("name %q: want 1 to 64 letters, digits, '.', '_' or '-'", e.Name)
	}
	if len(e.DecisionKeys) == 0 {
		return errors.New("decisionKeys: at least one decision key is required")
	}
	if _, err := e.PublicKeys(); err != nil {
		return err
	}
	if _, err := note.NewVerifier(strings.TrimSpace(e.LogKey)); err != nil {
		return fmt.Errorf("logKey: %v", err)
	}
	if e.LogURL != "" && !strings.HasPrefix(e.LogURL, "https://") && !strings.HasPrefix(e.LogURL, "http://") {
		return fmt.Errorf("logURL %q: want an http:// or https:// URL", e.LogURL)
	}
	names := map[string]bool{}
	for i, w := range e.Witnesses {
		if !nameRE.MatchString(w.Name) {
			return fmt.Errorf("witnesses[%d].name %q: want 1 to 64 letters, digits, '.', '_' or '-'", i, w.Name)
		}
		if names[w.Name] {
			return fmt.Errorf("witnesses[%d].name %q: listed twice", i, w.Name)
		}
		names[w.Name] = true
	}
	if err := e.Policy().Validate(); err != nil {
		return fmt.Errorf("witnesses: %v", err)
	}
	return nil
}

// Parse decodes and validates a trust file read from source (named in
// errors). Empty data is an empty file.
func Parse(data []byte, source string) (*File, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return &File{Version: Version}, nil
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("trust file %s: %d bytes exceeds %d", source, len(data), maxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("trust file %s: %v", source, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("trust file %s: trailing data", source)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("trust file %s: version %d, want %d", source, f.Version, Version)
	}
	seen := map[string]bool{}
	for i, e := range f.Entries {
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("trust file %s: entries[%d] (%s): %v", source, i, e.Name, err)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("trust file %s: entries[%d]: name %q listed twice", source, i, e.Name)
		}
		seen[e.Name] = true
	}
	return &f, nil
}

// Load reads and parses the trust file at path; a missing file is an
// empty one.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &File{Version: Version}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read trust file: %w", err)
	}
	return Parse(data, path)
}

// Marshal returns the file as indented JSON.
func (f *File) Marshal() ([]byte, error) {
	f.Version = Version
	if f.Entries == nil {
		f.Entries = []Entry{}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Save writes f to path atomically with mode 0600, creating the directory
// (mode 0700) if needed.
func Save(path string, f *File) error {
	b, err := f.Marshal()
	if err != nil {
		return fmt.Errorf("save trust file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save trust file: %w", err)
	}
	return WriteAtomic(path, b, 0o600)
}

// WriteAtomic writes data to path through a synced temporary file in the
// same directory and a rename, so that a reader (or a crash) sees the old
// file or the new one, never a part.
func WriteAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done = true
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Get returns the entry called name, or ErrNotFound.
func (f *File) Get(name string) (Entry, error) {
	for _, e := range f.Entries {
		if e.Name == name {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("trust entry %q: %w", name, ErrNotFound)
}

// ByOrigin returns the entries whose log key verifies the log origin.
func (f *File) ByOrigin(origin string) []Entry {
	var out []Entry
	for _, e := range f.Entries {
		if e.Origin() == origin {
			out = append(out, e)
		}
	}
	return out
}

// Add validates e and appends it; a taken name gives ErrExists.
func (f *File) Add(e Entry) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("add trust entry %s: %w", e.Name, err)
	}
	if _, err := f.Get(e.Name); err == nil {
		return fmt.Errorf("add trust entry %s: %w", e.Name, ErrExists)
	}
	f.Entries = append(f.Entries, e)
	return nil
}

// Remove deletes the entry called name, or returns ErrNotFound.
func (f *File) Remove(name string) error {
	i := slices.IndexFunc(f.Entries, func(e Entry) bool { return e.Name == name })
	if i < 0 {
		return fmt.Errorf("remove trust entry %q: %w", name, ErrNotFound)
	}
	f.Entries = slices.Delete(f.Entries, i, i+1)
	return nil
}
