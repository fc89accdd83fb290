package challenge

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/clearance-dev/clearance/sandbox"
)

// External task directories (`--tasks DIR`): DIR holds one subdirectory
// per task, each with a task.yaml:
//
//	id: my-task              # required: [A-Za-z0-9][A-Za-z0-9._-]*, ≤ 100, unique in DIR
//	category: web            # required: crypto, reversing, web, pwn, forensics or misc
//	difficulty: 2            # required: 1, 2 or 3
//	prompt: |                # required: the task statement (no flag)
//	  The app at http://127.0.0.1:8080/ …
//	flag_sha256: 3b1f…       # required: hex SHA-256 of the flag; never the flag itself
//	files:                   # optional: task-dir-relative paths, copied into the workspace
//	  - chal.bin             #   (same relative path; executable bit kept)
//	  - {path: app.py, hidden: true, mode: 0o755}   # hidden: into /srv instead
//	setup:                   # optional: commands run in the box before the agent starts
//	  - gcc -o chal chal.c && rm chal.c
//	services:                # optional: started from /srv, waited for on 127.0.0.1:port
//	  - {command: "python3 /srv/app.py 8080", port: 8080}
//	solution: solution.sh    # optional; default solution.sh when the file exists
//	source: https://…        # optional provenance, not shown to the agent
//
// Besides files:, everything under the task's files/ subdirectory is
// copied into the workspace and everything under srv/ into /srv (hidden).
// Tasks load with Generator "external", ID "external/<id>", Seed 0, and
// no known flag: scoring uses FlagSHA256 only.

// ExternalGenerator is the Generator name of tasks loaded from a directory.
const ExternalGenerator = "external"

// Misc is the category of imported tasks that fit none of ours (picoCTF
// "General Skills", Cybench "misc"); only external tasks use it.
const Misc = "misc"

// TaskFile is the name of the task description in a task directory.
const TaskFile = "task.yaml"

// ErrTaskFormat is returned (wrapped, naming file and field) for an
// invalid external task.
var ErrTaskFormat = errors.New("invalid task")

// maxTaskBytes bounds the files of one external task.
const maxTaskBytes = 64 << 20

var (
	taskIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	hexSHA256     = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
)

// taskSpec is task.yaml as written.
type taskSpec struct {
	ID         string        `yaml:"id"`
	Category   string        `yaml:"category"`
	Difficulty int           `yaml:"difficulty"`
	Prompt     string        `yaml:"prompt"`
	FlagSHA256 string        `yaml:"flag_sha256"`
	Files      []taskFileRef `yaml:"files,omitempty"`
	Setup      []string      `yaml:"setup,omitempty"`
	Services   []taskService `yaml:"services,omitempty"`
	Solution   string        `yaml:"solution,omitempty"`
	Source     string        `yaml:"source,omitempty"`
}

// taskFileRef is one entry of files: a path, or {path, hidden, mode}.
type taskFileRef struct {
	Path   string `yaml:"path"`
	Hidden bool   `yaml:"hidden,omitempty"`
	Mode   uint32 `yaml:"mode,omitempty"`
}

func (f *taskFileRef) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&f.Path)
	}
	type plain taskFileRef
	var p plain
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a path or {path, hidden, mode}", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k != "path" && k != "hidden" && k != "mode" {
			return fmt.Errorf("line %d: unknown key %q (want path, hidden, mode)", n.Content[i].Line, k)
		}
	}
	if err := n.Decode(&p); err != nil {
		return err
	}
	*f = taskFileRef(p)
	return nil
}

type taskService struct {
	Command string `yaml:"command"`
	Port    int    `yaml:"port,omitempty"`
}

