package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// DecisionPredicateType is the predicate type of a Clearance decision
// attestation. The version is part of the URI: a change that is not purely
// additive gets a new one.
const DecisionPredicateType = "https://clearance.dev/attestation/decision/v1"

// maxSubjects is sigstore-go's limit on statement subjects; a decision
// binds the root, every file and the OMS signature, so a model may have at
// most maxSubjects-2 files.
const maxSubjects = 1024

// Outcome is a per-profile (or overall) decision.
type Outcome string

// Outcomes, as written in the predicate.
const (
	OutcomeCleared               Outcome = "cleared"
	OutcomeClearedWithConditions Outcome = "cleared_with_conditions"
	OutcomeHold                  Outcome = "hold"
	OutcomeRefused               Outcome = "refused"
	OutcomeWindowExpired         Outcome = "window_expired"
	OutcomeNotApplicable         Outcome = "not_applicable"
)

// Valid reports whether o is one of the defined outcomes.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeCleared, OutcomeClearedWithConditions, OutcomeHold, OutcomeRefused, OutcomeWindowExpired, OutcomeNotApplicable:
		return true
	}
	return false
}

// Passed reports whether o lets the model be released (with or without
// conditions); it decides the SLSA-style verificationResult.
func (o Outcome) Passed() bool {
	return o == OutcomeCleared || o == OutcomeClearedWithConditions
}

// VerificationResult values, as in the SLSA verification summary.
const (
	ResultPassed = "PASSED"
	ResultFailed = "FAILED"
)

// Decision is the predicate of a decision attestation. JSON names are
// lowerCamelCase; where the SLSA verification summary (VSA) has a field of
// the same meaning its name is used: verifier (who decided), timeVerified
// (when), verificationResult (PASSED when the overall outcome releases the
// model, FAILED otherwise).
type Decision struct {
	// CaseID identifies the review case.
	CaseID string `json:"caseId"`
	// DecisionID is the review service's id of the decision (dec_…), the
	// name the web UI and the API give it; empty for a decision made
	// outside the service (clearance decide, sign decision).
	DecisionID string `json:"decisionId,omitempty"`
	// Outcome is the overall decision.
	Outcome Outcome `json:"decision"`
	// VerificationResult is derived from Outcome when signing; set it or
	// leave it empty.
	VerificationResult string `json:"verificationResult"`
	// Verifier is the decider's identity.
	Verifier Verifier `json:"verifier"`
	// DecidedAt is when the decision was made (UTC, whole seconds).
	DecidedAt time.Time `json:"timeVerified"`
	// ExpiresAt is when the decision lapses; zero means never.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// Model names the model; RootDigest is filled in from the manifest.
	Model Model `json:"model"`
	// Profiles are the per-profile outcomes.
	Profiles []ProfileOutcome `json:"profiles"`
	// Evidence lists the digests of the evidence judged.
	Evidence []Evidence `json:"evidence,omitempty"`
	// Variants lists the variants of the model the evidence was measured
	// on ("production", "safeguards-reduced", "helpful-only",
	// "checkpoint:NAME", or "unrecorded" for evidence that records none):
	// the variants the decision's claims cover. Added to v1 (additively:
	// bundles without it verify as before); empty when no evidence
	// records a measurement.
	Variants []string `json:"variants,omitempty"`
	// EndpointFingerprint is the digest of the behavioural fingerprint of
	// the model's endpoint recorded at assessment ({"sha256": hex}), which
	// later conformance statements are checked against. Added to v1
	// additively: bundles without it verify as before.
	EndpointFingerprint map[string]string `json:"endpointFingerprint,omitempty"`
}

// Verifier identifies who decided (VSA "verifier").
type Verifier struct {
	// ID is a URI naming the reviewing authority or lab.
	ID string `json:"id"`
	// Name is a display name.
	Name string `json:"name,omitempty"`
	// Version maps component names to versions (e.g. "clearance": "v0.3.0").
	Version map[string]string `json:"version,omitempty"`
}

// Model identifies the model decided upon.
type Model struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// RootDigest is the OMS root digest: {"sha256": hex}.
	RootDigest map[string]string `json:"rootDigest"`
	// Signature is the digest of the OMS signature bundle, when one was
	// bound: {"sha256": hex}.
	Signature map[string]string `json:"signatureDigest,omitempty"`
}

