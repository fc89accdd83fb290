package tlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
)

// tileHeight is the tlog-tiles tile height: a tile holds 256 hashes of one
// tree level, and level L tiles hold tree level 8·L.
const tileHeight = 8

// MonitorOptions configures Monitor.
type MonitorOptions struct {
	// Since is an earlier signed checkpoint of this log; when set, the log
	// must extend it (its first Since.Size entries must hash to its root).
	Since []byte
	// CheckEntry, when set, is called for every entry in order; an error
	// fails the check (Clearance verifies each decision bundle's signature).
	CheckEntry func(index uint64, entry []byte) error
}

// MonitorReport is what a successful Monitor saw.
type MonitorReport struct {
	Checkpoint *Checkpoint
	// Tiles is the number of hash tiles compared.
	Tiles int
	// SinceSize is the size of the Since checkpoint, if given.
	SinceSize uint64
}

// Monitor checks the whole log at src against its current checkpoint:
//
//   - the checkpoint is signed by verifierKey (ErrCheckpoint);
//   - every entry is read and hashed, every hash tile is recomputed from the
//     entries and compared byte for byte, and the root of all entries is the
//     checkpoint root, so each entry's inclusion holds and an edited entry
//     or tile is found (ErrTampered, naming the entry or tile);
//   - with opts.Since, the first Since.Size entries hash to that earlier
//     checkpoint's root: the history was not rewritten (ErrInconsistent);
//   - with opts.CheckEntry, every entry passes it.
//
// Memory is about 64 bytes per entry.
func Monitor(ctx context.Context, src Source, verifierKey string, opts MonitorOptions) (*MonitorReport, error) {
	cp, err := latest(ctx, src, verifierKey)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	rep := &MonitorReport{Checkpoint: cp}
	var since *Checkpoint
	if opts.Since != nil {
		if since, err = ParseCheckpoint(opts.Since, verifierKey); err != nil {
			return nil, fmt.Errorf("monitor: earlier checkpoint: %w", err)
		}
		if since.Size > cp.Size {
			return nil, fmt.Errorf("monitor: %w: log has %d entries, earlier checkpoint %d", ErrInconsistent, cp.Size, since.Size)
		}
		rep.SinceSize = since.Size
	}

	// Read every entry, in bundles of 256.
	leaves := make([][]byte, 0, cp.Size)
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := rf.NewEmptyRange(0)
	// The root of the first since.Size entries is compared last, so that
	// an edit is reported as tampering with the current checkpoint first.
	var sinceRoot []byte
	checkSince := func() error {
		if since == nil || rng.End() != since.Size {
			return nil
		}
		var err error
		sinceRoot, err = rootOf(rng)
		return err
	}
	if err := checkSince(); err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	for bi := uint64(0); bi*256 < cp.Size; bi++ {
		width := min(cp.Size-bi*256, 256)
		raw, err := src.ReadEntryBundle(ctx, bi, partial(width))
		if err != nil {
			return nil, fmt.Errorf("monitor: read entry bundle %d: %w", bi, err)
		}
		var b api.EntryBundle
		if err := b.UnmarshalText(raw); err != nil {
			return nil, fmt.Errorf("monitor: %w: entry bundle %d: %v", ErrTampered, bi, err)
		}
		if uint64(len(b.Entries)) < width {
			return nil, fmt.Errorf("monitor: %w: entry bundle %d holds %d entries, want %d", ErrTampered, bi, len(b.Entries), width)
		}
		for j, e := range b.Entries[:width] {
			idx := bi*256 + uint64(j)
			if opts.CheckEntry != nil {
				if err := opts.CheckEntry(idx, e); err != nil {
					return nil, fmt.Errorf("monitor: entry %d: %w", idx, err)
				}
			}
			lh := leafHash(e)
			leaves = append(leaves, lh)
			if err := rng.Append(lh, nil); err != nil {
				return nil, fmt.Errorf("monitor: %w", err)
			}
			if err := checkSince(); err != nil {
				return nil, fmt.Errorf("monitor: %w", err)
			}
		}
	}

	// Recompute every tile from the entries and compare.
	level := leaves
	for tl := uint64(0); len(level) > 0; tl++ {
		for ti := uint64(0); ti*256 < uint64(len(level)); ti++ {
			want := level[ti*256 : min(ti*256+256, uint64(len(level)))]
			raw, err := src.ReadTile(ctx, tl, ti, partial(uint64(len(want))))
			if err != nil {
				return nil, fmt.Errorf("monitor: read tile %d/%d: %w", tl, ti, err)
			}
			got, err := parseTile(raw)
			if err != nil {
				return nil, fmt.Errorf("monitor: %w: tile %d/%d: %v", ErrTampered, tl, ti, err)
			}
			if len(got) < len(want) {
				return nil, fmt.Errorf("monitor: %w: tile %d/%d holds %d hashes, want %d", ErrTampered, tl, ti, len(got), len(want))
			}
			for k := range want {
				if !bytes.Equal(got[k], want[k]) {
					where := fmt.Sprintf("tile %d/%d hash %d", tl, ti, k)
					if tl == 0 {
						where = fmt.Sprintf("entry %d: leaf hash differs from tile 0/%d", ti*256+uint64(k), ti)
					}
					return nil, fmt.Errorf("monitor: %w: %s", ErrTampered, where)
				}
			}
			rep.Tiles++
		}
		level = up(level, tileHeight)
	}

	root, err := rootOf(rng)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	if !bytes.Equal(root, cp.Hash) {
		return nil, fmt.Errorf("monitor: %w: %d entries hash to %x, checkpoint says %x", ErrTampered, cp.Size, root, cp.Hash)
	}
	if since != nil && !bytes.Equal(sinceRoot, since.Hash) {
		return nil, fmt.Errorf("monitor: %w: first %d entries hash to %x, earlier checkpoint says %x", ErrInconsistent, since.Size, sinceRoot, since.Hash)
	}
	return rep, nil
}

func rootOf(r *compact.Range) ([]byte, error) {
	if r.End() == 0 {
		return rfc6962.DefaultHasher.EmptyRoot(), nil
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		return nil, errors.New("compute root: " + err.Error())
	}
	return root, nil
}

// up returns the complete nodes h levels above level.
func up(level [][]byte, h int) [][]byte {
	for range h {
		next := make([][]byte, len(level)/2)
		for i := range next {
			next[i] = rfc6962.DefaultHasher.HashChildren(level[2*i], level[2*i+1])
		}
		level = next
	}
	return level
}

// partial returns the tlog-tiles partial width for a tile or bundle of
// width entries (0 for a full one).
func partial(width uint64) uint8 {
	if width >= 256 {
		return 0
	}
	return uint8(width)
}
