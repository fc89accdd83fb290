package assess

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/clearance-dev/clearance/target"
)

// ResponseCache stores successful model responses by a key that the
// runner derives from the target's identity and the full request. Get
// reports a miss with false; Put may keep an existing entry. *Cache is
// one on disk; the review service keeps one in its database so that
// shards retried on another machine repeat no model call.
type ResponseCache interface {
	Get(key string) (resp target.Response, ok bool)
	Put(key string, resp target.Response) error
}

var _ ResponseCache = (*Cache)(nil)

// Cache is a content-addressed store of model responses on disk, keyed by
// the target's identity and the full request. Only successful responses
// are stored, so a failure is always retried on the next run. Entries are
// written atomically (temporary file and rename), so a killed process
// leaves either a whole entry or none. A Cache is safe for concurrent use
// by any number of processes sharing the directory.
type Cache struct {
	dir string
}

// OpenCache returns the cache rooted at dir, creating it if needed.
func OpenCache(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open response cache: %w", err)
	}
	return &Cache{dir: dir}, nil
}

// cacheKey is the SHA-256 of the target identity and the canonical JSON of
// the request; JSON of a Go struct has a fixed field order, so equal
// requests give equal keys.
func cacheKey(identity string, req target.Request) (string, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("encode request: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "clearance-response-cache/v1\n%d:%s\n", len(identity), identity)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (c *Cache) path(key string) string {
	return filepath.Join(c.dir, key[:2], key[2:]+".json")
}

// Get returns the cached response for key; ok is false on a miss. A
// corrupt entry is treated as a miss (and will be overwritten).
func (c *Cache) Get(key string) (resp target.Response, ok bool) {
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return target.Response{}, false
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return target.Response{}, false
	}
	return resp, true
}

// Put stores resp under key.
func (c *Cache) Put(key string, resp target.Response) error {
	b, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("encode cached response: %w", err)
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("cache response: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache response: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("cache response: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("cache response: %w", err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("cache response: %w", err)
	}
	return nil
}

// Len counts the entries in the cache (for tests and `clearance cache`).
func (c *Cache) Len() (int, error) {
	n := 0
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && filepath.Ext(p) == ".json" {
			n++
		}
		return nil
	})
	return n, err
}
