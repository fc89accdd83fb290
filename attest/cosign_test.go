package attest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCosign verifies a decision bundle with the cosign binary, by weight
// file and by --digest of the OMS root, exactly as the README documents.
// It runs only when cosign is on PATH (checked against cosign v2.6.1).
func TestCosign(t *testing.T) {
	cosign, err := exec.LookPath("cosign")
	if err != nil {
		t.Skip("cosign not on PATH; install with: go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.1")
	}
	f := newFixture(t)
	tmp := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pubPEM, _ := MarshalPublicKey(&f.key.PublicKey)
	other, _ := GenerateKey()
	otherPEM, _ := MarshalPublicKey(&other.PublicKey)
	pub, otherPub := write("signer.pub", pubPEM), write("other.pub", otherPEM)
	bundle := write("decision.bundle", f.bundle)
	root := write("trusted_root.json", []byte(CosignTrustedRoot))
	changed := write("changed.safetensors", []byte("weights-0123456788"))

	run := func(key string, extra ...string) (string, error) {
		args := append([]string{"verify-blob-attestation", "--key", key, "--bundle", bundle,
			"--new-bundle-format", "--trusted-root", root, "--insecure-ignore-tlog=true",
			"--type", DecisionPredicateType}, extra...)
		out, err := exec.Command(cosign, args...).CombinedOutput()
		return string(out), err
	}
	tests := []struct {
		name string
		key  string
		args []string
		ok   bool
	}{
		{"weight file", pub, []string{filepath.Join(f.dir, "model.safetensors")}, true},
		{"root digest", pub, []string{"--digest", f.manifest.RootHex(), "--digestAlg", "sha256"}, true},
		{"changed weight file", pub, []string{changed}, false},
		{"other key", otherPub, []string{filepath.Join(f.dir, "model.safetensors")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(tt.key, tt.args...)
			if ok := err == nil && strings.Contains(out, "Verified OK"); ok != tt.ok {
				t.Fatalf("cosign %s: ok=%v, want %v; output:\n%s", tt.name, ok, tt.ok, out)
			}
		})
	}
}
