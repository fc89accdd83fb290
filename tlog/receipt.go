package tlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	flog "github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"
)

// Limits on parsed receipts and checkpoints.
const (
	maxCheckpointSize = 16 << 10
	maxProofLen       = 64
	maxReceiptSize    = 64 << 10
)

// Receipt is the offline proof that an entry is in the log: the
// inclusion proof of the entry at Index against the signed Checkpoint.
// JSON: {"origin", "index", "leafHash" (base64), "inclusionProof" (base64
// hashes, leaf to root), "checkpoint" (the signed note text)}.
type Receipt struct {
	Origin         string   `json:"origin"`
	Index          uint64   `json:"index"`
	LeafHash       []byte   `json:"leafHash"`
	InclusionProof [][]byte `json:"inclusionProof"`
	Checkpoint     string   `json:"checkpoint"`
}

// ReceiptPath is where Clearance keeps the receipt of a bundle: beside it.
func ReceiptPath(bundlePath string) string { return bundlePath + ".receipt.json" }

// Marshal returns the receipt as indented JSON.
func (r *Receipt) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseReceipt decodes a receipt, refusing unknown fields, oversized input
// and hashes that are not 32 bytes. It does not verify it.
func ParseReceipt(data []byte) (*Receipt, error) {
	if len(data) > maxReceiptSize {
		return nil, fmt.Errorf("parse receipt: %d bytes exceeds %d", len(data), maxReceiptSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Receipt
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("parse receipt: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse receipt: trailing data")
	}
	switch {
	case r.Origin == "":
		return nil, errors.New("parse receipt: origin is empty")
	case r.Checkpoint == "":
		return nil, errors.New("parse receipt: checkpoint is empty")
	case len(r.Checkpoint) > maxCheckpointSize:
		return nil, errors.New("parse receipt: checkpoint too large")
	case len(r.LeafHash) != 32:
		return nil, fmt.Errorf("parse receipt: leafHash is %d bytes, want 32", len(r.LeafHash))
	case len(r.InclusionProof) > maxProofLen:
		return nil, fmt.Errorf("parse receipt: inclusion proof of %d hashes", len(r.InclusionProof))
	}
	for i, h := range r.InclusionProof {
		if len(h) != 32 {
			return nil, fmt.Errorf("parse receipt: inclusionProof[%d] is %d bytes, want 32", i, len(h))
		}
	}
	return &r, nil
}

// Checkpoint is a verified checkpoint.
type Checkpoint struct {
	Origin string
	Size   uint64
	Hash   []byte
	// Raw is the signed note as published.
	Raw []byte
}

// ParseCheckpoint verifies a signed checkpoint with the log's verifier key
// (C2SP signed-note format, as in log.pub) and returns it. Errors wrap
// ErrCheckpoint.
func ParseCheckpoint(raw []byte, verifierKey string) (*Checkpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return nil, fmt.Errorf("log verifier key: %w", err)
	}
	return parseCheckpoint(raw, v)
}

func parseCheckpoint(raw []byte, v note.Verifier) (*Checkpoint, error) {
	if len(raw) > maxCheckpointSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrCheckpoint, len(raw))
	}
	cp, _, _, err := flog.ParseCheckpoint(raw, v.Name(), v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	if len(cp.Hash) != 32 {
		return nil, fmt.Errorf("%w: root hash of %d bytes", ErrCheckpoint, len(cp.Hash))
	}
	return &Checkpoint{Origin: cp.Origin, Size: cp.Size, Hash: cp.Hash, Raw: bytes.Clone(raw)}, nil
}

func leafHash(entry []byte) []byte { return rfc6962.DefaultHasher.HashLeaf(entry) }

// VerifyReceipt checks offline that entry is in the log: the receipt's
// checkpoint must be signed by verifierKey with the receipt's origin, and
// its inclusion proof must lead from the entry's leaf hash at Index to the
// checkpoint root. It returns the checkpoint. Errors wrap ErrCheckpoint or
// ErrNotIncluded.
func VerifyReceipt(entry []byte, r *Receipt, verifierKey string) (*Checkpoint, error) {
	cp, err := ParseCheckpoint([]byte(r.Checkpoint), verifierKey)
	if err != nil {
		return nil, err
	}
	if cp.Origin != r.Origin {
		return nil, fmt.Errorf("%w: receipt origin %q, checkpoint origin %q", ErrCheckpoint, r.Origin, cp.Origin)
	}
	lh := leafHash(entry)
	if !bytes.Equal(lh, r.LeafHash) {
		return nil, fmt.Errorf("%w: entry leaf hash %x, receipt says %x", ErrNotIncluded, lh, r.LeafHash)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, r.Index, cp.Size, lh, r.InclusionProof, cp.Hash); err != nil {
		return nil, fmt.Errorf("%w: index %d in tree of %d: %v", ErrNotIncluded, r.Index, cp.Size, err)
	}
	return cp, nil
}

