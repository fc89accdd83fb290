package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/conform"
	"github.com/clearance-dev/clearance/target"
)

// demoConformProbes is the demo's probe draw from the suites (the 60
// generic prompts are added): small, since the demo runs in CI.
const demoConformProbes = 40

// demoConform fingerprints the first demo model's endpoint (the reference
// model with its profile), checks the same endpoint again (it passes),
// then checks it with the vulnerable model swapped in behind it (it
// fails). The fingerprint is left in dir for 'clearance conform'.
func demoConform(ctx context.Context, e *env, dir string) error {
	pool, samples, err := conformPool()
	if err != nil {
		return err
	}
	oracle := assess.ReferenceOracle(samples)
	endpoint := func(profile string, serving int64) (*target.Reference, error) {
		p, err := target.BuiltinProfile(profile)
		if err != nil {
			return nil, err
		}
		r, err := target.NewReference(p, oracle)
		if err != nil {
			return nil, err
		}
		return r.WithServingSeed(serving), nil
	}
	cleared, swapped := demoModels[0], demoModels[1]
	rec, err := endpoint(cleared.profile, 1)
	if err != nil {
		return err
	}
	probes := append(conform.Select(pool, demoConformProbes, 1), conform.GenericProbes()...)
	fp, err := conform.Record(ctx, rec, probes, conform.RecordOptions{Seed: 1, Target: rec.Identity(), Now: e.now})
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "conform-"+cleared.name+".json")
	b, err := json.MarshalIndent(fp, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write fingerprint: %w", err)
	}
	fmt.Fprintf(e.stdout, "== conformance of %s's endpoint after release: fingerprint %s (%d probes, %d requests per check)\n",
		cleared.name, fp.Digest(), len(fp.Probes), fp.Requests())
	for i, profile := range []string{cleared.profile, swapped.profile} {
		live, err := endpoint(profile, int64(2+i))
		if err != nil {
			return err
		}
		res, err := conform.Check(ctx, live, fp, conform.Options{Seed: 1, Refused: refusedAnswer}, 4)
		if err != nil {
			return err
		}
		what := "the same endpoint"
		if i == 1 {
			what = swapped.name + "'s model swapped in"
		}
		verdict := "PASS: same model"
		if !res.Same {
			verdict = "FAIL: not the same model (rejected: " + strings.Join(res.Failed(), ", ") + ")"
		}
		fmt.Fprintf(e.stdout, "   check, %s: %s\n", what, verdict)
	}
	return nil
}
