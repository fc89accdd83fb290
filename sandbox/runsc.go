package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strconv"
	"syscall"
	"time"
)

// runscCommand writes an OCI bundle for the box and returns the
// `runsc run` command that starts argv (the executor) in it. The root
// filesystem is an empty read-only directory; /usr (and the extra tools)
// and the staged /etc files and /srv are bound read-only; /home/ctf and
// /tmp are size-limited tmpfs; the network is none (gVisor's own
// loopback only). The application's system calls are served by gVisor's
// user-space kernel (the Sentry), not the host kernel.
func (b *Box) runscCommand(argv []string) (*exec.Cmd, error) {
	var id [8]byte
	rand.Read(id[:])
	b.id = "clearance-" + hex.EncodeToString(id[:])
	bundle := path.Join(b.dir, "bundle")
	rootfs := path.Join(bundle, "rootfs")
	for _, d := range []string{"usr", "etc", "home/ctf", "tmp", "srv", "proc", "dev"} {
		if err := os.MkdirAll(path.Join(rootfs, d), 0o755); err != nil {
			return nil, err
		}
	}
	links := map[string]string{"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib"}
	if _, err := os.Stat("/usr/lib64"); err == nil {
		links["lib64"] = "usr/lib64"
	}
	if _, err := os.Stat("/usr/lib32"); err == nil {
		links["lib32"] = "usr/lib32"
	}
	for name, target := range links {
		if err := os.Symlink(target, path.Join(rootfs, name)); err != nil {
			return nil, err
		}
	}
	type mount struct {
		Destination string   `json:"destination"`
		Type        string   `json:"type"`
		Source      string   `json:"source"`
		Options     []string `json:"options,omitempty"`
	}
	ro := func(src, dst string) mount {
		return mount{dst, "bind", src, []string{"rbind", "ro", "nosuid", "nodev"}}
	}
	size := "size=" + strconv.FormatInt(b.lim.DiskBytes, 10)
	mounts := []mount{
		{"/proc", "proc", "proc", nil},
		{"/dev", "tmpfs", "tmpfs", []string{"nosuid", "mode=755", "size=1m"}},
		{"/dev/shm", "tmpfs", "tmpfs", []string{"nosuid", "nodev", "mode=1777", "size=" + strconv.FormatInt(min(b.lim.DiskBytes, 64<<20), 10)}},
		ro("/usr", "/usr"),
		{"/home/ctf", "tmpfs", "tmpfs", []string{"nosuid", "nodev", size, "mode=755", "uid=1000", "gid=1000"}},
		{"/tmp", "tmpfs", "tmpfs", []string{"nosuid", "nodev", size, "mode=1777"}},
		ro(path.Join(b.dir, "srv"), "/srv"),
	}
	for _, name := range []string{"passwd", "group", "hosts", "hostname", "nsswitch.conf", path.Base(executorPath)} {
		mounts = append(mounts, ro(path.Join(b.dir, "etc", name), "/etc/"+name))
	}
	for _, p := range []string{"/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime", "/etc/magic", "/etc/mime.types"} {
		if _, err := os.Stat(p); err == nil {
			mounts = append(mounts, ro(p, p))
		}
	}
	for _, t := range b.r.cfg.Tools {
		if _, err := os.Stat(t); err == nil {
			mounts = append(mounts, ro(t, t))
		}
	}
	if so := b.r.statxShim(); so != "" {
		preload := path.Join(b.dir, "etc", "ld.so.preload")
		if err := os.WriteFile(preload, []byte("/etc/clearance-statx.so\n"), 0o644); err != nil {
			return nil, err
		}
		mounts = append(mounts, ro(so, "/etc/clearance-statx.so"), ro(preload, "/etc/ld.so.preload"))
	}
	type rlimit struct {
		Type string `json:"type"`
		Hard uint64 `json:"hard"`
		Soft uint64 `json:"soft"`
	}
	type ns struct {
		Type string `json:"type"`
	}
	config := map[string]any{
		"ociVersion": "1.0.0",
		"hostname":   "box",
		"root":       map[string]any{"path": "rootfs", "readonly": true},
		"process": map[string]any{
			"terminal": false,
			// The executor runs as root with only execCaps (see
			// executor.py).
			"user": map[string]any{"uid": 0, "gid": 0},
			"capabilities": map[string]any{
				"bounding":  execCaps,
				"effective": execCaps,
				"permitted": execCaps,
			},
			"args":            argv,
			"env":             []string{"PATH=/usr/bin:/bin", "HOME=/home/ctf"},
			"cwd":             "/home/ctf",
			"noNewPrivileges": true,
			"rlimits":         []rlimit{{"RLIMIT_CORE", 0, 0}},
		},
		"mounts": mounts,
		"linux": map[string]any{
			"namespaces": []ns{{"pid"}, {"network"}, {"ipc"}, {"uts"}, {"mount"}},
			// Applied by gVisor's Sentry (--oci-seccomp) to the box's
			// processes: the same list as the bwrap filter, so the same
			// task sees the same kernel interface on both backends.
			"seccomp": map[string]any{
				"defaultAction": "SCMP_ACT_ALLOW",
				"architectures": []string{"SCMP_ARCH_X86_64"},
				"syscalls": []map[string]any{
					{"names": deniedNames(), "action": "SCMP_ACT_ERRNO"},
				},
			},
		},
	}
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path.Join(bundle, "config.json"), data, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(b.r.cfg.Program, b.runscFlags("run", "--bundle", bundle, b.id)...)
	return cmd, nil
}

