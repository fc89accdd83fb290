package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/web/ui"
)

// agencyKeys are the decision keys of the agency organisations that sign
// the co-signed decisions of joint reviews. The service's own agency (the
// organisation admin bootstrap created, the first agency by id) signs
// with DATA/decision.key, as for every decision that is not joint; every
// other agency with DATA/keys/ORG.key (PKCS#8 PEM, mode 0600) and its
// DATA/keys/ORG.pub. A deployment may put an agency's key there in
// advance; a key that is not there is generated on first use and logged.
type agencyKeys struct {
	dir   string            // DATA/keys
	home  *ecdsa.PrivateKey // DATA/decision.key
	store review.Store
	log   *slog.Logger

	mu      sync.Mutex
	homeOrg string                       // cached once found
	keys    map[string]*ecdsa.PrivateKey // by org id, loaded or made
}

func newAgencyKeys(dataDir string, home *ecdsa.PrivateKey, st review.Store, log *slog.Logger) *agencyKeys {
	return &agencyKeys{dir: filepath.Join(dataDir, "keys"), home: home, store: st, log: log, keys: map[string]*ecdsa.PrivateKey{}}
}

// errNoAgency: the store has no agency organisation yet.
var errNoAgency = errors.New("find the service's agency: no agency organisation (run clearance admin bootstrap)")

// orgIDRE is what an org id in a key file name may look like (review's
// ids: org_ and hex); anything else never reaches the file system.
var orgIDRE = regexp.MustCompile(`^org_[0-9a-f]{1,64}$`)

// homeOrgID returns the id of the service's own agency: the first agency
// organisation by id (ids begin with their creation time), which admin
// bootstrap creates before any other organisation.
func (k *agencyKeys) homeOrgID(ctx context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.homeOrg != "" {
		return k.homeOrg, nil
	}
	p := review.Page{Limit: review.MaxPageLimit}
	for {
		orgs, err := k.store.ListOrgs(ctx, p)
		if err != nil {
			return "", fmt.Errorf("find the service's agency: %w", err)
		}
		for _, o := range orgs {
			if o.Kind == review.OrgAgency {
				k.homeOrg = o.ID
				return o.ID, nil
			}
		}
		if len(orgs) < p.N() {
			return "", errNoAgency
		}
		p.After = orgs[len(orgs)-1].ID
	}
}

// key returns the decision key of agency orgID: DATA/decision.key for
// the service's own agency, else DATA/keys/ORG.key, generated when absent.
func (k *agencyKeys) key(ctx context.Context, orgID string) (*ecdsa.PrivateKey, error) {
	home, err := k.homeOrgID(ctx)
	if err != nil {
		return nil, err
	}
	if orgID == home {
		return k.home, nil
	}
	if !orgIDRE.MatchString(orgID) {
		return nil, fmt.Errorf("decision key of agency %q: not an organisation id", orgID)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.keys[orgID]; ok {
		return key, nil
	}
	prefix := filepath.Join(k.dir, orgID)
	b, err := os.ReadFile(prefix + ".key")
	switch {
	case errors.Is(err, os.ErrNotExist):
		key, err := attest.GenerateKey()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(k.dir, 0o700); err != nil {
			return nil, fmt.Errorf("decision key of agency %s: %w", orgID, err)
		}
		if err := attest.WriteKeyFiles(prefix, key, nil); err != nil {
			return nil, fmt.Errorf("decision key of agency %s: %w", orgID, err)
		}
		k.log.Info("generated the decision key of an agency", "org", orgID, "key", prefix+".key", "hint", attest.KeyHint(&key.PublicKey))
		k.keys[orgID] = key
		return key, nil
	case err != nil:
		return nil, fmt.Errorf("read decision key of agency %s: %w", orgID, err)
	}
	key, err := attest.ParsePrivateKey(b, nil)
	if err != nil {
		return nil, fmt.Errorf("decision key of agency %s (%s): %w", orgID, prefix+".key", err)
	}
	k.keys[orgID] = key
	return key, nil
}

// signingKeys returns the keys that sign decision d of the joint review
// c, the lead's first (its key is the bundle's key hint).
func (k *agencyKeys) signingKeys(ctx context.Context, c review.Case, d review.Decision) ([]*ecdsa.PrivateKey, error) {
	orgs := signingAgencies(c, d)
	keys := make([]*ecdsa.PrivateKey, 0, len(orgs))
	for _, o := range orgs {
		key, err := k.key(ctx, o)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// signingAgencies returns the org ids of the agencies that sign decision
// d of the joint review c: the lead first, then the agencies that concurred
// under the case's concurrence rule (d.Concurring: given, or deemed from
// silence where the rule makes silence concurrence), in the order they
// joined. An agency that objected or did not take part does not sign.
func signingAgencies(c review.Case, d review.Decision) []string {
	out := make([]string, 0, len(c.Agencies))
	for _, g := range c.Agencies {
		if g.Lead {
			out = append(out, g.OrgID)
		}
	}
	for _, g := range c.Agencies {
		if !g.Lead && slices.Contains(d.Concurring, g.OrgID) {
			out = append(out, g.OrgID)
		}
	}
	return out
}

// published returns the public decision keys of the agencies, for
// /.well-known/clearance.json and the public decision pages: the
// service's own agency's (decision.pub) first, then each agency whose key
// is in DATA/keys (ORG.key: the key that signs), by org id. A key file
// that does not parse is logged and left out.
func (k *agencyKeys) published(ctx context.Context) ([]ui.AgencyKey, error) {
	home, err := k.homeOrgID(ctx)
	if errors.Is(err, errNoAgency) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out, rest []ui.AgencyKey
	p := review.Page{Limit: review.MaxPageLimit}
	for {
		orgs, err := k.store.ListOrgs(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("list agency keys: %w", err)
		}
		for _, o := range orgs {
			if o.Kind != review.OrgAgency {
				continue
			}
			if o.ID == home {
				out = append(out, ui.AgencyKey{OrgID: o.ID, Org: o.Name, Key: &k.home.PublicKey})
				continue
			}
			pub, err := k.publicKey(ctx, o.ID)
			if err != nil {
				k.log.ErrorContext(ctx, "agency decision key", "org", o.ID, "err", err)
				continue
			}
			if pub != nil {
				rest = append(rest, ui.AgencyKey{OrgID: o.ID, Org: o.Name, Key: pub})
			}
		}
		if len(orgs) < p.N() {
			return append(out, rest...), nil
		}
		p.After = orgs[len(orgs)-1].ID
	}
}

// publicKey returns agency orgID's public key, or nil when DATA/keys
// holds no key of it (none is generated here).
func (k *agencyKeys) publicKey(ctx context.Context, orgID string) (*ecdsa.PublicKey, error) {
	if !orgIDRE.MatchString(orgID) {
		return nil, nil
	}
	if _, err := os.Stat(filepath.Join(k.dir, orgID+".key")); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	key, err := k.key(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return &key.PublicKey, nil
}
