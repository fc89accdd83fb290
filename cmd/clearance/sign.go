package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/clearance-dev/clearance/attest"
)

func runSign(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError("usage: clearance sign model DIR --key KEY | clearance sign decision --decision FILE --model DIR --key KEY [--key KEY2 …] --out BUNDLE | clearance sign add --bundle B --key KEY --out B2 | clearance sign split --bundle B --out-dir DIR")
	}
	switch args[0] {
	case "model":
		return runSignModel(ctx, e, args[1:])
	case "decision":
		return runSignDecision(ctx, e, args[1:])
	case "add":
		return runSignAdd(e, args[1:])
	case "split":
		return runSignSplit(e, args[1:])
	}
	return usageError("sign: unknown kind %q (want model, decision, add or split)", args[0])
}

func runSignModel(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "sign model", "sign model DIR --key KEY [--out FILE] [--passphrase-env VAR]")
	key := fs.String("key", "", "ECDSA P-256 private key (PEM)")
	out := fs.String("out", "", "signature bundle to write (default DIR/model.sig)")
	passEnv := fs.String("passphrase-env", "", "environment variable holding the key's passphrase")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *key == "" {
		return usageError("sign model: want one model directory and --key")
	}
	dir := pos[0]
	if *out == "" {
		*out = filepath.Join(dir, attest.DefaultSignatureName)
	}
	k, err := loadPrivateKey(e, *key, *passEnv)
	if err != nil {
		return err
	}
	opts := attest.HashOptions{}
	if rel, ok := relInside(dir, *out); ok {
		opts.Ignore = append(opts.Ignore, rel)
	}
	m, err := attest.HashModel(ctx, dir, opts)
	if err != nil {
		return err
	}
	b, err := attest.SignModel(k, m)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("write signature: %w", err)
	}
	fmt.Fprintf(e.stdout, "signed %s: %d files, %d bytes, root sha256:%s\nwrote %s\n", m.Name, len(m.Files), m.TotalSize(), m.RootHex(), *out)
	return nil
}

func runSignDecision(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "sign decision", "sign decision --decision FILE --model DIR --key KEY [--key KEY2 …] --out BUNDLE [--model-signature FILE] [--passphrase-env VAR]")
	decFile := fs.String("decision", "", "decision predicate (JSON, "+attest.DecisionPredicateType+")")
	model := fs.String("model", "", "model directory the decision is about (its OMS manifest becomes the subjects)")
	modelSig := fs.String("model-signature", "", "OMS signature bundle to bind (default DIR/model.sig when present)")
	var keys listFlag
	fs.Var(&keys, "key", "ECDSA P-256 private key (PEM); repeat for a co-signed decision, the lead's first")
	out := fs.String("out", "", "decision bundle to write")
	passEnv := fs.String("passphrase-env", "", "environment variable holding the key's passphrase")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *decFile == "" || *model == "" || len(keys) == 0 || *out == "" {
		return usageError("sign decision: --decision, --model, --key and --out are required")
	}
	data, err := os.ReadFile(*decFile)
	if err != nil {
		return fmt.Errorf("read decision: %w", err)
	}
	d, err := attest.ParseDecision(data)
	if err != nil {
		return fmt.Errorf("%s: %w", *decFile, err)
	}
	if len(keys) > attest.MaxSignatures {
		return usageError("sign decision: %d keys, at most %d", len(keys), attest.MaxSignatures)
	}
	ks := make([]*ecdsa.PrivateKey, len(keys))
	for i, p := range keys {
		if ks[i], err = loadPrivateKey(e, p, *passEnv); err != nil {
			return err
		}
	}
	b, m, err := signDecisionForKeys(ctx, ks, d, *model, *modelSig)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if len(ks) > 1 {
		fmt.Fprintf(e.stdout, "co-signed %s (%s) about %s sha256:%s with %d keys\nwrote %s\n", decisionName(d), d.Outcome, m.Name, m.RootHex(), len(ks), *out)
		return nil
	}
	fmt.Fprintf(e.stdout, "signed %s (%s) about %s sha256:%s\nwrote %s\n", decisionName(d), d.Outcome, m.Name, m.RootHex(), *out)
	return nil
}