// ProfileOutcome is one profile's outcome.
type ProfileOutcome struct {
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
	// Digest is the digest of the profile document judged: {"sha256": hex}.
	Digest     map[string]string `json:"digest"`
	Outcome    Outcome           `json:"outcome"`
	Rationale  string            `json:"rationale,omitempty"`
	Conditions []Condition       `json:"conditions,omitempty"`
}

// Condition is a duty attached to a clearance, with its due date.
type Condition struct {
	ID    string    `json:"id,omitempty"`
	Text  string    `json:"text"`
	DueAt time.Time `json:"dueAt"`
}

// Evidence is one piece of evidence, by digest.
type Evidence struct {
	Name      string            `json:"name"`
	URI       string            `json:"uri,omitempty"`
	MediaType string            `json:"mediaType,omitempty"`
	Digest    map[string]string `json:"digest"`
	// Variant is the variant of the model an assessment's evidence was
	// measured on (as in Decision.Variants) and Scaffold the scaffold's
	// version; empty for evidence that is not a measurement.
	Variant  string `json:"variant,omitempty"`
	Scaffold string `json:"scaffold,omitempty"`
	// Reference names the reference model (docs/cohorts.md) whose
	// results an entry holds: evidence for relative criteria, not a
	// measurement of the model under decision. Empty for the model's own
	// evidence, and in every bundle made before it existed.
	Reference string `json:"reference,omitempty"`
}

// Profile returns the outcome recorded for profile id, or false.
func (d *Decision) Profile(id string) (ProfileOutcome, bool) {
	for _, p := range d.Profiles {
		if p.ID == id {
			return p, true
		}
	}
	return ProfileOutcome{}, false
}

// Expired reports whether the decision has lapsed at now.
func (d *Decision) Expired(now time.Time) bool {
	return !d.ExpiresAt.IsZero() && !now.Before(d.ExpiresAt)
}

// ParseDecision decodes a decision predicate from JSON (the predicate
// object alone, as `clearance sign decision --decision FILE` reads it).
// Unknown fields are refused, then the decision is validated.
func ParseDecision(data []byte) (*Decision, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Decision
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%w: decision: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: decision: trailing data", ErrMalformed)
	}
	if err := d.validate(false); err != nil {
		return nil, err
	}
	return &d, nil
}

func validSHA256(d map[string]string) bool {
	h, ok := d["sha256"]
	if !ok || len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil && h == fmtHex(h)
}

// fmtHex lowercases hex so digests compare as strings.
func fmtHex(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(b)
}

// validate checks d; signed is true for a decision read from a signature,
// which must carry the model root digest and a consistent result.
func (d *Decision) validate(signed bool) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: decision: %s", ErrMalformed, fmt.Sprintf(format, a...))
	}
	switch {
	case d.CaseID == "":
		return bad("caseId is empty")
	case !d.Outcome.Valid():
		return bad("decision %q is not a known outcome", d.Outcome)
	case d.Verifier.ID == "":
		return bad("verifier.id is empty")
	case d.DecidedAt.IsZero():
		return bad("timeVerified is missing")
	case !d.ExpiresAt.IsZero() && !d.ExpiresAt.After(d.DecidedAt):
		return bad("expiresAt %s is not after timeVerified %s", d.ExpiresAt.Format(time.RFC3339), d.DecidedAt.Format(time.RFC3339))
	case len(d.Profiles) == 0:
		return bad("no profile outcomes")
	case d.VerificationResult != "" && d.VerificationResult != result(d.Outcome):
		return bad("verificationResult %q contradicts decision %q", d.VerificationResult, d.Outcome)
	}
	if signed {
		if !validSHA256(d.Model.RootDigest) {
			return bad("model.rootDigest.sha256 is not 64 lowercase hex digits")
		}
		if d.VerificationResult == "" {
			return bad("verificationResult is missing")
		}
	}
	if d.Model.Signature != nil && !validSHA256(d.Model.Signature) {
		return bad("model.signatureDigest.sha256 is not 64 lowercase hex digits")
	}
	seen := map[string]bool{}
	for i, p := range d.Profiles {
		switch {
		case p.ID == "":
			return bad("profiles[%d].id is empty", i)
		case seen[p.ID]:
			return bad("profile %s listed twice", p.ID)
		case !p.Outcome.Valid():
			return bad("profile %s: outcome %q is not a known outcome", p.ID, p.Outcome)
		case !validSHA256(p.Digest):
			return bad("profile %s: digest.sha256 is not 64 lowercase hex digits", p.ID)
		}
		seen[p.ID] = true
		for j, c := range p.Conditions {
			if c.Text == "" {
				return bad("profile %s: conditions[%d].text is empty", p.ID, j)
			}
			if c.DueAt.IsZero() {
				return bad("profile %s: conditions[%d].dueAt is missing", p.ID, j)
			}
		}
	}
	for i, e := range d.Evidence {
		if e.Name == "" {
			return bad("evidence[%d].name is empty", i)
		}
		if !validSHA256(e.Digest) {
			return bad("evidence %s: digest.sha256 is not 64 lowercase hex digits", e.Name)
		}
		if len(e.Variant) > maxVariantLabel || len(e.Scaffold) > maxVariantLabel || len(e.Reference) > maxVariantLabel {
			return bad("evidence %s: variant, scaffold or reference longer than %d bytes", e.Name, maxVariantLabel)
		}
	}
	if d.EndpointFingerprint != nil && !validSHA256(d.EndpointFingerprint) {
		return bad("endpointFingerprint: not a sha256 digest")
	}
	if len(d.Variants) > maxVariants {
		return bad("%d variants exceed the limit of %d", len(d.Variants), maxVariants)
	}
	for i, v := range d.Variants {
		if v == "" || len(v) > maxVariantLabel || slices.Contains(d.Variants[:i], v) {
			return bad("variants[%d] %q is empty, longer than %d bytes or repeated", i, v, maxVariantLabel)
		}
	}
	return nil
}

