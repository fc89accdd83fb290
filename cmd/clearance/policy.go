package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clearance-dev/clearance/policy"
)

const policyUsage = `Usage: clearance policy <subcommand> [flags]

Subcommands:
  lint FILE…                                   check profiles: schema, CEL types, unused constants, unreachable rules
  eval --evidence FILE --profile ID|FILE…      judge evidence under profiles (exit 3 when one holds or refuses)
  compare --evidence FILE [--format table|json|html]
                                               judge evidence under every built-in profile, side by side
  plan --dossier FILE [--profile ID|FILE…]     the sampling plan for the profiles that apply (for assess --plan)
  list                                         the built-in profiles
  show ID                                      print a built-in profile's YAML
  schema profile|evidence|plan                 print a published JSON Schema

Evidence is JSON or YAML (a bare dossier is accepted). The evaluation date is
--as-of, else the evidence's as_of, else today.
`

func runPolicy(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		io.WriteString(e.stderr, policyUsage)
		if len(args) == 0 {
			return &exitError{code: 2, err: errors.New("")}
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "lint":
		return runPolicyLint(e, rest)
	case "eval":
		return runPolicyEval(e, rest)
	case "compare":
		return runPolicyCompare(e, rest)
	case "plan":
		return runPolicyPlan(e, rest)
	case "list":
		return runPolicyList(e, rest)
	case "show":
		return runPolicyShow(e, rest)
	case "schema":
		return runPolicySchema(e, rest)
	}
	return usageError("unknown policy subcommand %q (lint, eval, compare, plan, list, show, schema)", sub)
}

// profileLoader loads profiles named by built-in id or file path. Files
// may extend built-ins or earlier files.
type profileLoader struct {
	loaded map[string]*policy.Profile
}

func (l *profileLoader) resolve(id string) (*policy.Profile, error) {
	if p, ok := l.loaded[id]; ok {
		return p, nil
	}
	return policy.Builtin(id)
}

func (l *profileLoader) load(spec string) (*policy.Profile, error) {
	if l.loaded == nil {
		l.loaded = map[string]*policy.Profile{}
	}
	if !isFileSpec(spec) {
		return policy.Builtin(spec)
	}
	data, err := readLimited(spec, policy.MaxProfileBytes)
	if err != nil {
		return nil, err
	}
	p, err := policy.Load(spec, data, l.resolve)
	if err != nil {
		return nil, err
	}
	l.loaded[p.ID] = p
	return p, nil
}

