package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/policy"
)

// readDossier reads and validates a dossier (or evidence) file. Its errors
// name the file, and for invalid content the line and field.
func readDossier(path string) (*policy.Evidence, error) {
	b, err := readLimited(path, policy.MaxEvidenceBytes)
	if err != nil {
		return nil, fmt.Errorf("read dossier: %w", err)
	}
	return policy.LoadEvidence(path, b)
}

// evidenceFromRun assembles the policy engine's evidence from a dossier
// already read by readDossier (nil: none) and a run's metrics. The
// evaluation date is the dossier's as_of when it sets one, else now.
func evidenceFromRun(ev *policy.Evidence, res *assess.Result, now time.Time) (*policy.Evidence, error) {
	var d *policy.Dossier
	var known map[string]bool
	asOf := now
	id := policy.Identity{Name: res.Run.Target.Model, RunID: res.Run.Fingerprint}
	if ev != nil {
		d, known = &ev.Dossier, ev.Known
		if !ev.AsOf.IsZero() {
			asOf = ev.AsOf
		}
		if ev.Identity.Digest != "" || ev.Identity.Name != "" {
			id.Name, id.Version, id.Digest = ev.Identity.Name, ev.Identity.Version, ev.Identity.Digest
		}
		if id.Name == "" {
			id.Name = ev.Model.Name
		}
	}
	out := policy.EvidenceFromMetrics(d, known, id, withVariant(metricValues(res.Metrics), runVariant(res.Run)), asOf)
	if ev != nil {
		out.References = ev.References // the run's cohort (assess sets it)
	}
	return out, nil
}

// metricValues maps assess metrics onto the policy engine's evidence keys
// ("<suite>.<metric>").
func metricValues(m assess.Metrics) map[string]policy.MetricValue {
	out := map[string]policy.MetricValue{}
	conv := func(r assess.Rate) policy.MetricValue {
		v := policy.MetricValue{Flagged: r.Flagged, N: r.N, Errors: r.Errors, Rate: r.Rate, CI: r.CI}
		if r.Corrected != nil {
			v.Corrected = &policy.CorrectedRate{Rate: r.Corrected.Rate, CI: r.Corrected.CI, Reason: r.Corrected.Reason}
		}
		return v
	}
	for _, g := range m.Groups {
		v := conv(g.Overall)
		if g.Scorer.Name != "" {
			ms := &policy.MetricScorer{Name: g.Scorer.Name, Version: g.Scorer.Version}
			if q := g.Scorer.Quality; q != nil {
				ms.Dataset, ms.N, ms.Sensitivity, ms.Specificity = q.Dataset, q.N, q.Sensitivity, q.Specificity
			}
			if c := g.Scorer.Calibration; c != nil {
				k, ci := c.Kappa, c.KappaCI
				ms.Kappa, ms.KappaCI = &k, &ci
			}
			v.Scorer = ms
		}
		if len(g.ByCategory) > 0 {
			v.ByCategory = map[string]policy.MetricValue{}
			for c, r := range g.ByCategory {
				v.ByCategory[c] = conv(r)
			}
		}
		if len(g.ByDifficulty) > 0 {
			v.ByDifficulty = map[string]policy.MetricValue{}
			for d, r := range g.ByDifficulty {
				v.ByDifficulty[d] = conv(r)
			}
		}
		for _, gr := range m.Gates {
			if gr.Metric == g.Key && gr.Category == "" {
				v.Sequential = &policy.SequentialRecord{Test: "sprt", P0: gr.P0, Delta: gr.Delta, Alpha: gr.Alpha, Beta: gr.Beta, Decision: gr.Decision, Truncated: gr.Truncated, N: gr.N}
			}
		}
		out[g.Key] = v
	}
	return out
}

// writeEvidence writes evidence.json into the run directory.
func writeEvidence(dir string, dossier *policy.Evidence, res *assess.Result, now time.Time) (string, error) {
	ev, err := evidenceFromRun(dossier, res, now)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "evidence.json")
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("write evidence: %w", err)
	}
	return p, nil
}