// Bounds on a decision's variants.
const (
	maxVariants     = 64
	maxVariantLabel = 160
)

func result(o Outcome) string {
	if o.Passed() {
		return ResultPassed
	}
	return ResultFailed
}

// normalised returns a copy of d with times in UTC whole seconds, the
// result derived, and the model bound to m and the OMS signature.
func (d *Decision) normalised(m *Manifest, omsSig []byte) *Decision {
	return d.normalisedRoot(m.Name, m.RootHex(), omsSig)
}

func (d *Decision) normalisedRoot(name, rootHex string, omsSig []byte) *Decision {
	c := *d
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.UTC().Truncate(time.Second)
	}
	c.DecidedAt, c.ExpiresAt = utc(c.DecidedAt), utc(c.ExpiresAt)
	c.VerificationResult = result(c.Outcome)
	c.Model.RootDigest = map[string]string{"sha256": rootHex}
	if c.Model.Name == "" {
		c.Model.Name = name
	}
	c.Model.Signature = nil
	if omsSig != nil {
		s := sha256.Sum256(omsSig)
		c.Model.Signature = map[string]string{"sha256": hex.EncodeToString(s[:])}
	}
	c.Profiles = make([]ProfileOutcome, len(d.Profiles))
	for i, p := range d.Profiles {
		p.Conditions = append([]Condition(nil), p.Conditions...)
		for j := range p.Conditions {
			p.Conditions[j].DueAt = utc(p.Conditions[j].DueAt)
		}
		c.Profiles[i] = p
	}
	return &c
}

// DecisionStatement returns the in-toto statement of decision d about the
// model with manifest m. Its subjects are the OMS root digest (named after
// the model), every file of m (named by its path) and, when omsSig is
// non-nil, the OMS signature bundle (named DefaultSignatureName). Times are
// normalised to UTC whole seconds and verificationResult is derived.
func DecisionStatement(d *Decision, m *Manifest, omsSig []byte) (*intoto.Statement, error) {
	if m == nil {
		return nil, errors.New("decision statement: no model manifest")
	}
	n := len(m.Files) + 1
	if omsSig != nil {
		n++
	}
	if n > maxSubjects {
		return nil, fmt.Errorf("decision statement: %d subjects exceed the %d a Sigstore verifier accepts", n, maxSubjects)
	}
	if err := d.validate(false); err != nil {
		return nil, err
	}
	c := d.normalised(m, omsSig)
	if err := c.validate(true); err != nil {
		return nil, err
	}
	subj := make([]*intoto.ResourceDescriptor, 0, n)
	subj = append(subj, &intoto.ResourceDescriptor{Name: c.Model.Name, Digest: c.Model.RootDigest})
	for _, f := range m.Files {
		subj = append(subj, &intoto.ResourceDescriptor{Name: f.Path, Digest: map[string]string{"sha256": f.Hex()}})
	}
	if omsSig != nil {
		subj = append(subj, &intoto.ResourceDescriptor{Name: DefaultSignatureName, Digest: c.Model.Signature})
	}
	pred, err := toStruct(c)
	if err != nil {
		return nil, fmt.Errorf("decision statement: %w", err)
	}
	return &intoto.Statement{Type: intoto.StatementTypeUri, Subject: subj, PredicateType: DecisionPredicateType, Predicate: pred}, nil
}

