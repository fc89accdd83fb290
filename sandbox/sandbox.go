// Package sandbox runs untrusted commands — a model's shell commands in a
// cyber-capability episode, and the challenge services they attack — in an
// isolated box: its own user, PID, IPC, UTS, mount and network namespaces,
// a read-only allowlisted toolset, a fresh size-limited workspace with the
// task's files only, a seccomp filter and resource limits. Two backends run
// the same Spec unchanged: bubblewrap ("bwrap", the default) and gVisor
// ("runsc", the hardened one).
//
// A Box lives for one episode: Start sets it up (files, setup steps,
// services on the box's own loopback), Exec runs one command at a time,
// Close kills every process in it and removes the workspace.
//
// Inside every box the first process is a small executor (executor.py,
// run by the box's own /usr/bin/python3) that reads one request per line
// from the host and runs each command with bash -c in its own process
// group, applying the rlimits, capping output and killing the group at
// the command's timeout. If a command kills the executor the box is dead
// and Exec returns ErrClosed: the model did it, not the harness.
//
// Which backend: bubblewrap shares the host kernel, so a kernel bug
// reachable through the allowed system calls is a way out; its seccomp
// filter removes the riskiest interfaces but not the whole surface. gVisor
// serves the box's system calls from a user-space kernel and exposes only
// a narrow, filtered set of host calls, at about ten times the start-up
// cost and much slower system calls. A deployment reviewing models for a
// government should use runsc; bwrap suits development and CI.
package sandbox

import (
	"errors"
	"time"
)

// OutputLimit is the most bytes of each stream (stdout, stderr) one Exec
// returns; the rest is counted and replaced by the marker
// "\n[… output truncated: N bytes not shown]\n".
const OutputLimit = 16 << 10

// Backend names.
const (
	Bubblewrap = "bwrap"
	GVisor     = "runsc"
)

var (
	// ErrUnavailable is returned (wrapped, naming what is missing) when the
	// backend's program is not installed or cannot create namespaces.
	ErrUnavailable = errors.New("sandbox backend unavailable")
	// ErrClosed is returned by Exec after Close, or after the box died
	// (its init process was killed, e.g. by the commands it ran).
	ErrClosed = errors.New("sandbox closed")
	// ErrSpec is returned (wrapped, naming the field) for an invalid Spec.
	ErrSpec = errors.New("invalid sandbox spec")
)

// File is one file of the task, written into the workspace (or, when
// Hidden, into /srv, readable but outside the workspace) before Setup.
type File struct {
	Path   string `json:"path"` // relative, slash-separated, no "..", no leading "/"
	Data   []byte `json:"-"`
	Mode   uint32 `json:"mode"` // permission bits; 0 means 0644
	Hidden bool   `json:"hidden,omitempty"`
}

// Step is a command run inside the box during Start, before the agent's
// first command, in the workspace. Stdin, when set, is fed to it (a
// secret such as the flag goes this way, never on a command line or in
// the environment). A step that fails fails Start.
type Step struct {
	Command string `json:"command"` // run with bash -c
	Stdin   []byte `json:"-"`
}

// Service is a long-running process started inside the box during Start
// (after Setup), in the background, for the episode's lifetime: the web
// application or network daemon a task attacks, on the box's own loopback.
// Start waits until Port (when set) accepts connections on 127.0.0.1.
type Service struct {
	Command string `json:"command"` // run with bash -c from /srv
	Stdin   []byte `json:"-"`       // e.g. the flag; the service reads it and keeps it in memory
	Port    int    `json:"port,omitempty"`
}

// Limits bound what the box's processes may use. Zero fields take the
// defaults in DefaultLimits.
type Limits struct {
	CPUSeconds  int           // RLIMIT_CPU per process
	MemoryBytes int64         // RLIMIT_AS per process
	Processes   int           // RLIMIT_NPROC: processes and threads of the box's user at once (counted per box)
	FileBytes   int64         // RLIMIT_FSIZE: largest file a process may write
	DiskBytes   int64         // size of each writable tmpfs: the workspace and /tmp (/dev/shm: at most 64 MiB)
	Command     time.Duration // wall time of one Exec when its caller gives none
	Lifetime    time.Duration // wall time of the whole box; it is killed after
}

// DefaultLimits returns the limits a zero Limits field takes: 60 s of CPU
// and 512 MiB of address space per process, 64 processes (threads count),
// 64 MiB per file, a 256 MiB workspace, 60 s per command and 30 minutes
// per box.
func DefaultLimits() Limits {
	return Limits{
		CPUSeconds:  60,
		MemoryBytes: 512 << 20,
		Processes:   64,
		FileBytes:   64 << 20,
		DiskBytes:   256 << 20,
		Command:     60 * time.Second,
		Lifetime:    30 * time.Minute,
	}
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.CPUSeconds == 0 {
		l.CPUSeconds = d.CPUSeconds
	}
	if l.MemoryBytes == 0 {
		l.MemoryBytes = d.MemoryBytes
	}
	if l.Processes == 0 {
		l.Processes = d.Processes
	}
	if l.FileBytes == 0 {
		l.FileBytes = d.FileBytes
	}
	if l.DiskBytes == 0 {
		l.DiskBytes = d.DiskBytes
	}
	if l.Command == 0 {
		l.Command = d.Command
	}
	if l.Lifetime == 0 {
		l.Lifetime = d.Lifetime
	}
	return l
}

// Spec is what a box is started with.
type Spec struct {
	Files    []File
	Setup    []Step
	Services []Service
	Limits   Limits
}

// Result is what one command did.
type Result struct {
	ExitCode  int    `json:"exit_code"` // -1 when killed by a signal or a limit
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	Truncated bool   `json:"truncated,omitempty"` // stdout or stderr was cut at the output limit
	TimedOut  bool   `json:"timed_out,omitempty"`
	// DurationMS is the command's wall time.
	DurationMS float64 `json:"duration_ms"`
}
