package sandbox

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// executorPath is where the executor script is bound, read-only, in
// every box.
const executorPath = "/etc/clearance-executor.py"

// boxUID is the user commands run as inside every box ("ctf").
const boxUID = 1000

//go:embed executor.py
var executorScript string

// Config configures a Runner. The zero value runs bubblewrap from PATH.
type Config struct {
	// Backend is Bubblewrap ("bwrap", the default when empty) or GVisor
	// ("runsc").
	Backend string
	// Tools are extra host paths bound read-only at the same path inside
	// every box (e.g. /opt/ghidra). Paths that do not exist are skipped.
	Tools []string
	// Logger receives one line per box start and close; nil discards.
	Logger *slog.Logger
	// UID and GID are the unprivileged host user and group the backend
	// runs as when this process is root (0 = 65534, "nobody"). Running as
	// a non-root user is what makes RLIMIT_NPROC bind: the kernel exempts
	// host root from it. Ignored when this process is not root.
	UID, GID int
	// Dir is where per-box host directories are made (default
	// os.TempDir()). It must be traversable by UID.
	Dir string
	// Program is the backend's executable (default: "bwrap" or "runsc"
	// looked up in PATH).
	Program string
}

func (c Config) validate() error {
	switch c.Backend {
	case Bubblewrap, GVisor:
	default:
		return fmt.Errorf("backend %q: want %q or %q", c.Backend, Bubblewrap, GVisor)
	}
	if c.UID < 0 || c.GID < 0 {
		return errors.New("uid and gid must not be negative")
	}
	for i, t := range c.Tools {
		if !path.IsAbs(t) || path.Clean(t) != t || t == "/" {
			return fmt.Errorf("tools[%d] %q: want a clean absolute path other than /", i, t)
		}
	}
	return nil
}

// Runner starts boxes on one backend. It is safe for concurrent use;
// boxes are independent of each other.
type Runner struct {
	cfg Config
	log *slog.Logger

	shimOnce sync.Once
	shim     string // runsc only: see statxShim
}

// New returns a Runner for cfg, or an error naming the invalid field. It
// does not look for the backend's program: Check does.
func New(cfg Config) (*Runner, error) {
	if cfg.Backend == "" {
		cfg.Backend = Bubblewrap
	}
	if cfg.UID == 0 {
		cfg.UID = 65534
	}
	if cfg.GID == 0 {
		cfg.GID = 65534
	}
	if cfg.Dir == "" {
		cfg.Dir = os.TempDir()
		// Boxes run as Config.UID when the host process is root: their
		// host directory must be reachable by that user, and a private
		// TMPDIR (a 0700 service data directory, a test's work dir) is
		// not; /tmp is.
		if os.Geteuid() == 0 && !othersCanTraverse(cfg.Dir) {
			cfg.Dir = "/tmp"
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new sandbox runner: %w", err)
	}
	if cfg.Program == "" {
		cfg.Program = cfg.Backend
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, log: log}, nil
}

// Backend returns the backend's name, "bwrap" or "runsc".
func (r *Runner) Backend() string { return r.cfg.Backend }

// Check starts a box and runs one command in it. It returns nil when the
// backend works, or an error wrapping ErrUnavailable that names what is
// missing.
func (r *Runner) Check(ctx context.Context) error {
	if _, err := exec.LookPath(r.cfg.Program); err != nil {
		pkg := "bubblewrap"
		if r.cfg.Backend == GVisor {
			pkg = "runsc"
		}
		return fmt.Errorf("%w: %s not found: apt-get install %s", ErrUnavailable, r.cfg.Program, pkg)
	}
	for _, p := range []string{"/bin/bash", "/usr/bin/python3"} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w: %s not found (the box's shell and executor need it)", ErrUnavailable, p)
		}
	}
	b, err := r.Start(ctx, Spec{})
	if errors.Is(err, ErrUnavailable) {
		return err // already says what is missing
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer b.Close()
	res, err := b.Exec(ctx, "echo ok", 30*time.Second)
	if err != nil {
		return fmt.Errorf("%w: run in %s box: %v", ErrUnavailable, r.cfg.Backend, err)
	}
	if res.ExitCode != 0 || res.Stdout != "ok\n" {
		return fmt.Errorf("%w: %s box ran echo with status %d, output %q", ErrUnavailable, r.cfg.Backend, res.ExitCode, res.Stdout)
	}
	return nil
}

// validate checks a Spec, naming the first invalid field.
func (s Spec) validate() error {
	seen := map[string]bool{}
	for i, f := range s.Files {
		if err := checkPath(f.Path); err != nil {
			return fmt.Errorf("%w: Files[%d].Path %q: %v", ErrSpec, i, f.Path, err)
		}
		key := fmt.Sprint(f.Hidden, f.Path)
		if seen[key] {
			return fmt.Errorf("%w: Files[%d].Path %q: duplicate", ErrSpec, i, f.Path)
		}
		seen[key] = true
		if f.Mode&^0o777 != 0 {
			return fmt.Errorf("%w: Files[%d].Mode %o: only permission bits allowed", ErrSpec, i, f.Mode)
		}
	}
	for i, st := range s.Setup {
		if strings.TrimSpace(st.Command) == "" {
			return fmt.Errorf("%w: Setup[%d].Command: empty", ErrSpec, i)
		}
	}
	for i, sv := range s.Services {
		if strings.TrimSpace(sv.Command) == "" {
			return fmt.Errorf("%w: Services[%d].Command: empty", ErrSpec, i)
		}
		if sv.Port < 0 || sv.Port > 65535 {
			return fmt.Errorf("%w: Services[%d].Port %d: out of range", ErrSpec, i, sv.Port)
		}
	}
	l := s.Limits
	for _, c := range []struct {
		name string
		v    int64
	}{
		{"CPUSeconds", int64(l.CPUSeconds)}, {"MemoryBytes", l.MemoryBytes},
		{"Processes", int64(l.Processes)}, {"FileBytes", l.FileBytes},
		{"DiskBytes", l.DiskBytes}, {"Command", int64(l.Command)}, {"Lifetime", int64(l.Lifetime)},
	} {
		if c.v < 0 {
			return fmt.Errorf("%w: Limits.%s %d: negative", ErrSpec, c.name, c.v)
		}
	}
	return nil
}

func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty")
	case strings.HasPrefix(p, "/"):
		return errors.New("absolute")
	case strings.ContainsRune(p, 0) || strings.Contains(p, "\\"):
		return errors.New("NUL or backslash")
	}
	for _, el := range strings.Split(p, "/") {
		switch el {
		case "..":
			return errors.New(`contains ".."`)
		case "", ".":
			return errors.New("not clean")
		}
	}
	return nil
}

