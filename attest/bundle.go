package attest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Media and payload types.
const (
	// BundleMediaType is the Sigstore bundle version written.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
)

// maxBundleSize bounds the bundles parsed; a decision for a model of 1,000
// files is about 200 KB.
const maxBundleSize = 16 << 20

// ErrSignature is returned when a bundle's signature does not verify under
// the given public key (or the bundle is not key-signed DSSE).
var ErrSignature = errors.New("signature does not verify")

// ErrMalformed is returned when a bundle, envelope or statement cannot be
// parsed or breaks its format's rules.
var ErrMalformed = errors.New("malformed attestation")

// ErrSubject is returned when the artifact or model given does not match
// the statement's subjects.
var ErrSubject = errors.New("subject mismatch")

// keypair adapts an ECDSA P-256 key to sigstore-go's sign.Keypair, so that
// bundles are built by sigstore-go itself with the key as verification
// material (publicKey.hint) and no Fulcio, Rekor or timestamp authority.
type keypair struct {
	key *ecdsa.PrivateKey
}

var _ sign.Keypair = keypair{}

func (k keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

func (k keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}

func (k keypair) GetHint() []byte { return []byte(KeyHint(&k.key.PublicKey)) }

func (k keypair) GetKeyAlgorithm() string { return "ECDSA" }

func (k keypair) GetPublicKey() crypto.PublicKey { return k.key.Public() }

func (k keypair) GetPublicKeyPem() (string, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(k.key.Public())
	return string(b), err
}

func (k keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	sum := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, sum[:])
	if err != nil {
		return nil, nil, err
	}
	return sig, sum[:], nil
}

// signStatement serialises st with protojson, signs it as a DSSE envelope
// and returns the Sigstore bundle v0.3 as JSON.
func signStatement(key *ecdsa.PrivateKey, st *intoto.Statement) ([]byte, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, ErrKeyType
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: statement: %v", ErrMalformed, err)
	}
	payload, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("marshal statement: %w", err)
	}
	pb, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: PayloadType}, keypair{key}, sign.BundleOptions{})
	if err != nil {
		return nil, fmt.Errorf("sign bundle: %w", err)
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("sign bundle: %w", err)
	}
	out, err := b.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("marshal bundle: %w", err)
	}
	return out, nil
}

// ParseBundle parses a Sigstore bundle (JSON) and checks that it is a
// key-signed v0.3 bundle holding a DSSE envelope of an in-toto statement
// with one signature, or a co-signed decision's 2 to MaxSignatures (see
// CoSignDecision). It does not verify any signature. Errors wrap
// ErrMalformed.
func ParseBundle(data []byte) (*bundle.Bundle, error) {
	if len(data) > maxBundleSize {
		return nil, fmt.Errorf("%w: bundle of %d bytes exceeds %d", ErrMalformed, len(data), maxBundleSize)
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("%w: bundle: %v", ErrMalformed, err)
	}
	if b.GetMediaType() != BundleMediaType {
		return nil, fmt.Errorf("%w: bundle media type %q, want %q", ErrMalformed, b.GetMediaType(), BundleMediaType)
	}
	if b.GetVerificationMaterial().GetPublicKey() == nil {
		return nil, fmt.Errorf("%w: bundle is not signed with a public key", ErrMalformed)
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		return nil, fmt.Errorf("%w: bundle holds no DSSE envelope", ErrMalformed)
	}
	if env.GetPayloadType() != PayloadType {
		return nil, fmt.Errorf("%w: envelope payload type %q, want %q", ErrMalformed, env.GetPayloadType(), PayloadType)
	}
	sigs := env.GetSignatures()
	switch n := len(sigs); {
	case n == 0:
		return nil, fmt.Errorf("%w: envelope has no signatures", ErrMalformed)
	case n > MaxSignatures:
		return nil, fmt.Errorf("%w: envelope has %d signatures, at most %d", ErrMalformed, n, MaxSignatures)
	case n > 1:
		// A co-signed decision: every signature names its key, no key
		// signs twice, and the first is the lead's the hint names.
		seen := make(map[string]bool, n)
		for i, s := range sigs {
			switch id := s.GetKeyid(); {
			case id == "":
				return nil, fmt.Errorf("%w: co-signed envelope: signatures[%d] has no keyid", ErrMalformed, i)
			case seen[id]:
				return nil, fmt.Errorf("%w: co-signed envelope: signatures[%d]: key %s signs twice", ErrMalformed, i, id)
			default:
				seen[id] = true
			}
		}
		if hint := b.GetVerificationMaterial().GetPublicKey().GetHint(); sigs[0].GetKeyid() != hint {
			return nil, fmt.Errorf("%w: co-signed envelope: signatures[0] keyid %q is not the bundle's key hint %q", ErrMalformed, sigs[0].GetKeyid(), hint)
		}
	}
	return &b, nil
}

