package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/report"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/work"
)

// referenceFlag is a repeatable --reference NAME=SPEC, in order.
type referenceFlag []referenceSpec

type referenceSpec struct {
	name string
	kind string // "reference" or "run"
	arg  string // the profile or the run directory
}

var referenceNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

func (r *referenceFlag) String() string {
	var s []string
	for _, x := range *r {
		s = append(s, x.name+"="+x.kind+":"+x.arg)
	}
	return strings.Join(s, ",")
}

func (r *referenceFlag) Set(v string) error {
	name, spec, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want NAME=SPEC (SPEC reference:PROFILE or run:DIR), got %q", v)
	}
	if !referenceNameRE.MatchString(name) || name == "model" {
		return fmt.Errorf("reference name %q: want lower-case letters, digits, '.', '_' or '-' (at most 63), and not \"model\"", name)
	}
	for _, x := range *r {
		if x.name == name {
			return fmt.Errorf("reference name %q given twice", name)
		}
	}
	kind, arg, ok := strings.Cut(spec, ":")
	if !ok || arg == "" || (kind != "reference" && kind != "run") {
		return fmt.Errorf("reference %s: SPEC %q: want reference:PROFILE (the reference model run on the same plan and seed) or run:DIR (an earlier run directory)", name, spec)
	}
	*r = append(*r, referenceSpec{name: name, kind: kind, arg: arg})
	return nil
}

// fileDigest is "sha256:…" of a file's bytes.
func fileDigest(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// runCohort runs or loads each reference, compares the model's run with
// them, writes DIR/cohort.json and returns the cohort. cfg is the model's
// run configuration: a reference:PROFILE runs the reference model on the
// same plan, seed and scorers into DIR/references/NAME.
func runCohort(ctx context.Context, e *env, cfg assess.Config, res *assess.Result, refs referenceFlag) (*assess.Cohort, error) {
	dir := cfg.OutDir
	digest, err := fileDigest(filepath.Join(dir, "metrics.json"))
	if err != nil {
		return nil, fmt.Errorf("cohort: digest of the model's metrics: %w", err)
	}
	model := assess.CohortRun{Member: assess.Member{Name: "model", Source: "run:" + dir, Identity: res.Run.Target.Identity, Digest: digest}, Metrics: res.Metrics}
	var runs []assess.CohortRun
	for _, r := range refs {
		var cr assess.CohortRun
		switch r.kind {
		case "reference":
			tf := targetFlags{kind: "reference", profile: r.arg, temperature: -1}
			bt, err := buildTarget(e, &tf, cfg.Plan, "")
			if err != nil {
				return nil, fmt.Errorf("reference %s: %w", r.name, err)
			}
			rc := cfg
			rc.Target, rc.TargetInfo, rc.Progress = bt.t, bt.info, nil
			rc.OutDir = filepath.Join(dir, "references", r.name)
			rc.Gates = nil // a reference runs the whole plan
			rres, runErr := assess.Run(ctx, rc)
			bt.close()
			if rres == nil {
				return nil, fmt.Errorf("reference %s: %w", r.name, runErr)
			}
			if runErr != nil {
				fmt.Fprintf(e.stderr, "NOTE: reference %s: %v\n", r.name, runErr)
			}
			d, err := fileDigest(filepath.Join(rc.OutDir, "metrics.json"))
			if err != nil {
				return nil, fmt.Errorf("reference %s: %w", r.name, err)
			}
			cr = assess.CohortRun{Member: assess.Member{Name: r.name, Source: "reference:" + r.arg, Identity: rres.Run.Target.Identity, Digest: d}, Metrics: rres.Metrics}
		case "run":
			lr, err := report.LoadRun(r.arg)
			if err != nil {
				return nil, fmt.Errorf("reference %s: load run %s: %w", r.name, r.arg, err)
			}
			d, err := fileDigest(filepath.Join(r.arg, "metrics.json"))
			if err != nil {
				return nil, fmt.Errorf("reference %s: %w", r.name, err)
			}
			if lr.Run.Plan.Seed != res.Run.Plan.Seed || suiteKey(lr.Run.Plan) != suiteKey(res.Run.Plan) {
				fmt.Fprintf(e.stderr, "NOTE: reference %s: run %s used another plan or seed (%s seed %d; this run: %s seed %d): its rates are compared as they are\n",
					r.name, r.arg, suiteKey(lr.Run.Plan), lr.Run.Plan.Seed, suiteKey(res.Run.Plan), res.Run.Plan.Seed)
			}
			cr = assess.CohortRun{Member: assess.Member{Name: r.name, Source: "run:" + r.arg, Identity: lr.Run.Target.Identity, Digest: d}, Metrics: lr.Metrics}
		}
		runs = append(runs, cr)
	}
	c := assess.CompareCohort(model, runs)
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cohort: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cohort.json"), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write cohort.json: %w", err)
	}
	return &c, nil
}

