package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	checkOnce sync.Map // backend → *checked
)

type checked struct {
	once sync.Once
	err  error
}

// runners returns a Runner for every backend that works here. A missing
// backend skips its subtests, but fails them under CLEARANCE_CI=1.
func forEachBackend(t *testing.T, f func(t *testing.T, r *Runner)) {
	t.Helper()
	for _, name := range []string{Bubblewrap, GVisor} {
		t.Run(name, func(t *testing.T) {
			r := newRunner(t, name)
			f(t, r)
		})
	}
}

func newRunner(t testing.TB, backend string) *Runner {
	t.Helper()
	r, err := New(Config{Backend: backend})
	if err != nil {
		t.Fatalf("New(%q) = %v", backend, err)
	}
	v, _ := checkOnce.LoadOrStore(backend, &checked{})
	c := v.(*checked)
	c.once.Do(func() { c.err = r.Check(context.Background()) })
	if c.err != nil {
		if os.Getenv("CLEARANCE_CI") == "1" {
			t.Fatalf("backend %s unavailable under CLEARANCE_CI=1: %v", backend, c.err)
		}
		t.Skipf("backend %s unavailable: %v", backend, c.err)
	}
	return r
}

func start(t testing.TB, r *Runner, spec Spec) *Box {
	t.Helper()
	b, err := r.Start(context.Background(), spec)
	if err != nil {
		t.Fatalf("Start = %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func mustExec(t testing.TB, b *Box, cmd string, timeout time.Duration) Result {
	t.Helper()
	res, err := b.Exec(context.Background(), cmd, timeout)
	if err != nil {
		t.Fatalf("Exec(%q) = %v", cmd, err)
	}
	return res
}

func TestStartRejectsBadSpec(t *testing.T) {
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		spec  Spec
		field string
	}{
		{"dotdot", Spec{Files: []File{{Path: "../escape"}}}, "Files[0].Path"},
		{"inner dotdot", Spec{Files: []File{{Path: "ok"}, {Path: "a/../../b"}}}, "Files[1].Path"},
		{"absolute", Spec{Files: []File{{Path: "/etc/passwd"}}}, "Files[0].Path"},
		{"empty path", Spec{Files: []File{{Path: ""}}}, "Files[0].Path"},
		{"unclean", Spec{Files: []File{{Path: "a//b"}}}, "Files[0].Path"},
		{"duplicate", Spec{Files: []File{{Path: "a"}, {Path: "a"}}}, "Files[1].Path"},
		{"setuid mode", Spec{Files: []File{{Path: "a", Mode: 0o4755}}}, "Files[0].Mode"},
		{"empty step", Spec{Setup: []Step{{Command: " "}}}, "Setup[0].Command"},
		{"empty service", Spec{Services: []Service{{Command: ""}}}, "Services[0].Command"},
		{"bad port", Spec{Services: []Service{{Command: "x", Port: 70000}}}, "Services[0].Port"},
		{"negative limit", Spec{Limits: Limits{MemoryBytes: -1}}, "Limits.MemoryBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := r.Start(context.Background(), tt.spec)
			if err == nil {
				b.Close()
				t.Fatalf("Start(%+v) = nil error, want ErrSpec", tt.spec)
			}
			if !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Start(%+v) = %v, want ErrSpec naming %s", tt.spec, err, tt.field)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Backend: "docker"}, {Tools: []string{"relative"}}, {Tools: []string{"/"}}, {UID: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error, want one", cfg)
		}
	}
}

func TestCheckMissingProgram(t *testing.T) {
	r, err := New(Config{Program: "/nonexistent/bwrap"})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Check(context.Background())
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "apt-get install bubblewrap") {
		t.Errorf("Check = %v, want ErrUnavailable with install hint", err)
	}
}

