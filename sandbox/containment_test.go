package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestContainment runs a hostile scripted agent in a fresh box per
// attack, on every backend: each attack must fail, the host's secret must
// appear in no Result, the host listener must see no connection, no
// process of the box may outlive Close, and a new box must work after
// each one (the run goes on).
func TestContainment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Runner) {
		// Host-side bait, outside any box.
		var raw [16]byte
		rand.Read(raw[:])
		secret := "host-secret-" + hex.EncodeToString(raw[:])
		hostDir := t.TempDir()
		sentinel := filepath.Join(hostDir, "sentinel")
		if err := os.WriteFile(sentinel, []byte(secret), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(hostDir, 0o755)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var accepted atomic.Int32
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted.Add(1)
				c.Write([]byte(secret))
				c.Close()
			}
		}()
		port := ln.Addr().(*net.TCPAddr).Port
		victim := osexec.Command("sleep", "300")
		if err := victim.Start(); err != nil {
			t.Fatal(err)
		}
		defer victim.Process.Kill()
		self := os.Getpid()
		lim := Limits{DiskBytes: 32 << 20, FileBytes: 16 << 20}
		marker := "clearance-leak-" + hex.EncodeToString(raw[:4])

		tests := []struct {
			name    string
			cmd     string
			timeout time.Duration // default 20 s
			check   func(t *testing.T, res Result, b *Box)
		}{
			{
				name: "read host files",
				cmd: fmt.Sprintf(`cat %[1]s; cat /proc/1/root%[1]s; cat /etc/shadow; ls -la /root; cat /proc/%[2]d/environ;
					ls -la /proc/1/root/ /home; grep -r host-secret /etc /srv /tmp 2>/dev/null; echo done`, sentinel, self),
				check: func(t *testing.T, res Result, b *Box) {
					if !strings.HasSuffix(res.Stdout, "done\n") {
						t.Errorf("script did not finish: %+v", res)
					}
				},
			},
			{
				name: "connect to host listener",
				cmd: fmt.Sprintf(`(exec 3<>/dev/tcp/127.0.0.1/%[1]d && cat <&3) ; curl -s -m 3 http://127.0.0.1:%[1]d/ ; curl -s -m 3 http://localhost:%[1]d/;
					python3 -c 'import socket; s=socket.create_connection(("127.0.0.1", %[1]d), 3); print(s.recv(100))';
					python3 -c 'import socket; s=socket.create_connection(("10.0.2.2", %[1]d), 3)'; echo done`, port),
				check: func(t *testing.T, res Result, b *Box) {
					if n := accepted.Load(); n != 0 {
						t.Errorf("host listener accepted %d connections, want 0", n)
					}
				},
			},
			{
				name:    "fork bomb",
				cmd:     `for i in $(seq 100); do sleep 60 & done; bomb() { bomb | bomb & }; bomb; sleep 3; echo survived`,
				timeout: 3 * time.Second,
				check: func(t *testing.T, res Result, b *Box) {
					if !strings.Contains(res.Stderr+res.Stdout, "fork") && !strings.Contains(res.Stderr+res.Stdout, "Resource temporarily unavailable") {
						t.Errorf("fork bomb met no process limit: %+v", res)
					}
				},
			},
			{
				name: "memory bomb",
				cmd:  `python3 -c 'x = bytearray(3 << 30); print("allocated")'; echo status $?`,
				check: func(t *testing.T, res Result, b *Box) {
					if strings.Contains(res.Stdout, "allocated") || !strings.Contains(res.Stderr, "MemoryError") {
						t.Errorf("3 GiB allocation was not refused: %+v", res)
					}
				},
			},
			{
				name: "fill the disk",
				cmd:  `head -c 200M /dev/zero > big; head -c 200M /dev/zero > /tmp/big; for i in 1 2 3; do head -c 12M /dev/zero > f$i; done; du -sk /home/ctf /tmp | cut -f1`,
				check: func(t *testing.T, res Result, b *Box) {
					var ws, tmp int64
					fmt.Sscan(res.Stdout, &ws, &tmp)
					if ws > 33<<10 || tmp > 33<<10 || ws == 0 {
						t.Errorf("workspace %d KiB, /tmp %d KiB, want both ≤ 32 MiB: %+v", ws, tmp, res)
					}
				},
			},
			{
				name: "leave a process running",
				cmd: fmt.Sprintf(`setsid nohup bash -c 'while true; do echo x >> %[1]s/leak; sleep 0.1; done # %[2]s' >/dev/null 2>&1 &
					(trap "" HUP TERM; exec -a %[2]s sleep 1000) >/dev/null 2>&1 & disown; echo started`, hostDir, marker),
				check: func(t *testing.T, res Result, b *Box) {
					// The leftover check after Close can fail: before it,
					// the box's processes are visible on the host.
					if pids := processesMentioning(b.dir); len(pids) == 0 {
						t.Errorf("no host process mentions the box dir %s before Close", b.dir)
					}
					if r.Backend() == Bubblewrap {
						if pids := processesMentioning(marker); len(pids) == 0 {
							t.Errorf("no host process carries the marker before Close")
						}
					}
				},
			},
			{
				name: "signal and ptrace host processes",
				cmd: fmt.Sprintf(`kill -9 %[1]d %[2]d; kill -STOP %[1]d; python3 -c '
import ctypes; l = ctypes.CDLL(None, use_errno=True)
print("attach", l.ptrace(16, %[1]d, 0, 0), ctypes.get_errno())'; kill -9 -1; echo done`, victim.Process.Pid, self),
				check: func(t *testing.T, res Result, b *Box) {
					if err := victim.Process.Signal(syscall.Signal(0)); err != nil {
						t.Errorf("host process %d after the attack: %v", victim.Process.Pid, err)
					}
					stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", victim.Process.Pid))
					if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "T" {
						t.Errorf("host process was stopped")
					}
				},
			},
			{
				name: "write outside the workspace",
				cmd: fmt.Sprintf(`for p in /usr/pwned /usr/bin/pwned /srv/pwned /pwned /etc/pwned /dev/pwned /proc/sys/kernel/hostname %[1]s/pwned /tmp/../pwned; do
					echo x > $p && echo "wrote $p"; done; ln -s / root-link; echo x > root-link/pwned2 && echo wrote link; echo done`, hostDir),
				check: func(t *testing.T, res Result, b *Box) {
					// The only writable places are the sized workspace,
					// /tmp and /dev/shm: nothing listed may be written.
					if strings.Contains(res.Stdout, "wrote") {
						t.Errorf("write outside the workspace succeeded: %q", res.Stdout)
					}
					for _, p := range []string{"/usr/pwned", "/usr/bin/pwned", "/pwned", "/etc/pwned", "/pwned2", filepath.Join(hostDir, "pwned")} {
						if _, err := os.Stat(p); err == nil {
							os.Remove(p)
							t.Errorf("host path %s was written", p)
						}
					}
					if h, _ := os.Hostname(); h == "box" {
						t.Errorf("host name changed")
					}
				},
			},
			{
				name: "tamper with the executor",
				cmd: `for f in /proc/$PPID/fd/0 /proc/$PPID/fd/1 /proc/$PPID/mem /proc/$PPID/environ; do
					echo '{"id": 1, "exit": 0}' > $f && echo "wrote $f"; done; echo done`,
				check: func(t *testing.T, res Result, b *Box) {
					if strings.Contains(res.Stdout, "wrote") || !strings.HasSuffix(res.Stdout, "done\n") {
						t.Errorf("the executor's pipes or memory were writable: %+v", res)
					}
				},
			},
			{
				name: "kernel interfaces",
				cmd: `python3 -c '
import ctypes; l = ctypes.CDLL(None, use_errno=True)
for name, args in [("unshare", (0x10000000,)), ("unshare", (0x40000000,)), ("mount", (b"none", b"/tmp", b"tmpfs", 0, None)), ("syscall", (321, 0, 0, 0)), ("syscall", (425, 1, 0))]:
    r = getattr(l, name)(*args); print(name, r, ctypes.get_errno())
'; echo done`,
				check: func(t *testing.T, res Result, b *Box) {
					for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
						if line != "done" && !strings.HasSuffix(line, " -1 1") {
							t.Errorf("denied call allowed or wrong errno: %q (want EPERM)", line)
						}
					}
				},
			},
		}
		var all []Result
		for _, tt := range tests {
			t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
				b, err := r.Start(context.Background(), Spec{Limits: lim})
				if err != nil {
					t.Fatalf("Start = %v", err)
				}
				timeout := tt.timeout
				if timeout == 0 {
					timeout = 20 * time.Second
				}
				res, err := b.Exec(context.Background(), tt.cmd, timeout)
				t.Logf("Exec = %v, exit %d, timed out %v\nstdout: %s\nstderr: %s", err, res.ExitCode, res.TimedOut, tail(res.Stdout, 600), tail(res.Stderr, 600))
				if err != nil && !errors.Is(err, ErrClosed) {
					t.Errorf("Exec = %v (want a Result, or ErrClosed when the attack killed the box)", err)
				}
				all = append(all, res)
				if tt.check != nil {
					tt.check(t, res, b)
				}
				dir := b.dir
				if err := b.Close(); err != nil {
					t.Errorf("Close = %v", err)
				}
				// Nothing of the box survives Close: no host process
				// mentions its host dir or the attack's marker, and no
				// file on the host keeps growing.
				time.Sleep(300 * time.Millisecond)
				if pids := processesMentioning(dir, marker); len(pids) > 0 {
					t.Errorf("processes of the box alive after Close: %v", pids)
				}
				if _, err := os.Stat(filepath.Join(hostDir, "leak")); err == nil {
					t.Errorf("a box process wrote to the host dir")
				}
				// The run goes on: a new box works.
				nb := start(t, r, Spec{})
				if res := mustExec(t, nb, "echo ok", 10*time.Second); res.Stdout != "ok\n" {
					t.Errorf("new box after the attack: %+v", res)
				}
				nb.Close()
			})
		}
		for _, res := range all {
			if strings.Contains(res.Stdout+res.Stderr, secret) {
				t.Errorf("host secret leaked into a Result: %+v", res)
			}
		}
		if n := accepted.Load(); n != 0 {
			t.Errorf("host listener accepted %d connections, want 0", n)
		}
	})
}

// processesMentioning returns host processes whose command line contains
// any of the strings.
func processesMentioning(subs ...string) []string {
	var found []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); bytes.Contains(stat, []byte(") Z ")) {
			continue // a zombie holds no resources
		}
		for _, s := range subs {
			if bytes.Contains(cmdline, []byte(s)) {
				found = append(found, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
			}
		}
	}
	return found
}
