package attest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"slices"

	intoto "github.com/in-toto/attestation/go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/proto"
)

// MaxSignatures bounds the signatures of a co-signed decision.
const MaxSignatures = 16

// A co-signed decision is one in-toto statement (one payload) in one DSSE
// envelope carrying a signature by each agency's key, in one Sigstore
// bundle v0.3. Each signature's keyid is KeyHint of its key; the first is
// the lead's, which the bundle's publicKey.hint names.
//
// The Sigstore bundle specification allows one DSSE signature per bundle,
// and sigstore-go v1.3.0 (and so cosign) refuses an envelope with more
// (ErrDSSEInvalidSignatureCount). This package verifies a co-signed
// bundle by handing sigstore-go, for each signature checked, the
// one-signature bundle of that signature over the same payload; SplitBundle
// writes those bundles out for cosign.

// CoSignDecisionDigest is SignDecisionDigest signed by every key in keys,
// the first being the lead's. With one key it returns exactly what
// SignDecisionDigest does.
func CoSignDecisionDigest(keys []*ecdsa.PrivateKey, d *Decision, rootHex string) ([]byte, error) {
	st, err := digestStatement(d, rootHex)
	if err != nil {
		return nil, err
	}
	return coSignStatement(keys, d, st)
}

// CoSignDecision is SignDecision signed by every key in keys, the first
// being the lead's. With one key it returns exactly what SignDecision does.
func CoSignDecision(keys []*ecdsa.PrivateKey, d *Decision, m *Manifest, omsSig []byte) ([]byte, error) {
	st, err := DecisionStatement(d, m, omsSig)
	if err != nil {
		return nil, err
	}
	return coSignStatement(keys, d, st)
}

func coSignStatement(keys []*ecdsa.PrivateKey, d *Decision, st *intoto.Statement) ([]byte, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("sign decision %s: no signing key", d.CaseID)
	}
	if len(keys) > MaxSignatures {
		return nil, fmt.Errorf("sign decision %s: %d keys, at most %d", d.CaseID, len(keys), MaxSignatures)
	}
	b, err := signStatement(keys[0], st)
	if err != nil {
		return nil, fmt.Errorf("sign decision %s: %w", d.CaseID, err)
	}
	for _, k := range keys[1:] {
		if b, err = addSignature(b, k); err != nil {
			return nil, fmt.Errorf("sign decision %s: %w", d.CaseID, err)
		}
	}
	return b, nil
}

// AddSignature adds key's signature to the decision bundle bundleJSON (one
// signed by another agency, or already co-signed), over the unchanged
// payload bytes. With lead non-nil it first verifies the bundle's
// signature by lead, so that a payload changed after the lead signed is
// refused (ErrSignature) rather than co-signed. It refuses a payload that
// is not a valid decision statement (ErrMalformed), a key that has already
// signed, and more than MaxSignatures signatures.
func AddSignature(bundleJSON []byte, key *ecdsa.PrivateKey, lead *ecdsa.PublicKey) ([]byte, error) {
	if lead != nil {
		if _, err := VerifyDecision(bundleJSON, lead); err != nil {
			return nil, fmt.Errorf("add signature: lead signature: %w", err)
		}
	}
	b, err := ParseBundle(bundleJSON)
	if err != nil {
		return nil, fmt.Errorf("add signature: %w", err)
	}
	st, err := ParseStatement(b.GetDsseEnvelope().GetPayload())
	if err != nil {
		return nil, fmt.Errorf("add signature: %w", err)
	}
	if _, err := decodeDecision(st); err != nil {
		return nil, fmt.Errorf("add signature: %w", err)
	}
	out, err := addSignature(bundleJSON, key)
	if err != nil {
		return nil, fmt.Errorf("add signature: %w", err)
	}
	return out, nil
}