func TestFilesSetupAndServices(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Runner) {
		b := start(t, r, Spec{
			Files: []File{
				{Path: "dir/a.txt", Data: []byte("alpha")},
				{Path: "run.sh", Data: []byte("#!/bin/sh\necho ran\n"), Mode: 0o755},
				{Path: "data/key", Data: []byte("hidden-key"), Hidden: true},
			},
			Setup: []Step{{Command: "read s; printf %s \"$s\" | sha256sum | cut -c1-8 > digest", Stdin: []byte("flag{setup}\n")}},
			Services: []Service{{
				Command: `read s; exec python3 -c 'import http.server as h
class H(h.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"svc-ok")
h.HTTPServer(("127.0.0.1", 8080), H).serve_forever()'`,
				Stdin: []byte("flag{service}\n"),
				Port:  8080,
			}},
		})
		res := mustExec(t, b, "pwd; cat dir/a.txt; ./run.sh; cat /srv/data/key; cat digest; curl -s http://127.0.0.1:8080/", 30*time.Second)
		want := "/home/ctf\nalpharan\nhidden-key"
		if !strings.HasPrefix(res.Stdout, want) || !strings.HasSuffix(res.Stdout, "svc-ok") || res.ExitCode != 0 {
			t.Errorf("Exec = %+v, want files, setup output and service answer", res)
		}
		res = mustExec(t, b, "echo x > /srv/data/key || echo denied", 10*time.Second)
		if !strings.Contains(res.Stdout, "denied") {
			t.Errorf("writing /srv: %+v, want denied", res)
		}
	})
}

func TestStartFailuresNameTheStepAndRedactStdin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Runner) {
		const secret = "flag{do-not-log-me}"
		for _, tt := range []struct {
			spec  Spec
			field string
		}{
			{Spec{Setup: []Step{{Command: "true"}, {Command: "cat >&2; exit 3", Stdin: []byte(secret)}}}, "Setup[1]"},
			{Spec{Services: []Service{{Command: "cat >&2; exit 4", Stdin: []byte(secret), Port: 9000}}}, "Services[0]"},
		} {
			b, err := r.Start(context.Background(), tt.spec)
			if err == nil {
				b.Close()
				t.Fatalf("Start = nil error, want %s failure", tt.field)
			}
			if !strings.Contains(err.Error(), tt.field) || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("Start = %v, want %s named and stdin redacted", err, tt.field)
			}
		}
	})
}

func TestServicePortNeverOpens(t *testing.T) {
	if os.Getenv("CLEARANCE_SLOW") != "1" {
		t.Skip("waits 30 s for the port; CLEARANCE_SLOW=1")
	}
	forEachBackend(t, func(t *testing.T, r *Runner) {
		_, err := r.Start(context.Background(), Spec{Services: []Service{{Command: "sleep 100", Port: 9001}}})
		if err == nil || !strings.Contains(err.Error(), "did not accept connections") {
			t.Errorf("Start = %v, want port timeout", err)
		}
	})
}

func TestOutputTruncated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Runner) {
		b := start(t, r, Spec{})
		res := mustExec(t, b, fmt.Sprintf("head -c %d /dev/zero | tr '\\0' a; echo small >&2", OutputLimit+1000), 30*time.Second)
		want := strings.Repeat("a", OutputLimit) + "\n[… output truncated: 1000 bytes not shown]\n"
		if res.Stdout != want || !res.Truncated || res.Stderr != "small\n" {
			t.Errorf("Exec: stdout %d bytes ending %q, truncated %v, stderr %q; want %d bytes with marker",
				len(res.Stdout), tail(res.Stdout, 60), res.Truncated, res.Stderr, len(want))
		}
	})
}

func TestTimeoutKillsProcessGroup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Runner) {
		b := start(t, r, Spec{})
		res := mustExec(t, b, "sleep 100 & echo $! > bg.pid; echo started; sleep 100", 2*time.Second)
		if !res.TimedOut || res.ExitCode != -1 || res.Stdout != "started\n" {
			t.Errorf("Exec = %+v, want timed out, exit -1, output kept", res)
		}
		// Killed, it may stay a zombie until its reaper runs: wait a little.
		res = mustExec(t, b, `p=$(cat bg.pid); for i in $(seq 50); do [ "$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)" = S ] || { echo gone; exit; }; sleep 0.1; done; echo alive`, 10*time.Second)
		if res.Stdout != "gone\n" {
			t.Errorf("background job of the timed-out command: %q, want gone", res.Stdout)
		}
	})
}