func isFileSpec(s string) bool {
	if strings.ContainsAny(s, `/\`) {
		return true
	}
	switch strings.ToLower(filepath.Ext(s)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func loadProfiles(specs []string) ([]*policy.Profile, error) {
	var l profileLoader
	out := make([]*policy.Profile, 0, len(specs))
	for _, s := range specs {
		p, err := l.load(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, limit)
	}
	return data, nil
}

// loadEvidence reads evidence (or a bare dossier) and settles its date:
// asOf when given, else the document's as_of, else now.
func loadEvidence(e *env, path, asOf string) (*policy.Evidence, error) {
	data, err := readLimited(path, policy.MaxEvidenceBytes)
	if err != nil {
		return nil, err
	}
	ev, err := policy.LoadEvidence(path, data)
	if err != nil {
		return nil, err
	}
	if asOf != "" {
		t, err := parseDate(asOf)
		if err != nil {
			return nil, usageError("--as-of: %v", err)
		}
		ev.AsOf = t
	}
	if ev.AsOf.IsZero() {
		ev.AsOf = e.now().UTC().Truncate(time.Second)
	}
	return ev, nil
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want YYYY-MM-DD or RFC 3339, got %q", s)
	}
	return t.UTC(), nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runPolicyLint(e *env, args []string) error {
	fs := newFlagSet(e, "policy lint", "policy lint FILE… [--format text|json]")
	format := fs.String("format", "text", "output format: text or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError("policy lint: want at least one FILE")
	}
	if *format != "text" && *format != "json" {
		return usageError("--format must be text or json, not %q", *format)
	}
	var l profileLoader
	var all []policy.Finding
	for _, f := range pos {
		data, err := readLimited(f, policy.MaxProfileBytes)
		if err != nil {
			return err
		}
		fsnd, err := policy.Lint(f, data, l.resolve)
		if err != nil {
			return err
		}
		all = append(all, fsnd...)
		if !slices.ContainsFunc(fsnd, func(x policy.Finding) bool { return x.Severity == "error" }) {
			if _, err := l.load(f); err != nil {
				return err
			}
		}
	}
	if *format == "json" {
		if all == nil {
			all = []policy.Finding{}
		}
		if err := writeJSON(e.stdout, all); err != nil {
			return err
		}
	} else {
		for _, f := range all {
			fmt.Fprintln(e.stdout, f.String())
		}
		if len(all) == 0 {
			fmt.Fprintf(e.stdout, "%d profile(s): no findings\n", len(pos))
		}
	}
	n := 0
	for _, f := range all {
		if f.Severity == "error" {
			n++
		}
	}
	if n > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d error(s)", n)}
	}
	return nil
}

func runPolicyEval(e *env, args []string) error {
	fs := newFlagSet(e, "policy eval", "policy eval --evidence FILE --profile ID|FILE… [--format text|json] [--as-of DATE]")
	evidence := fs.String("evidence", "", "evidence or dossier file (JSON or YAML)")
	var profiles multiFlag
	fs.Var(&profiles, "profile", "built-in profile id or profile file (repeatable, comma-separated)")
	format := fs.String("format", "text", "output format: text or json (a list of results)")
	asOf := fs.String("as-of", "", "evaluation date (YYYY-MM-DD or RFC 3339); default: the evidence's as_of, else today")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	profiles = append(profiles, pos...)
	if *evidence == "" || len(profiles) == 0 {
		return usageError("policy eval: want --evidence FILE and at least one --profile")
	}
	if *format != "text" && *format != "json" {
		return usageError("--format must be text or json, not %q", *format)
	}
	ps, err := loadProfiles(profiles)
	if err != nil {
		return err
	}
	ev, err := loadEvidence(e, *evidence, *asOf)
	if err != nil {
		return err
	}
	d, err := policy.Decide(ev, ps...)
	if err != nil {
		return err
	}
	if *format == "json" {
		err = writeJSON(e.stdout, d.Results)
	} else {
		err = policy.RenderText(e.stdout, d)
	}
	if err != nil {
		return err
	}
	var blocking []string
	for _, r := range d.Results {
		if r.Applicable && r.Outcome.Blocking() {
			blocking = append(blocking, r.Profile+": "+string(r.Outcome))
		}
	}
	if len(blocking) > 0 {
		return &exitError{code: 3, err: fmt.Errorf("release blocked under %s", strings.Join(blocking, ", "))}
	}
	return nil
}

func runPolicyCompare(e *env, args []string) error {
	fs := newFlagSet(e, "policy compare", "policy compare --evidence FILE [--format table|json|html] [--profile ID|FILE…] [--as-of DATE] [-o FILE]")
	evidence := fs.String("evidence", "", "evidence or dossier file (JSON or YAML)")
	var profiles multiFlag
	fs.Var(&profiles, "profile", "extra profile files or ids to compare besides the built-ins")
	format := fs.String("format", "table", "output format: table, json or html")
	asOf := fs.String("as-of", "", "evaluation date (YYYY-MM-DD or RFC 3339)")
	out := fs.String("o", "", "write to this file instead of stdout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *evidence == "" && len(pos) == 1 {
		*evidence = pos[0]
	} else if len(pos) > 0 {
		return usageError("policy compare: unexpected arguments %v", pos)
	}
	if *evidence == "" {
		return usageError("policy compare: want --evidence FILE")
	}
	if *format != "table" && *format != "json" && *format != "html" {
		return usageError("--format must be table, json or html, not %q", *format)
	}
	ps, err := policy.Builtins()
	if err != nil {
		return err
	}
	extra, err := loadProfiles(profiles)
	if err != nil {
		return err
	}
	for _, p := range extra {
		ps = slices.DeleteFunc(ps, func(q *policy.Profile) bool { return q.ID == p.ID })
		ps = append(ps, p)
	}
	ev, err := loadEvidence(e, *evidence, *asOf)
	if err != nil {
		return err
	}
	d, err := policy.Compare(ev, ps...)
	if err != nil {
		return err
	}
	w := e.stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	switch *format {
	case "json":
		err = writeJSON(w, d)
	case "html":
		err = policy.RenderHTML(w, d)
	default:
		err = policy.RenderTable(w, d)
	}
	return err
}

func runPolicyPlan(e *env, args []string) error {
	fs := newFlagSet(e, "policy plan", "policy plan --dossier FILE [--profile ID|FILE…] [--as-of DATE] [-o FILE]")
	dossier := fs.String("dossier", "", "dossier (or evidence) file, JSON or YAML")
	asOf := fs.String("as-of", "", "date the profiles must be in force on (YYYY-MM-DD or RFC 3339); default: the dossier's as_of, else its release.planned_date, else today")
	var profiles multiFlag
	fs.Var(&profiles, "profile", "profiles to plan for (default: every built-in)")
	out := fs.String("o", "", "write the plan to this file instead of stdout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	profiles = append(profiles, pos...)
	if *dossier == "" {
		return usageError("policy plan: want --dossier FILE")
	}
	var ps []*policy.Profile
	if len(profiles) == 0 {
		ps, err = policy.Builtins()
	} else {
		ps, err = loadProfiles(profiles)
	}
	if err != nil {
		return err
	}
	data, err := readLimited(*dossier, policy.MaxEvidenceBytes)
	if err != nil {
		return err
	}
	ev, err := policy.LoadEvidence(*dossier, data)
	if err != nil {
		return err
	}
	if *asOf != "" {
		t, err := parseDate(*asOf)
		if err != nil {
			return usageError("--as-of: %v", err)
		}
		ev.AsOf = t
	}
	if ev.AsOf.IsZero() && ev.Release.PlannedDate.IsZero() {
		ev.AsOf = e.now().UTC().Truncate(time.Second)
	}
	plan, err := policy.MakePlan(ev, ps...)
	if err != nil {
		return err
	}
	if len(plan.Suites) == 0 {
		return emptyPlanError(ev, ps)
	}
	if *out == "" {
		return writeJSON(e.stdout, plan)
	}
	buf, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, append(buf, '\n'), 0o644)
}

func runPolicyList(e *env, args []string) error {
	fs := newFlagSet(e, "policy list", "policy list [--format text|json]")
	format := fs.String("format", "text", "output format: text or json")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	ps, err := policy.Builtins()
	if err != nil {
		return err
	}
	if *format == "json" {
		type item struct {
			ID, Title, Version, Status, Jurisdiction, Digest string
		}
		var items []item
		for _, p := range ps {
			items = append(items, item{p.ID, p.Title, p.Version, p.Status, p.Jurisdiction, p.Digest()})
		}
		return writeJSON(e.stdout, items)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tSTATUS\tJURISDICTION\tVERSION\tTITLE")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.ID, p.Status, p.Jurisdiction, p.Version, p.Title)
	}
	return tw.Flush()
}

func runPolicyShow(e *env, args []string) error {
	fs := newFlagSet(e, "policy show", "policy show ID")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("policy show: want one profile id")
	}
	data, err := policy.BuiltinSource(pos[0])
	if err != nil {
		var ids []string
		if ps, berr := policy.Builtins(); berr == nil {
			for _, p := range ps {
				ids = append(ids, p.ID)
			}
		}
		return fmt.Errorf("policy show: no built-in profile %q; the built-in profiles are %s", pos[0], strings.Join(ids, ", "))
	}
	_, err = e.stdout.Write(data)
	return err
}

func runPolicySchema(e *env, args []string) error {
	fs := newFlagSet(e, "policy schema", "policy schema profile|evidence|plan")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("policy schema: want profile, evidence or plan")
	}
	data, err := policy.Schema(pos[0])
	if err != nil {
		return usageError("%v", err)
	}
	_, err = e.stdout.Write(data)
	return err
}

// emptyPlanError says why a plan has no evaluations: for each profile,
// the applicability facts that were false (with the conditions that
// test them), the exemption that held, or the dates it is not in force.
func emptyPlanError(ev *policy.Evidence, ps []*policy.Profile) error {
	dec, err := policy.Decide(ev, ps...)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("policy plan: empty plan: no profile requires an evaluation of this dossier")
	for i, p := range ps {
		r := dec.Results[i]
		fmt.Fprintf(&b, "\n  %s: %s", p.ID, r.Outcome)
		switch {
		case r.Outcome == policy.NotInForce:
			fmt.Fprintf(&b, ": %s (--as-of moves the date)", r.InForceNote)
			continue
		case r.Applicable && r.Tier != "":
			fmt.Fprintf(&b, ": applies, but requires no evaluation in tier %s", r.Tier)
			continue
		case r.Applicable:
			b.WriteString(": applies, but requires no evaluation")
			continue
		}
		for _, c := range notApplicableClauses(p, r) {
			fmt.Fprintf(&b, "\n    %s", c)
		}
	}
	return errors.New(b.String())
}

// notApplicableClauses lists why profile p does not apply: the
// applicability conditions that were false and the exemptions that held,
// each with the expression over the dossier's facts that decided it.
func notApplicableClauses(p *policy.Profile, r policy.Result) []string {
	var out []string
	a := p.Applicability
	if a == nil {
		return nil
	}
	find := func(cs []policy.Clause, id string) *policy.Clause {
		for i := range cs {
			if cs[i].ID == id {
				return &cs[i]
			}
		}
		return nil
	}
	for _, w := range r.Why {
		kind, id, _ := strings.Cut(w.Clause, ".")
		switch {
		case kind == "any" && !w.Holds && !w.Undetermined:
			for _, c := range a.Any {
				out = append(out, fmt.Sprintf("false: %s (%s)", c.Why, c.When))
			}
		case kind == "all" && !w.Holds && !w.Undetermined:
			if c := find(a.All, id); c != nil {
				out = append(out, fmt.Sprintf("false: %s (%s)", c.Why, c.When))
			} else {
				out = append(out, "false: "+w.Text)
			}
		case kind == "exemptions" && w.Holds:
			if c := find(a.Exemptions, id); c != nil {
				out = append(out, fmt.Sprintf("exempt: %s (%s)", c.Why, c.When))
			} else {
				out = append(out, "exempt: "+w.Text)
			}
		}
	}
	return out
}
