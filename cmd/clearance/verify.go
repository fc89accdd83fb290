package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/tlog"
)

// Exit codes of clearance verify (and verify model). 0 means every check
// held; 1 is an I/O or other error; 2 a usage error.
const (
	exitVerifyMalformed = 10 // the bundle, statement, decision or receipt does not parse
	exitVerifySignature = 11 // the signature does not verify under --key
	exitVerifyModel     = 12 // the weights in --model do not match the subjects
	exitVerifyLog       = 13 // no receipt, or inclusion/checkpoint/consistency fails
	exitVerifyOutcome   = 14 // --require-outcome is not met
	exitVerifyExpired   = 15 // the decision's expiresAt has passed
	// verify --from only:
	exitVerifyInconsistent = 16 // the log's current checkpoint is not consistent with the receipt's (a fork)
	exitVerifyWitness      = 17 // a checkpoint lacks the cosignatures the trust entry's witness policy requires
	// The bundle names (publicKey.hint) a signer other than every key
	// given: signed by someone else, rather than altered (11).
	exitVerifyUntrusted = 18
	// A signer --require-signers names did not sign, or fewer than
	// --min-signers of the keys given did (co-signed decisions).
	exitVerifySigners = 19
)

// verifyExitCodes is the exit-code legend of clearance verify --help.
const verifyExitCodes = `
Exit codes: 0 verified; 1 I/O or other error; 2 usage; 10 malformed bundle,
decision or receipt; 11 bad signature; 12 weights differ; 13 not provably
logged (no receipt, inclusion or checkpoint fails); 14 outcome not met;
15 expired; 16 log inconsistent (forked after the receipt, --from);
17 witness policy not met (--from); 18 signed by another key than those
given (--key or the trust file); 19 signer policy not met (--require-signers,
--min-signers).`

func runVerify(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "model" {
		return runVerifyModel(ctx, e, args[1:])
	}
	fs := newFlagSet(e, "verify", "verify --bundle FILE --key PUB [--key PUB2 … --require-signers NAME,…|--min-signers K] [--model DIR] [--model-signature FILE] [--log DIR|URL] [--log-key PUB] [--receipt FILE] [--require-outcome O] [--profile ID] [--format text|json]\n       clearance verify --from URL [--decision ID|--digest sha256:…] [--trust FILE] [--trust-name NAME] [--require-signers ENTRY,…|--min-signers K] [--log URL] [--model DIR] [--require-outcome O] …\n       clearance verify model DIR --signature FILE --key PUB\n"+verifyExitCodes)
	var in verifyInput
	fs.StringVar(&in.bundlePath, "bundle", "", "decision bundle (Sigstore bundle v0.3)")
	var keys listFlag
	fs.Var(&keys, "key", "decider's public key (PEM); repeat for a co-signed decision, as PATH or NAME=PATH (NAME defaults to the file name without extension)")
	signers := multiFlag{}
	fs.Var(&signers, "require-signers", "co-signed decision: these --key names (with --from: trust entry names) must each have signed (comma-separated)")
	fs.IntVar(&in.minSigners, "min-signers", 0, "co-signed decision: at least this many of the --key keys (with --from: trust entries) must have signed")
	fs.StringVar(&in.modelDir, "model", "", "model directory whose weights must match the subjects")
	fs.StringVar(&in.modelSigPath, "model-signature", "", "OMS signature bundle the decision must bind (default DIR/model.sig when the decision binds one)")
	fs.StringVar(&in.logLoc, "log", "", "log directory or URL: also check the receipt against the log as it is now")
	fs.StringVar(&in.logKeyPath, "log-key", "", "log verifier key: check the receipt offline (default DIR/log.pub when --log is a directory)")
	fs.StringVar(&in.receiptPath, "receipt", "", "log receipt (default BUNDLE.receipt.json)")
	outcomes := multiFlag{}
	fs.Var(&outcomes, "require-outcome", "required outcome(s), comma-separated: cleared, cleared_with_conditions, …")
	fs.StringVar(&in.profile, "profile", "", "apply --require-outcome to this profile instead of the overall decision")
	format := fs.String("format", "text", "output format: text or json")
	var fin fromInput
	fs.StringVar(&fin.from, "from", "", "a decision's public page URL (…/transparency/ID), or the site with --decision: fetch and verify against the trust file")
	fs.StringVar(&fin.decision, "decision", "", "with --from BASE: the decision id (dec_…)")
	fs.StringVar(&fin.digest, "digest", "", "with --from BASE: verify the newest logged decision about the weights with this OMS root digest (sha256:…); with --model DIR and no decision id, the digest of DIR")
	fs.StringVar(&fin.trustFile, "trust", "", "trust file for --from (default $CLEARANCE_TRUST or USERCONFIG/clearance/trust.json)")
	fs.StringVar(&fin.trustName, "trust-name", "", "trust entry for --from (default: the entry whose log key matches the receipt's log)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if in.keys, err = namedKeys(keys); err != nil {
		return err
	}
	if len(in.keys) > 0 {
		in.keyPath = in.keys[0].path
	}
	in.requireSigners = signers
	if err := checkSignerPolicy(in, fin.from != ""); err != nil {
		return err
	}
	if fin.from != "" {
		if in.bundlePath != "" || in.keyPath != "" || in.logKeyPath != "" || in.receiptPath != "" {
			return usageError("verify: --from takes its keys from the trust file and fetches bundle and receipt: drop --bundle, --key, --log-key and --receipt")
		}
		fin.logURL = in.logLoc
		in.logLoc = ""
	} else if fin.decision != "" || fin.digest != "" || fin.trustName != "" || fin.trustFile != "" {
		return usageError("verify: --decision, --digest, --trust and --trust-name go with --from")
	}
	if fin.decision != "" && fin.digest != "" {
		return usageError("verify: --decision or --digest, not both")
	}
	if len(pos) > 0 || (fin.from == "" && (in.bundlePath == "" || in.keyPath == "")) {
		return usageError("verify: --bundle and --key are required")
	}
	if *format != "text" && *format != "json" {
		return usageError("verify: --format must be text or json")
	}
	if in.profile != "" && len(outcomes) == 0 {
		return usageError("verify: --profile needs --require-outcome")
	}
	for _, o := range outcomes {
		if !attest.Outcome(o).Valid() {
			return usageError("verify: --require-outcome %q is not an outcome", o)
		}
	}
	in.requireOutcomes = outcomes
	in.now = e.now()

	var rep *verifyReport
	if fin.from != "" {
		rep = verifyFrom(ctx, e, fin, in)
	} else {
		rep = verifyDecisionFiles(ctx, in)
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		for _, c := range rep.Checks {
			fmt.Fprintf(e.stdout, "ok: %s\n", c)
		}
	}
	if !rep.OK {
		return &exitError{code: rep.Code, err: errors.New(rep.Reason)}
	}
	if *format == "text" {
		fmt.Fprintf(e.stdout, "verified: %s is %s\n", decisionName(rep.Decision), rep.Decision.Outcome)
	}
	return nil
}