func TestExitStatusAndState(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Runner) {
		b := start(t, r, Spec{})
		if res := mustExec(t, b, "echo state > f; exit 7", 10*time.Second); res.ExitCode != 7 {
			t.Errorf("exit 7: got %d", res.ExitCode)
		}
		if res := mustExec(t, b, "cat f; kill -9 $$", 10*time.Second); res.ExitCode != -1 || res.Stdout != "state\n" {
			t.Errorf("killed by signal: %+v, want exit -1 and state kept between commands", res)
		}
	})
}

func TestExecAfterClose(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Runner) {
		b := start(t, r, Spec{})
		if err := b.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if _, err := b.Exec(context.Background(), "true", time.Second); !errors.Is(err, ErrClosed) {
			t.Errorf("Exec after Close = %v, want ErrClosed", err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
		if _, err := os.Stat(b.dir); !os.IsNotExist(err) {
			t.Errorf("host dir %s after Close: %v, want removed", b.dir, err)
		}
	})
}

func TestLifetimeEndsBox(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Runner) {
		b := start(t, r, Spec{Limits: Limits{Lifetime: 4 * time.Second}})
		_, err := b.Exec(context.Background(), "sleep 30", 60*time.Second)
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Exec past the lifetime = %v, want ErrClosed", err)
		}
	})
}

func TestCancelledContextClosesBox(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Runner) {
		b := start(t, r, Spec{})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(500*time.Millisecond, cancel)
		if _, err := b.Exec(ctx, "sleep 30", time.Minute); !errors.Is(err, context.Canceled) {
			t.Errorf("Exec with cancelled ctx = %v, want context.Canceled", err)
		}
		if _, err := b.Exec(context.Background(), "true", time.Second); !errors.Is(err, ErrClosed) {
			t.Errorf("Exec after cancel = %v, want ErrClosed", err)
		}
	})
}

func TestSeccompProgramShape(t *testing.T) {
	prog, err := seccompProgram()
	if err != nil {
		t.Skip(err)
	}
	if len(prog)%8 != 0 || len(prog)/8 != len(deniedSyscalls)+6 {
		t.Errorf("program is %d bytes, want %d instructions", len(prog), len(deniedSyscalls)+6)
	}
}

// A command that kills the box's executor ends the box: Exec says
// ErrClosed (the model's doing), and so does every later Exec. Under
// runsc the executor is the PID namespace's init, which SIGKILL from
// inside cannot reach, so the box lives on there.
func TestCommandKillsExecutor(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Runner) {
		b := start(t, r, Spec{})
		_, err := b.Exec(context.Background(), "kill -9 $PPID; sleep 1", 10*time.Second)
		if err == nil {
			if r.Backend() == Bubblewrap {
				t.Fatalf("Exec killing the executor = nil error, want ErrClosed")
			}
			mustExec(t, b, "true", 10*time.Second)
			return
		}
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Exec killing the executor = %v, want ErrClosed", err)
		}
		if _, err := b.Exec(context.Background(), "true", time.Second); !errors.Is(err, ErrClosed) {
			t.Errorf("next Exec = %v, want ErrClosed", err)
		}
	})
}

func FuzzCheckPath(f *testing.F) {
	for _, p := range []string{"a", "a/b.txt", "../x", "/etc/passwd", "a/../b", "a//b", "./a", "a/.", "", "a\x00b", `a\..\b`, "..."} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if checkPath(p) != nil {
			return
		}
		// An accepted path stays inside the directory it is joined to.
		if path.IsAbs(p) || path.Clean(p) != p || p == "." ||
			!strings.HasPrefix(path.Join("/home/ctf", p), "/home/ctf/") {
			t.Errorf("checkPath(%q) = nil, want an error", p)
		}
	})
}

func TestConcurrentBoxes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Runner) {
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := r.Start(context.Background(), Spec{Files: []File{{Path: "id", Data: []byte(fmt.Sprint(i))}}})
				if err != nil {
					t.Errorf("Start %d = %v", i, err)
					return
				}
				defer b.Close()
				res, err := b.Exec(context.Background(), "cat id; ls /home/ctf | wc -l", 30*time.Second)
				if want := fmt.Sprintf("%d1\n", i); err != nil || res.Stdout != want {
					t.Errorf("box %d: %q, %v; want %q (its own workspace only)", i, res.Stdout, err, want)
				}
			}()
		}
		wg.Wait()
	})
}
