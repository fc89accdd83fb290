package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"os"

	"github.com/clearance-dev/clearance/attest"
)

func runKeys(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "generate" {
		return usageError("usage: clearance keys generate --out PREFIX [--passphrase-env VAR]")
	}
	fs := newFlagSet(e, "keys generate", "keys generate --out PREFIX [--passphrase-env VAR]")
	out := fs.String("out", "", "write PREFIX.key (mode 0600) and PREFIX.pub")
	passEnv := fs.String("passphrase-env", "", "encrypt the private key with the passphrase in this environment variable")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if *out == "" || len(pos) > 0 {
		return usageError("keys generate: --out PREFIX is required and takes no arguments")
	}
	pass, err := passphrase(e, *passEnv)
	if err != nil {
		return err
	}
	key, err := attest.GenerateKey()
	if err != nil {
		return err
	}
	if err := attest.WriteKeyFiles(*out, key, pass); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s.key (ECDSA P-256, PKCS#8%s) and %s.pub\n", *out, map[bool]string{true: ", encrypted", false: ""}[len(pass) > 0], *out)
	return nil
}

// passphrase reads the passphrase from the named environment variable;
// an empty name means none, a named but empty variable is an error.
func passphrase(e *env, name string) ([]byte, error) {
	if name == "" {
		return nil, nil
	}
	v := e.getenv(name)
	if v == "" {
		return nil, usageError("passphrase variable %s is empty or unset", name)
	}
	return []byte(v), nil
}

// loadPrivateKey reads a PEM private key, decrypting it with the
// passphrase in environment variable passEnv when it is encrypted.
func loadPrivateKey(e *env, path, passEnv string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	pass, err := passphrase(e, passEnv)
	if err != nil {
		return nil, err
	}
	k, err := attest.ParsePrivateKey(data, pass)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return k, nil
}

// loadPublicKey reads a PEM public key.
func loadPublicKey(path string) (*ecdsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	k, err := attest.ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return k, nil
}