// Source reads a tlog-tiles log: a directory or a URL (see OpenSource).
// Tessera's client.FileFetcher and client.HTTPFetcher satisfy it.
type Source interface {
	ReadCheckpoint(ctx context.Context) ([]byte, error)
	ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error)
	ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error)
}

// OpenSource returns a Source for location: an http:// or https:// URL
// (fetched with hc, or http.DefaultClient when nil) or a directory.
func OpenSource(location string, hc *http.Client) (Source, error) {
	if strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://") {
		u, err := url.Parse(location)
		if err != nil {
			return nil, fmt.Errorf("log url: %w", err)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		if hc == nil {
			hc = http.DefaultClient
		}
		f, err := client.NewHTTPFetcher(u, hc)
		if err != nil {
			return nil, fmt.Errorf("log url: %w", err)
		}
		return f, nil
	}
	return client.FileFetcher{Root: location}, nil
}

// latest reads and verifies src's current checkpoint.
func latest(ctx context.Context, src Source, verifierKey string) (*Checkpoint, error) {
	raw, err := src.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	return ParseCheckpoint(raw, verifierKey)
}

// readEntry returns the entry at index from src in a log of size.
func readEntry(ctx context.Context, src Source, index, size uint64) ([]byte, error) {
	b, err := client.GetEntryBundle(ctx, src.ReadEntryBundle, index/256, size)
	if err != nil {
		return nil, fmt.Errorf("read entry %d: %w", index, err)
	}
	if int(index%256) >= len(b.Entries) {
		return nil, fmt.Errorf("read entry %d: bundle holds %d entries", index, len(b.Entries))
	}
	return b.Entries[index%256], nil
}

// Prove returns the entry at index in the log src and its receipt against
// the log's current checkpoint, verified with verifierKey.
func Prove(ctx context.Context, src Source, verifierKey string, index uint64) (*Receipt, []byte, error) {
	cp, err := latest(ctx, src, verifierKey)
	if err != nil {
		return nil, nil, fmt.Errorf("prove entry %d: %w", index, err)
	}
	if index >= cp.Size {
		return nil, nil, fmt.Errorf("prove entry %d: log has %d entries", index, cp.Size)
	}
	entry, err := readEntry(ctx, src, index, cp.Size)
	if err != nil {
		return nil, nil, fmt.Errorf("prove entry %d: %w", index, err)
	}
	r, err := prove(ctx, src, cp, index, entry)
	if err != nil {
		return nil, nil, fmt.Errorf("prove entry %d: %w", index, err)
	}
	if _, err := VerifyReceipt(entry, r, verifierKey); err != nil {
		return nil, nil, fmt.Errorf("prove entry %d: %w", index, err)
	}
	return r, entry, nil
}

// CheckLive checks a receipt against the log as it is now: the entry must
// verify against the receipt (VerifyReceipt), the log's current checkpoint
// must be signed by verifierKey and consistent with the receipt's (a
// consistency proof built from src's tiles), and the entry must be included
// at the same index under the current checkpoint. It returns the current
// checkpoint. Errors wrap ErrCheckpoint, ErrNotIncluded or ErrInconsistent.
func CheckLive(ctx context.Context, src Source, entry []byte, r *Receipt, verifierKey string) (*Checkpoint, error) {
	old, err := VerifyReceipt(entry, r, verifierKey)
	if err != nil {
		return nil, err
	}
	cur, err := latest(ctx, src, verifierKey)
	if err != nil {
		return nil, err
	}
	if cur.Size < old.Size {
		return nil, fmt.Errorf("%w: log shrank from %d to %d entries", ErrInconsistent, old.Size, cur.Size)
	}
	pb, err := client.NewProofBuilder(ctx, cur.Size, src.ReadTile)
	if err != nil {
		return nil, fmt.Errorf("read tiles: %w", err)
	}
	cons, err := pb.ConsistencyProof(ctx, old.Size, cur.Size)
	if err != nil {
		return nil, fmt.Errorf("consistency proof: %w", err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, cur.Size, cons, old.Hash, cur.Hash); err != nil {
		return nil, fmt.Errorf("%w: %d → %d: %v", ErrInconsistent, old.Size, cur.Size, err)
	}
	incl, err := pb.InclusionProof(ctx, r.Index)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof: %w", err)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, r.Index, cur.Size, r.LeafHash, incl, cur.Hash); err != nil {
		return nil, fmt.Errorf("%w: under current checkpoint: %v", ErrNotIncluded, err)
	}
	return cur, nil
}

// parseTile decodes a hash tile.
func parseTile(b []byte) ([][]byte, error) {
	var t api.HashTile
	if err := t.UnmarshalText(b); err != nil {
		return nil, err
	}
	return t.Nodes, nil
}