// Box is one running sandbox. Exec calls are serialised; Close may be
// called at any time, from any goroutine, and more than once.
type Box struct {
	r       *Runner
	dir     string // host-side directory, removed by Close
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan []byte   // executor answers; closed when its stdout ends
	exited  chan struct{} // closed when the backend process was waited for
	stderr  *capBuffer
	lim     Limits
	secrets [][]byte // Stdin of steps and services, redacted from errors
	timer   *time.Timer
	id      string // runsc container id

	dead     chan struct{} // closed by kill: stops the reader
	deadOnce sync.Once

	mu        sync.Mutex // serialises calls to the executor
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Start starts a box for spec: the workspace /home/ctf gets spec's files
// (hidden ones go to /srv, read-only), the Setup steps run in order, the
// Services start and Start waits until each one's Port accepts
// connections. On any error the box is closed and nothing is left behind.
// Errors wrap ErrSpec for an invalid spec (naming the field) and
// ErrUnavailable when the backend cannot start; a failing step or service
// is reported with its index and exit status, with its Stdin redacted.
func (r *Runner) Start(ctx context.Context, spec Spec) (*Box, error) {
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("start box: %w", err)
	}
	b := &Box{r: r, lim: spec.Limits.withDefaults(), stderr: &capBuffer{max: 8 << 10}, dead: make(chan struct{})}
	for _, st := range spec.Setup {
		b.addSecret(st.Stdin)
	}
	for _, sv := range spec.Services {
		b.addSecret(sv.Stdin)
	}
	if err := b.start(ctx, spec); err != nil {
		b.Close()
		return nil, fmt.Errorf("start %s box: %w", r.cfg.Backend, err)
	}
	r.log.Debug("sandbox started", "backend", r.cfg.Backend, "dir", b.dir)
	return b, nil
}

func (b *Box) addSecret(s []byte) {
	if t := bytes.TrimSpace(s); len(t) >= 4 {
		b.secrets = append(b.secrets, t)
	}
}

func (b *Box) redact(s string) string {
	for _, sec := range b.secrets {
		s = strings.ReplaceAll(s, string(sec), "[redacted]")
	}
	return s
}

