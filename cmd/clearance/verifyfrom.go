package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/trust"
)

// fromInput is what clearance verify --from fetches and where its keys are.
type fromInput struct {
	from, decision       string
	digest               string // --digest: find the newest decision about these weights
	trustFile, trustName string
	logURL               string
}

// Limits on what verify --from and log watch download: a decision bundle
// is a log entry (at most tlog.MaxEntrySize bytes); a receipt is small;
// any other response (tiles, checkpoints) is cut off at maxFetch.
const (
	maxFetch        = 4 << 20
	maxReceiptFetch = 64 << 10
	fetchTimeout    = 30 * time.Second
)

// decisionIDRE is what a decision id in a URL may look like (dec_…).
var decisionIDRE = regexp.MustCompile(`^[a-z]+_[0-9A-Za-z]{1,64}$`)

// transparencyURLs splits --from (and --decision) into the base of the
// public transparency pages (…/transparency), the decision id and the
// site root: --from https://host/transparency/dec_1, or --from
// https://host[/transparency] --decision dec_1.
func transparencyURLs(from, decision string) (base, id, root string, err error) {
	u, err := url.Parse(from)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", "", "", usageError("verify: --from %q: want an http:// or https:// URL", from)
	}
	p := strings.TrimRight(u.Path, "/")
	if decision == "" {
		i := strings.LastIndex(p, "/transparency/")
		if i < 0 {
			return "", "", "", usageError("verify: --from %q: want a decision's page …/transparency/ID, or the site with --decision ID", from)
		}
		p, decision = p[:i+len("/transparency")], p[i+len("/transparency/"):]
	} else if !strings.HasSuffix(p, "/transparency") {
		p += "/transparency"
	}
	if !decisionIDRE.MatchString(decision) {
		return "", "", "", usageError("verify: decision id %q: want dec_ followed by letters and digits", decision)
	}
	site := url.URL{Scheme: u.Scheme, Host: u.Host}
	root = site.String() + strings.TrimSuffix(p, "/transparency")
	return site.String() + p, decision, root, nil
}

// fetchClient is the HTTP client for downloads from servers verify --from
// and log watch do not trust: a timeout, no more than 5 redirects and none
// from https to http, and every response body cut off at maxFetch bytes.
func fetchClient() *http.Client {
	return &http.Client{
		Timeout:   fetchTimeout,
		Transport: limitTransport{base: http.DefaultTransport, max: maxFetch},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect from https to %s refused", req.URL.Scheme)
			}
			return nil
		},
	}
}

// limitTransport fails a read past max bytes of any response body, so a
// hostile server cannot make a client buffer without end (Tessera's
// fetcher reads whole bodies).
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitBody{rc: resp.Body, left: t.max, max: t.max, url: r.URL.Redacted()}
	return resp, nil
}

type limitBody struct {
	rc   io.ReadCloser
	left int64
	max  int64
	url  string
}

func (b *limitBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("read %s: response exceeds %d bytes", b.url, b.max)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, fmt.Errorf("read %s: response exceeds %d bytes", b.url, b.max)
	}
	return n, err
}

func (b *limitBody) Close() error { return b.rc.Close() }

// errNotFound is returned by fetch for a 404.
var errNotFound = errors.New("not found")

// fetch GETs u and returns its body, refusing anything but 200 and
// bodies over max bytes.
func fetch(ctx context.Context, hc *http.Client, u string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("fetch %s: %w", u, errNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fetch %s: status %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("fetch %s: more than %d bytes", u, max)
	}
	return b, nil
}

// pinnedSource is a log Source whose checkpoint is one already fetched
// and verified, so that the consistency and inclusion proofs are built
// for exactly that checkpoint, not for whatever a second request returns.
type pinnedSource struct {
	tlog.Source
	checkpoint []byte
}

func (p pinnedSource) ReadCheckpoint(context.Context) ([]byte, error) { return p.checkpoint, nil }

