package attest

import (
	"errors"
	"strings"
	"testing"
)

// TestSignDecisionDigest signs a decision knowing only the model's root
// digest and checks it against the weights it names and against others.
func TestSignDecisionDigest(t *testing.T) {
	f := newFixture(t)
	b, err := SignDecisionDigest(f.key, testDecision(), f.manifest.RootHex())
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifyDecision(b, &f.key.PublicKey)
	if err != nil {
		t.Fatalf("VerifyDecision: %v", err)
	}
	if got := v.Decision.Model.RootDigest["sha256"]; got != f.manifest.RootHex() {
		t.Errorf("root digest %s, want %s", got, f.manifest.RootHex())
	}
	if err := v.CheckModel(f.manifest); err != nil {
		t.Errorf("CheckModel(the same weights): %v", err)
	}
	other := *f.manifest
	other.Files = append([]FileDigest(nil), f.manifest.Files...)
	other.Files[0].Digest[0] ^= 1
	if err := v.CheckModel(&other); !errors.Is(err, ErrSubject) && err == nil {
		t.Errorf("CheckModel(other weights) = %v, want an error", err)
	}
	key2, _ := GenerateKey()
	if _, err := VerifyDecision(b, &key2.PublicKey); !errors.Is(err, ErrSignature) {
		t.Errorf("VerifyDecision(wrong key) = %v, want ErrSignature", err)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("A", 64), strings.Repeat("0", 63)} {
		if _, err := SignDecisionDigest(f.key, testDecision(), bad); err == nil {
			t.Errorf("SignDecisionDigest(%q) succeeded", bad)
		}
	}
}
