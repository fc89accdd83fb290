package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/tlog"
)

// decideResult is what `clearance decide --format json` prints.
type decideResult struct {
	Bundle     string                  `json:"bundle"`
	Outcome    attest.Outcome          `json:"outcome"`
	Profiles   []attest.ProfileOutcome `json:"profiles"`
	RootDigest string                  `json:"rootDigest"`
	LogIndex   *uint64                 `json:"logIndex,omitempty"`
	Receipt    string                  `json:"receipt,omitempty"`
	Verify     string                  `json:"verify"`
	Cosign     string                  `json:"cosign"`
}

func runDecide(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "decide", "decide --evidence FILE --profile ID|FILE… --model DIR --key KEY [--log DIR] --out BUNDLE")
	evidence := fs.String("evidence", "", "evidence (or a bare dossier), e.g. a run's evidence.json")
	var profiles multiFlag
	fs.Var(&profiles, "profile", "profile id or file (repeatable, comma-separated)")
	model := fs.String("model", "", "model weights directory: the decision is bound to its OMS root digest")
	keyPath := fs.String("key", "", "ECDSA P-256 private key (PEM) of the decider")
	passEnv := fs.String("passphrase-env", "", "environment variable holding the key's passphrase")
	logDir := fs.String("log", "", "transparency log directory: append the decision and write its inclusion receipt")
	out := fs.String("out", "", "where to write the signed bundle")
	caseID := fs.String("case", "", "case id (default: derived from the evidence digest)")
	decider := fs.String("decider", "urn:clearance:self-attestation", "decider identity (a URI)")
	validity := fs.Duration("valid-for", 365*24*time.Hour, "how long the decision stays valid")
	asOf := fs.String("as-of", "", "evaluation date (default: the evidence's as_of, else now)")
	format := fs.String("format", "text", "output format: text or json")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *evidence == "":
		return usageError("--evidence is required")
	case len(profiles) == 0:
		return usageError("at least one --profile is required")
	case *model == "":
		return usageError("--model is required: a decision is bound to exact weights")
	case *keyPath == "":
		return usageError("--key is required")
	case *out == "":
		return usageError("--out is required")
	}
	evBytes, err := os.ReadFile(*evidence)
	if err != nil {
		return err
	}
	ev, err := loadEvidence(e, *evidence, *asOf)
	if err != nil {
		return err
	}
	profs, err := loadProfiles(profiles)
	if err != nil {
		return err
	}
	pd, err := policy.Decide(ev, profs...)
	if err != nil {
		return err
	}
	for _, r := range pd.Results {
		// The engine holds an undetermined profile; this guards the
		// signed outcome against ever clearing one.
		if err := r.CheckClearable(r.Outcome); err != nil {
			return fmt.Errorf("decide: %w", err)
		}
		if len(r.UndeterminedFacts) > 0 {
			fmt.Fprintf(e.stderr, "clearance: %s: hold: facts needed: %s (declare them in the dossier)\n", r.Profile, strings.Join(r.UndeterminedFacts, ", "))
		}
	}
	key, err := loadPrivateKey(e, *keyPath, *passEnv)
	if err != nil {
		return err
	}
	evSum := sha256.Sum256(evBytes)
	d := decisionFromPolicy(pd, ev, e.now(), *validity)
	d.Verifier = attest.Verifier{ID: *decider, Version: map[string]string{"clearance": clearanceVersion()}}
	d.CaseID = *caseID
	if d.CaseID == "" {
		d.CaseID = "self-" + hex.EncodeToString(evSum[:6])
	}
	d.Evidence = []attest.Evidence{{Name: "evidence", URI: *evidence, MediaType: "application/json", Digest: map[string]string{"sha256": hex.EncodeToString(evSum[:])}}}
	bundle, m, err := signDecisionFor(ctx, key, d, *model, "")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, bundle, 0o644); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	res := decideResult{Bundle: *out, Outcome: d.Outcome, Profiles: d.Profiles, RootDigest: m.RootHex()}
	verifyCmd := fmt.Sprintf("clearance verify --bundle %s --model %s --key %s.pub", *out, *model, strings.TrimSuffix(*keyPath, ".key"))
	if *logDir != "" {
		rec, err := appendToLog(ctx, *logDir, bundle, tlog.ReceiptPath(*out))
		if err != nil {
			return err
		}
		idx := rec.Index
		res.LogIndex = &idx
		res.Receipt = tlog.ReceiptPath(*out)
		verifyCmd += fmt.Sprintf(" --log-key %s/log.pub", *logDir)
	}
	res.Verify = verifyCmd
	res.Cosign = attest.CosignCommand(strings.TrimSuffix(*keyPath, ".key")+".pub", *out, "trusted_root.json", "", m.RootHex())
	if *format == "json" {
		return writeJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "Decision %s for model %s (OMS root sha256:%s)\n", d.Outcome, d.Model.Name, m.RootHex())
	for _, p := range d.Profiles {
		fmt.Fprintf(e.stdout, "  %-22s %s\n", p.ID, p.Outcome)
	}
	fmt.Fprintf(e.stdout, "Signed bundle: %s\n", *out)
	if res.LogIndex != nil {
		fmt.Fprintf(e.stdout, "Logged at index %d; receipt %s\n", *res.LogIndex, res.Receipt)
	}
	fmt.Fprintf(e.stdout, "Verify: %s\n", res.Verify)
	return nil
}