// parseTaskSpec decodes and validates task.yaml's text (name is the path
// used in errors); it checks everything that needs no file system.
func parseTaskSpec(name string, data []byte) (*taskSpec, error) {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: field %s: %s", ErrTaskFormat, name, field, fmt.Sprintf(format, args...))
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTaskFormat, name, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: %s: empty file", ErrTaskFormat, name)
	}
	if _, ok := raw["flag"]; ok {
		return nil, bad("flag", "the flag must never be stored in clear; give flag_sha256 (hex SHA-256 of the flag)")
	}
	var s taskSpec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTaskFormat, name, err)
	}
	switch {
	case s.ID == "":
		return nil, bad("id", "missing")
	case !taskIDPattern.MatchString(s.ID):
		return nil, bad("id", "%q: want letters, digits, '.', '_', '-' (at most 100, starting with a letter or digit)", s.ID)
	case s.Category == "":
		return nil, bad("category", "missing")
	case !slices.Contains(Categories, s.Category) && s.Category != Misc:
		return nil, bad("category", "%q: want one of %s, %s", s.Category, strings.Join(Categories, ", "), Misc)
	case s.Difficulty < 1 || s.Difficulty > 3:
		return nil, bad("difficulty", "%d: want 1, 2 or 3", s.Difficulty)
	case strings.TrimSpace(s.Prompt) == "":
		return nil, bad("prompt", "missing")
	case s.FlagSHA256 == "":
		return nil, bad("flag_sha256", "missing")
	case !hexSHA256.MatchString(s.FlagSHA256):
		return nil, bad("flag_sha256", "want 64 hex digits (the SHA-256 of the flag)")
	case CheckHash(strings.ToLower(s.FlagSHA256), s.Prompt):
		return nil, bad("prompt", "holds the flag")
	}
	s.FlagSHA256 = strings.ToLower(s.FlagSHA256)
	for i, f := range s.Files {
		if err := checkRelPath(f.Path); err != nil {
			return nil, bad(fmt.Sprintf("files[%d].path", i), "%v", err)
		}
		if f.Mode > 0o777 {
			return nil, bad(fmt.Sprintf("files[%d].mode", i), "%#o: want permission bits (≤ 0o777)", f.Mode)
		}
	}
	for i, c := range s.Setup {
		if strings.TrimSpace(c) == "" {
			return nil, bad(fmt.Sprintf("setup[%d]", i), "empty command")
		}
	}
	for i, sv := range s.Services {
		if strings.TrimSpace(sv.Command) == "" {
			return nil, bad(fmt.Sprintf("services[%d].command", i), "missing")
		}
		if sv.Port < 0 || sv.Port > 65535 {
			return nil, bad(fmt.Sprintf("services[%d].port", i), "%d: want 1–65535 (or 0: do not wait)", sv.Port)
		}
	}
	if s.Solution != "" {
		if err := checkRelPath(s.Solution); err != nil {
			return nil, bad("solution", "%v", err)
		}
	}
	return &s, nil
}

// checkRelPath accepts a relative, slash-separated path inside the task.
func checkRelPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.HasPrefix(p, "/") || filepath.IsAbs(p):
		return fmt.Errorf("%q: want a path relative to the task directory", p)
	case strings.Contains(p, "\\") || strings.ContainsRune(p, 0):
		return fmt.Errorf("%q: want a slash-separated path", p)
	case path.Clean(p) != p || p == "." || strings.HasPrefix(p, "../") || p == "..":
		return fmt.Errorf("%q: want a clean path inside the task directory (no .., no //)", p)
	}
	return nil
}

// LoadTasks reads every task subdirectory of dir (see the format above).
// Subdirectories whose name starts with "." are ignored, as are files at
// the top level (a README, the importers' skipped.txt). Every problem is
// reported, each naming its file and field.
func LoadTasks(dir string) ([]*Task, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load tasks: %w", err)
	}
	var tasks []*Task
	var errs []error
	seen := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		t, err := loadTask(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, ok := seen[t.ID]; ok {
			errs = append(errs, fmt.Errorf("%w: %s: field id: %q already used by %s", ErrTaskFormat,
				filepath.Join(dir, e.Name(), TaskFile), strings.TrimPrefix(t.ID, ExternalGenerator+"/"), prev))
			continue
		}
		seen[t.ID] = filepath.Join(dir, e.Name(), TaskFile)
		tasks = append(tasks, t)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("load tasks from %s: %w", dir, err)
	}
	if len(tasks) == 0 {
		return nil, fmt.Errorf("load tasks: %w: %s holds no task directory (each needs a %s)", ErrTaskFormat, dir, TaskFile)
	}
	return tasks, nil
}

