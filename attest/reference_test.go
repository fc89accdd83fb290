package attest

import (
	"errors"
	"strings"
	"testing"
)

// An evidence entry of a reference model's results names the reference
// and survives signing and verification; a decision without one signs
// the same predicate as before the field existed (no "reference" key),
// so bundles made before verify unchanged; an over-long name is refused.
func TestEvidenceReferenceRoundTrip(t *testing.T) {
	f := newFixture(t)
	b, _ := ParseBundle(f.bundle)
	if p := string(b.GetDsseEnvelope().GetPayload()); strings.Contains(p, `"reference"`) {
		t.Errorf("predicate without reference evidence mentions one:\n%s", p)
	}
	if _, err := VerifyDecision(f.bundle, &f.key.PublicKey); err != nil {
		t.Fatalf("VerifyDecision(no reference): %v", err)
	}

	d := testDecision()
	d.Evidence = append(d.Evidence, Evidence{Name: "assessment asm_2 metrics", MediaType: "application/json",
		Digest: map[string]string{"sha256": sum("asm_2")}, Reference: "previous"})
	bundle, err := SignDecision(f.key, d, f.manifest, f.omsSig)
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifyDecision(bundle, &f.key.PublicKey)
	if err != nil {
		t.Fatalf("VerifyDecision: %v", err)
	}
	if got := v.Decision.Evidence[len(v.Decision.Evidence)-1]; got.Reference != "previous" {
		t.Errorf("evidence = %+v, want reference previous", got)
	}

	d.Evidence[len(d.Evidence)-1].Reference = strings.Repeat("r", 161)
	if err := d.validate(false); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "reference") {
		t.Errorf("validate(reference of 161 bytes) = %v, want ErrMalformed naming the reference", err)
	}
}
