package tlog

import (
	"errors"
	"fmt"
	"strings"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// ErrWitnessPolicy is returned when a checkpoint does not carry enough
// valid witness cosignatures for a WitnessPolicy.
var ErrWitnessPolicy = errors.New("witness policy not met")

// WitnessPolicy is "k of these n witnesses": a checkpoint is accepted only
// when at least Threshold of the witnesses whose keys are listed have
// cosigned it (C2SP tlog-cosignature, cosignature/v1). Keys are signed-note
// verifier keys (Ed25519, algorithm 0x01 or the cosignature/v1 form 0x04).
// The zero policy (Threshold 0) accepts any checkpoint the log signed.
type WitnessPolicy struct {
	Threshold int
	Keys      []string
}

// Validate reports a policy that can never be met or has a bad key.
func (p WitnessPolicy) Validate() error {
	if p.Threshold < 0 || p.Threshold > len(p.Keys) {
		return fmt.Errorf("witness policy: threshold %d of %d witnesses", p.Threshold, len(p.Keys))
	}
	seen := map[string]bool{}
	for i, k := range p.Keys {
		v, err := fnote.NewVerifierForCosignatureV1(strings.TrimSpace(k))
		if err != nil {
			return fmt.Errorf("witness policy: key %d: %w", i+1, err)
		}
		if seen[v.Name()] {
			return fmt.Errorf("witness policy: key %d: witness %q listed twice", i+1, v.Name())
		}
		seen[v.Name()] = true
	}
	return nil
}

// Cosigned is a checkpoint verified under a log key and a witness policy.
type Cosigned struct {
	*Checkpoint
	// Witnesses names the policy's witnesses whose cosignatures verified.
	Witnesses []string
}

// VerifyCosigned verifies raw with the log's verifier key (as
// ParseCheckpoint) and then counts the valid cosignatures from the policy's
// witnesses. Fewer than p.Threshold gives an error wrapping
// ErrWitnessPolicy; a checkpoint not signed by the log wraps ErrCheckpoint.
// Signatures from keys outside the policy are ignored.
func VerifyCosigned(raw []byte, logKey string, p WitnessPolicy) (*Cosigned, error) {
	cp, err := ParseCheckpoint(raw, logKey)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// Each witness is checked on its own, so that a bad signature line
	// under one witness's key (anyone relaying the checkpoint can add
	// one) costs only that witness's vote, not the valid ones.
	out := &Cosigned{Checkpoint: cp}
	for _, k := range p.Keys {
		v, _ := fnote.NewVerifierForCosignatureV1(strings.TrimSpace(k))
		if n, err := note.Open(raw, note.VerifierList(v)); err == nil && len(n.Sigs) > 0 {
			out.Witnesses = append(out.Witnesses, v.Name())
		}
	}
	if len(out.Witnesses) < p.Threshold {
		return nil, fmt.Errorf("%w: %d of %d required cosignatures (%s)", ErrWitnessPolicy,
			len(out.Witnesses), p.Threshold, strings.Join(out.Witnesses, ", "))
	}
	return out, nil
}
