package attest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// DefaultSignatureName is the file name OMS tools give a model signature
// written inside the model directory; it is never part of the manifest.
const DefaultSignatureName = "model.sig"

// gitPaths are ignored by default, as the OMS reference implementation does
// (ignore_git_paths=True): they are repository metadata, not the model.
var gitPaths = []string{".git", ".gitattributes", ".github", ".gitignore"}

// ErrSymlink is returned by HashModel when the directory contains a
// symbolic link: the OMS "files" method with allow_symlinks=false (the
// default) refuses them, since a link can point outside the model.
var ErrSymlink = errors.New("symbolic link in model directory")

// FileDigest is one resource of a manifest: a regular file, by its path
// relative to the model directory (slash-separated), and its SHA-256.
type FileDigest struct {
	Path   string
	Digest [sha256.Size]byte
	Size   int64
}

// Hex returns the file digest in lowercase hex.
func (f FileDigest) Hex() string { return hex.EncodeToString(f.Digest[:]) }

// Manifest is the OMS v1.0 "files" manifest of a model directory.
type Manifest struct {
	// Name is the model name: the directory's base name, as OMS uses it
	// for the statement subject.
	Name string
	// Files are the hashed files in OMS order (see ComparePaths).
	Files []FileDigest
	// Ignored are the ignore rules that were applied, slash-separated and
	// relative to the model directory, sorted.
	Ignored []string
}

// Root returns the OMS root digest: SHA-256 over the raw digests of Files in
// order. It is the model's identity.
func (m *Manifest) Root() [sha256.Size]byte {
	h := sha256.New()
	for _, f := range m.Files {
		h.Write(f.Digest[:])
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// RootHex returns Root in lowercase hex.
func (m *Manifest) RootHex() string {
	r := m.Root()
	return hex.EncodeToString(r[:])
}

// TotalSize returns the number of bytes hashed.
func (m *Manifest) TotalSize() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// ComparePaths orders slash-separated relative paths the way the OMS
// reference implementation does: it sorts pathlib.PurePosixPath values,
// which compare their lists of components, each compared by code point.
// For valid UTF-8, byte order equals code point order, so the only
// difference from a plain string sort is the separator: "a/b" sorts before
// "a.b" and "a-b" here (component "a" is a prefix of "a.b"), while a byte
// sort of whole strings puts "a-b" and "a.b" first because '-' and '.' are
// below '/'. Names that are not valid UTF-8 are refused by HashModel, so the
// two notions never need to be reconciled for them.
func ComparePaths(a, b string) int {
	for {
		ai, bi := strings.IndexByte(a, '/'), strings.IndexByte(b, '/')
		ac, bc := a, b
		if ai >= 0 {
			ac = a[:ai]
		}
		if bi >= 0 {
			bc = b[:bi]
		}
		if c := strings.Compare(ac, bc); c != 0 {
			return c
		}
		switch {
		case ai < 0 && bi < 0:
			return 0
		case ai < 0: // a ran out of components first
			return -1
		case bi < 0:
			return 1
		}
		a, b = a[ai+1:], b[bi+1:]
	}
}

// HashOptions configures HashModel. The zero value is the OMS default.
type HashOptions struct {
	// Workers is the number of files hashed at once; zero means
	// runtime.GOMAXPROCS(0).
	Workers int
	// Ignore lists extra paths to leave out, relative to the model
	// directory (a directory excludes everything below it). The OMS
	// defaults (.git, .gitattributes, .github, .gitignore and
	// DefaultSignatureName) always apply.
	Ignore []string
	// KeepGitPaths hashes the git metadata paths instead of ignoring them.
	KeepGitPaths bool
	// BufferSize is the read buffer per worker; zero means 1 MiB.
	BufferSize int
}

// HashModel computes the OMS manifest of the model directory dir. Files are
// streamed, never loaded whole, by a pool of workers taking the largest
// files first so that a few large weight files keep every core busy.
//
// It returns an error naming the file for an unreadable file, a symbolic
// link (ErrSymlink), a file name that is not valid UTF-8, or any other
// non-regular file; the context cancels the walk and the hashing.
func HashModel(ctx context.Context, dir string, opts HashOptions) (*Manifest, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("hash model %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("hash model: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("hash model %s: not a directory", dir)
	}
	ignored, err := ignoreList(opts)
	if err != nil {
		return nil, fmt.Errorf("hash model %s: %w", dir, err)
	}
	files, err := listFiles(ctx, abs, ignored)
	if err != nil {
		return nil, fmt.Errorf("hash model %s: %w", dir, err)
	}
	if err := hashFiles(ctx, abs, files, opts); err != nil {
		return nil, fmt.Errorf("hash model %s: %w", dir, err)
	}
	slices.SortFunc(files, func(a, b FileDigest) int { return ComparePaths(a.Path, b.Path) })
	return &Manifest{Name: filepath.Base(abs), Files: files, Ignored: ignored}, nil
}

func ignoreList(opts HashOptions) ([]string, error) {
	var out []string
	if !opts.KeepGitPaths {
		out = append(out, gitPaths...)
	}
	out = append(out, DefaultSignatureName)
	for _, p := range opts.Ignore {
		c := path.Clean(filepath.ToSlash(p))
		if c == "." || c == ".." || strings.HasPrefix(c, "../") || path.IsAbs(c) {
			return nil, fmt.Errorf("ignore path %q is not inside the model directory", p)
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func isIgnored(rel string, ignored []string) bool {
	for _, p := range ignored {
		if rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

func listFiles(ctx context.Context, root string, ignored []string) ([]FileDigest, error) {
	var files []FileDigest
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if isIgnored(rel, ignored) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !utf8.ValidString(rel) {
			return fmt.Errorf("file name %q is not valid UTF-8", rel)
		}
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			return fmt.Errorf("%s: %w", rel, ErrSymlink)
		case d.IsDir():
			return nil
		case !t.IsRegular():
			return fmt.Errorf("%s: not a regular file (%v)", rel, t)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, FileDigest{Path: rel, Size: info.Size()})
		return nil
	})
	return files, err
}

// hashFiles fills in the digests of files, largest first, with a worker
// pool. The OMS "files" method hashes each file whole, and SHA-256 is
// sequential, so parallelism is across files only.
func hashFiles(ctx context.Context, root string, files []FileDigest, opts HashOptions) error {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	bufSize := opts.BufferSize
	if bufSize <= 0 {
		bufSize = 1 << 20
	}
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(min(max(files[b].Size-files[a].Size, -1), 1)) })

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(files), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, bufSize)
			for i := range next {
				d, n, err := hashFile(ctx, filepath.Join(root, filepath.FromSlash(files[i].Path)), buf)
				if err != nil {
					cancel(fmt.Errorf("%s: %w", files[i].Path, err))
					continue
				}
				files[i].Digest, files[i].Size = d, n
			}
		}()
	}
feed:
	for _, i := range order {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// ctxReader stops a long copy promptly when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func hashFile(ctx context.Context, name string, buf []byte) ([sha256.Size]byte, int64, error) {
	var out [sha256.Size]byte
	f, err := os.Open(name)
	if err != nil {
		return out, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, ctxReader{ctx, f}, buf)
	if err != nil {
		return out, 0, err
	}
	h.Sum(out[:0])
	return out, n, nil
}
