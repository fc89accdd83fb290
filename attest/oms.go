package attest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
)

// OMSPredicateType is the predicate type of an OpenSSF Model Signing v1.0
// signature.
const OMSPredicateType = "https://model_signing/signature/v1.0"

// omsSerialization is the "serialization" object of an OMS v1.0 predicate
// for the "files" method. Its field names are snake_case because the spec
// (and the reference implementation) spell them so.
type omsSerialization struct {
	Method        string   `json:"method"`
	HashType      string   `json:"hash_type"`
	AllowSymlinks bool     `json:"allow_symlinks"`
	IgnorePaths   []string `json:"ignore_paths"`
}

type omsResource struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"`
}

type omsPredicate struct {
	Serialization omsSerialization `json:"serialization"`
	Resources     []omsResource    `json:"resources"`
}

// ModelStatement returns the OMS v1.0 in-toto statement for m: one subject
// named after the model carrying the root digest, and a predicate listing
// the serialization parameters and every file's digest.
func ModelStatement(m *Manifest) (*intoto.Statement, error) {
	p := omsPredicate{
		Serialization: omsSerialization{Method: "files", HashType: "sha256", IgnorePaths: slices.Clone(m.Ignored)},
		Resources:     make([]omsResource, 0, len(m.Files)),
	}
	if p.Serialization.IgnorePaths == nil {
		p.Serialization.IgnorePaths = []string{}
	}
	for _, f := range m.Files {
		p.Resources = append(p.Resources, omsResource{Name: f.Path, Algorithm: "sha256", Digest: f.Hex()})
	}
	pred, err := toStruct(p)
	if err != nil {
		return nil, fmt.Errorf("model statement: %w", err)
	}
	return &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       []*intoto.ResourceDescriptor{{Name: m.Name, Digest: map[string]string{"sha256": m.RootHex()}}},
		PredicateType: OMSPredicateType,
		Predicate:     pred,
	}, nil
}

// SignModel returns an OMS v1.0 signature bundle for manifest m, signed
// with key.
func SignModel(key *ecdsa.PrivateKey, m *Manifest) ([]byte, error) {
	st, err := ModelStatement(m)
	if err != nil {
		return nil, err
	}
	b, err := signStatement(key, st)
	if err != nil {
		return nil, fmt.Errorf("sign model %s: %w", m.Name, err)
	}
	return b, nil
}

// ModelSignature is what a verified OMS signature says.
type ModelSignature struct {
	Name     string
	Root     string // hex
	Manifest *Manifest
}

// ParseModelSignature checks the signature of an OMS bundle with pub and
// returns the signed manifest, after checking that its root digest is the
// digest of its resources in the order listed (as the reference verifier
// does). It does not look at any model directory. Errors wrap ErrSignature
// or ErrMalformed.
func ParseModelSignature(bundleJSON []byte, pub *ecdsa.PublicKey) (*ModelSignature, error) {
	b, err := ParseBundle(bundleJSON)
	if err != nil {
		return nil, err
	}
	if n := len(b.GetDsseEnvelope().GetSignatures()); n != 1 {
		return nil, fmt.Errorf("%w: envelope has %d signatures, want 1", ErrMalformed, n)
	}
	st, err := verifyBundle(b, pub, nil)
	if err != nil {
		return nil, err
	}
	if st.GetPredicateType() != OMSPredicateType {
		return nil, fmt.Errorf("%w: predicate type %q, want %q", ErrMalformed, st.GetPredicateType(), OMSPredicateType)
	}
	if len(st.GetSubject()) != 1 {
		return nil, fmt.Errorf("%w: OMS statement has %d subjects, want 1", ErrMalformed, len(st.GetSubject()))
	}
	raw, err := predicateJSON(st)
	if err != nil {
		return nil, err
	}
	var p omsPredicate
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%w: OMS predicate: %v", ErrMalformed, err)
	}
	if p.Serialization.Method != "files" || p.Serialization.HashType != "sha256" {
		return nil, fmt.Errorf("%w: OMS serialization %q/%q, only files/sha256 is supported", ErrMalformed, p.Serialization.Method, p.Serialization.HashType)
	}
	if p.Serialization.AllowSymlinks {
		return nil, fmt.Errorf("%w: OMS signatures allowing symlinks are not supported", ErrMalformed)
	}
	m := &Manifest{Name: st.GetSubject()[0].GetName(), Ignored: p.Serialization.IgnorePaths}
	seen := make(map[string]bool, len(p.Resources))
	for i, r := range p.Resources {
		if r.Algorithm != "sha256" {
			return nil, fmt.Errorf("%w: resource %d (%s): algorithm %q, want sha256", ErrMalformed, i, r.Name, r.Algorithm)
		}
		d, err := hex.DecodeString(r.Digest)
		if err != nil || len(d) != 32 {
			return nil, fmt.Errorf("%w: resource %d (%s): digest is not 32 bytes of hex", ErrMalformed, i, r.Name)
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("%w: resource %s listed twice", ErrMalformed, r.Name)
		}
		seen[r.Name] = true
		fd := FileDigest{Path: r.Name}
		copy(fd.Digest[:], d)
		m.Files = append(m.Files, fd)
	}
	want := st.GetSubject()[0].GetDigest()["sha256"]
	if got := m.RootHex(); got != want {
		return nil, fmt.Errorf("%w: OMS subject digest %s does not match its resources (%s)", ErrMalformed, want, got)
	}
	return &ModelSignature{Name: m.Name, Root: want, Manifest: m}, nil
}

