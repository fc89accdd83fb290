# The in-box executor: the first process of every box, on both backends.
# It reads one JSON request per line on stdin and answers one JSON line on
# stdout, echoing the request's "id". It runs each command with bash -c in a
# new session (its own process group), applies the box's rlimits to it,
# keeps at most "limit" bytes of each output stream (counting the rest),
# and kills the group with SIGKILL at the command's timeout. It reaps every
# child, since under runsc it is PID 1. It makes itself non-dumpable so the
# commands it runs (same uid) cannot open /proc/<executor>/fd and write to
# or read from its control pipes.
#
# argv[1] is a JSON object: {"as", "cpu", "fsize", "nproc"} (rlimits set
# on every child; 0 = leave as is) and "uid" (see DROP).
import base64, errno, json, os, resource, select, signal, socket, sys, time

LIM = json.loads(sys.argv[1])
# Under runsc the executor runs as the container's root (with only
# CAP_SETUID, CAP_SETGID and CAP_KILL) and every command as DROP (1000): /proc/1
# then belongs to another user, whose files, pipes and signals the
# commands cannot reach. bwrap maps a single uid, so there DROP is 0 and
# the executor relies on being non-dumpable.
DROP = int(LIM.get("uid", 0))
WS = "/home/ctf"
ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
    "HOME": WS,
    "USER": "ctf",
    "LOGNAME": "ctf",
    "SHELL": "/bin/bash",
    "LANG": "C.UTF-8",
    "TERM": "dumb",
    "TMPDIR": "/tmp",
}

try:
    import ctypes

    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
except Exception:
    pass

status = {}  # pid -> wait status of reaped children we asked about
watched = set()  # pids whose status we keep
services = {}  # pid -> {"fd": stderr fd or None, "err": bytearray}
SVC_ERR = 4096

wake_r, wake_w = os.pipe()
os.set_blocking(wake_r, False)
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *_: None)


def reap():
    while True:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in watched:
            status[pid] = st


def drain_wake():
    try:
        while os.read(wake_r, 512):
            pass
    except BlockingIOError:
        pass


def on_service_fd(fd):
    for s in services.values():
        if s["fd"] == fd:
            try:
                b = os.read(fd, 65536)
            except OSError:
                b = b""
            if not b:
                os.close(fd)
                s["fd"] = None
            elif len(s["err"]) < SVC_ERR:
                s["err"] += b[: SVC_ERR - len(s["err"])]
            return


def service_fds():
    return [s["fd"] for s in services.values() if s["fd"] is not None]


def child(cmd, cwd, fin, fout, ferr):
    try:
        os.setsid()
        os.dup2(fin, 0)
        os.dup2(fout, 1)
        os.dup2(ferr, 2)
        os.closerange(3, 65536)
        for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        for name, res in (
            ("as", resource.RLIMIT_AS),
            ("cpu", resource.RLIMIT_CPU),
            ("fsize", resource.RLIMIT_FSIZE),
            ("nproc", resource.RLIMIT_NPROC),
        ):
            v = LIM.get(name, 0)
            if v > 0:
                resource.setrlimit(res, (v, v))
        if DROP:
            os.setgroups([])
            os.setgid(DROP)
            os.setuid(DROP)
        os.chdir(cwd)
        os.execve("/bin/bash", ["bash", "-c", cmd], ENV)
    except BaseException:
        pass
    os._exit(127)


def spawn(cmd, cwd, capture):
    """Fork bash -c cmd. Returns pid, stdin write fd, stdout fd, stderr fd."""
    rin, win = os.pipe()
    if capture:
        rout, wout = os.pipe()
    else:
        rout, wout = None, os.open("/dev/null", os.O_WRONLY)
    rerr, werr = os.pipe()
    pid = os.fork()
    if pid == 0:
        child(cmd, cwd, rin, wout, werr)
    watched.add(pid)
    os.close(rin)
    os.close(wout)
    os.close(werr)
    return pid, win, rout, rerr


def decode(st):
    if os.WIFEXITED(st):
        return os.WEXITSTATUS(st), 0
    if os.WIFSIGNALED(st):
        return -1, os.WTERMSIG(st)
    return -1, 0


