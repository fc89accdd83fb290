package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/clearance-dev/clearance/challenge"
)

// runTasks is `clearance tasks`: the cyber-exploit challenge generators,
// external task directories, and the importers of InterCode-CTF and
// Cybench.
func runTasks(ctx context.Context, e *env, args []string) error {
	usage := "tasks generators [--format text|json] | tasks list DIR | tasks import intercode|cybench --from SRC --out DIR"
	if len(args) == 0 {
		return usageError("want a subcommand: %s", usage)
	}
	switch args[0] {
	case "generators":
		return runTaskGenerators(e, args[1:])
	case "list":
		return runTaskList(e, args[1:])
	case "import":
		return runTaskImport(e, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage: clearance %s\n\n", usage)
		fmt.Fprintln(e.stdout, "  generators  list the built-in challenge generators of suite cyber-exploit")
		fmt.Fprintln(e.stdout, "  list DIR    load an external task directory (as --tasks DIR would) and list its tasks")
		fmt.Fprintln(e.stdout, "  import      convert an InterCode-CTF or Cybench checkout into a task directory; flags are kept only as SHA-256")
		return nil
	}
	return usageError("unknown tasks subcommand %q (want generators, list or import)", args[0])
}

func runTaskGenerators(e *env, args []string) error {
	fs := newFlagSet(e, "tasks generators", "tasks generators [--format text|json]")
	format := fs.String("format", "text", "output format: text or json")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	type gen struct {
		Name       string `json:"name"`
		Category   string `json:"category"`
		Difficulty int    `json:"difficulty"`
		Summary    string `json:"summary"`
	}
	var out []gen
	for _, g := range challenge.Generators() {
		out = append(out, gen{g.Name, g.Category, g.Difficulty, g.Summary})
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "text":
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "GENERATOR\tCATEGORY\tDIFFICULTY\tSUMMARY")
		for _, g := range out {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", g.Name, g.Category, g.Difficulty, g.Summary)
		}
		return tw.Flush()
	}
	return usageError("--format must be text or json, not %q", *format)
}

func runTaskList(e *env, args []string) error {
	fs := newFlagSet(e, "tasks list", "tasks list DIR")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("tasks list wants one task directory")
	}
	ts, err := challenge.LoadTasks(pos[0])
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tCATEGORY\tDIFFICULTY\tFILES\tSERVICES\tSOLUTION\tFLAG SHA-256")
	for _, t := range ts {
		sol := "no"
		if t.Solution != "" {
			sol = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s…\n", strings.TrimPrefix(t.ID, challenge.ExternalGenerator+"/"), t.Category, t.Difficulty, len(t.Files), len(t.Services), sol, t.FlagSHA256[:16])
	}
	return tw.Flush()
}

func runTaskImport(e *env, args []string) error {
	fs := newFlagSet(e, "tasks import", "tasks import intercode|cybench --from SRC --out DIR")
	from := fs.String("from", "", "the upstream checkout (the repository root of InterCode or Cybench)")
	out := fs.String("out", "", "the task directory to create (must not exist or be empty)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *from == "" || *out == "" {
		return usageError("want: tasks import intercode|cybench --from SRC --out DIR")
	}
	var n int
	switch pos[0] {
	case "intercode":
		n, err = challenge.ImportInterCode(*from, *out)
	case "cybench":
		n, err = challenge.ImportCybench(*from, *out)
	default:
		return usageError("unknown dataset %q (want intercode or cybench)", pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "imported %d tasks into %s (flags kept as SHA-256 only; skipped tasks and why: %s/%s)\n", n, *out, *out, challenge.SkippedFile)
	fmt.Fprintf(e.stdout, "run them with: clearance assess --target … --tasks %s\n", *out)
	return nil
}