// verifyInput is what clearance verify checks.
type verifyInput struct {
	bundlePath, keyPath             string
	modelDir, modelSigPath          string
	logLoc, logKeyPath, receiptPath string
	requireOutcomes                 []string
	profile                         string
	now                             time.Time
	// keys are every --key (keyPath is the first's path); requireSigners
	// and minSigners the signer policy of a co-signed decision.
	keys           []namedKey
	requireSigners []string
	minSigners     int
}

// namedKey is a --key NAME=PATH (or PATH, named after the file).
type namedKey struct{ name, path string }

var keyNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// namedKeys parses the --key values: NAME=PATH, or PATH named by its file
// name without extension (caisi.pub is caisi).
func namedKeys(vals []string) ([]namedKey, error) {
	out := make([]namedKey, 0, len(vals))
	seen := map[string]bool{}
	for _, v := range vals {
		k := namedKey{path: v}
		if name, p, ok := strings.Cut(v, "="); ok && keyNameRE.MatchString(name) && p != "" {
			k = namedKey{name: name, path: p}
		} else {
			base := filepath.Base(v)
			k.name = strings.TrimSuffix(base, filepath.Ext(base))
		}
		if seen[k.name] {
			return nil, usageError("verify: two --key named %q: name them with NAME=PATH", k.name)
		}
		seen[k.name] = true
		out = append(out, k)
	}
	return out, nil
}

// checkSignerPolicy checks --require-signers and --min-signers against
// the --key names (with --from, against the trust file's entry names,
// once it is read: see fromSigners).
func checkSignerPolicy(in verifyInput, from bool) error {
	if len(in.requireSigners) == 0 && in.minSigners == 0 {
		return nil
	}
	if from {
		if in.minSigners < 0 {
			return usageError("verify: --min-signers %d: want 1 or more trust entries", in.minSigners)
		}
		return nil
	}
	if in.minSigners < 0 || in.minSigners > len(in.keys) {
		return usageError("verify: --min-signers %d: want 1 to the %d keys given", in.minSigners, len(in.keys))
	}
	for _, r := range in.requireSigners {
		if !slices.ContainsFunc(in.keys, func(k namedKey) bool { return k.name == r }) {
			return usageError("verify: --require-signers %s: no --key of that name", r)
		}
	}
	return nil
}

