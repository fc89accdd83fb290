package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The variants a decision covers, and the variant of each assessment's
// evidence, survive signing and verification; a decision without them
// signs the same predicate as before they existed (no "variants" key),
// so bundles made before verify unchanged.
func TestDecisionVariantsRoundTrip(t *testing.T) {
	f := newFixture(t)
	b, _ := ParseBundle(f.bundle)
	if p := string(b.GetDsseEnvelope().GetPayload()); strings.Contains(p, "variant") {
		t.Errorf("predicate without variants mentions them:\n%s", p)
	}
	if _, err := VerifyDecision(f.bundle, &f.key.PublicKey); err != nil {
		t.Fatalf("VerifyDecision(no variants): %v", err)
	}

	d := testDecision()
	d.Variants = []string{"production", "helpful-only", "checkpoint:step-120k"}
	d.Evidence = append(d.Evidence, Evidence{Name: "assessment asm_1 metrics", MediaType: "application/json",
		Digest: map[string]string{"sha256": sum("asm_1")}, Variant: "helpful-only", Scaffold: "inspect-agent 0.3"})
	bundle, err := SignDecision(f.key, d, f.manifest, f.omsSig)
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifyDecision(bundle, &f.key.PublicKey)
	if err != nil {
		t.Fatalf("VerifyDecision: %v", err)
	}
	if diff := cmp.Diff(d.Variants, v.Decision.Variants); diff != "" {
		t.Errorf("variants (-want +got):\n%s", diff)
	}
	if got := v.Decision.Evidence[len(v.Decision.Evidence)-1]; got.Variant != "helpful-only" || got.Scaffold != "inspect-agent 0.3" {
		t.Errorf("evidence = %+v, want variant helpful-only, scaffold inspect-agent 0.3", got)
	}
	pb, _ := ParseBundle(bundle)
	// protojson varies its whitespace from build to build: compare the
	// payload compacted.
	var compact bytes.Buffer
	if err := json.Compact(&compact, pb.GetDsseEnvelope().GetPayload()); err != nil {
		t.Fatal(err)
	}
	if p := compact.String(); !strings.Contains(p, `"variants":["production","helpful-only","checkpoint:step-120k"]`) {
		t.Errorf("predicate lacks the variants:\n%s", p)
	}
}

// A decision's variants are bounded and distinct.
func TestDecisionVariantsRejects(t *testing.T) {
	for _, vs := range [][]string{{""}, {"production", "production"}, {strings.Repeat("x", 161)}} {
		d := testDecision()
		d.Variants = vs
		if err := d.validate(false); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "variants[") {
			t.Errorf("validate(variants %q) = %v, want ErrMalformed naming variants[i]", vs, err)
		}
	}
}