func (b *Box) runscFlags(args ...string) []string {
	flags := []string{"--root", path.Join(b.dir, "state"), "--network=none", "--ignore-cgroups", "--oci-seccomp"}
	if os.Geteuid() != 0 {
		flags = append(flags, "--rootless")
	}
	return append(flags, args...)
}

// execCaps are the executor's capabilities under runsc: to start each
// command as uid 1000 and to kill its process group at the timeout.
// Commands hold none (changing uid to non-zero clears them, and
// noNewPrivileges stops regaining them).
var execCaps = []string{"CAP_SETUID", "CAP_SETGID", "CAP_KILL"}

// runscKill asks runsc to kill every process in the container.
func (b *Box) runscKill() {
	if b.id == "" {
		return
	}
	cmd := exec.Command(b.r.cfg.Program, b.runscFlags("kill", "--all", b.id, "KILL")...)
	cmd.WaitDelay = 10 * time.Second
	cmd.Run()
}

// runscDelete removes the container's state, killing it if it runs.
func (b *Box) runscDelete() error {
	if b.id == "" {
		return nil
	}
	if ents, err := os.ReadDir(path.Join(b.dir, "state")); err == nil && len(ents) == 0 {
		return nil // runsc run deleted it on the way out
	}
	cmd := exec.Command(b.r.cfg.Program, b.runscFlags("delete", "--force", b.id)...)
	cmd.WaitDelay = 10 * time.Second
	cmd.Run() // fails harmlessly when the container is already gone
	return nil
}

//go:embed statx.c.txt
var statxSource []byte

// statxShim compiles statx.c.txt once per Runner into Config.Dir and returns
// the library's path, or "" (logged) when no C compiler is available, in
// which case ls and stat fail inside boxes on old gVisor releases.
func (r *Runner) statxShim() string {
	r.shimOnce.Do(func() {
		sum := sha256.Sum256(statxSource)
		so := path.Join(r.cfg.Dir, fmt.Sprintf("clearance-statx-%x.so", sum[:6]))
		if fi, err := os.Lstat(so); err == nil {
			// Reuse it only if this user made it and nobody else can
			// have changed it: it is loaded into every runsc box.
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() &&
				int(st.Uid) == os.Geteuid() && fi.Mode().Perm()&0o022 == 0 {
				r.shim = so
				return
			}
			r.log.Warn("sandbox: statx shim not trusted, rebuilding", "path", so)
			if err := os.Remove(so); err != nil {
				r.log.Warn("sandbox: remove untrusted statx shim", "err", err)
				return
			}
		}
		src := so + ".c"
		tmp := fmt.Sprintf("%s.%d.tmp", so, os.Getpid())
		if err := os.WriteFile(src, statxSource, 0o644); err != nil {
			r.log.Warn("sandbox: write statx shim", "err", err)
			return
		}
		defer os.Remove(src)
		out, err := exec.Command("cc", "-shared", "-fPIC", "-O2", "-o", tmp, src).CombinedOutput()
		if err != nil {
			r.log.Warn("sandbox: build statx shim for runsc: ls may fail in boxes", "err", err, "output", string(out))
			return
		}
		os.Chmod(tmp, 0o755)
		if err := os.Rename(tmp, so); err != nil {
			r.log.Warn("sandbox: install statx shim", "err", err)
			return
		}
		r.shim = so
	})
	return r.shim
}