func (b *Box) start(ctx context.Context, spec Spec) error {
	dir, err := os.MkdirTemp(b.r.cfg.Dir, "clearance-box-")
	if err != nil {
		return fmt.Errorf("%w: make host dir: %v", ErrUnavailable, err)
	}
	b.dir = dir
	if err := b.stage(spec); err != nil {
		return err
	}
	drop := 0
	if b.r.cfg.Backend == GVisor {
		drop = boxUID
	}
	lim, _ := json.Marshal(map[string]int64{
		"as": b.lim.MemoryBytes, "cpu": int64(b.lim.CPUSeconds),
		"fsize": b.lim.FileBytes, "nproc": int64(b.lim.Processes),
		"uid": int64(drop),
	})
	argv := []string{"/usr/bin/python3", "-I", "-S", executorPath, string(lim)}
	var cmd *exec.Cmd
	switch b.r.cfg.Backend {
	case GVisor:
		cmd, err = b.runscCommand(argv)
	default:
		cmd, err = b.bwrapCommand(argv)
	}
	if err != nil {
		return err
	}
	cmd.Dir = dir
	// The backend's own process (bwrap's init is PID 1 in the box, and
	// /proc/1/environ is readable there) gets no host variable: the
	// worker's environment may hold API keys.
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}
	cmd.Stderr = b.stderr
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if os.Geteuid() == 0 && b.r.cfg.Backend == Bubblewrap {
		// As host root, RLIMIT_NPROC would not bind: run as Config.UID.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(b.r.cfg.UID), Gid: uint32(b.r.cfg.GID), Groups: []uint32{}}
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		closeExtra(cmd)
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		closeExtra(cmd)
		return err
	}
	b.stdin = stdin
	err = cmd.Start()
	closeExtra(cmd)
	if err != nil {
		return fmt.Errorf("%w: run %s: %v", ErrUnavailable, b.r.cfg.Program, err)
	}
	b.cmd = cmd
	b.lines = make(chan []byte, 4)
	b.exited = make(chan struct{})
	go b.read(stdout)
	go func() { cmd.Wait(); close(b.exited) }()
	b.timer = time.AfterFunc(b.lim.Lifetime, b.kill)

	// The executor says it is ready before anything else.
	select {
	case line, ok := <-b.lines:
		if !ok || !bytes.Contains(line, []byte(`"ready"`)) {
			select { // let the backend's stderr be collected
			case <-b.exited:
			case <-time.After(5 * time.Second):
			}
			return fmt.Errorf("%w: box did not start: %s", ErrUnavailable, b.stderrText())
		}
	case <-time.After(60 * time.Second):
		return fmt.Errorf("%w: box did not start within 60s: %s", ErrUnavailable, b.stderrText())
	case <-ctx.Done():
		return ctx.Err()
	}

	for i, f := range spec.Files {
		if f.Hidden {
			continue
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		var rep reply
		if err := b.call(ctx, map[string]any{"op": "put", "path": f.Path, "mode": mode, "data": f.Data}, time.Minute, &rep); err != nil {
			return fmt.Errorf("write Files[%d] %s: %w", i, f.Path, err)
		}
		if rep.Error != "" {
			return fmt.Errorf("write Files[%d]: %s", i, rep.Error)
		}
	}
	for i, st := range spec.Setup {
		res, err := b.run(ctx, st.Command, "/home/ctf", st.Stdin, b.lim.Command)
		if err != nil {
			return fmt.Errorf("run Setup[%d]: %w", i, err)
		}
		if res.ExitCode != 0 || res.TimedOut {
			return fmt.Errorf("run Setup[%d]: exit status %d (timed out %v): %s", i, res.ExitCode, res.TimedOut, b.redact(tail(res.Stderr, 1024)))
		}
	}
	for i, sv := range spec.Services {
		var rep reply
		if err := b.call(ctx, map[string]any{"op": "service", "cmd": sv.Command, "cwd": "/srv", "stdin": sv.Stdin}, time.Minute, &rep); err != nil {
			return fmt.Errorf("start Services[%d]: %w", i, err)
		}
		if rep.Error != "" {
			return fmt.Errorf("start Services[%d]: %s", i, rep.Error)
		}
		if sv.Port == 0 {
			continue
		}
		var wr reply
		if err := b.call(ctx, map[string]any{"op": "wait_port", "port": sv.Port, "pid": rep.PID, "timeout": 30}, 45*time.Second, &wr); err != nil {
			return fmt.Errorf("wait for Services[%d] port %d: %w", i, sv.Port, err)
		}
		if wr.Error != "" {
			return fmt.Errorf("wait for Services[%d]: %s: %s", i, wr.Error, b.redact(tail(wr.Stderr, 1024)))
		}
	}
	return nil
}

