package assess

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// runDiff says how the run in a directory (old) differs from the one
// asked for (cur), in the terms of the command line: "--limit 100 (the
// directory's run: 300)". It names each setting that enters the
// fingerprint; an empty result means only something unnamed differs.
func runDiff(old, cur *RunFile) []string {
	var d []string
	add := func(what string, now, then any) {
		if fmt.Sprint(now) != fmt.Sprint(then) {
			d = append(d, fmt.Sprintf("%s %v (the directory's run: %v)", what, now, then))
		}
	}
	add("--target", cur.Target.Kind, old.Target.Kind)
	add("--model", orNone(cur.Target.Model), orNone(old.Target.Model))
	add("--base-url", orNone(cur.Target.BaseURL), orNone(old.Target.BaseURL))
	if len(d) == 0 {
		add("target", cur.Target.Identity, old.Target.Identity)
	}
	add("suites", suiteNames(cur.Plan.Suites), suiteNames(old.Plan.Suites))
	if suiteNames(cur.Plan.Suites) == suiteNames(old.Plan.Suites) {
		add("suite contents", suiteDigests(cur.Plan.Suites), suiteDigests(old.Plan.Suites))
	}
	add("--limit", cur.Plan.Limit, old.Plan.Limit)
	add("--seed", cur.Plan.Seed, old.Plan.Seed)
	add("filter (--category, --transform, --attempts-per-task or --plan)", orNone(cur.Plan.Filter), orNone(old.Plan.Filter))
	add("--max-output-tokens", cur.Request.MaxTokens, old.Request.MaxTokens)
	add("--temperature", temp(cur.Request.Temperature), temp(old.Request.Temperature))
	add("scorers", scorerList(cur.Scorers), scorerList(old.Scorers))
	return d
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func temp(t *float64) string {
	if t == nil {
		return "(default)"
	}
	return fmt.Sprint(*t)
}

func suiteNames(ss []SuiteInfo) string {
	var n []string
	for _, s := range ss {
		n = append(n, s.Name)
	}
	return orNone(strings.Join(n, ","))
}

func suiteDigests(ss []SuiteInfo) string {
	var n []string
	for _, s := range ss {
		n = append(n, s.Name+"@"+s.Version+"="+s.Digest)
	}
	return strings.Join(n, ",")
}

func scorerList(m map[string]string) string {
	var n []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		n = append(n, k+"@"+m[k])
	}
	return orNone(strings.Join(n, ","))
}

// variantDiff says how the variant recorded in a directory's run (old)
// differs from the one asked for (cur). A run that records none was made
// before variants were recorded, and stands for production.
func variantDiff(old, cur *RunFile) []string {
	var d []string
	add := func(what, now, then string) {
		if now != then {
			d = append(d, fmt.Sprintf("%s %s (the directory's run: %s)", what, orNone(now), orNone(then)))
		}
	}
	add("--variant", cmp.Or(cur.Variant, "production"), cmp.Or(old.Variant, "production"))
	add("--checkpoint", cur.Checkpoint, old.Checkpoint)
	add("--scaffold", cur.Scaffold, old.Scaffold)
	return d
}
