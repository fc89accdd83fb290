package attest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/clearance-dev/clearance/attest"
)

// Sign a decision about a model directory and verify it, as
// `clearance sign decision` and `clearance verify` do.
func Example() {
	ctx := context.Background()
	tmp, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "demo-model")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("weights"), 0o644)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"layers":2}`), 0o644)

	key, _ := attest.GenerateKey()
	m, _ := attest.HashModel(ctx, dir, attest.HashOptions{})
	omsSig, _ := attest.SignModel(key, m)

	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d := &attest.Decision{
		CaseID:    "case-1",
		Outcome:   attest.OutcomeCleared,
		Verifier:  attest.Verifier{ID: "https://review.example.gov"},
		DecidedAt: at,
		ExpiresAt: at.AddDate(1, 0, 0),
		Profiles: []attest.ProfileOutcome{{
			ID:      "us-voluntary-30d",
			Digest:  map[string]string{"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
			Outcome: attest.OutcomeCleared,
		}},
	}
	bundle, err := attest.SignDecision(key, d, m, omsSig)
	if err != nil {
		fmt.Println(err)
		return
	}

	v, err := attest.VerifyDecision(bundle, &key.PublicKey)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("decision:", v.Decision.Outcome, v.Decision.VerificationResult)
	fmt.Println("model:", v.Decision.Model.Name, v.Decision.Model.RootDigest["sha256"])
	fmt.Println("weights match:", v.CheckModel(m) == nil)

	other, _ := attest.GenerateKey()
	_, err = attest.VerifyDecision(bundle, &other.PublicKey)
	fmt.Println("other key:", err != nil)
	// Output:
	// decision: cleared PASSED
	// model: demo-model 314a5707ebb260bca7de8eac3868d265e9113f394cf0bfae4349ebd2585ab3d9
	// weights match: true
	// other key: true
}
