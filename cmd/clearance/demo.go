package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/report"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/tlog"
)

// demoDossier is the developer dossier both demo models are reviewed with:
// a 1.2×10^26 FLOP model placed on the EU and US markets.
//
//go:embed demo_dossier.yaml
var demoDossier []byte

// demoModels are the two reference models (simulators) the demo reviews.
var demoModels = []struct{ name, profile string }{
	{"acme-robust", "robust"},
	{"acme-vulnerable", "vulnerable"},
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo", "demo [--data DIR] [--limit N]")
	data := fs.String("data", "clearance-demo", "directory for the demo's runs and reports")
	limit := fs.Int("limit", 200, "samples per suite")
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
		if err := demoDecide(ctx, e, *data, m.name, dir, res); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout)
	}
	fmt.Fprintf(e.stdout, "Check a decision yourself, offline:\n  clearance verify --bundle %s --model %s --key %s --log-key %s\n",
		filepath.Join(*data, "runs", demoModels[0].name, "decision.bundle"), filepath.Join(*data, "models", demoModels[0].name),
		filepath.Join(*data, "keys", "decider.pub"), filepath.Join(*data, "log", "log.pub"))
	fmt.Fprintf(e.stdout, "or with cosign v2:\n  %s\n\n", attest.CosignCommand(filepath.Join(*data, "keys", "decider.pub"),
		filepath.Join(*data, "runs", demoModels[0].name, "decision.bundle"), filepath.Join(*data, "trusted_root.json"),
		filepath.Join(*data, "models", demoModels[0].name, "model.safetensors"), ""))
	abs, _ := filepath.Abs(*data)
	fmt.Fprintf(e.stdout, "Done. Runs, metrics and reports are under %s%c\n", abs, os.PathSeparator)
	return nil
}

// demoDecide judges a demo run under every built-in profile, writes the
// regime comparison, signs the decision bound to a (synthetic) weights
// directory, appends it to the demo's transparency log and verifies it.
func demoDecide(ctx context.Context, e *env, data, name, runDir string, res *assess.Result) error {
	dossierPath := filepath.Join(data, "dossier.yaml")
	if err := os.WriteFile(dossierPath, demoDossier, 0o644); err != nil {
		return err
	}
	evPath, err := writeEvidence(runDir, dossierPath, res, e.now())
	if err != nil {
		return err
	}
	evBytes, err := os.ReadFile(evPath)
	if err != nil {
		return err
	}
	ev, err := policy.LoadEvidence(evPath, evBytes)
	if err != nil {
		return err
	}
	ev.Model.Name = name
	cmp, err := policy.Compare(ev)
	if err != nil {
		return err
	}
	var txt, html bytes.Buffer
	if err := policy.RenderTable(&txt, cmp); err != nil {
		return err
	}
	if err := policy.RenderHTML(&html, cmp); err != nil {
		return err
	}
	cj, _ := json.MarshalIndent(cmp, "", "  ")
	for file, b := range map[string][]byte{"compare.txt": txt.Bytes(), "compare.html": html.Bytes(), "compare.json": cj} {
		if err := os.WriteFile(filepath.Join(runDir, file), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "Regime comparison (full detail: %s):\n", filepath.Join(runDir, "compare.html"))
	for _, r := range cmp.Results {
		app := "not applicable"
		if r.Applicable {
			app = "applicable"
		}
		fmt.Fprintf(e.stdout, "  %-20s %-15s tier %-12s %s\n", r.Profile, app, r.Tier, r.Outcome)
	}

	// The decider's key and the log are made once per data directory.
	keys := filepath.Join(data, "keys", "decider")
	if _, err := os.Stat(keys + ".key"); err != nil {
		os.MkdirAll(filepath.Dir(keys), 0o700)
		k, err := attest.GenerateKey()
		if err != nil {
			return err
		}
		if err := attest.WriteKeyFiles(keys, k, nil); err != nil {
			return err
		}
	}
	logDir := filepath.Join(data, "log")
	if _, err := os.Stat(filepath.Join(logDir, "log.pub")); err != nil {
		if _, err := tlog.Init(ctx, logDir, "clearance-demo/log"); err != nil {
			return err
		}
	}
	os.WriteFile(filepath.Join(data, "trusted_root.json"), []byte(attest.CosignTrustedRoot), 0o644)
	modelDir := filepath.Join(data, "models", name)
	if err := writeDemoWeights(modelDir, name); err != nil {
		return err
	}
	key, err := loadPrivateKey(e, keys+".key", "")
	if err != nil {
		return err
	}
	all, err := policy.Builtins()
	if err != nil {
		return err
	}
	pd, err := policy.Decide(ev, all...)
	if err != nil {
		return err
	}
	d := decisionFromPolicy(pd, ev, e.now(), 365*24*time.Hour)
	d.CaseID = "demo-" + name
	d.Verifier = attest.Verifier{ID: "urn:clearance:demo-review-board", Name: "Clearance demo review board", Version: map[string]string{"clearance": clearanceVersion()}}
	bundlePath := filepath.Join(runDir, "decision.bundle")
	if _, err := os.Stat(bundlePath); err == nil {
		// Already decided and logged in an earlier demo run: verify it again
		// rather than logging a duplicate.
		return demoVerify(ctx, e, bundlePath, modelDir, keys, logDir)
	}
	bundle, _, err := signDecisionFor(ctx, key, d, modelDir, "")
	if err != nil {
		return err
	}
	if err := os.WriteFile(bundlePath, bundle, 0o644); err != nil {
		return err
	}
	rec, err := appendToLog(ctx, logDir, bundle, tlog.ReceiptPath(bundlePath))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Decision: %s — signed %s, logged at index %d\n", d.Outcome, bundlePath, rec.Index)
	return demoVerify(ctx, e, bundlePath, modelDir, keys, logDir)
}

func demoVerify(ctx context.Context, e *env, bundlePath, modelDir, keys, logDir string) error {
	rep := verifyDecisionFiles(ctx, verifyInput{bundlePath: bundlePath, keyPath: keys + ".pub", modelDir: modelDir,
		logLoc: logDir, logKeyPath: filepath.Join(logDir, "log.pub"), receiptPath: tlog.ReceiptPath(bundlePath), now: e.now()})
	if !rep.OK {
		return fmt.Errorf("demo decision %s does not verify: %s", bundlePath, rep.Reason)
	}
	fmt.Fprintf(e.stdout, "Verified offline: signature, weights, log inclusion and consistency.\n")
	return nil
}

// writeDemoWeights writes a small synthetic "weights" directory, the same
// bytes every time for a name.
func writeDemoWeights(dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	h := uint64(0)
	for _, c := range name {
		h = h*31 + uint64(c)
	}
	rng := rand.New(rand.NewPCG(h, 7))
	w := make([]byte, 1<<20)
	for i := range w {
		w[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), w, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type":"demo","name":"`+name+`"}`+"\n"), 0o644)
}
