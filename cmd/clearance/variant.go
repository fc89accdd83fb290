package main

import (
	"flag"
	"strings"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
)

// demoScaffold is the scaffold version the demo's assessments record:
// the profiles' plan runs on the production variant, the cyber plans on
// the helpful-only one (capability's upper bound).
const demoScaffold = "clearance-demo 1"

// variantFlags are clearance assess's --variant, --checkpoint and
// --scaffold: what was tested, recorded in run.json (and so carried when
// the run is imported into a case) and in evidence.json.
type variantFlags struct {
	name, checkpoint, scaffold string
}

func (v *variantFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&v.name, "variant", review.VariantProduction, "variant of the model under test: "+strings.Join(review.Variants, ", ")+" (checkpoint needs --checkpoint)")
	fs.StringVar(&v.checkpoint, "checkpoint", "", "checkpoint name, with --variant checkpoint")
	fs.StringVar(&v.scaffold, "scaffold", "", "scaffold version (agent harness, tools, prompts), free text up to 128 bytes")
}

// check validates the flags; its error names the flag.
func (v *variantFlags) check() error {
	err := review.CheckVariant("", review.Variant{Name: v.name, Checkpoint: v.checkpoint, Scaffold: v.scaffold})
	if err != nil {
		// "variant: unknown variant …: invalid input" → "--variant: unknown variant …"
		msg := strings.TrimSuffix(err.Error(), ": "+review.ErrInvalidInput.Error())
		return usageError("--%s", msg)
	}
	if v.name == "" {
		return usageError("--variant: empty (want one of %v)", review.Variants)
	}
	return nil
}

func (v *variantFlags) apply(cfg *assess.Config) {
	cfg.Variant, cfg.Checkpoint, cfg.Scaffold = v.name, v.checkpoint, v.scaffold
}

// withVariant marks every metric with the variant that measured it.
func withVariant(ms map[string]policy.MetricValue, v review.Variant) map[string]policy.MetricValue {
	for k, m := range ms {
		m.Variant, m.Checkpoint, m.Scaffold = v.Name, v.Checkpoint, v.Scaffold
		ms[k] = m
	}
	return ms
}

// runVariant is the variant a run.json records.
func runVariant(rf assess.RunFile) review.Variant {
	return review.Variant{Name: rf.Variant, Checkpoint: rf.Checkpoint, Scaffold: rf.Scaffold}
}

// evidenceVariants lists the variants an evidence's metrics were measured
// on, as review.Variant.Label writes them, in the order of
// review.Variants ("unrecorded" last): what a decision on it covers.
func evidenceVariants(ev *policy.Evidence) []string {
	seen := map[string]bool{}
	for _, m := range ev.Metrics {
		seen[review.Variant{Name: m.Variant, Checkpoint: m.Checkpoint}.Label()] = true
	}
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	review.SortVariantLabels(out)
	return out
}