// stage writes the host-side files the backend binds read-only: a minimal
// /etc and the hidden files for /srv.
func (b *Box) stage(spec Spec) error {
	root := os.Geteuid() == 0
	uid, gid := b.r.cfg.UID, b.r.cfg.GID
	if b.r.cfg.Backend == GVisor {
		// runsc runs as root and shows host owners unmapped: give the
		// files to the box's own user.
		uid, gid = 1000, 1000
	}
	own := func(p string) error {
		if !root {
			return nil
		}
		return os.Lchown(p, uid, gid)
	}
	if err := os.Chmod(b.dir, 0o700); err != nil {
		return err
	}
	dirOwner := own
	if b.r.cfg.Backend == GVisor {
		// runsc (root) reads the host dir; host uid 1000 is some other
		// user here, so the dir stays root's and closes the files off.
		dirOwner = func(string) error { return nil }
	}
	if err := dirOwner(b.dir); err != nil {
		return fmt.Errorf("%w: give host dir to uid %d: %v", ErrUnavailable, uid, err)
	}
	etc := map[string]string{
		"passwd":        "root:x:0:0:root:/root:/usr/sbin/nologin\nctf:x:1000:1000:ctf:/home/ctf:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		"group":         "root:x:0:\nctf:x:1000:\nnogroup:x:65534:\n",
		"hosts":         "127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost\n",
		"hostname":      "box\n",
		"nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
	}
	for _, d := range []string{"etc", "srv"} {
		if err := os.Mkdir(path.Join(b.dir, d), 0o755); err != nil {
			return err
		}
		if err := own(path.Join(b.dir, d)); err != nil {
			return err
		}
	}
	etc[path.Base(executorPath)] = executorScript
	for name, data := range etc {
		if err := os.WriteFile(path.Join(b.dir, "etc", name), []byte(data), 0o644); err != nil {
			return err
		}
	}
	for _, f := range spec.Files {
		if !f.Hidden {
			continue
		}
		p := path.Join(b.dir, "srv", f.Path)
		for d := path.Dir(p); len(d) > len(b.dir)+4; d = path.Dir(d) {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			own(d)
		}
		mode := os.FileMode(f.Mode)
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(p, f.Data, 0o600); err != nil {
			return err
		}
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
		if err := own(p); err != nil {
			return err
		}
	}
	return nil
}

// read passes the executor's answer lines to b.lines. A line longer than
// maxLine (the executor never writes one) means the protocol is broken,
// and the box is killed.
func (b *Box) read(r io.Reader) {
	defer close(b.lines)
	const maxLine = 1 << 20
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		var line []byte
		for {
			frag, err := br.ReadSlice('\n')
			line = append(line, frag...)
			if len(line) > maxLine {
				b.kill()
				return
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				return
			}
			break
		}
		select {
		case b.lines <- line:
		case <-b.dead:
			return
		}
	}
}

// reply is the union of the executor's answers.
type reply struct {
	ID     uint64 `json:"id"`
	Error  string `json:"error"`
	Stderr string `json:"stderr"`
	PID    int    `json:"pid"`
}

// call sends one request and waits up to wait for its answer. A cancelled
// ctx or a missing answer kills the box: a command cannot be abandoned
// halfway and the box reused.
func (b *Box) call(ctx context.Context, req map[string]any, wait time.Duration, out any) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return ErrClosed
	}
	id := rand.Uint64() >> 11 // exact in a float64, as Python's json reads it
	req["id"] = id
	msg, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := b.stdin.Write(append(msg, '\n')); err != nil {
		b.kill()
		return fmt.Errorf("%w: box exited", ErrClosed)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-b.lines:
			if !ok {
				b.kill()
				return fmt.Errorf("%w: box exited", ErrClosed)
			}
			var head struct {
				ID uint64 `json:"id"`
			}
			if json.Unmarshal(line, &head) != nil || head.ID != id {
				continue // not an answer to this request
			}
			if err := json.Unmarshal(line, out); err != nil {
				b.kill()
				return fmt.Errorf("%w: bad answer from box: %v", ErrClosed, err)
			}
			return nil
		case <-timer.C:
			b.kill()
			return fmt.Errorf("%w: box did not answer within %s", ErrClosed, wait)
		case <-ctx.Done():
			b.kill()
			return ctx.Err()
		}
	}
}

// runReply is the executor's answer to "run".
type runReply struct {
	Error    string  `json:"error"`
	Exit     int     `json:"exit"`
	Stdout   []byte  `json:"stdout"`
	Stderr   []byte  `json:"stderr"`
	DOut     int64   `json:"dout"`
	DErr     int64   `json:"derr"`
	TimedOut bool    `json:"timed_out"`
	MS       float64 `json:"ms"`
}

