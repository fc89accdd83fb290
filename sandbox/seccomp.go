package sandbox

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"syscall"
)

// deniedSyscalls are the system calls the bubblewrap backend's seccomp
// filter answers with EPERM (x86-64 numbers). None is needed to solve a
// CTF task; each widens the host kernel's attack surface or lets a
// process reach outside its box:
//
//   - ptrace, process_vm_readv/writev, kcmp, pidfd_getfd, process_madvise:
//     reading or steering another process (the services holding a flag,
//     or anything the namespaces fail to hide);
//   - mount family, pivot_root, chroot, unshare, setns, open_by_handle_at,
//     name_to_handle_at: changing or escaping the mount and namespace
//     view (bwrap's --disable-userns also stops nested user namespaces);
//   - bpf, perf_event_open, io_uring_*, userfaultfd, keyctl, add_key,
//     request_key, fanotify_init: large kernel interfaces with a history
//     of privilege-escalation bugs, and userfaultfd's use in exploiting
//     races;
//   - module loading, kexec, reboot, swap, clock and host-name setting,
//     iopl/ioperm, acct, quotactl, syslog, vhangup, uselib, nfsservctl,
//     lookup_dcookie: administration the box never needs.
//
// Any system call from another architecture's ABI (i386 via int 0x80, x32)
// is denied too, since its numbers differ and would bypass the list.
var deniedSyscalls = map[string]uint32{
	"ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
	"kcmp": 312, "pidfd_getfd": 438, "process_madvise": 440,
	"mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
	"unshare": 272, "setns": 308, "open_by_handle_at": 304, "name_to_handle_at": 303,
	"open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
	"fsmount": 432, "fspick": 433, "mount_setattr": 442,
	"bpf": 321, "perf_event_open": 298, "io_uring_setup": 425,
	"io_uring_enter": 426, "io_uring_register": 427, "userfaultfd": 323,
	"keyctl": 250, "add_key": 248, "request_key": 249, "fanotify_init": 300,
	"init_module": 175, "finit_module": 313, "delete_module": 176,
	"kexec_load": 246, "kexec_file_load": 320, "reboot": 169,
	"swapon": 167, "swapoff": 168, "settimeofday": 164, "clock_settime": 227,
	"adjtimex": 159, "clock_adjtime": 305, "sethostname": 170, "setdomainname": 171,
	"iopl": 172, "ioperm": 173, "acct": 163, "quotactl": 179, "quotactl_fd": 443,
	"syslog": 103, "vhangup": 153, "uselib": 134, "nfsservctl": 180,
	"lookup_dcookie": 212,
}

// seccompProgram returns the classic BPF program bwrap --seccomp loads:
// allow everything except deniedSyscalls and foreign ABIs, which get
// EPERM. It is built by hand (about 60 instructions) rather than with a
// BPF library: the program is a flat list of comparisons.
func seccompProgram() ([]byte, error) {
	if runtime.GOARCH != "amd64" {
		return nil, fmt.Errorf("%w: seccomp filter: only amd64 is supported, not %s", ErrUnavailable, runtime.GOARCH)
	}
	const (
		ldAbs   = 0x20 // BPF_LD|BPF_W|BPF_ABS
		jeq     = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
		jge     = 0x35 // BPF_JMP|BPF_JGE|BPF_K
		ret     = 0x06 // BPF_RET|BPF_K
		archX64 = 0xc000003e
		x32Bit  = 0x40000000
		allow   = 0x7fff0000                         // SECCOMP_RET_ALLOW
		deny    = 0x00050000 | uint32(syscall.EPERM) // SECCOMP_RET_ERRNO|EPERM
	)
	type insn struct {
		code   uint16
		jt, jf uint8
		k      uint32
	}
	n := len(deniedSyscalls)
	denyAt := 4 + n + 1 // index of the deny return
	prog := []insn{
		{ldAbs, 0, 0, 4}, // arch
		{jeq, 0, uint8(denyAt - 2), archX64},
		{ldAbs, 0, 0, 0}, // nr
		{jge, uint8(denyAt - 4), 0, x32Bit},
	}
	for _, nr := range sortedNumbers() {
		i := len(prog)
		prog = append(prog, insn{jeq, uint8(denyAt - i - 1), 0, nr})
	}
	prog = append(prog, insn{ret, 0, 0, allow}, insn{ret, 0, 0, deny})
	out := make([]byte, 0, 8*len(prog))
	for _, in := range prog {
		out = binary.LittleEndian.AppendUint16(out, in.code)
		out = append(out, in.jt, in.jf)
		out = binary.LittleEndian.AppendUint32(out, in.k)
	}
	return out, nil
}

func sortedNumbers() []uint32 {
	var nrs []uint32
	for _, nr := range deniedSyscalls {
		nrs = append(nrs, nr)
	}
	for i := range nrs { // insertion sort: a fixed, deterministic program
		for j := i; j > 0 && nrs[j] < nrs[j-1]; j-- {
			nrs[j], nrs[j-1] = nrs[j-1], nrs[j]
		}
	}
	return nrs
}

// deniedNames returns the names in deniedSyscalls, sorted.
func deniedNames() []string {
	names := make([]string, 0, len(deniedSyscalls))
	for n := range deniedSyscalls {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