// ParseStatement parses an in-toto Statement v1 from JSON and validates it.
// Errors wrap ErrMalformed.
func ParseStatement(payload []byte) (*intoto.Statement, error) {
	var st intoto.Statement
	if err := protojson.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("%w: statement: %v", ErrMalformed, err)
	}
	if st.GetType() != intoto.StatementTypeUri {
		return nil, fmt.Errorf("%w: statement type %q, want %q", ErrMalformed, st.GetType(), intoto.StatementTypeUri)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: statement: %v", ErrMalformed, err)
	}
	return &st, nil
}

// verifyBundle checks b's signature with pub through sigstore-go's verifier
// (the library cosign uses) and returns the signed statement. With digest
// non-nil, sigstore-go also checks that a subject carries that SHA-256.
func verifyBundle(b *bundle.Bundle, pub *ecdsa.PublicKey, digest []byte) (*intoto.Statement, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil, ErrKeyType
	}
	sv, err := signature.LoadECDSAVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("load verifier: %w", err)
	}
	// The key is the only trust root: it is returned whatever the bundle's
	// hint says, so a forged hint cannot select another key, and the key has
	// no validity window because key-signed bundles carry no trusted time.
	key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	v, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		return nil, fmt.Errorf("new verifier: %w", err)
	}
	art := verify.WithoutArtifactUnsafe()
	if digest != nil {
		art = verify.WithArtifactDigest("sha256", digest)
	}
	res, err := v.Verify(b, verify.NewPolicy(art, verify.WithKey()))
	if err != nil {
		if digest != nil && isSubjectError(b, pub) {
			return nil, fmt.Errorf("%w: no subject has sha256 %x", ErrSubject, digest)
		}
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if res.Statement == nil {
		return nil, fmt.Errorf("%w: no statement", ErrMalformed)
	}
	// Re-parse the exact signed payload ourselves so the statement checked
	// is the one signed, under our stricter rules.
	return ParseStatement(b.GetDsseEnvelope().GetPayload())
}

// isSubjectError reports whether b verifies without an artifact, i.e. a
// failure with a digest was about the subject, not the signature.
func isSubjectError(b *bundle.Bundle, pub *ecdsa.PublicKey) bool {
	_, err := verifyBundle(b, pub, nil)
	return err == nil
}

// predicateJSON returns a statement's predicate as JSON for decoding into a
// Go type.
func predicateJSON(st *intoto.Statement) ([]byte, error) {
	if st.GetPredicate() == nil {
		return nil, fmt.Errorf("%w: statement has no predicate", ErrMalformed)
	}
	b, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return nil, fmt.Errorf("%w: predicate: %v", ErrMalformed, err)
	}
	return b, nil
}

// toStruct converts a Go value to the protobuf Struct a statement carries.
func toStruct(v any) (*structpb.Struct, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := &structpb.Struct{}
	if err := protojson.Unmarshal(b, s); err != nil {
		return nil, err
	}
	return s, nil
}