// verifyReport is the result of clearance verify; --format json prints it.
type verifyReport struct {
	OK       bool             `json:"ok"`
	Code     int              `json:"code"`
	Reason   string           `json:"reason,omitempty"`
	Checks   []string         `json:"checks"`
	Decision *attest.Decision `json:"decision,omitempty"`
	LogIndex *uint64          `json:"logIndex,omitempty"`
	// Signers are the --key names whose signatures verified, and
	// UnknownSigners the key ids of signatures by other keys (not
	// checked); set when several --key or a signer policy are given.
	Signers        []string `json:"signers,omitempty"`
	UnknownSigners []string `json:"unknownSigners,omitempty"`
}

func (r *verifyReport) fail(code int, format string, a ...any) *verifyReport {
	r.OK, r.Code, r.Reason = false, code, fmt.Sprintf(format, a...)
	return r
}

// otherSigner reports whether bundle's key hint names none of keys: the
// signature failed because someone else signed, not because a byte of a
// bundle signed by one of keys changed. The hint is the signer's say and
// only chooses between two failures; it never makes a bundle verify.
func otherSigner(bundle []byte, keys ...*ecdsa.PublicKey) bool {
	b, err := attest.ParseBundle(bundle)
	if err != nil {
		return false
	}
	hint := b.GetVerificationMaterial().GetPublicKey().GetHint()
	ids := []string{hint}
	if sigs := b.GetDsseEnvelope().GetSignatures(); len(sigs) > 1 {
		// A co-signed decision names every signer's key.
		for _, s := range sigs {
			ids = append(ids, s.GetKeyid())
		}
	}
	for _, k := range keys {
		if slices.Contains(ids, attest.KeyHint(k)) {
			return false
		}
	}
	return hint != ""
}

// verifyDecisionFiles runs every check clearance verify makes and reports
// the first failure with its exit code. clearance demo calls it too.
func verifyDecisionFiles(ctx context.Context, in verifyInput) *verifyReport {
	rep := &verifyReport{Checks: []string{}}
	bundle, err := os.ReadFile(in.bundlePath)
	if err != nil {
		return rep.fail(1, "read bundle: %v", err)
	}
	if len(in.keys) > 1 || len(in.requireSigners) > 0 || in.minSigners > 0 {
		return verifySigners(ctx, rep, bundle, in)
	}
	pub, err := loadPublicKey(in.keyPath)
	if err != nil {
		return rep.fail(1, "%v", err)
	}

	v, err := attest.VerifyDecision(bundle, pub)
	switch {
	case errors.Is(err, attest.ErrSignature) && otherSigner(bundle, pub):
		return rep.fail(exitVerifyUntrusted, "signature: the bundle is signed by another key than %s (key hint %s): %v", in.keyPath, attest.KeyHint(pub), err)
	case errors.Is(err, attest.ErrSignature):
		return rep.fail(exitVerifySignature, "signature: %v", err)
	case err != nil:
		return rep.fail(exitVerifyMalformed, "bundle: %v", err)
	}
	d := v.Decision
	rep.Decision = d
	rep.Checks = append(rep.Checks, fmt.Sprintf("signature by %s (%s) over %s about %s sha256:%s", d.Verifier.ID, in.keyPath, decisionName(d), d.Model.Name, d.Model.RootDigest["sha256"]))
	if r := checkModelDir(ctx, rep, v, in); r != nil {
		return r
	}
	return verifyRest(ctx, rep, bundle, d, in)
}