// addSignature appends key's DSSE signature (with keyid KeyHint) over the
// payload of bundleJSON, naming the existing lone signature's key by the
// bundle's hint.
func addSignature(bundleJSON []byte, key *ecdsa.PrivateKey) ([]byte, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, ErrKeyType
	}
	b, err := ParseBundle(bundleJSON)
	if err != nil {
		return nil, err
	}
	pb, ok := proto.Clone(b.Bundle).(*protobundle.Bundle)
	if !ok {
		return nil, errors.New("clone bundle")
	}
	env := pb.GetDsseEnvelope()
	if len(env.Signatures) == 1 && env.Signatures[0].Keyid == "" {
		hint := pb.GetVerificationMaterial().GetPublicKey().GetHint()
		if hint == "" {
			return nil, fmt.Errorf("%w: the bundle's signature names no key (empty publicKey.hint)", ErrMalformed)
		}
		env.Signatures[0].Keyid = hint
	}
	hint := KeyHint(&key.PublicKey)
	if slices.ContainsFunc(env.Signatures, func(s *protodsse.Signature) bool { return s.Keyid == hint }) {
		return nil, fmt.Errorf("key %s has already signed", hint)
	}
	if len(env.Signatures) >= MaxSignatures {
		return nil, fmt.Errorf("the bundle has %d signatures, at most %d", len(env.Signatures), MaxSignatures)
	}
	pae := (&sign.DSSEData{Data: env.Payload, PayloadType: env.PayloadType}).PreAuthEncoding()
	sig, _, err := keypair{key}.SignData(context.Background(), pae)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	env.Signatures = append(env.Signatures, &protodsse.Signature{Sig: sig, Keyid: hint})
	nb, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	out, err := nb.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("marshal bundle: %w", err)
	}
	// The payload signed must be the payload written, byte for byte.
	check, err := ParseBundle(out)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(check.GetDsseEnvelope().GetPayload(), b.GetDsseEnvelope().GetPayload()) {
		return nil, errors.New("payload changed while adding a signature")
	}
	return out, nil
}

// singleBundle returns the one-signature bundle of b's signature i: the
// same payload, that signature without its keyid, and its keyid as the
// key hint, the form sigstore-go and cosign verify.
func singleBundle(b *bundle.Bundle, i int) (*bundle.Bundle, error) {
	env := b.GetDsseEnvelope()
	s := env.GetSignatures()[i]
	pb := &protobundle.Bundle{
		MediaType: b.GetMediaType(),
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: s.GetKeyid()}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     env.GetPayload(),
			PayloadType: env.GetPayloadType(),
			Signatures:  []*protodsse.Signature{{Sig: s.GetSig()}},
		}},
	}
	nb, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("%w: signatures[%d]: %v", ErrMalformed, i, err)
	}
	return nb, nil
}

// SplitBundle returns one standard one-signature bundle per signature of
// the (co-signed) decision bundle bundleJSON, in order, the lead's first:
// the same payload and signature, with the signature's keyid as the key
// hint. Each verifies with its signer's key in sigstore-go or cosign. It
// does not verify any signature.
func SplitBundle(bundleJSON []byte) ([][]byte, error) {
	b, err := ParseBundle(bundleJSON)
	if err != nil {
		return nil, err
	}
	sigs := b.GetDsseEnvelope().GetSignatures()
	if len(sigs) == 1 {
		return [][]byte{bundleJSON}, nil
	}
	out := make([][]byte, len(sigs))
	for i := range sigs {
		one, err := singleBundle(b, i)
		if err != nil {
			return nil, err
		}
		if out[i], err = one.MarshalJSON(); err != nil {
			return nil, fmt.Errorf("marshal bundle: %w", err)
		}
	}
	return out, nil
}

// Signers is who signed a decision bundle, as VerifyDecisionSigners found.
type Signers struct {
	// Names are the names of the given keys whose signatures verified,
	// sorted.
	Names []string `json:"names"`
	// Unknown are the key ids (KeyHint) of signatures by none of the
	// given keys; they were not checked.
	Unknown []string `json:"unknown,omitempty"`
}