// VerifyModel checks an OMS signature bundle against the model directory
// dir: the signature must verify under pub and the directory, hashed with
// the ignore rules the signature records (and the signature file itself
// when sigPath lies inside dir), must hold exactly the signed files with
// the signed digests. It returns the verified signature; errors wrap
// ErrSignature, ErrMalformed or ErrSubject (naming the first file that is
// missing, extra or changed).
func VerifyModel(ctx context.Context, dir string, bundleJSON []byte, sigPath string, pub *ecdsa.PublicKey) (*ModelSignature, error) {
	sig, err := ParseModelSignature(bundleJSON, pub)
	if err != nil {
		return nil, err
	}
	opts := HashOptions{KeepGitPaths: true}
	for _, p := range sig.Manifest.Ignored {
		// Paths a signer recorded outside the directory (absolute ones, say)
		// cannot match a file inside it; skip rather than refuse them.
		if c := filepath.ToSlash(filepath.Clean(p)); p == DefaultSignatureName || c == "." || filepath.IsAbs(p) || c == ".." || strings.HasPrefix(c, "../") {
			continue
		}
		opts.Ignore = append(opts.Ignore, p)
	}
	if rel, ok := inside(dir, sigPath); ok {
		opts.Ignore = append(opts.Ignore, rel)
	}
	got, err := HashModel(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	if err := CompareManifests(sig.Manifest, got); err != nil {
		return nil, err
	}
	return sig, nil
}

// CompareManifests reports the first difference between the files of a
// signed manifest and those found on disk, as an error wrapping ErrSubject,
// or nil when they hold the same paths with the same digests.
func CompareManifests(signed, found *Manifest) error {
	want := make(map[string][32]byte, len(signed.Files))
	for _, f := range signed.Files {
		want[f.Path] = f.Digest
	}
	for _, f := range found.Files {
		d, ok := want[f.Path]
		switch {
		case !ok:
			return fmt.Errorf("%w: file %s is not in the signed manifest", ErrSubject, f.Path)
		case !bytes.Equal(d[:], f.Digest[:]):
			return fmt.Errorf("%w: file %s changed (sha256 %s, signed %x)", ErrSubject, f.Path, f.Hex(), d)
		}
		delete(want, f.Path)
	}
	if len(want) > 0 {
		missing := make([]string, 0, len(want))
		for p := range want {
			missing = append(missing, p)
		}
		slices.SortFunc(missing, ComparePaths)
		return fmt.Errorf("%w: signed file %s is missing", ErrSubject, missing[0])
	}
	return nil
}

// inside returns p relative to dir (slash-separated) when p lies in dir.
func inside(dir, p string) (string, bool) {
	if p == "" {
		return "", false
	}
	ad, err1 := filepath.Abs(dir)
	ap, err2 := filepath.Abs(p)
	if err1 != nil || err2 != nil {
		return "", false
	}
	rel, err := filepath.Rel(ad, ap)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}
