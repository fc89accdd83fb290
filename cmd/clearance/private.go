package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/suite"
)

// privateSeedFile is the agency's private seed in a service data
// directory, beside its keys: 64 hex digits, mode 0600.
const privateSeedFile = "private-seed"

// privateFlags are `clearance assess --private-seed FILE`: run each
// suite's private form beside its public form and report the gap.
type privateFlags struct {
	path string
	seed suite.PrivateSeed
	// suites are the run's public suites, for naming canaries' items;
	// privates their private forms.
	suites, privates []*suite.Suite
	// paraphrase: --private-paraphrase, model paraphrases by the
	// --judge-* model; closeHelper stops its client.
	paraphrase  bool
	closeHelper func()
}

func (pf *privateFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&pf.paraphrase, "private-paraphrase", false, "with --private-seed: also paraphrase each private item with the --judge-* model (temperature 0, seed from the private seed); a paraphrase that loses the canary or a protected text falls back to the templated rewording, and the fallbacks are counted")
	fs.StringVar(&pf.path, "private-seed", "", "file holding the agency's private seed (64 hex digits): also run every suite's private form (reworded items with canaries, same items) and write private-gap.json; agency only, never give it to a developer")
}

// check reads the seed; private forms need --suite, not --plan.
func (pf *privateFlags) check(planFile string) error {
	if pf.path == "" {
		if pf.paraphrase {
			return usageError("--private-paraphrase needs --private-seed")
		}
		return nil
	}
	if planFile != "" {
		return usageError("--private-seed works with --suite, not --plan")
	}
	seed, err := readPrivateSeed(pf.path)
	if err != nil {
		return err
	}
	pf.seed = seed
	return nil
}

// addForms appends the private form of each suite and records it in the
// run's plan key (name and digest; the digest commits to the seed's
// fingerprint, never the seed).
func (pf *privateFlags) addForms(e *env, judge *targetFlags, ss *[]*suite.Suite, info *assess.PlanInfo) error {
	if pf.path == "" {
		return nil
	}
	var opts suite.PrivateOptions
	if pf.paraphrase {
		if judge.kind == "" {
			return usageError("--private-paraphrase needs a helper model: give it with --judge-target (and --judge-base-url, --judge-model)")
		}
		bt, err := buildTarget(e, judge, func(func(suite.Sample) bool) {}, "judge-")
		if err != nil {
			return err
		}
		pf.closeHelper = bt.close
		opts.Identity = cmp.Or(bt.info.Identity, bt.t.Identity())
		opts.Paraphraser = assess.ModelParaphraser{Model: bt.t}
	}
	all, err := assess.WithPrivateOptions(*ss, pf.seed, opts)
	if err != nil {
		return fmt.Errorf("--private-seed: %w", err)
	}
	pf.suites, pf.privates = *ss, all[len(*ss):]
	for _, s := range all[len(*ss):] {
		info.Suites = append(info.Suites, assess.SuiteInfo{Name: s.Name, Version: s.Version, Digest: s.Digest()})
	}
	*ss = all
	return nil
}

// report writes private-gap.json into the run directory; nil without
// --private-seed.
func (pf *privateFlags) report(dir string, res *assess.Result, files map[string]string) (*assess.PrivateGap, error) {
	if pf.path == "" {
		return nil, nil
	}
	gap := assess.ComparePrivate(res.Metrics, pf.seed.Fingerprint(), 0)
	if pf.paraphrase {
		gap.Paraphrase = assess.SumParaphraseStats(pf.privates)
	}
	b, err := json.MarshalIndent(gap, "", "  ")
	if err != nil {
		return nil, err
	}
	p := filepath.Join(dir, "private-gap.json")
	if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write private gap: %w", err)
	}
	files["private_gap"] = p
	return &gap, nil
}

