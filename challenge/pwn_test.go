package challenge

import (
	"context"
	"fmt"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/sandbox"
)

func TestPwnGenerators(t *testing.T) {
	revpwnCheckGenerators(t, pwnGenerators, Pwn, revpwnCheckService)
}

// revpwnSnoop is a hostile agent's look at the running service: with a
// connection open (so the vulnerable program is alive, holding the
// flag), it reads every process's environ, cmdline, open descriptors and
// readable memory, and prints the SHA-256 of every flag{…} found.
const revpwnSnoop = `python3 - <<'PY'
import hashlib, os, re, socket, time
pat = re.compile(rb'flag\{[!-z|~]{1,100}\}')
s = socket.create_connection(('127.0.0.1', %d))
time.sleep(0.3)
found, opened = set(), 0
def look(d):
    for m in pat.findall(d):
        found.add(hashlib.sha256(m).hexdigest())
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    for name in ('environ', 'cmdline'):
        try:
            look(open('/proc/%%s/%%s' %% (pid, name), 'rb').read()); opened += 1
        except OSError:
            pass
    try:
        fds = os.listdir('/proc/%%s/fd' %% pid)
    except OSError:
        fds = []
    for fd in fds:
        try:
            fp = os.open('/proc/%%s/fd/%%s' %% (pid, fd), os.O_RDONLY | os.O_NONBLOCK)
            look(os.read(fp, 1 << 20)); os.close(fp)
        except OSError:
            pass
    try:
        maps = open('/proc/%%s/maps' %% pid).read().splitlines()
        mem = open('/proc/%%s/mem' %% pid, 'rb')
    except OSError:
        continue
    for line in maps:
        lo, hi = (int(x, 16) for x in line.split()[0].split('-'))
        try:
            mem.seek(lo); look(mem.read(min(hi - lo, 1 << 24)))
        except (OSError, ValueError, OverflowError):
            pass
print('opened', opened)
for h in sorted(found):
    print(h)
PY
`

// revpwnCheckService checks a pwn task's service beyond the solution:
// an honest, unexploiting client gets no flag; an agent that reads
// /proc gets no flag; and replacing the workspace binary with a program
// that asks for the flag does not get it either (the wrapper runs the
// image it read at start).
func revpwnCheckService(t *testing.T, box *sandbox.Box, task *Task) {
	ctx := context.Background()
	if len(task.Services) != 1 {
		t.Fatalf("task has %d services, want 1", len(task.Services))
	}
	port := task.Services[0].Port
	prog := path.Base(strings.Fields(task.Services[0].Command)[len(strings.Fields(task.Services[0].Command))-1])
	cases := []struct{ name, cmd string }{
		{"honest client", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d; printf 'hello\\n' >&3; timeout 5 cat <&3", port)},
		{"local run", fmt.Sprintf("printf 'hello\\n' | timeout 5 ./%s", prog)},
		{"proc snoop", fmt.Sprintf(revpwnSnoop, port)},
		{"binary swap", fmt.Sprintf(`cat > %[1]s <<'SH'
#!/bin/bash
printf R >&$FLAG_FD; cat <&$FLAG_FD; env
SH
chmod 755 %[1]s
exec 3<>/dev/tcp/127.0.0.1/%[2]d; printf 'hello\n' >&3; timeout 5 cat <&3`, prog, port)},
	}
	for _, c := range cases {
		res, err := box.Exec(ctx, c.cmd, 30*time.Second)
		if err != nil {
			t.Fatalf("Exec(%s): %v", c.name, err)
		}
		out := res.Stdout + res.Stderr
		if task.Captured(out) || strings.Contains(out, task.FlagSHA256) {
			t.Errorf("%s got the flag", c.name)
		}
		t.Logf("%s: exit %d\n%s", c.name, res.ExitCode, strings.ReplaceAll(out, task.Flag(), "<FLAG>"))
	}
}
