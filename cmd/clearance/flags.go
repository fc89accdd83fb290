package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// errFlagHelp is returned by parseFlags when the user asked for -h; the
// usage has been printed and the command exits 0.
var errFlagHelp = errors.New("help requested")

// newFlagSet returns a FlagSet that never exits the process. Asked for
// -h, it prints the command's usage and flags on stdout; given a wrong
// flag, it prints only the short usage on stderr, and parseFlags returns
// the error, which main prints last. Text after a blank line in usage (an
// exit-code legend) is part of the help only.
func newFlagSet(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package writes a parse error to the output before calling
	// Usage, and nothing before Usage for -h: the buffer tells them apart.
	var failed strings.Builder
	fs.SetOutput(&failed)
	fs.Usage = func() {
		if failed.Len() > 0 {
			short, _, _ := strings.Cut(usage, "\n\n")
			fmt.Fprintf(e.stderr, "Usage: clearance %s\nRun 'clearance %s --help' for the flags.\n", strings.TrimRight(short, "\n"), name)
			return
		}
		fmt.Fprintf(e.stdout, "Usage: clearance %s\n\nFlags:\n", usage)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(&failed)
		if g, ok := groups()[name]; ok && g.ownFlags {
			fmt.Fprintln(e.stdout, "\nSubcommands:")
			for _, s := range g.subs {
				fmt.Fprintf(e.stdout, "  %s %s %s\n      %s\n", name, s.name, s.args, s.summary)
			}
		}
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments, and
// turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errFlagHelp
			}
			return nil, &exitError{code: 2, err: err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// multiFlag is a repeatable string flag; comma-separated values are split.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }

func (m *multiFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*m = append(*m, p)
		}
	}
	return nil
}

// kvFlag is a repeatable key=value flag (for example --header K=V).
type kvFlag map[string]string

func (m kvFlag) String() string { return "" }

func (m kvFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	m[strings.TrimSpace(k)] = val
	return nil
}

// byteSize is a flag holding a number of bytes, written as a number with
// an optional unit: B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB
// (powers of 1024).
type byteSize int64

func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Set(v string) error {
	num := strings.TrimRight(v, "KMGiBkmgib")
	unit := strings.TrimSpace(v[len(num):])
	mult := map[string]int64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[unit]
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || mult == 0 || n < 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("%q is not a size such as 1048576, 500MiB or 2GB", v)
	}
	*b = byteSize(n * mult)
	return nil
}
