package trust_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/trust"
	"github.com/clearance-dev/clearance/trust/trusttest"
)

var (
	digest = "sha256:" + strings.Repeat("7", 64)
	t0     = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
)

// tamper flips the decision's outcome inside the signed payload, leaving
// the signature as it was.
func tamper(t *testing.T, bundle []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(bundle, &m); err != nil {
		t.Fatal(err)
	}
	env := m["dsseEnvelope"].(map[string]any)
	p, err := base64.StdEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	p = bytes.Replace(p, []byte(`"hold"`), []byte(`"cleared"`), -1)
	env["payload"] = base64.StdEncoding.EncodeToString(p)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAuthoritiesVerifyForeign(t *testing.T) {
	ctx := context.Background()
	aisi := trusttest.New(t, "uk-aisi")
	other := trusttest.New(t, "other")
	path := filepath.Join(t.TempDir(), "trust.json")
	trusttest.WriteTrust(t, path, aisi)
	au := &trust.Authorities{Path: path, Now: func() time.Time { return t0.Add(time.Hour) }}

	good, goodReceipt := aisi.Sign(t, trusttest.Decision(digest, attest.OutcomeCleared, t0), digest)
	held, heldReceipt := aisi.Sign(t, trusttest.Decision(digest, attest.OutcomeHold, t0), digest)
	forged, forgedReceipt := other.Sign(t, trusttest.Decision(digest, attest.OutcomeCleared, t0), digest)
	lapsing := trusttest.Decision(digest, attest.OutcomeCleared, t0.Add(-48*time.Hour))
	lapsing.ExpiresAt = t0
	lapsed, lapsedReceipt := aisi.Sign(t, lapsing, digest)

	fe, err := au.VerifyForeign(ctx, "uk-aisi", good, goodReceipt)
	if err != nil {
		t.Fatalf("valid bundle: %v", err)
	}
	if fe.Kind != "decision" || fe.ModelDigest != digest || fe.Outcome != "cleared" || fe.SignerKey != attest.KeyHint(&aisi.Key.PublicKey) ||
		fe.LogOrigin != "uk-aisi.test/decisions" || fe.LogIndex < 0 || fe.DecisionID != "dec_foreign" || !fe.DecidedAt.Equal(t0) ||
		len(fe.Profiles) != 1 || fe.Profiles[0].Profile != "aisi-frontier" || fe.Profiles[0].Outcome != "cleared" {
		t.Errorf("valid bundle: evidence %+v", fe)
	}

	tests := []struct {
		name, authority string
		bundle, receipt []byte
		want            string
	}{
		{"unknown authority", "nsa", good, goodReceipt, `unknown authority "nsa"`},
		{"wrong key", "uk-aisi", forged, forgedReceipt, "signature: not a decision signed by a key of uk-aisi"},
		{"tampered", "uk-aisi", tamper(t, held), heldReceipt, "signature"},
		{"no receipt", "uk-aisi", good, nil, "not logged: no receipt given"},
		{"receipt of another entry", "uk-aisi", good, heldReceipt, "not logged: receipt does not verify"},
		{"receipt of another log", "uk-aisi", good, forgedReceipt, "not logged: receipt does not verify"},
		{"receipt not JSON", "uk-aisi", good, []byte("{"), "not logged"},
		{"not a bundle", "uk-aisi", []byte(`{"mediaType":"x"}`), goodReceipt, "signature"},
		{"lapsed", "uk-aisi", lapsed, lapsedReceipt, "decision lapsed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := au.VerifyForeign(ctx, tt.authority, tt.bundle, tt.receipt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestAuthoritiesLiveLog: with the entry's logURL, the log as served
// must still include the decision; a witness policy the receipt's
// checkpoint cannot meet offline is refused.
func TestAuthoritiesLiveLog(t *testing.T) {
	ctx := context.Background()
	aisi := trusttest.New(t, "uk-aisi")
	good, receipt := aisi.Sign(t, trusttest.Decision(digest, attest.OutcomeCleared, t0), digest)
	h, err := tlog.NewHandler(aisi.LogDir)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "trust.json")

	aisi.Entry.LogURL = srv.URL + "/"
	trusttest.WriteTrust(t, path, aisi)
	au := &trust.Authorities{Path: path, Client: srv.Client(), Now: func() time.Time { return t0 }}
	if _, err := au.VerifyForeign(ctx, "uk-aisi", good, receipt); err != nil {
		t.Fatalf("live log: %v", err)
	}

	// A log that is not there: refused, naming it.
	aisi.Entry.LogURL = "http://127.0.0.1:1/"
	trusttest.WriteTrust(t, path, aisi)
	if _, err := au.VerifyForeign(ctx, "uk-aisi", good, receipt); err == nil || !strings.Contains(err.Error(), "not logged: log http://127.0.0.1:1/") {
		t.Errorf("unreachable log: error = %v", err)
	}

	// Offline, a witness policy needs cosignatures the receipt lacks.
	w := trusttest.New(t, "witness")
	aisi.Entry.LogURL = ""
	aisi.Entry.Witnesses = []trust.Witness{{Name: "w1", Key: w.Entry.LogKey}}
	aisi.Entry.WitnessThreshold = 1
	trusttest.WriteTrust(t, path, aisi)
	if _, err := au.VerifyForeign(ctx, "uk-aisi", good, receipt); err == nil || !strings.Contains(err.Error(), "not logged: receipt checkpoint") {
		t.Errorf("witness policy unmet: error = %v", err)
	}
}