def run(req):
    t0 = time.monotonic()
    limit = int(req.get("limit", 16384))
    deadline = t0 + float(req.get("timeout", 60))
    data = base64.b64decode(req.get("stdin") or "")
    try:
        pid, win, rout, rerr = spawn(req["cmd"], req.get("cwd", WS), True)
    except OSError as e:
        return {"error": "start command: %s" % e.strerror}
    bufs = {rout: bytearray(), rerr: bytearray()}
    dropped = {rout: 0, rerr: 0}
    open_fds = {rout, rerr}
    for fd in (rout, rerr):
        os.set_blocking(fd, False)
    os.set_blocking(win, False)
    if not data:
        os.close(win)
        win = None
    st = None
    exited_at = None
    timed_out = False
    while True:
        reap()
        now = time.monotonic()
        if st is None and pid in status:
            st = status.pop(pid)
            watched.discard(pid)
            exited_at = now
        if st is None and not timed_out and now >= deadline:
            timed_out = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        if st is not None:
            # Stop once the command has exited and its output is drained,
            # or 200 ms later when a background job still holds the pipes.
            if not open_fds or now - exited_at > 0.2:
                break
            wait = exited_at + 0.2 - now
        elif timed_out:
            if now > deadline + 10:
                break  # unkillable (should not happen): answer anyway
            wait = 0.5
        else:
            wait = deadline - now
        rl = list(open_fds) + [wake_r] + service_fds()
        wl = [win] if win is not None else []
        try:
            r, w, _ = select.select(rl, wl, [], max(wait, 0))
        except InterruptedError:
            continue
        if wake_r in r:
            drain_wake()
        for fd in r:
            if fd in open_fds:
                try:
                    b = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                except OSError:
                    b = b""
                if not b:
                    open_fds.discard(fd)
                    continue
                room = limit - len(bufs[fd])
                if room > 0:
                    bufs[fd] += b[:room]
                dropped[fd] += max(0, len(b) - max(room, 0))
            elif fd != wake_r:
                on_service_fd(fd)
        if win is not None and w:
            try:
                n = os.write(win, data)
                data = data[n:]
            except BlockingIOError:
                pass
            except OSError:
                data = b""
            if not data:
                os.close(win)
                win = None
    if win is not None:
        os.close(win)
    for fd in (rout, rerr):
        os.close(fd)
    code, sig = decode(st) if st is not None else (-1, 0)
    return {
        "exit": code,
        "signal": sig,
        "stdout": base64.b64encode(bytes(bufs[rout])).decode(),
        "stderr": base64.b64encode(bytes(bufs[rerr])).decode(),
        "dout": dropped[rout],
        "derr": dropped[rerr],
        "timed_out": timed_out,
        "ms": (time.monotonic() - t0) * 1000,
    }


def put(req):
    if DROP:
        os.setegid(DROP)
        os.seteuid(DROP)
    try:
        return put_as_user(req)
    finally:
        if DROP:
            os.seteuid(0)
            os.setegid(0)


def put_as_user(req):
    path = os.path.join(WS, req["path"])
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            data = base64.b64decode(req.get("data") or "")
            while data:
                n = os.write(fd, data)
                data = data[n:]
            os.fchmod(fd, int(req.get("mode", 0o644)))
        finally:
            os.close(fd)
    except OSError as e:
        return {"error": "write %s: %s" % (req["path"], e.strerror)}
    return {"ok": True}


def service(req):
    try:
        pid, win, _, rerr = spawn(req["cmd"], req.get("cwd", "/srv"), False)
    except OSError as e:
        return {"error": "start service: %s" % e.strerror}
    data = base64.b64decode(req.get("stdin") or "")
    try:
        # Secrets are small; a service that does not read them all is
        # its author's bug, so a blocking write is bounded by the pipe.
        os.set_blocking(win, False)
        os.write(win, data)
    except OSError:
        pass
    os.close(win)
    os.set_blocking(rerr, False)
    services[pid] = {"fd": rerr, "err": bytearray()}
    return {"pid": pid}


def wait_port(req):
    pid = req.get("pid", 0)
    deadline = time.monotonic() + float(req.get("timeout", 30))
    while True:
        reap()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", int(req["port"])))
            return {"ok": True}
        except OSError:
            pass
        finally:
            s.close()
        svc = services.get(pid)
        err = bytes(svc["err"]).decode("utf-8", "replace") if svc else ""
        if pid in status:
            code, sig = decode(status[pid])
            return {"error": "service exited (status %d, signal %d) before port %d accepted connections" % (code, sig, req["port"]), "stderr": err}
        if time.monotonic() >= deadline:
            return {"error": "port %d did not accept connections within %ss" % (req["port"], req.get("timeout", 30)), "stderr": err}
        try:
            r, _, _ = select.select([wake_r] + service_fds(), [], [], 0.05)
        except InterruptedError:
            continue
        for fd in r:
            if fd == wake_r:
                drain_wake()
            else:
                on_service_fd(fd)


def reply(obj):
    b = (json.dumps(obj) + "\n").encode()
    while b:
        n = os.write(1, b)
        b = b[n:]


def main():
    os.chdir(WS)
    reply({"ready": True})
    buf = b""
    while True:
        while b"\n" not in buf:
            try:
                r, _, _ = select.select([0, wake_r] + service_fds(), [], [], 1.0)
            except InterruptedError:
                continue
            reap()
            for fd in r:
                if fd == wake_r:
                    drain_wake()
                elif fd != 0:
                    on_service_fd(fd)
            if 0 in r:
                b = os.read(0, 1 << 20)
                if not b:
                    return
                buf += b
        line, buf = buf.split(b"\n", 1)
        req = json.loads(line)
        op = req.get("op")
        if op == "run":
            out = run(req)
        elif op == "put":
            out = put(req)
        elif op == "service":
            out = service(req)
        elif op == "wait_port":
            out = wait_port(req)
        else:
            out = {"error": "unknown op %r" % op}
        out["id"] = req.get("id")
        reply(out)


main()