// SignDecisionDigest signs decision d about the model whose OMS manifest
// root digest is rootHex (64 lowercase hex digits), for a signer that
// knows the digest but not the files, such as the review service given a
// developer's submitted digest. The statement's one subject is the model
// name with that digest; clearance verify --model DIR checks it against
// the weights by recomputing the root.
func SignDecisionDigest(key *ecdsa.PrivateKey, d *Decision, rootHex string) ([]byte, error) {
	st, err := digestStatement(d, rootHex)
	if err != nil {
		return nil, err
	}
	b, err := signStatement(key, st)
	if err != nil {
		return nil, fmt.Errorf("sign decision %s: %w", d.CaseID, err)
	}
	return b, nil
}

// digestStatement is the statement SignDecisionDigest signs.
func digestStatement(d *Decision, rootHex string) (*intoto.Statement, error) {
	if b, err := hex.DecodeString(rootHex); err != nil || len(b) != sha256.Size || strings.ToLower(rootHex) != rootHex {
		return nil, fmt.Errorf("sign decision %s: root digest %q is not 64 lowercase hex digits", d.CaseID, rootHex)
	}
	if err := d.validate(false); err != nil {
		return nil, err
	}
	c := d.normalisedRoot(d.Model.Name, rootHex, nil)
	if err := c.validate(true); err != nil {
		return nil, err
	}
	pred, err := toStruct(c)
	if err != nil {
		return nil, fmt.Errorf("decision statement: %w", err)
	}
	return &intoto.Statement{Type: intoto.StatementTypeUri, PredicateType: DecisionPredicateType, Predicate: pred,
		Subject: []*intoto.ResourceDescriptor{{Name: c.Model.Name, Digest: c.Model.RootDigest}}}, nil
}

// SignDecision signs decision d about the model with manifest m (and its
// OMS signature bundle omsSig, which may be nil) with key, and returns the
// Sigstore bundle v0.3 JSON.
func SignDecision(key *ecdsa.PrivateKey, d *Decision, m *Manifest, omsSig []byte) ([]byte, error) {
	st, err := DecisionStatement(d, m, omsSig)
	if err != nil {
		return nil, err
	}
	b, err := signStatement(key, st)
	if err != nil {
		return nil, fmt.Errorf("sign decision %s: %w", d.CaseID, err)
	}
	return b, nil
}

// VerifiedDecision is a decision whose signature has been verified.
type VerifiedDecision struct {
	Decision  *Decision
	Statement *intoto.Statement
	// Files maps each weight file subject's path to its sha256 (hex).
	Files map[string]string
}

// VerifyDecision verifies a decision bundle with pub through sigstore-go
// and decodes its predicate. It checks the signature, the predicate type,
// the decision's own rules, and that the subjects hold the root digest the
// predicate names. It does not check any model directory: see CheckModel.
// Errors wrap ErrSignature, ErrMalformed or ErrSubject.
func VerifyDecision(bundleJSON []byte, pub *ecdsa.PublicKey) (*VerifiedDecision, error) {
	return verifyDecision(bundleJSON, pub, nil)
}

// VerifyDecisionDigest is VerifyDecision that also requires a subject with
// the given SHA-256 (a weight file's, or the root's), checked by
// sigstore-go as `cosign verify-blob-attestation --digest` does.
func VerifyDecisionDigest(bundleJSON []byte, pub *ecdsa.PublicKey, sha256Digest []byte) (*VerifiedDecision, error) {
	if len(sha256Digest) != sha256.Size {
		return nil, fmt.Errorf("verify decision: digest of %d bytes, want %d", len(sha256Digest), sha256.Size)
	}
	return verifyDecision(bundleJSON, pub, sha256Digest)
}