func (b *Box) run(ctx context.Context, command, cwd string, stdin []byte, timeout time.Duration) (Result, error) {
	var rep runReply
	req := map[string]any{"op": "run", "cmd": command, "cwd": cwd, "stdin": stdin,
		"timeout": timeout.Seconds(), "limit": OutputLimit}
	if err := b.call(ctx, req, timeout+30*time.Second, &rep); err != nil {
		return Result{}, err
	}
	if rep.Error != "" {
		// The executor could not fork: the box is out of processes.
		return Result{ExitCode: -1, Stderr: rep.Error + "\n"}, nil
	}
	res := Result{
		ExitCode:   rep.Exit,
		Stdout:     string(rep.Stdout) + marker(rep.DOut),
		Stderr:     string(rep.Stderr) + marker(rep.DErr),
		Truncated:  rep.DOut > 0 || rep.DErr > 0,
		TimedOut:   rep.TimedOut,
		DurationMS: rep.MS,
	}
	if rep.TimedOut {
		res.ExitCode = -1
	}
	return res, nil
}

func marker(n int64) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("\n[… output truncated: %d bytes not shown]\n", n)
}

// Exec runs command with bash -c in /home/ctf and returns what it did.
// timeout bounds its wall time (0 = the box's Limits.Command); at the
// timeout its process group is killed and Result.TimedOut is set. Each
// stream is cut at OutputLimit bytes with a marker. Background processes
// it leaves keep running, but their output after the command exits is not
// collected. Exec returns ErrClosed (wrapped) after Close or when the box
// died, e.g. because the command killed it; a cancelled ctx closes the
// box and returns ctx.Err().
func (b *Box) Exec(ctx context.Context, command string, timeout time.Duration) (Result, error) {
	if timeout <= 0 {
		timeout = b.lim.Command
	}
	return b.run(ctx, command, "/home/ctf", nil, timeout)
}

// kill stops every process of the box without waiting.
func (b *Box) kill() {
	b.closed.Store(true)
	b.deadOnce.Do(func() { close(b.dead) })
	if b.cmd != nil && b.cmd.Process != nil {
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	}
	if b.r.cfg.Backend == GVisor && !b.hasExited() {
		b.runscKill()
	}
}

func (b *Box) hasExited() bool {
	if b.exited == nil {
		return false
	}
	select {
	case <-b.exited:
		return true
	default:
		return false
	}
}

// Close kills every process of the box and removes its host-side
// directory. It returns an error only when cleanup failed; later calls
// return the first call's result.
func (b *Box) Close() error {
	b.closeOnce.Do(func() {
		if b.timer != nil {
			b.timer.Stop()
		}
		if b.stdin != nil && b.exited != nil && !b.closed.Load() {
			// The executor exits at the end of its input, and the box's
			// PID namespace dies with it: every process in it is killed
			// by the kernel (gVisor: by the Sentry). Letting the backend
			// exit by itself is quicker than runsc kill, and leaves no
			// zombie bwrap reparented to the host's init. SIGKILL below
			// is the fallback.
			b.closed.Store(true)
			b.stdin.Close()
			select {
			case <-b.exited:
			case <-time.After(3 * time.Second):
			}
		}
		b.kill()
		if b.stdin != nil {
			b.stdin.Close()
		}
		if b.exited != nil {
			select {
			case <-b.exited:
			case <-time.After(30 * time.Second):
				b.closeErr = errors.New("close box: backend process did not exit")
			}
		}
		if b.r.cfg.Backend == GVisor {
			if err := b.runscDelete(); err != nil && b.closeErr == nil {
				b.closeErr = err
			}
		}
		if b.dir != "" {
			if err := os.RemoveAll(b.dir); err != nil && b.closeErr == nil {
				b.closeErr = fmt.Errorf("close box: %w", err)
			}
		}
		b.r.log.Debug("sandbox closed", "backend", b.r.cfg.Backend, "dir", b.dir)
	})
	return b.closeErr
}

func (b *Box) stderrText() string {
	s := strings.TrimSpace(b.stderr.String())
	if s == "" {
		return "no diagnostics"
	}
	return tail(s, 1024)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// capBuffer keeps the first max bytes written to it.
type capBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (c *capBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *capBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// othersCanTraverse reports whether every directory from / down to dir
// can be searched by users other than its owner and group.
func othersCanTraverse(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for p := abs; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if p == filepath.Dir(p) {
			return true
		}
	}
}