// scan reads the run's samples.jsonl and records in its metrics the
// canaries of the seed that appeared in model output without being in the
// prompt (assess.Contamination); nothing without --private-seed.
func (pf *privateFlags) scan(dir string, res *assess.Result) error {
	if pf.path == "" {
		return nil
	}
	f, err := os.Open(filepath.Join(dir, "samples.jsonl"))
	if err != nil {
		return fmt.Errorf("scan for canaries: %w", err)
	}
	defer f.Close()
	c, err := assess.ScanRecords(suite.NewCanaryDetector(pf.seed, pf.suites...), f)
	if err != nil {
		return err
	}
	res.Metrics.Contamination = &c
	b, err := json.MarshalIndent(res.Metrics, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "metrics.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "metrics.json")); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}

func printContamination(w io.Writer, c *assess.Contamination) {
	if !c.Signal() {
		fmt.Fprintf(w, "Canary scan: no private canary in the model output of %d samples\n", c.Scanned)
		return
	}
	fmt.Fprintf(w, "WARNING: %s: %d canaries in %d of %d samples", assess.ContaminationSignal, c.Canaries, len(c.Samples), c.Scanned)
	if len(c.Items) > 0 {
		fmt.Fprintf(w, " (items %s)", strings.Join(c.Items, ", "))
	}
	fmt.Fprintln(w)
	for i, id := range c.Samples {
		if i == 10 {
			fmt.Fprintf(w, "  … and %d more (metrics.json \"contamination\")\n", len(c.Samples)-i)
			break
		}
		fmt.Fprintf(w, "  %s\n", id)
	}
}

func printPrivateGap(w io.Writer, g *assess.PrivateGap) {
	fmt.Fprintf(w, "Private variants (seed %s; flagged when private − public exceeds %.0f points at the 95%% lower bound):\n", g.Seed, 100*g.Margin)
	if p := g.Paraphrase; p != nil {
		fmt.Fprintf(w, "  model paraphrases (%s): %d items paraphrased, %d fell back to the templated rewording", p.Model, p.Paraphrased, p.Fallbacks)
		if len(p.Reasons) > 0 {
			keys := slices.Sorted(maps.Keys(p.Reasons))
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = fmt.Sprintf("%s %d", k, p.Reasons[k])
			}
			fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
		}
		fmt.Fprintln(w)
	}
	for _, d := range g.Gaps {
		mark := ""
		if d.Flagged {
			mark = "  POSSIBLE OVERFITTING to the public suite"
		}
		fmt.Fprintf(w, "  %-40s public %5.1f%%  private %5.1f%%  gap %+5.1f [%+5.1f, %+5.1f]%s\n",
			d.Metric, 100*d.Diff.B.Rate, 100*d.Diff.A.Rate, 100*d.Diff.Diff, 100*d.Diff.CI.Low, 100*d.Diff.CI.High, mark)
	}
}

// readPrivateSeed reads a seed file: 64 hex digits.
func readPrivateSeed(path string) (suite.PrivateSeed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return suite.PrivateSeed{}, fmt.Errorf("read private seed: %w", err)
	}
	seed, err := suite.ParsePrivateSeed(string(b))
	if err != nil {
		return suite.PrivateSeed{}, fmt.Errorf("read private seed %s: %w", path, err)
	}
	return seed, nil
}

// loadOrCreatePrivateSeed returns the service's private seed from its data
// directory, drawing and writing one (mode 0600) the first time.
func loadOrCreatePrivateSeed(dataDir string) (suite.PrivateSeed, error) {
	p := filepath.Join(dataDir, privateSeedFile)
	seed, err := readPrivateSeed(p)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return seed, err
	}
	if seed, err = suite.NewPrivateSeed(nil); err != nil {
		return suite.PrivateSeed{}, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return suite.PrivateSeed{}, fmt.Errorf("write private seed: %w", err)
	}
	if _, err := io.WriteString(f, seed.Hex()+"\n"); err != nil {
		f.Close()
		return suite.PrivateSeed{}, fmt.Errorf("write private seed: %w", err)
	}
	if err := f.Close(); err != nil {
		return suite.PrivateSeed{}, fmt.Errorf("write private seed: %w", err)
	}
	return seed, nil
}

// stackPrivateSeed is the service's private seed: the owner (clearance
// serve) draws it on first start; a worker reads it when its data
// directory has one, and otherwise runs no private forms (their shards
// fail with the reason).
func stackPrivateSeed(dataDir string, owner bool) (*suite.PrivateSeed, error) {
	if owner {
		seed, err := loadOrCreatePrivateSeed(dataDir)
		if err != nil {
			return nil, err
		}
		return &seed, nil
	}
	seed, err := readPrivateSeed(filepath.Join(dataDir, privateSeedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &seed, nil
}