// verifySigners verifies a (co-signed) decision bundle under every --key
// and applies the signer policy, then makes the checks
// verifyDecisionFiles makes after the signature.
func verifySigners(ctx context.Context, rep *verifyReport, bundle []byte, in verifyInput) *verifyReport {
	keys := make(map[string]*ecdsa.PublicKey, len(in.keys))
	pubs := make([]*ecdsa.PublicKey, 0, len(in.keys))
	for _, k := range in.keys {
		pub, err := loadPublicKey(k.path)
		if err != nil {
			return rep.fail(1, "%v", err)
		}
		keys[k.name] = pub
		pubs = append(pubs, pub)
	}
	v, who, err := attest.VerifyDecisionSigners(bundle, keys)
	switch {
	case errors.Is(err, attest.ErrSignature) && otherSigner(bundle, pubs...):
		return rep.fail(exitVerifyUntrusted, "signature: the bundle is signed by none of the keys given: %v", err)
	case errors.Is(err, attest.ErrSignature):
		return rep.fail(exitVerifySignature, "signature: %v", err)
	case errors.Is(err, attest.ErrMalformed):
		return rep.fail(exitVerifyMalformed, "bundle: %v", err)
	case err != nil:
		return rep.fail(1, "%v", err)
	}
	d := v.Decision
	rep.Decision, rep.Signers, rep.UnknownSigners = d, who.Names, who.Unknown
	rep.Checks = append(rep.Checks, fmt.Sprintf("signed by: %s (over %s about %s sha256:%s)", strings.Join(who.Names, ", "), decisionName(d), d.Model.Name, d.Model.RootDigest["sha256"]))
	if len(who.Unknown) > 0 {
		rep.Checks = append(rep.Checks, fmt.Sprintf("%d more signature(s) by keys not given, not checked: %s", len(who.Unknown), strings.Join(who.Unknown, ", ")))
	}
	var missing []string
	for _, r := range in.requireSigners {
		if !slices.Contains(who.Names, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return rep.fail(exitVerifySigners, "signers: %s did not sign (signed by: %s)", strings.Join(missing, ", "), strings.Join(who.Names, ", "))
	}
	if len(who.Names) < in.minSigners {
		return rep.fail(exitVerifySigners, "signers: %d of the keys given signed (%s), --min-signers %d", len(who.Names), strings.Join(who.Names, ", "), in.minSigners)
	}
	if len(in.requireSigners) > 0 || in.minSigners > 0 {
		rep.Checks = append(rep.Checks, "signer policy met")
	}
	if r := checkModelDir(ctx, rep, v, in); r != nil {
		return r
	}
	return verifyRest(ctx, rep, bundle, d, in)
}

// checkModelDir checks --model (and its OMS signature) against the
// verified decision; it returns nil when they match or no --model was
// given.
func checkModelDir(ctx context.Context, rep *verifyReport, v *attest.VerifiedDecision, in verifyInput) *verifyReport {
	if in.modelDir != "" {
		opts := attest.HashOptions{}
		for _, p := range []string{in.bundlePath, tlog.ReceiptPath(in.bundlePath), in.receiptPath, in.modelSigPath} {
			if rel, ok := relInside(in.modelDir, p); ok && p != "" {
				opts.Ignore = append(opts.Ignore, rel)
			}
		}
		m, err := attest.HashModel(ctx, in.modelDir, opts)
		if err != nil {
			return rep.fail(exitVerifyModel, "model: %v", err)
		}
		if err := v.CheckModel(m); err != nil {
			return rep.fail(exitVerifyModel, "model: %v", err)
		}
		rep.Checks = append(rep.Checks, fmt.Sprintf("weights in %s match (%d files, root sha256:%s)", in.modelDir, len(m.Files), m.RootHex()))
		d := v.Decision
		sigPath := in.modelSigPath
		if sigPath == "" && d.Model.Signature != nil {
			if p := filepath.Join(in.modelDir, attest.DefaultSignatureName); fileExists(p) {
				sigPath = p
			}
		}
		if sigPath != "" {
			sig, err := os.ReadFile(sigPath)
			if err != nil {
				return rep.fail(1, "read model signature: %v", err)
			}
			if err := v.CheckSignature(sig); err != nil {
				return rep.fail(exitVerifyModel, "model signature %s: %v", sigPath, err)
			}
			rep.Checks = append(rep.Checks, "OMS model signature "+sigPath+" is the one the decision binds")
		}
	}
	return nil
}

// verifyRest checks the log receipt (offline, and live with --log), then
// the outcome and expiry.
func verifyRest(ctx context.Context, rep *verifyReport, bundle []byte, d *attest.Decision, in verifyInput) *verifyReport {
	if in.logLoc != "" || in.logKeyPath != "" {
		keyPath := in.logKeyPath
		if keyPath == "" && !strings.Contains(in.logLoc, "://") {
			keyPath = filepath.Join(in.logLoc, tlog.VerifierKeyFile)
		}
		if keyPath == "" {
			return rep.fail(2, "log: --log-key is required with a log URL")
		}
		vkey, err := tlog.ReadVerifierKey(keyPath)
		if err != nil {
			return rep.fail(1, "log: %v", err)
		}
		rp := in.receiptPath
		if rp == "" {
			rp = tlog.ReceiptPath(in.bundlePath)
		}
		raw, err := os.ReadFile(rp)
		if err != nil {
			return rep.fail(exitVerifyLog, "log: no receipt: %v", err)
		}
		r, err := tlog.ParseReceipt(raw)
		if err != nil {
			return rep.fail(exitVerifyMalformed, "log: %s: %v", rp, err)
		}
		cp, err := tlog.VerifyReceipt(bundle, r, vkey)
		if err != nil {
			return rep.fail(exitVerifyLog, "log: %v", err)
		}
		rep.LogIndex = &r.Index
		rep.Checks = append(rep.Checks, fmt.Sprintf("logged in %s at index %d (inclusion proof against signed checkpoint of size %d)", cp.Origin, r.Index, cp.Size))
		if in.logLoc != "" {
			src, err := tlog.OpenSource(in.logLoc, &http.Client{Timeout: 30 * time.Second})
			if err != nil {
				return rep.fail(1, "log: %v", err)
			}
			cur, err := tlog.CheckLive(ctx, src, bundle, r, vkey)
			if err != nil {
				if errors.Is(err, tlog.ErrCheckpoint) || errors.Is(err, tlog.ErrNotIncluded) || errors.Is(err, tlog.ErrInconsistent) {
					return rep.fail(exitVerifyLog, "log %s: %v", in.logLoc, err)
				}
				return rep.fail(1, "log %s: %v", in.logLoc, err)
			}
			rep.Checks = append(rep.Checks, fmt.Sprintf("log %s now has %d entries, consistent with the receipt, entry still included", in.logLoc, cur.Size))
		}
	}

	return checkOutcome(rep, d, in)
}

// checkOutcome applies --require-outcome and the expiry, the last checks.
func checkOutcome(rep *verifyReport, d *attest.Decision, in verifyInput) *verifyReport {
	if len(in.requireOutcomes) > 0 {
		got, what := d.Outcome, "decision"
		if in.profile != "" {
			p, ok := d.Profile(in.profile)
			if !ok {
				return rep.fail(exitVerifyOutcome, "outcome: decision has no profile %s", in.profile)
			}
			got, what = p.Outcome, "profile "+in.profile
		}
		if !slices.Contains(in.requireOutcomes, string(got)) {
			return rep.fail(exitVerifyOutcome, "outcome: %s is %s, required %s", what, got, strings.Join(in.requireOutcomes, " or "))
		}
		rep.Checks = append(rep.Checks, fmt.Sprintf("%s is %s", what, got))
	}

	if d.Expired(in.now) {
		return rep.fail(exitVerifyExpired, "expired: decision expired at %s", d.ExpiresAt.Format(time.RFC3339))
	}
	if !d.ExpiresAt.IsZero() {
		rep.Checks = append(rep.Checks, "valid until "+d.ExpiresAt.Format(time.RFC3339))
	}
	rep.OK = true
	return rep
}

func runVerifyModel(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "verify model", "verify model DIR --signature FILE --key PUB")
	sigPath := fs.String("signature", "", "OMS signature bundle (default DIR/model.sig)")
	keyPath := fs.String("key", "", "signer's public key (PEM)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *keyPath == "" {
		return usageError("verify model: want one model directory and --key")
	}
	dir := pos[0]
	if *sigPath == "" {
		*sigPath = filepath.Join(dir, attest.DefaultSignatureName)
	}
	sig, err := os.ReadFile(*sigPath)
	if err != nil {
		return fmt.Errorf("read signature: %w", err)
	}
	pub, err := loadPublicKey(*keyPath)
	if err != nil {
		return err
	}
	s, err := attest.VerifyModel(ctx, dir, sig, *sigPath, pub)
	switch {
	case errors.Is(err, attest.ErrSignature):
		return &exitError{code: exitVerifySignature, err: err}
	case errors.Is(err, attest.ErrMalformed):
		return &exitError{code: exitVerifyMalformed, err: err}
	case errors.Is(err, attest.ErrSubject), errors.Is(err, attest.ErrSymlink):
		return &exitError{code: exitVerifyModel, err: err}
	case err != nil:
		return err
	}
	fmt.Fprintf(e.stdout, "verified: %s (%d files) matches its OMS signature, root sha256:%s\n", s.Name, len(s.Manifest.Files), s.Root)
	return nil
}

// decisionName names a decision as the web UI and the API do: by its
// dec_… id, with the case it decided; a decision made outside the
// service has no id and is named by its case.
func decisionName(d *attest.Decision) string {
	if d.DecisionID != "" {
		return fmt.Sprintf("decision %s of case %s", d.DecisionID, d.CaseID)
	}
	return "the decision of case " + d.CaseID
}
