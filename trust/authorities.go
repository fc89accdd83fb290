package trust

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/tlog"
)

// Authorities is the review service's view of a trust file: it verifies
// another authority's signed decision (review.Authorities) against the
// keys and log the agency's admins pinned for it with clearance trust add.
// The file is read on every verification, so an entry added or removed
// applies at once.
//
// What is verified: the bundle is a Clearance decision signed by one of
// the entry's decision keys (a co-signed bundle needs that signature among
// its others); it has not lapsed; its receipt proves it is in the
// authority's log (the checkpoint signed by the entry's log key); the
// witness policy of the entry holds; and, when the entry names where the
// log is served, the log still includes it and has not forked since.
// What is trusted: the pinned keys. What is not judged here: whether the
// authority's method is good enough, which is the profiles' business.
type Authorities struct {
	// Path is the trust file.
	Path string
	// Client fetches logs named by an entry's logURL; nil means
	// http.DefaultClient.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ review.Authorities = (*Authorities)(nil)

// VerifyForeign implements review.Authorities. Its errors name what did
// not verify.
func (a *Authorities) VerifyForeign(ctx context.Context, authority string, bundle, receipt []byte) (review.ForeignEvidence, error) {
	var fe review.ForeignEvidence
	f, err := Load(a.Path)
	if err != nil {
		return fe, err
	}
	en, err := f.Get(authority)
	if errors.Is(err, ErrNotFound) {
		return fe, fmt.Errorf("unknown authority %q: the trust file has no entry of that name (an admin adds one with clearance trust add)", authority)
	}
	if err != nil {
		return fe, err
	}
	pubs, err := en.PublicKeys()
	if err != nil {
		return fe, fmt.Errorf("trust entry %s: %w", en.Name, err)
	}
	keys := make(map[string]*ecdsa.PublicKey, len(pubs))
	for i, k := range pubs {
		keys[fmt.Sprintf("%s#%d", en.Name, i)] = k
	}
	v, signers, err := attest.VerifyDecisionSigners(bundle, keys)
	if err != nil {
		return fe, fmt.Errorf("signature: not a decision signed by a key of %s: %v", en.Name, err)
	}
	d := v.Decision
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	if d.Expired(now()) {
		return fe, fmt.Errorf("decision lapsed at %s", d.ExpiresAt.UTC().Format(time.RFC3339))
	}
	fe = review.ForeignEvidence{Kind: "decision", SignerKey: attest.KeyHint(keys[signers.Names[0]]), LogIndex: -1,
		DecisionID: d.DecisionID, Verifier: d.Verifier.ID, DecidedAt: d.DecidedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC(),
		Outcome: string(d.Outcome)}
	if h := d.Model.RootDigest["sha256"]; h != "" {
		fe.ModelDigest = "sha256:" + strings.ToLower(h)
	}
	for _, p := range d.Profiles {
		fe.Profiles = append(fe.Profiles, review.ForeignOutcome{Profile: p.ID, Outcome: string(p.Outcome)})
	}
	if err := a.checkLogged(ctx, en, bundle, receipt, &fe); err != nil {
		return review.ForeignEvidence{}, fmt.Errorf("not logged: %v", err)
	}
	return fe, nil
}

// checkLogged verifies receipt for bundle against en's log.
func (a *Authorities) checkLogged(ctx context.Context, en Entry, bundle, receipt []byte, fe *review.ForeignEvidence) error {
	if len(receipt) == 0 {
		return fmt.Errorf("no receipt given: %s's decisions must be logged in %s", en.Name, en.Origin())
	}
	r, err := tlog.ParseReceipt(receipt)
	if err != nil {
		return err
	}
	cp, err := tlog.VerifyReceipt(bundle, r, en.LogKey)
	if err != nil {
		return fmt.Errorf("receipt does not verify against %s's log key: %v", en.Name, err)
	}
	fe.LogOrigin, fe.LogIndex = cp.Origin, int64(r.Index)
	policy := en.Policy()
	if en.LogURL == "" {
		// Offline: the receipt's own checkpoint must meet the witness policy.
		if policy.Threshold > 0 {
			if _, err := tlog.VerifyCosigned([]byte(r.Checkpoint), en.LogKey, policy); err != nil {
				return fmt.Errorf("receipt checkpoint: %v", err)
			}
		}
		return nil
	}
	hc := a.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	src, err := tlog.OpenSource(en.LogURL, hc)
	if err != nil {
		return fmt.Errorf("log %s: %v", en.LogURL, err)
	}
	latest, err := src.ReadCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("log %s: read checkpoint: %v", en.LogURL, err)
	}
	if _, err := tlog.VerifyCosigned(latest, en.LogKey, policy); err != nil {
		return fmt.Errorf("log %s: current checkpoint: %v", en.LogURL, err)
	}
	if _, err := tlog.CheckLive(ctx, pinned{Source: src, checkpoint: slices.Clone(latest)}, bundle, r, en.LogKey); err != nil {
		return fmt.Errorf("log %s: %v", en.LogURL, err)
	}
	return nil
}

// pinned is a log source whose checkpoint is the one already verified.
type pinned struct {
	tlog.Source
	checkpoint []byte
}

func (p pinned) ReadCheckpoint(context.Context) ([]byte, error) { return p.checkpoint, nil }