func verifyDecision(bundleJSON []byte, pub *ecdsa.PublicKey, digest []byte) (*VerifiedDecision, error) {
	b, err := ParseBundle(bundleJSON)
	if err != nil {
		return nil, err
	}
	if sigs := b.GetDsseEnvelope().GetSignatures(); len(sigs) > 1 {
		// A co-signed decision: check the signature under pub alone,
		// through sigstore-go, as a one-signature bundle.
		hint := KeyHint(pub)
		i := slices.IndexFunc(sigs, func(s *protodsse.Signature) bool { return s.GetKeyid() == hint })
		if i < 0 {
			return nil, fmt.Errorf("%w: none of the bundle's %d signatures is by key %s", ErrSignature, len(sigs), hint)
		}
		if b, err = singleBundle(b, i); err != nil {
			return nil, err
		}
	}
	return verifiedDecision(b, pub, digest)
}

// verifiedDecision verifies the one-signature bundle b with pub and
// decodes its decision.
func verifiedDecision(b *bundle.Bundle, pub *ecdsa.PublicKey, digest []byte) (*VerifiedDecision, error) {
	st, err := verifyBundle(b, pub, digest)
	if err != nil {
		return nil, err
	}
	return decodeDecision(st)
}

// decodeDecision decodes and checks the decision statement st.
func decodeDecision(st *intoto.Statement) (*VerifiedDecision, error) {
	if st.GetPredicateType() != DecisionPredicateType {
		return nil, fmt.Errorf("%w: predicate type %q, want %q", ErrMalformed, st.GetPredicateType(), DecisionPredicateType)
	}
	raw, err := predicateJSON(st)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var d Decision
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%w: decision predicate: %v", ErrMalformed, err)
	}
	if err := d.validate(true); err != nil {
		return nil, err
	}
	v := &VerifiedDecision{Decision: &d, Statement: st, Files: map[string]string{}}
	root, sig := d.Model.RootDigest["sha256"], d.Model.Signature["sha256"]
	var haveRoot bool
	for _, s := range st.GetSubject() {
		h := s.GetDigest()["sha256"]
		switch {
		case h == root && s.GetName() == d.Model.Name:
			haveRoot = true
		case sig != "" && h == sig && s.GetName() == DefaultSignatureName:
		default:
			if _, dup := v.Files[s.GetName()]; dup {
				return nil, fmt.Errorf("%w: subject %s listed twice", ErrMalformed, s.GetName())
			}
			v.Files[s.GetName()] = h
		}
	}
	if !haveRoot {
		return nil, fmt.Errorf("%w: no subject carries the model root digest %s", ErrMalformed, root)
	}
	return v, nil
}

// CheckModel checks that manifest m (of the model directory on disk) is the
// model the decision is about: same root digest, and so the same files.
// On a mismatch the error (wrapping ErrSubject) names the first file that
// changed, appeared or disappeared, when the subjects allow it.
func (v *VerifiedDecision) CheckModel(m *Manifest) error {
	if m.RootHex() == v.Decision.Model.RootDigest["sha256"] {
		return nil
	}
	signed := &Manifest{}
	for p, h := range v.Files {
		fd := FileDigest{Path: p}
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != sha256.Size {
			continue
		}
		copy(fd.Digest[:], b)
		signed.Files = append(signed.Files, fd)
	}
	if err := CompareManifests(signed, m); err != nil {
		return fmt.Errorf("model does not match the decision: %w", err)
	}
	return fmt.Errorf("%w: model root digest %s, decision is about %s", ErrSubject, m.RootHex(), v.Decision.Model.RootDigest["sha256"])
}

// CheckSignature checks that omsSig is the OMS signature bundle the
// decision binds. It returns an error wrapping ErrSubject if the decision
// binds none or another one.
func (v *VerifiedDecision) CheckSignature(omsSig []byte) error {
	s := sha256.Sum256(omsSig)
	if got, want := hex.EncodeToString(s[:]), v.Decision.Model.Signature["sha256"]; got != want {
		return fmt.Errorf("%w: OMS signature sha256 %s, decision binds %q", ErrSubject, got, want)
	}
	return nil
}