// outcomeRank orders outcomes from most to least restrictive for the
// overall decision. notify_only is mapped to cleared_with_conditions (the
// notification is the condition); not_applicable profiles do not count.
var outcomeRank = map[attest.Outcome]int{
	"refused": 5, "hold": 4, "cleared_with_conditions": 3, "window_expired": 2, "cleared": 1, "not_applicable": 0,
}

// decisionFromPolicy turns the policy engine's judgement into the signed
// decision's predicate: one outcome per profile and the most restrictive
// one overall.
func decisionFromPolicy(pd *policy.Decision, ev *policy.Evidence, now time.Time, validity time.Duration) *attest.Decision {
	decided := now.UTC().Truncate(time.Second)
	d := &attest.Decision{
		Outcome:   "not_applicable",
		DecidedAt: decided,
		Model:     attest.Model{Name: ev.Model.Name, Version: ev.Model.Version},
		Variants:  evidenceVariants(ev),
	}
	if d.Model.Name == "" {
		d.Model.Name = ev.Identity.Name
	}
	if d.Model.Name == "" {
		d.Model.Name = "model"
	}
	if validity > 0 {
		d.ExpiresAt = decided.Add(validity)
	}
	for _, r := range pd.Results {
		o := attest.Outcome(r.Outcome)
		switch r.Outcome {
		case policy.NotifyOnly:
			o = "cleared_with_conditions"
		case policy.NotInForce:
			// The rules are not law on the evaluation date: they do not
			// apply (the rationale says since or until when).
			o = attest.OutcomeNotApplicable
		}
		po := attest.ProfileOutcome{ID: r.Profile, Version: r.ProfileVersion, Outcome: o, Rationale: r.Rationale,
			Digest: map[string]string{"sha256": strings.TrimPrefix(r.ProfileDigest, "sha256:")}}
		for _, c := range r.Conditions {
			due, err := time.Parse(time.RFC3339, c.Due)
			if err != nil {
				if due, err = time.Parse(time.DateOnly, c.Due); err != nil {
					due = d.ExpiresAt
				}
			}
			po.Conditions = append(po.Conditions, attest.Condition{ID: c.ID, Text: c.Text, DueAt: due.UTC()})
		}
		d.Profiles = append(d.Profiles, po)
		if outcomeRank[o] > outcomeRank[d.Outcome] {
			d.Outcome = o
		}
	}
	return d
}
