// Package trusttest makes another authority for tests of recognition: a
// decision key, a real transparency log in a temporary directory, and
// the trust file entry pinning both. Decisions it signs are logged, with
// their receipts, as the authority's service would.
package trusttest

import (
	"context"
	"crypto/ecdsa"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/trust"
)

// Authority is another authority: its key, its log and its trust entry.
type Authority struct {
	Name  string
	Key   *ecdsa.PrivateKey
	Entry trust.Entry
	// LogDir is the log's directory (served by tlog.NewHandler).
	LogDir string
	log    *tlog.Log
}

// New makes an authority called name with a fresh key and log.
func New(tb testing.TB, name string) *Authority {
	tb.Helper()
	ctx := context.Background()
	key, err := attest.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := attest.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	vkey, err := tlog.Init(ctx, dir, name+".test/decisions")
	if err != nil {
		tb.Fatal(err)
	}
	l, err := tlog.Open(ctx, dir, tlog.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close(context.Background()) })
	return &Authority{Name: name, Key: key, LogDir: dir, log: l,
		Entry: trust.Entry{Name: name, DecisionKeys: []string{string(pub)}, LogKey: vkey}}
}

// Decision is a decision of outcome about the weights with root digest
// digest ("sha256:<hex>") under one profile.
func Decision(digest string, outcome attest.Outcome, at time.Time) *attest.Decision {
	return &attest.Decision{CaseID: "case_foreign", DecisionID: "dec_foreign", Outcome: outcome,
		Verifier: attest.Verifier{ID: "urn:test:authority"}, DecidedAt: at.UTC().Truncate(time.Second),
		Model: attest.Model{Name: "model"},
		Profiles: []attest.ProfileOutcome{{ID: "aisi-frontier", Outcome: outcome,
			Digest: map[string]string{"sha256": strings.Repeat("ab", 32)}}}}
}

// Sign signs d about digest with the authority's key and logs the bundle,
// returning the bundle and its receipt JSON.
func (a *Authority) Sign(tb testing.TB, d *attest.Decision, digest string) (bundle, receipt []byte) {
	tb.Helper()
	b, err := attest.SignDecisionDigest(a.Key, d, strings.TrimPrefix(digest, "sha256:"))
	if err != nil {
		tb.Fatal(err)
	}
	return b, a.Log(tb, b)
}

// Log appends entry to the authority's log and returns its receipt JSON.
func (a *Authority) Log(tb testing.TB, entry []byte) []byte {
	tb.Helper()
	r, err := a.log.Append(context.Background(), entry)
	if err != nil {
		tb.Fatal(err)
	}
	rb, err := r.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return rb
}

// PublicKeyPEM is the authority's public key.
func (a *Authority) PublicKeyPEM() string { return a.Entry.DecisionKeys[0] }

// WriteTrust writes a trust file at path holding the entries of as.
func WriteTrust(tb testing.TB, path string, as ...*Authority) {
	tb.Helper()
	f := &trust.File{Version: trust.Version}
	for _, a := range as {
		if err := f.Add(a.Entry); err != nil {
			tb.Fatal(err)
		}
	}
	if err := trust.Save(path, f); err != nil {
		tb.Fatal(err)
	}
}
