package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	fnote "github.com/transparency-dev/formats/note"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/trust"
)

// trustEnv names the environment variable that overrides the trust file.
const trustEnv = "CLEARANCE_TRUST"

// trustPath returns the trust file to use: flagValue, else
// $CLEARANCE_TRUST, else USERCONFIG/clearance/trust.json.
func trustPath(e *env, flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if p := e.getenv(trustEnv); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find trust file: %w (give --trust FILE or set %s)", err, trustEnv)
	}
	return filepath.Join(dir, "clearance", "trust.json"), nil
}

func runTrust(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError("usage: clearance trust add|list|show|remove [flags] (run 'clearance trust SUB -h')")
	}
	switch args[0] {
	case "add":
		return runTrustAdd(e, args[1:])
	case "list":
		return runTrustList(e, args[1:])
	case "show":
		return runTrustShow(e, args[1:])
	case "remove":
		return runTrustRemove(e, args[1:])
	}
	return usageError("trust: unknown subcommand %q", args[0])
}

func runTrustAdd(e *env, args []string) error {
	fs := newFlagSet(e, "trust add", "trust add NAME --key DECIDER.pub [--key …] --log-key LOG.pub [--log-url URL] [--witness NAME=VKEY|FILE …] [--witness-threshold K] [--trust FILE]")
	var keys, witnesses multiFlag
	fs.Var(&keys, "key", "decision public key file (PEM), repeatable")
	logKeyPath := fs.String("log-key", "", "log verifier key file (signed-note vkey, as log.pub)")
	logURL := fs.String("log-url", "", "where the log is served (tlog-tiles), optional")
	fs.Var(&witnesses, "witness", "witness as NAME=VKEY or a file holding its vkey, repeatable")
	threshold := fs.Int("witness-threshold", -1, "how many witnesses must cosign (default: all given)")
	file := fs.String("trust", "", "trust file (default $CLEARANCE_TRUST or USERCONFIG/clearance/trust.json)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || len(keys) == 0 || *logKeyPath == "" {
		return usageError("trust add: want NAME, at least one --key and --log-key")
	}
	en := trust.Entry{Name: pos[0], LogURL: *logURL}
	for _, k := range keys {
		pub, err := loadPublicKey(k)
		if err != nil {
			return err
		}
		b, err := attest.MarshalPublicKey(pub)
		if err != nil {
			return err
		}
		en.DecisionKeys = append(en.DecisionKeys, string(b))
	}
	if en.LogKey, err = tlog.ReadVerifierKey(*logKeyPath); err != nil {
		return err
	}
	for _, w := range witnesses {
		wit, err := parseWitnessArg(w)
		if err != nil {
			return err
		}
		en.Witnesses = append(en.Witnesses, wit)
	}
	en.WitnessThreshold = *threshold
	if *threshold < 0 {
		en.WitnessThreshold = len(en.Witnesses)
	}
	path, err := trustPath(e, *file)
	if err != nil {
		return err
	}
	f, err := trust.Load(path)
	if err != nil {
		return err
	}
	if err := f.Add(en); err != nil {
		return err
	}
	if err := trust.Save(path, f); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "trusted %s: log %s, %d decision key(s), %d of %d witnesses, in %s\n",
		en.Name, en.Origin(), len(en.DecisionKeys), en.WitnessThreshold, len(en.Witnesses), path)
	return nil
}

// parseWitnessArg reads --witness: a file holding a verifier key (named
// by the key's own name), or NAME=VKEY.
func parseWitnessArg(arg string) (trust.Witness, error) {
	if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() {
		b, err := os.ReadFile(arg)
		if err != nil {
			return trust.Witness{}, fmt.Errorf("read witness key: %w", err)
		}
		k := strings.TrimSpace(string(b))
		// A witness key is a cosignature/v1 key (or a plain Ed25519 one).
		v, err := fnote.NewVerifierForCosignatureV1(k)
		if err != nil {
			return trust.Witness{}, fmt.Errorf("witness key %s: %v", arg, err)
		}
		return trust.Witness{Name: witnessLabel(v.Name()), Key: k}, nil
	}
	name, key, ok := strings.Cut(arg, "=")
	if !ok || name == "" || key == "" {
		return trust.Witness{}, usageError("trust add: --witness %q: want NAME=VKEY or a key file", arg)
	}
	return trust.Witness{Name: name, Key: strings.TrimSpace(key)}, nil
}

// witnessLabel turns a key name (often a host or URL) into an entry name.
func witnessLabel(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	out := strings.TrimLeft(b.String(), "._-")
	return out[:min(64, len(out))]
}

func runTrustList(e *env, args []string) error {
	fs := newFlagSet(e, "trust list", "trust list [--trust FILE]")
	file := fs.String("trust", "", "trust file (default $CLEARANCE_TRUST or USERCONFIG/clearance/trust.json)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("trust list: unexpected arguments %v", pos)
	}
	f, _, err := loadTrustFile(e, *file)
	if err != nil {
		return err
	}
	for _, en := range f.Entries {
		fmt.Fprintf(e.stdout, "%s\tlog %s\t%d decision key(s)\t%d of %d witnesses\n", en.Name, en.Origin(), len(en.DecisionKeys), en.WitnessThreshold, len(en.Witnesses))
	}
	return nil
}

func runTrustShow(e *env, args []string) error {
	fs := newFlagSet(e, "trust show", "trust show NAME [--trust FILE]")
	file := fs.String("trust", "", "trust file (default $CLEARANCE_TRUST or USERCONFIG/clearance/trust.json)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("trust show: want one NAME")
	}
	f, _, err := loadTrustFile(e, *file)
	if err != nil {
		return err
	}
	en, err := f.Get(pos[0])
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(en, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n", b)
	return nil
}

func runTrustRemove(e *env, args []string) error {
	fs := newFlagSet(e, "trust remove", "trust remove NAME [--trust FILE]")
	file := fs.String("trust", "", "trust file (default $CLEARANCE_TRUST or USERCONFIG/clearance/trust.json)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("trust remove: want one NAME")
	}
	f, path, err := loadTrustFile(e, *file)
	if err != nil {
		return err
	}
	if err := f.Remove(pos[0]); err != nil {
		return err
	}
	if err := trust.Save(path, f); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %s from %s\n", pos[0], path)
	return nil
}

func loadTrustFile(e *env, flagValue string) (*trust.File, string, error) {
	path, err := trustPath(e, flagValue)
	if err != nil {
		return nil, "", err
	}
	f, err := trust.Load(path)
	return f, path, err
}

// pickTrust chooses the trust entry: by name when given, else the one
// entry whose log key verifies origin. No match, or several, is an error:
// a verifier never falls back to keys it did not pin.
func pickTrust(f *trust.File, path, name, origin string) (trust.Entry, error) {
	if name != "" {
		return f.Get(name)
	}
	m := f.ByOrigin(origin)
	switch len(m) {
	case 0:
		return trust.Entry{}, fmt.Errorf("no entry in trust file %s for log %q: add one with 'clearance trust add' from keys obtained out of band", path, origin)
	case 1:
		return m[0], nil
	}
	names := make([]string, len(m))
	for i, en := range m {
		names[i] = en.Name
	}
	return trust.Entry{}, errors.New("several trust entries for log " + strconv.Quote(origin) + " (" + strings.Join(names, ", ") + "): choose one with --trust-name")
}
