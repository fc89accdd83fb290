package witness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// fileState keeps the latest checkpoint a witness cosigned for each log,
// one file per origin (named by the SHA-256 of the origin) under dir,
// replaced by atomic rename. It implements the transparency-dev witness's
// LogStatePersistence. One process should serve a witness directory.
type fileState struct {
	dir string
	mu  sync.Mutex
}

func (s *fileState) Init(context.Context) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("init witness state: %w", err)
	}
	return nil
}

func (s *fileState) path(origin string) string {
	h := sha256.Sum256([]byte(origin))
	return filepath.Join(s.dir, hex.EncodeToString(h[:]))
}

// Latest returns the stored checkpoint for origin, or nil if there is none.
func (s *fileState) Latest(_ context.Context, origin string) ([]byte, error) {
	b, err := os.ReadFile(s.path(origin))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read witness state: %w", err)
	}
	return b, nil
}

// Update calls f with the stored checkpoint (nil if none) and stores what
// it returns, unless it returns an error. Updates are serialised.
func (s *fileState) Update(ctx context.Context, origin string, f func([]byte) ([]byte, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.Latest(ctx, origin)
	if err != nil {
		return err
	}
	next, err := f(cur)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path(origin), next, 0o600)
}

// writeFileAtomic writes b to a temporary file beside path, syncs it and
// renames it over path, so that a crash leaves the old or the new content.
func writeFileAtomic(path string, b []byte, mode fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