// listFlag is a repeatable string flag; unlike multiFlag it does not split
// on commas (key paths may hold them).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// runSignAdd adds an agency's signature to a decision bundle another
// agency signed (a co-signed decision), over the unchanged payload.
func runSignAdd(e *env, args []string) error {
	fs := newFlagSet(e, "sign add", "sign add --bundle B --key KEY --out B2 [--lead-key PUB] [--passphrase-env VAR]")
	in := fs.String("bundle", "", "decision bundle to co-sign")
	key := fs.String("key", "", "this agency's ECDSA P-256 private key (PEM)")
	out := fs.String("out", "", "co-signed bundle to write")
	leadKey := fs.String("lead-key", "", "check the lead's signature with this public key before co-signing (recommended)")
	passEnv := fs.String("passphrase-env", "", "environment variable holding the key's passphrase")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *in == "" || *key == "" || *out == "" {
		return usageError("sign add: --bundle, --key and --out are required")
	}
	data, err := os.ReadFile(*in)
	if err != nil {
		return fmt.Errorf("read bundle: %w", err)
	}
	var lead *ecdsa.PublicKey
	if *leadKey != "" {
		if lead, err = loadPublicKey(*leadKey); err != nil {
			return err
		}
	}
	k, err := loadPrivateKey(e, *key, *passEnv)
	if err != nil {
		return err
	}
	b, err := attest.AddSignature(data, k, lead)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	pb, err := attest.ParseBundle(b)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	fmt.Fprintf(e.stdout, "added the signature of key %s: %d signatures\nwrote %s\n", attest.KeyHint(&k.PublicKey), len(pb.GetDsseEnvelope().GetSignatures()), *out)
	return nil
}

// runSignSplit writes one standard one-signature bundle per signature of
// a co-signed decision, for verifiers (cosign, sigstore-go) that accept a
// single DSSE signature per bundle.
func runSignSplit(e *env, args []string) error {
	fs := newFlagSet(e, "sign split", "sign split --bundle B --out-dir DIR")
	in := fs.String("bundle", "", "co-signed decision bundle")
	dir := fs.String("out-dir", "", "directory to write signature-N.bundle into (N from 1, the lead's first)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *in == "" || *dir == "" {
		return usageError("sign split: --bundle and --out-dir are required")
	}
	data, err := os.ReadFile(*in)
	if err != nil {
		return fmt.Errorf("read bundle: %w", err)
	}
	parts, err := attest.SplitBundle(data)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	for i, p := range parts {
		pb, err := attest.ParseBundle(p)
		if err != nil {
			return err
		}
		name := filepath.Join(*dir, fmt.Sprintf("signature-%d.bundle", i+1))
		if err := os.WriteFile(name, p, 0o644); err != nil {
			return fmt.Errorf("write bundle: %w", err)
		}
		fmt.Fprintf(e.stdout, "wrote %s (key %s)\n", name, pb.GetVerificationMaterial().GetPublicKey().GetHint())
	}
	return nil
}

// signDecisionFor hashes the model directory, reads its OMS signature
// (sigPath, or DIR/model.sig when sigPath is empty and that file exists)
// and signs decision d bound to both. It returns the bundle and manifest.
// clearance decide and the demo call it too.
func signDecisionFor(ctx context.Context, key *ecdsa.PrivateKey, d *attest.Decision, dir, sigPath string) ([]byte, *attest.Manifest, error) {
	return signDecisionForKeys(ctx, []*ecdsa.PrivateKey{key}, d, dir, sigPath)
}

// signDecisionForKeys is signDecisionFor co-signed by keys, the lead's
// first; with one key it is exactly signDecisionFor.
func signDecisionForKeys(ctx context.Context, keys []*ecdsa.PrivateKey, d *attest.Decision, dir, sigPath string) ([]byte, *attest.Manifest, error) {
	key := keys[0]
	opts := attest.HashOptions{}
	if sigPath == "" {
		if p := filepath.Join(dir, attest.DefaultSignatureName); fileExists(p) {
			sigPath = p
		}
	}
	var omsSig []byte
	if sigPath != "" {
		var err error
		if omsSig, err = os.ReadFile(sigPath); err != nil {
			return nil, nil, fmt.Errorf("read model signature: %w", err)
		}
		if rel, ok := relInside(dir, sigPath); ok {
			opts.Ignore = append(opts.Ignore, rel)
		}
	}
	m, err := attest.HashModel(ctx, dir, opts)
	if err != nil {
		return nil, nil, err
	}
	if omsSig != nil {
		// Bind only a signature that is about these weights.
		sig, err := attest.ParseModelSignature(omsSig, &key.PublicKey)
		if err == nil && sig.Root != m.RootHex() {
			return nil, nil, fmt.Errorf("model signature %s is about sha256:%s, the directory is sha256:%s", sigPath, sig.Root, m.RootHex())
		}
	}
	var b []byte
	if len(keys) == 1 {
		b, err = attest.SignDecision(key, d, m, omsSig)
	} else {
		b, err = attest.CoSignDecision(keys, d, m, omsSig)
	}
	if err != nil {
		return nil, nil, err
	}
	return b, m, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// relInside returns p relative to dir (slash-separated) when p is inside.
func relInside(dir, p string) (string, bool) {
	ad, err1 := filepath.Abs(dir)
	ap, err2 := filepath.Abs(p)
	if err1 != nil || err2 != nil {
		return "", false
	}
	rel, err := filepath.Rel(ad, ap)
	if err != nil || rel == "." || rel == ".." || len(rel) > 2 && rel[:3] == ".."+string(filepath.Separator) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}
