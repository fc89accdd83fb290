package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/clearance-dev/clearance/suite"
)

func runSuites(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "suites", "suites [NAME|FILE] [--format text|json]")
	format := fs.String("format", "text", "output format: text or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageError("--format must be text or json, not %q", *format)
	}
	var list []*suite.Suite
	switch len(pos) {
	case 0:
		if list, err = suite.Builtins(); err != nil {
			return err
		}
	case 1:
		s, err := loadSuite(pos[0])
		if err != nil {
			return err
		}
		list = []*suite.Suite{s}
	default:
		return usageError("want at most one suite, got %d", len(pos))
	}
	descs := make([]suite.Description, len(list))
	for i, s := range list {
		descs[i] = s.Describe()
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if len(pos) == 1 {
			return enc.Encode(descs[0])
		}
		return enc.Encode(descs)
	}
	if len(pos) == 0 {
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SUITE\tVERSION\tITEMS\tSAMPLES\tTRANSFORMS\tLICENCES\tDESCRIPTION")
		for _, d := range descs {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", d.Name, d.Version, d.Items, d.Samples, len(d.Transforms), strings.Join(d.Licenses, ", "), d.Description)
		}
		tw.Flush()
		fmt.Fprintln(e.stdout, "\nRun 'clearance suites NAME' for a suite's categories, transforms, licences and sources.")
		return nil
	}
	d := descs[0]
	fmt.Fprintf(e.stdout, "%s v%s — %s\nsha256 %s\n%d items, %d samples when run without --limit\n", d.Name, d.Version, d.Description, d.Digest, d.Items, d.Samples)
	section := func(title string, cs []suite.Count) {
		fmt.Fprintf(e.stdout, "\n%s:\n", title)
		for _, c := range cs {
			fmt.Fprintf(e.stdout, "  %-40s %d\n", c.Name, c.Count)
		}
	}
	section("Kinds", d.Kinds)
	section("Categories", d.Categories)
	section("Transforms (samples)", d.Transforms)
	section("Scorers", d.Scorers)
	fmt.Fprintln(e.stdout, "\nMetrics:")
	for _, m := range d.Metrics {
		fmt.Fprintf(e.stdout, "  %s (%s): flagged = %s\n", m.Name, m.Kind, m.Flagged)
	}
	fmt.Fprintln(e.stdout, "\nDatasets:")
	for _, ds := range d.Datasets {
		fmt.Fprintf(e.stdout, "  %s — %d rows — licence %s — %s\n", ds.ID, ds.Rows, ds.License, ds.Source)
	}
	return nil
}

// loadSuite returns a built-in suite by name, or loads a suite file when
// arg names an existing file or ends in .yaml/.yml.
func loadSuite(arg string) (*suite.Suite, error) {
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") || strings.ContainsRune(arg, '/') {
		return suite.LoadFile(arg)
	}
	return suite.Builtin(arg)
}