func loadTask(dir string) (*Task, error) {
	name := filepath.Join(dir, TaskFile)
	data, err := os.ReadFile(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s: missing", ErrTaskFormat, name)
		}
		return nil, fmt.Errorf("load task: %w", err)
	}
	s, err := parseTaskSpec(name, data)
	if err != nil {
		return nil, err
	}
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: field %s: %s", ErrTaskFormat, name, field, fmt.Sprintf(format, args...))
	}
	t := &Task{
		ID: ExternalGenerator + "/" + s.ID, Generator: ExternalGenerator, Category: s.Category,
		Difficulty: s.Difficulty, Prompt: s.Prompt, FlagSHA256: s.FlagSHA256,
	}
	var total int64
	add := func(field, rel, dst string, hidden bool, mode uint32) error {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		if err := insideDir(dir, full); err != nil {
			return bad(field, "%s: %v", rel, err)
		}
		fi, err := os.Lstat(full)
		if err != nil {
			return bad(field, "%s: %v", rel, errors.Unwrap(err))
		}
		if !fi.Mode().IsRegular() {
			return bad(field, "%s: not a regular file", rel)
		}
		if total += fi.Size(); total > maxTaskBytes {
			return bad(field, "the task's files exceed %d MiB", maxTaskBytes>>20)
		}
		b, err := os.ReadFile(full)
		if err != nil {
			return bad(field, "%s: %v", rel, err)
		}
		if mode == 0 {
			mode = 0o644
			if fi.Mode().Perm()&0o111 != 0 {
				mode = 0o755
			}
		}
		for _, f := range t.Files {
			if f.Path == dst && f.Hidden == hidden {
				return bad(field, "%s: listed twice", dst)
			}
		}
		t.Files = append(t.Files, sandbox.File{Path: dst, Data: b, Mode: mode, Hidden: hidden})
		return nil
	}
	for i, f := range s.Files {
		if err := add(fmt.Sprintf("files[%d].path", i), f.Path, f.Path, f.Hidden, f.Mode); err != nil {
			return nil, err
		}
	}
	for _, sub := range []struct {
		dir    string
		hidden bool
	}{{"files", false}, {"srv", true}} {
		root := filepath.Join(dir, sub.dir)
		if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
			continue
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			return add(sub.dir+"/", sub.dir+"/"+rel, rel, sub.hidden, 0)
		})
		if err != nil {
			if errors.Is(err, ErrTaskFormat) {
				return nil, err
			}
			return nil, bad(sub.dir+"/", "%v", err)
		}
	}
	for _, c := range s.Setup {
		t.Setup = append(t.Setup, sandbox.Step{Command: c})
	}
	for _, sv := range s.Services {
		t.Services = append(t.Services, sandbox.Service{Command: sv.Command, Port: sv.Port})
	}
	sol := s.Solution
	if sol == "" {
		if _, err := os.Stat(filepath.Join(dir, "solution.sh")); err == nil {
			sol = "solution.sh"
		}
	}
	if sol != "" {
		if err := insideDir(dir, filepath.Join(dir, filepath.FromSlash(sol))); err != nil {
			return nil, bad("solution", "%s: %v", sol, err)
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(sol)))
		if err != nil {
			return nil, bad("solution", "%s: %v", sol, errors.Unwrap(err))
		}
		t.Solution = string(b)
	}
	return t, nil
}

// writeTaskDir writes one task in our format to outDir/<id> (via a
// temporary directory renamed into place): task.yaml, the files under
// files/, and solution.sh when there is one. The flag is never written.
func writeTaskDir(outDir string, s *taskSpec, files map[string][]byte, modes map[string]fs.FileMode) error {
	final := filepath.Join(outDir, s.ID)
	if _, err := os.Lstat(final); err == nil {
		return fmt.Errorf("write task %s: %s exists; import into a fresh directory", s.ID, final)
	}
	tmp, err := os.MkdirTemp(outDir, ".import-")
	if err != nil {
		return fmt.Errorf("write task %s: %w", s.ID, err)
	}
	defer os.RemoveAll(tmp)
	for rel, data := range files {
		p := filepath.Join(tmp, "files", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write task %s: %w", s.ID, err)
		}
		mode := modes[rel]
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			return fmt.Errorf("write task %s: %w", s.ID, err)
		}
	}
	y, err := yaml.Marshal(s)
	if err != nil {
		return fmt.Errorf("write task %s: %w", s.ID, err)
	}
	header := "# Imported by clearance; the flag is stored only as its SHA-256.\n"
	if err := os.WriteFile(filepath.Join(tmp, TaskFile), append([]byte(header), y...), 0o644); err != nil {
		return fmt.Errorf("write task %s: %w", s.ID, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("write task %s: %w", s.ID, err)
	}
	return os.Chmod(final, 0o755)
}

// insideDir checks that path, with every symbolic link on the way
// resolved, is inside dir: a task directory must not pull a host file
// (a symlinked "sub/" pointing at /etc) into a box.
func insideDir(dir, path string) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return errors.Unwrap(err)
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return errors.New("leads outside the task directory through a symbolic link")
	}
	return nil
}
