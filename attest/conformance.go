package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
)

// ConformancePredicateType is the predicate type of a conformance
// statement: the result of one check that a cleared model's endpoint
// still serves the model that was fingerprinted at assessment.
const ConformancePredicateType = "https://clearance.dev/attestation/conformance/v1"

// Conformance is the predicate of a conformance statement. Its subject is
// the model (name and OMS root digest), as in the decision it is linked
// to by DecisionID and the decision bundle's digest.
type Conformance struct {
	CaseID     string `json:"caseId"`
	DecisionID string `json:"decisionId"`
	CheckID    string `json:"checkId"`
	// Decision is the digest of the decision's signed bundle: {"sha256": hex}.
	Decision map[string]string `json:"decisionDigest,omitempty"`
	// Fingerprint is the digest of the endpoint fingerprint the decision
	// binds: {"sha256": hex}.
	Fingerprint map[string]string `json:"fingerprint"`
	Verifier    Verifier          `json:"verifier"`
	CheckedAt   time.Time         `json:"timeVerified"`
	Model       Model             `json:"model"`
	// Same is false when a test rejected "same model as fingerprinted".
	Same      bool              `json:"same"`
	Scheduled bool              `json:"scheduled,omitempty"`
	Alpha     float64           `json:"alpha"`
	Probes    int               `json:"probes"`
	Requests  int               `json:"requests"`
	Tests     []ConformanceTest `json:"tests"`
}

// ConformanceTest is one test of a check.
type ConformanceTest struct {
	Name     string  `json:"name"`
	Level    float64 `json:"level"`
	PValue   float64 `json:"pValue"`
	Rejected bool    `json:"rejected"`
}

func (c *Conformance) validate() error {
	switch {
	case c.CaseID == "" || c.DecisionID == "" || c.CheckID == "":
		return fmt.Errorf("%w: conformance statement needs caseId, decisionId and checkId", ErrMalformed)
	case !validSHA256(c.Fingerprint):
		return fmt.Errorf("%w: conformance statement: fingerprint is not a sha256 digest", ErrMalformed)
	case c.Decision != nil && !validSHA256(c.Decision):
		return fmt.Errorf("%w: conformance statement: decisionDigest is not a sha256 digest", ErrMalformed)
	case c.Verifier.ID == "":
		return fmt.Errorf("%w: conformance statement: verifier.id is empty", ErrMalformed)
	case !validSHA256(c.Model.RootDigest):
		return fmt.Errorf("%w: conformance statement: model.rootDigest is not a sha256 digest", ErrMalformed)
	}
	return nil
}

// DigestOf returns {"sha256": hex} of b, for Conformance.Decision.
func DigestOf(b []byte) map[string]string {
	s := sha256.Sum256(b)
	return map[string]string{"sha256": hex.EncodeToString(s[:])}
}

// SignConformance signs conformance statement c with key (the service's
// decision key), its subject the model's root digest (c.Model.RootDigest),
// and returns the Sigstore bundle JSON.
func SignConformance(key *ecdsa.PrivateKey, c *Conformance) ([]byte, error) {
	cp := *c
	cp.CheckedAt = cp.CheckedAt.UTC().Truncate(time.Second)
	if err := cp.validate(); err != nil {
		return nil, fmt.Errorf("sign conformance %s: %w", c.CheckID, err)
	}
	pred, err := toStruct(&cp)
	if err != nil {
		return nil, fmt.Errorf("sign conformance %s: %w", c.CheckID, err)
	}
	st := &intoto.Statement{Type: intoto.StatementTypeUri, PredicateType: ConformancePredicateType, Predicate: pred,
		Subject: []*intoto.ResourceDescriptor{{Name: cp.Model.Name, Digest: cp.Model.RootDigest}}}
	b, err := signStatement(key, st)
	if err != nil {
		return nil, fmt.Errorf("sign conformance %s: %w", c.CheckID, err)
	}
	return b, nil
}

// VerifyConformance verifies a conformance bundle with pub and decodes
// its predicate. Errors wrap ErrSignature or ErrMalformed.
func VerifyConformance(bundleJSON []byte, pub *ecdsa.PublicKey) (*Conformance, error) {
	b, err := ParseBundle(bundleJSON)
	if err != nil {
		return nil, err
	}
	st, err := verifyBundle(b, pub, nil)
	if err != nil {
		return nil, err
	}
	if st.GetPredicateType() != ConformancePredicateType {
		return nil, fmt.Errorf("%w: predicate type %q, want %q", ErrMalformed, st.GetPredicateType(), ConformancePredicateType)
	}
	pj, err := predicateJSON(st)
	if err != nil {
		return nil, err
	}
	var c Conformance
	dec := json.NewDecoder(bytes.NewReader(pj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: conformance predicate: %v", ErrMalformed, err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}
