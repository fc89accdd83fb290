package sandbox

import (
	"os"
	"os/exec"
	"path"
	"strconv"
)

// bwrapCommand builds the bubblewrap command line running argv (the
// executor) in a new box. Every namespace is unshared (user, PID, IPC,
// UTS, cgroup, mount, network with only loopback up); the only host paths
// inside are /usr and a few /etc files, read-only, and the box's own
// staged /etc and /srv; /home/ctf, /tmp and /dev/shm are size-limited
// tmpfs, everything else is read-only; the
// seccomp filter is loaded from an inherited file; nested user namespaces
// are disabled; the box dies with its parent.
func (b *Box) bwrapCommand(argv []string) (*exec.Cmd, error) {
	prog, err := seccompProgram()
	if err != nil {
		return nil, err
	}
	// bwrap reads the filter from a file descriptor: a file in the box's
	// host dir, opened before the backend drops to the box's uid.
	fp := path.Join(b.dir, "seccomp.bpf")
	if err := os.WriteFile(fp, prog, 0o600); err != nil {
		return nil, err
	}
	sf, err := os.Open(fp)
	if err != nil {
		return nil, err
	}
	os.Remove(fp)
	size := strconv.FormatInt(b.lim.DiskBytes, 10)
	shm := strconv.FormatInt(min(b.lim.DiskBytes, 64<<20), 10)
	args := []string{
		"--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
		"--uid", "1000", "--gid", "1000", "--hostname", "box",
		"--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/home/ctf",
		"--ro-bind", "/usr", "/usr",
		"--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
		"--symlink", "usr/lib", "/lib",
	}
	if _, err := os.Stat("/usr/lib64"); err == nil {
		args = append(args, "--symlink", "usr/lib64", "/lib64")
	}
	if _, err := os.Stat("/usr/lib32"); err == nil {
		args = append(args, "--symlink", "usr/lib32", "/lib32")
	}
	for _, name := range []string{"passwd", "group", "hosts", "hostname", "nsswitch.conf", path.Base(executorPath)} {
		args = append(args, "--ro-bind", path.Join(b.dir, "etc", name), "/etc/"+name)
	}
	for _, p := range []string{"/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime", "/etc/magic", "/etc/mime.types"} {
		args = append(args, "--ro-bind-try", p, p)
	}
	for _, t := range b.r.cfg.Tools {
		args = append(args, "--ro-bind-try", t, t)
	}
	args = append(args,
		"--proc", "/proc", "--dev", "/dev",
		"--size", shm, "--tmpfs", "/dev/shm",
		"--size", size, "--tmpfs", "/tmp",
		"--size", size, "--tmpfs", "/home/ctf",
		"--ro-bind", path.Join(b.dir, "srv"), "/srv",
		// bwrap's root and /dev are tmpfs without a size limit: make them
		// read-only, so that only the sized mounts above take writes.
		"--remount-ro", "/dev", "--remount-ro", "/",
		"--chdir", "/home/ctf",
		"--seccomp", "3",
		"--",
	)
	args = append(args, argv...)
	cmd := exec.Command(b.r.cfg.Program, args...)
	cmd.ExtraFiles = []*os.File{sf}
	return cmd, nil
}

// closeExtra closes the parent's copies of the files passed to the child.
func closeExtra(cmd *exec.Cmd) {
	for _, f := range cmd.ExtraFiles {
		if f != nil {
			f.Close()
		}
	}
}
