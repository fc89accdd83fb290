package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/report"
	"github.com/clearance-dev/clearance/suite"
)

// demoModels are the two reference models (simulators) the demo reviews.
var demoModels = []struct{ name, profile string }{
	{"acme-robust", "robust"},
	{"acme-vulnerable", "vulnerable"},
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo", "demo [--data DIR] [--limit N]")
	data := fs.String("data", "clearance-demo", "directory for the demo's runs and reports")
	limit := fs.Int("limit", 60, "samples per suite")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	names := suite.BuiltinNames()
	fmt.Fprintf(e.stdout, "Clearance demo: assessing two reference models (simulators with known behaviour, not real models)\nover real HTTP on loopback with the built-in suites %v, %d samples each.\n\n", names, *limit)
	cache, err := assess.OpenCache(filepath.Join(*data, "cache"))
	if err != nil {
		return err
	}
	var suites []*suite.Suite
	info := assess.PlanInfo{Limit: *limit, Seed: 1, Filter: ";skip-judge"}
	for _, n := range names {
		s, err := suite.Builtin(n)
		if err != nil {
			return err
		}
		suites = append(suites, s)
		info.Suites = append(info.Suites, assess.SuiteInfo{Name: s.Name, Version: s.Version, Digest: s.Digest()})
	}
	all, _, err := suite.Samples(suites, suite.PlanOptions{Limit: *limit, Seed: 1})
	if err != nil {
		return err
	}
	seq, n := withoutJudge(all) // the demo has no judge model
	for _, m := range demoModels {
		tf := targetFlags{kind: "reference", profile: m.profile, temperature: -1}
		bt, err := buildTarget(e, &tf, seq, "")
		if err != nil {
			return err
		}
		scorers, closeJudge, err := buildScorers(e, seq, &targetFlags{})
		if err != nil {
			bt.close()
			return err
		}
		dir := filepath.Join(*data, "runs", m.name)
		res, err := assess.Run(ctx, assess.Config{
			Target: bt.t, TargetInfo: bt.info, Plan: seq, Total: n, PlanKey: info, Scorers: scorers,
			OutDir: dir, Cache: cache, Logger: e.log, Now: e.now, Version: clearanceVersion(),
		})
		closeJudge()
		bt.close()
		if err != nil {
			return err
		}
		if err := report.WriteRunFiles(dir, report.Run{Run: res.Run, Metrics: res.Metrics}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "== %s (reference profile %q)\n", m.name, m.profile)
		if err := printSummary(e.stdout, "text", res, map[string]string{"report_html": filepath.Join(dir, "report.html")}); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout)
	}
	abs, _ := filepath.Abs(*data)
	fmt.Fprintf(e.stdout, "Done. Runs, metrics and reports are under %s%c\n", abs, os.PathSeparator)
	return nil
}
