package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clearance-dev/clearance/attest"
)

func runSign(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError("usage: clearance sign model DIR --key KEY | clearance sign decision --decision FILE --model DIR --key KEY --out BUNDLE")
	}
	switch args[0] {
	case "model":
		return runSignModel(ctx, e, args[1:])
	case "decision":
		return runSignDecision(ctx, e, args[1:])
	}
	return usageError("sign: unknown kind %q (want model or decision)", args[0])
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
	fs := newFlagSet(e, "sign decision", "sign decision --decision FILE --model DIR --key KEY --out BUNDLE [--model-signature FILE] [--passphrase-env VAR]")
	decFile := fs.String("decision", "", "decision predicate (JSON, "+attest.DecisionPredicateType+")")
	model := fs.String("model", "", "model directory the decision is about (its OMS manifest becomes the subjects)")
	modelSig := fs.String("model-signature", "", "OMS signature bundle to bind (default DIR/model.sig when present)")
	key := fs.String("key", "", "ECDSA P-256 private key (PEM)")
	out := fs.String("out", "", "decision bundle to write")
	passEnv := fs.String("passphrase-env", "", "environment variable holding the key's passphrase")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *decFile == "" || *model == "" || *key == "" || *out == "" {
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
	k, err := loadPrivateKey(e, *key, *passEnv)
	if err != nil {
		return err
	}
	b, m, err := signDecisionFor(ctx, k, d, *model, *modelSig)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	fmt.Fprintf(e.stdout, "signed %s (%s) about %s sha256:%s\nwrote %s\n", decisionName(d), d.Outcome, m.Name, m.RootHex(), *out)
	return nil
}

// signDecisionFor hashes the model directory, reads its OMS signature
// (sigPath, or DIR/model.sig when sigPath is empty and that file exists)
// and signs decision d bound to both. It returns the bundle and manifest.
// clearance decide and the demo call it too.
func signDecisionFor(ctx context.Context, key *ecdsa.PrivateKey, d *attest.Decision, dir, sigPath string) ([]byte, *attest.Manifest, error) {
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
	b, err := attest.SignDecision(key, d, m, omsSig)
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