func suiteKey(p assess.PlanInfo) string {
	var s []string
	for _, x := range p.Suites {
		s = append(s, x.Name+"@"+x.Digest)
	}
	return strings.Join(s, ",")
}

// printCohort writes the cohort as text: per reference, each metric of
// the model beside the reference's with the difference, its interval and
// a "within error" mark; then the aggregate.
func printCohort(w io.Writer, c *assess.Cohort) {
	for _, r := range c.References {
		fmt.Fprintf(w, "\nModel vs reference %s (%s):\n", r.Reference.Name, r.Reference.Source)
		width := len("METRIC")
		for _, d := range r.Deltas {
			width = max(width, utf8.RuneCountInString(d.Key))
		}
		fmt.Fprintf(w, "  %-*s %8s %8s %9s  %-18s\n", width, "METRIC", "MODEL", "REF", "Δ", "95% CI of Δ")
		for _, d := range r.Deltas {
			mark := "  differs"
			if d.WithinError {
				mark = "  within error"
			}
			fmt.Fprintf(w, "  %-*s %7.1f%% %7.1f%% %+8.1f%%  [%+6.1f%%, %+6.1f%%]%s\n", width, d.Key, 100*d.Model.Rate, 100*d.Reference.Rate, 100*d.Delta, 100*d.CI.Low, 100*d.CI.High, mark)
		}
		if a := r.Ability; a != nil {
			mark := "differs"
			if a.WithinError {
				mark = "within error"
			}
			fmt.Fprintf(w, "  capability aggregate Δ %+.2f logits [%+.2f, %+.2f]  %s\n", a.Delta, a.CI.Low, a.CI.High, mark)
		}
	}
	if a := c.Aggregate; a != nil {
		fmt.Fprintf(w, "\nCapability aggregate (Rasch model, logits; %d item(s)):\n", len(a.Items))
		for _, ab := range a.Abilities {
			fmt.Fprintf(w, "  %-20s %+6.2f  [%+.2f, %+.2f]\n", ab.Name, ab.Ability.Value, ab.Ability.CI.Low, ab.Ability.CI.High)
		}
		for _, d := range a.Dropped {
			fmt.Fprintf(w, "  left out: %s\n", d)
		}
		if a.Note != "" {
			fmt.Fprintf(w, "  %s\n", a.Note)
		}
	}
}

// caseReferences returns a case's reference assessments by assessment id.
func caseReferences(ctx context.Context, st review.Store, caseID string) (map[string]review.AssessmentReference, error) {
	rs, err := st.ListAssessmentReferences(ctx, caseID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]review.AssessmentReference, len(rs))
	for _, r := range rs {
		out[r.AssessmentID] = r
	}
	return out, nil
}

// cohortEvidence is the policy's view of a case's cohort: per reference,
// each metric's difference and the ability difference; nil without
// finished reference assessments.
func cohortEvidence(as []review.Assessment, refs map[string]review.AssessmentReference) (map[string]policy.ReferenceView, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	c, err := work.CaseCohort(as, refs)
	if err != nil || c == nil {
		return nil, err
	}
	return policyReferences(c), nil
}

// policyReferences converts a cohort to policy evidence.
func policyReferences(c *assess.Cohort) map[string]policy.ReferenceView {
	out := map[string]policy.ReferenceView{}
	for _, r := range c.References {
		v := policy.ReferenceView{Source: r.Reference.Source, Delta: map[string]policy.DeltaView{}}
		for _, d := range r.Deltas {
			v.Delta[d.Key] = policy.DeltaView{Delta: d.Delta, Low: d.CI.Low, High: d.CI.High, Model: d.Model.Rate, Reference: d.Reference.Rate, WithinError: d.WithinError}
		}
		if a := r.Ability; a != nil {
			v.HasAbility = true
			v.Ability = policy.DeltaView{Delta: a.Delta, Low: a.CI.Low, High: a.CI.High, WithinError: a.WithinError}
		}
		out[r.Reference.Name] = v
	}
	return out
}