// VerifyDecisionSigners verifies a decision bundle, one-signature or
// co-signed, against named keys: every signature whose keyid is a given
// key's must verify under it (ErrSignature, or ErrSubject, names the key
// otherwise), and signatures by other keys are reported in Unknown. At
// least one given key must have signed (ErrSignature otherwise). A lone
// signature without a keyid is matched by the bundle's hint, else by
// whichever given key verifies it, as VerifyDecision does. Which signers
// are required is the caller's policy.
func VerifyDecisionSigners(bundleJSON []byte, keys map[string]*ecdsa.PublicKey) (*VerifiedDecision, *Signers, error) {
	return verifySigners(bundleJSON, keys, nil)
}

// VerifyDecisionSignersDigest is VerifyDecisionSigners that also requires
// a subject with the given SHA-256, as VerifyDecisionDigest does.
func VerifyDecisionSignersDigest(bundleJSON []byte, keys map[string]*ecdsa.PublicKey, sha256Digest []byte) (*VerifiedDecision, *Signers, error) {
	if len(sha256Digest) != 32 {
		return nil, nil, fmt.Errorf("verify decision: digest of %d bytes, want 32", len(sha256Digest))
	}
	return verifySigners(bundleJSON, keys, sha256Digest)
}

func verifySigners(bundleJSON []byte, keys map[string]*ecdsa.PublicKey, digest []byte) (*VerifiedDecision, *Signers, error) {
	if len(keys) == 0 {
		return nil, nil, errors.New("verify decision: no keys given")
	}
	byHint := make(map[string]string, len(keys))
	names := make([]string, 0, len(keys))
	for name, k := range keys {
		if k == nil || k.Curve != elliptic.P256() {
			return nil, nil, fmt.Errorf("verify decision: key %s: %w", name, ErrKeyType)
		}
		h := KeyHint(k)
		if other, dup := byHint[h]; dup {
			return nil, nil, fmt.Errorf("verify decision: keys %s and %s are the same key", min(name, other), max(name, other))
		}
		byHint[h] = name
		names = append(names, name)
	}
	slices.Sort(names)
	b, err := ParseBundle(bundleJSON)
	if err != nil {
		return nil, nil, err
	}
	sigs := b.GetDsseEnvelope().GetSignatures()
	res := &Signers{Names: []string{}}
	if len(sigs) == 1 {
		id := sigs[0].GetKeyid()
		if id == "" {
			id = b.GetVerificationMaterial().GetPublicKey().GetHint()
		}
		if name, ok := byHint[id]; ok {
			v, err := verifiedDecision(b, keys[name], digest)
			if err != nil {
				return nil, nil, fmt.Errorf("signature by %s: %w", name, err)
			}
			res.Names = append(res.Names, name)
			return v, res, nil
		}
		// The hint is only a hint: try every key, as VerifyDecision would.
		var last error
		for _, name := range names {
			v, err := verifiedDecision(b, keys[name], digest)
			if err == nil {
				res.Names = append(res.Names, name)
				return v, res, nil
			}
			if !errors.Is(err, ErrSignature) {
				return nil, nil, fmt.Errorf("signature by %s: %w", name, err)
			}
			last = err
		}
		return nil, nil, fmt.Errorf("signed by none of the keys given (key hint %q): %w", id, last)
	}
	var v *VerifiedDecision
	for i, s := range sigs {
		name, ok := byHint[s.GetKeyid()]
		if !ok {
			res.Unknown = append(res.Unknown, s.GetKeyid())
			continue
		}
		one, err := singleBundle(b, i)
		if err != nil {
			return nil, nil, err
		}
		got, err := verifiedDecision(one, keys[name], digest)
		if err != nil {
			return nil, nil, fmt.Errorf("signature by %s: %w", name, err)
		}
		v = got
		res.Names = append(res.Names, name)
	}
	if v == nil {
		return nil, nil, fmt.Errorf("%w: none of the bundle's %d signatures is by a key given (key ids %v)", ErrSignature, len(sigs), res.Unknown)
	}
	slices.Sort(res.Names)
	return v, res, nil
}