// verifyDecisionKeys verifies bundle under any of keys: the first that
// verifies wins; a bundle that verifies under none is a signature failure.
func verifyDecisionKeys(bundle []byte, keys []*ecdsa.PublicKey) (*attest.VerifiedDecision, int, error) {
	var last error = errors.New("no decision keys")
	for _, k := range keys {
		v, err := attest.VerifyDecision(bundle, k)
		if err == nil {
			return v, 0, nil
		}
		if !errors.Is(err, attest.ErrSignature) {
			return nil, exitVerifyMalformed, err
		}
		last = err
	}
	if otherSigner(bundle, keys...) {
		return nil, exitVerifyUntrusted, fmt.Errorf("signed by a key the trust entry does not hold: %w", last)
	}
	return nil, exitVerifySignature, last
}

// fromSigners is verify --from's signer policy: every signature of the
// (co-signed) bundle by a decision key of an entry of the trust file must
// verify, each entry --require-signers names must have one of its keys
// among them, and at least --min-signers entries must have. It returns
// the verified decision, or nil with rep failed. Signers are reported by
// trust entry name; signatures by keys the trust file does not hold are
// reported by key id and not checked.
func fromSigners(rep *verifyReport, bundle []byte, tf *trust.File, path string, in verifyInput) *attest.VerifiedDecision {
	fail := func(code int, format string, a ...any) *attest.VerifiedDecision {
		rep.fail(code, format, a...)
		return nil
	}
	for _, r := range in.requireSigners {
		if _, err := tf.Get(r); err != nil {
			return fail(2, "verify: --require-signers %s: no entry of that name in trust file %s", r, path)
		}
	}
	if in.minSigners > len(tf.Entries) {
		return fail(2, "verify: --min-signers %d: the trust file %s has %d entries", in.minSigners, path, len(tf.Entries))
	}
	// One name per distinct key (ENTRY, or ENTRY#N for an entry's N-th
	// key); a key two entries hold counts for both.
	keys := map[string]*ecdsa.PublicKey{}
	owners := map[string][]string{} // key name → entry names
	byHint := map[string]string{}   // key hint → key name
	for _, en := range tf.Entries {
		pubs, err := en.PublicKeys()
		if err != nil {
			return fail(1, "trust entry %s: %v", en.Name, err)
		}
		for i, k := range pubs {
			h := attest.KeyHint(k)
			name, ok := byHint[h]
			if !ok {
				name = en.Name
				if i > 0 {
					name = fmt.Sprintf("%s#%d", en.Name, i+1)
				}
				byHint[h], keys[name] = name, k
			}
			if !slices.Contains(owners[name], en.Name) {
				owners[name] = append(owners[name], en.Name)
			}
		}
	}
	v, who, err := attest.VerifyDecisionSigners(bundle, keys)
	switch {
	case errors.Is(err, attest.ErrSignature) && otherSigner(bundle, slices.Collect(maps.Values(keys))...):
		return fail(exitVerifyUntrusted, "signature: signed by no decision key of trust file %s: %v", path, err)
	case errors.Is(err, attest.ErrSignature):
		return fail(exitVerifySignature, "signature: %v", err)
	case errors.Is(err, attest.ErrMalformed), errors.Is(err, attest.ErrSubject):
		return fail(exitVerifyMalformed, "bundle: %v", err)
	case err != nil:
		return fail(1, "%v", err)
	}
	var signed []string
	for _, n := range who.Names {
		signed = append(signed, owners[n]...)
	}
	slices.Sort(signed)
	signed = slices.Compact(signed)
	rep.Decision, rep.Signers, rep.UnknownSigners = v.Decision, signed, who.Unknown
	d := v.Decision
	rep.Checks = append(rep.Checks, fmt.Sprintf("signed by: %s (trust entries; over %s about %s sha256:%s)", strings.Join(signed, ", "), decisionName(d), d.Model.Name, d.Model.RootDigest["sha256"]))
	if len(who.Unknown) > 0 {
		rep.Checks = append(rep.Checks, fmt.Sprintf("%d more signature(s) by keys not in the trust file, not checked: %s", len(who.Unknown), strings.Join(who.Unknown, ", ")))
	}
	var missing []string
	for _, r := range in.requireSigners {
		if !slices.Contains(signed, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return fail(exitVerifySigners, "signers: %s did not sign (signed by: %s)", strings.Join(missing, ", "), strings.Join(signed, ", "))
	}
	if len(signed) < in.minSigners {
		return fail(exitVerifySigners, "signers: %d trust entries signed (%s), --min-signers %d", len(signed), strings.Join(signed, ", "), in.minSigners)
	}
	rep.Checks = append(rep.Checks, "signer policy met")
	return v
}

// latestForModel asks the site's public index which logged decision about
// the weights with digest is the newest. What it answers is only a
// pointer: the decision it names is then verified like any other, and
// must be about digest.
func latestForModel(ctx context.Context, hc *http.Client, from, digest string) (string, error) {
	if !modelDigestRE.MatchString(digest) {
		return "", usageError("verify: --digest %q: want sha256: and 64 lowercase hex digits", digest)
	}
	u, err := url.Parse(from)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", usageError("verify: --from %q: want an http:// or https:// URL", from)
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, "/transparency") {
		p += "/transparency"
	}
	index := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: p + "/models/" + digest}).String()
	b, err := fetch(ctx, hc, index, maxReceiptFetch)
	if err != nil {
		return "", fmt.Errorf("log: decisions about %s: %w", digest, err)
	}
	var idx struct {
		Model     string `json:"model"`
		Decisions []struct {
			ID string `json:"id"`
		} `json:"decisions"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return "", fmt.Errorf("log: decisions about %s: %s: %v", digest, index, err)
	}
	if len(idx.Decisions) == 0 {
		return "", fmt.Errorf("log: no logged decision about %s at %s", digest, index)
	}
	return idx.Decisions[0].ID, nil
}

// modelDigestRE is an OMS root digest as the service names weights.
var modelDigestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// verifyFrom is clearance verify --from: it downloads a decision's bundle
// and receipt and the log's current checkpoint, and checks them against
// the keys pinned in the trust file, never against anything downloaded.
func verifyFrom(ctx context.Context, e *env, fin fromInput, in verifyInput) *verifyReport {
	rep := &verifyReport{Checks: []string{}}
	hc := fetchClient()
	digest := fin.digest
	if fin.decision == "" && !strings.Contains(fin.from, "/transparency/dec_") && (digest != "" || in.modelDir != "") {
		// No decision named: find the newest one about these weights.
		if digest == "" {
			m, err := attest.HashModel(ctx, in.modelDir, attest.HashOptions{})
			if err != nil {
				return rep.fail(exitVerifyModel, "model: %v", err)
			}
			digest = "sha256:" + m.RootHex()
		}
		id, err := latestForModel(ctx, hc, fin.from, digest)
		if err != nil {
			return rep.fail(exitVerifyLog, "%v", err)
		}
		rep.Checks = append(rep.Checks, fmt.Sprintf("newest logged decision about %s: %s", digest, id))
		fin.decision = id
	}
	base, id, root, err := transparencyURLs(fin.from, fin.decision)
	if err != nil {
		return rep.fail(2, "%v", err)
	}
	bundle, err := fetch(ctx, hc, base+"/"+id+"/bundle.json", tlog.MaxEntrySize)
	if errors.Is(err, errNotFound) {
		// The public site serves only logged decisions.
		return rep.fail(exitVerifyLog, "log: no logged decision %s: %v", id, err)
	}
	if err != nil {
		return rep.fail(1, "bundle: %v", err)
	}
	raw, err := fetch(ctx, hc, base+"/"+id+"/receipt.json", maxReceiptFetch)
	if errors.Is(err, errNotFound) {
		return rep.fail(exitVerifyLog, "log: no receipt: %v", err)
	}
	if err != nil {
		return rep.fail(1, "receipt: %v", err)
	}
	r, err := tlog.ParseReceipt(raw)
	if err != nil {
		return rep.fail(exitVerifyMalformed, "log: receipt: %v", err)
	}

	tf, path, err := loadTrustFile(e, fin.trustFile)
	if err != nil {
		return rep.fail(1, "%v", err)
	}
	en, err := pickTrust(tf, path, fin.trustName, r.Origin)
	if err != nil {
		return rep.fail(1, "%v", err)
	}
	keys, err := en.PublicKeys()
	if err != nil {
		return rep.fail(1, "trust entry %s: %v", en.Name, err)
	}

	var v *attest.VerifiedDecision
	if len(in.requireSigners) > 0 || in.minSigners > 0 {
		if v = fromSigners(rep, bundle, tf, path, in); v == nil {
			return rep
		}
	} else {
		var code int
		if v, code, err = verifyDecisionKeys(bundle, keys); err != nil {
			if code == exitVerifySignature || code == exitVerifyUntrusted {
				return rep.fail(code, "signature: not by any decision key of trust entry %s: %v", en.Name, err)
			}
			return rep.fail(code, "bundle: %v", err)
		}
	}
	d := v.Decision
	rep.Decision = d
	if d.DecisionID != "" && d.DecisionID != id {
		return rep.fail(exitVerifyMalformed, "bundle: the page of %s served the bundle of %s", id, d.DecisionID)
	}
	if digest != "" && "sha256:"+d.Model.RootDigest["sha256"] != digest {
		return rep.fail(exitVerifyModel, "model: decision %s is about sha256:%s, not %s", id, d.Model.RootDigest["sha256"], digest)
	}
	if len(rep.Signers) == 0 {
		rep.Checks = append(rep.Checks, fmt.Sprintf("signature by %s (trust entry %s) over %s about %s sha256:%s", d.Verifier.ID, en.Name, decisionName(d), d.Model.Name, d.Model.RootDigest["sha256"]))
	}
	if r := checkModelDir(ctx, rep, v, in); r != nil {
		return r
	}

	cp, err := tlog.VerifyReceipt(bundle, r, en.LogKey)
	if err != nil {
		return rep.fail(exitVerifyLog, "log: %v", err)
	}
	rep.LogIndex = &r.Index
	rep.Checks = append(rep.Checks, fmt.Sprintf("logged in %s at index %d (inclusion proof against signed checkpoint of size %d)", cp.Origin, r.Index, cp.Size))

	// The log's current checkpoint, from where the trust file says the
	// log is, else --log, else the site's /log/.
	logURL := fin.logURL
	if logURL == "" {
		logURL = en.LogURL
	}
	if logURL == "" {
		logURL = root + "/log/"
	}
	src, err := tlog.OpenSource(logURL, hc)
	if err != nil || !strings.Contains(logURL, "://") {
		return rep.fail(2, "log: --log %q: want the log's http:// or https:// URL", logURL)
	}
	latest, err := src.ReadCheckpoint(ctx)
	if err != nil {
		return rep.fail(1, "log %s: read checkpoint: %v", logURL, err)
	}
	policy := en.Policy()
	cur, err := tlog.VerifyCosigned(latest, en.LogKey, policy)
	switch {
	case errors.Is(err, tlog.ErrWitnessPolicy):
		return rep.fail(exitVerifyWitness, "log %s: current checkpoint: %v (trust entry %s wants %d of %d)", logURL, err, en.Name, policy.Threshold, len(policy.Keys))
	case err != nil:
		return rep.fail(exitVerifyLog, "log %s: current checkpoint: %v", logURL, err)
	}
	if _, err := tlog.CheckLive(ctx, pinnedSource{Source: src, checkpoint: latest}, bundle, r, en.LogKey); err != nil {
		switch {
		case errors.Is(err, tlog.ErrInconsistent):
			return rep.fail(exitVerifyInconsistent, "log %s: %v: the log forked after issuing the receipt", logURL, err)
		case errors.Is(err, tlog.ErrNotIncluded), errors.Is(err, tlog.ErrCheckpoint):
			return rep.fail(exitVerifyLog, "log %s: %v", logURL, err)
		}
		return rep.fail(1, "log %s: %v", logURL, err)
	}
	rep.Checks = append(rep.Checks, fmt.Sprintf("log %s now has %d entries, consistent with the receipt's checkpoint, entry still included", logURL, cur.Size))
	if policy.Threshold > 0 {
		rep.Checks = append(rep.Checks, fmt.Sprintf("current checkpoint cosigned by %d of %d required witnesses (%s)", len(cur.Witnesses), policy.Threshold, strings.Join(cur.Witnesses, ", ")))
		// The receipt's checkpoint may predate the cosignatures; the
		// consistency proof ties it to the cosigned current checkpoint,
		// which is what the policy protects.
		if rc, err := tlog.VerifyCosigned([]byte(r.Checkpoint), en.LogKey, policy); err == nil {
			rep.Checks = append(rep.Checks, fmt.Sprintf("receipt's checkpoint cosigned by %s", strings.Join(rc.Witnesses, ", ")))
		} else {
			rep.Checks = append(rep.Checks, "receipt's checkpoint is covered by the cosigned current checkpoint through the consistency proof")
		}
	}
	return checkOutcome(rep, d, in)
}
