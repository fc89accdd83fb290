package attest

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

func genKeys(t testing.TB, n int) []*ecdsa.PrivateKey {
	t.Helper()
	keys := make([]*ecdsa.PrivateKey, n)
	for i := range keys {
		k, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	return keys
}

// editBundle decodes a bundle's JSON, lets edit change it and re-encodes.
func editBundle(t testing.TB, b []byte, edit func(env map[string]any, sigs []any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	env := m["dsseEnvelope"].(map[string]any)
	edit(env, env["signatures"].([]any))
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// flipSig flips one bit of signature i.
func flipSig(t testing.TB, b []byte, i int) []byte {
	return editBundle(t, b, func(_ map[string]any, sigs []any) {
		s := sigs[i].(map[string]any)
		raw, err := base64.StdEncoding.DecodeString(s["sig"].(string))
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)-2] ^= 1
		s["sig"] = base64.StdEncoding.EncodeToString(raw)
	})
}

// TestCoSignDecision co-signs with 2 and 3 keys and verifies the bundle
// with each signer's key, with all of them, and each signature alone in
// sigstore-go (the split bundles cosign verifies).
func TestCoSignDecision(t *testing.T) {
	f := newFixture(t)
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprint(n, " keys"), func(t *testing.T) {
			keys := genKeys(t, n)
			b, err := CoSignDecisionDigest(keys, testDecision(), f.manifest.RootHex())
			if err != nil {
				t.Fatal(err)
			}
			pb, err := ParseBundle(b)
			if err != nil {
				t.Fatalf("ParseBundle: %v", err)
			}
			sigs := pb.GetDsseEnvelope().GetSignatures()
			if len(sigs) != n {
				t.Fatalf("%d signatures, want %d", len(sigs), n)
			}
			if got, want := pb.GetVerificationMaterial().GetPublicKey().GetHint(), KeyHint(&keys[0].PublicKey); got != want {
				t.Errorf("hint %s, want the lead's %s", got, want)
			}
			named := map[string]*ecdsa.PublicKey{}
			var want []string
			for i, k := range keys {
				if got := sigs[i].GetKeyid(); got != KeyHint(&k.PublicKey) {
					t.Errorf("signatures[%d].keyid = %s, want %s", i, got, KeyHint(&k.PublicKey))
				}
				v, err := VerifyDecision(b, &k.PublicKey)
				if err != nil {
					t.Fatalf("VerifyDecision(key %d): %v", i, err)
				}
				if v.Decision.CaseID != "case-0042" {
					t.Errorf("case %s", v.Decision.CaseID)
				}
				if _, err := VerifyDecisionDigest(b, &k.PublicKey, hexBytes(t, f.manifest.RootHex())); err != nil {
					t.Errorf("VerifyDecisionDigest(key %d): %v", i, err)
				}
				name := fmt.Sprintf("agency%d", i)
				named[name] = &k.PublicKey
				want = append(want, name)
			}
			v, who, err := VerifyDecisionSigners(b, named)
			if err != nil {
				t.Fatalf("VerifyDecisionSigners: %v", err)
			}
			if diff := cmp.Diff(&Signers{Names: want}, who); diff != "" {
				t.Errorf("signers (-want +got):\n%s", diff)
			}
			if v.Decision.Model.RootDigest["sha256"] != f.manifest.RootHex() {
				t.Errorf("root %v", v.Decision.Model.RootDigest)
			}

			// The Sigstore bundle format allows one DSSE signature:
			// sigstore-go refuses the co-signed envelope as it is ...
			if _, err := verifyBundle(pb, &keys[0].PublicKey, nil); err == nil || !strings.Contains(err.Error(), verify.ErrDSSEInvalidSignatureCount.Error()) {
				t.Errorf("sigstore-go verified a %d-signature envelope: %v", n, err)
			}
			// ... and accepts each signature split out, with its key only.
			parts, err := SplitBundle(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != n {
				t.Fatalf("SplitBundle: %d bundles, want %d", len(parts), n)
			}
			for i, part := range parts {
				for j, k := range keys {
					_, err := VerifyDecision(part, &k.PublicKey)
					if (err == nil) != (i == j) {
						t.Errorf("split bundle %d with key %d: %v", i, j, err)
					}
				}
				ppb, _ := ParseBundle(part)
				if got := ppb.GetDsseEnvelope().GetSignatures()[0].GetKeyid(); got != "" {
					t.Errorf("split bundle %d keeps keyid %q; sigstore-go would skip it", i, got)
				}
			}
		})
	}
}

func hexBytes(t testing.TB, h string) []byte {
	t.Helper()
	var b []byte
	for i := 0; i+1 < len(h); i += 2 {
		var x byte
		if _, err := fmt.Sscanf(h[i:i+2], "%02x", &x); err != nil {
			t.Fatal(err)
		}
		b = append(b, x)
	}
	return b
}

// TestCoSignOneKey checks that a one-key co-signature and a plain
// signature are the same format as before: one signature, no keyid, the
// signer's hint (only the randomised ECDSA signature differs).
func TestCoSignOneKey(t *testing.T) {
	f := newFixture(t)
	shape := func(b []byte) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		m["dsseEnvelope"].(map[string]any)["signatures"].([]any)[0].(map[string]any)["sig"] = "SIG"
		return m
	}
	plain, err := SignDecisionDigest(f.key, testDecision(), f.manifest.RootHex())
	if err != nil {
		t.Fatal(err)
	}
	co, err := CoSignDecisionDigest([]*ecdsa.PrivateKey{f.key}, testDecision(), f.manifest.RootHex())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(shape(plain), shape(co)); diff != "" {
		t.Errorf("one-key co-signature differs from SignDecisionDigest (-plain +co):\n%s", diff)
	}
	hint := KeyHint(&f.key.PublicKey)
	want := map[string]any{
		"mediaType":            BundleMediaType,
		"verificationMaterial": map[string]any{"publicKey": map[string]any{"hint": hint}},
		"dsseEnvelope": map[string]any{
			"payload":     shape(plain)["dsseEnvelope"].(map[string]any)["payload"],
			"payloadType": PayloadType,
			"signatures":  []any{map[string]any{"sig": "SIG"}},
		},
	}
	if diff := cmp.Diff(want, shape(plain)); diff != "" {
		t.Errorf("SignDecisionDigest bundle shape changed (-want +got):\n%s", diff)
	}
	cs, err := CoSignDecision([]*ecdsa.PrivateKey{f.key}, f.decision, f.manifest, f.omsSig)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(shape(f.bundle), shape(cs)); diff != "" {
		t.Errorf("one-key CoSignDecision differs from SignDecision:\n%s", diff)
	}
}

// TestVerifyDecisionSigners covers missing, unknown and corrupted
// co-signatures.
func TestVerifyDecisionSigners(t *testing.T) {
	f := newFixture(t)
	keys := genKeys(t, 4) // 0, 1, 2 sign; 3 does not
	b, err := CoSignDecisionDigest(keys[:3], testDecision(), f.manifest.RootHex())
	if err != nil {
		t.Fatal(err)
	}
	pubs := func(idx ...int) map[string]*ecdsa.PublicKey {
		m := map[string]*ecdsa.PublicKey{}
		for _, i := range idx {
			m[fmt.Sprint("k", i)] = &keys[i].PublicKey
		}
		return m
	}
	hint := func(i int) string { return KeyHint(&keys[i].PublicKey) }
	tests := []struct {
		name    string
		bundle  []byte
		keys    map[string]*ecdsa.PublicKey
		want    *Signers
		wantErr error
	}{
		{"all signers", b, pubs(0, 1, 2), &Signers{Names: []string{"k0", "k1", "k2"}}, nil},
		{"a key that did not sign is missing", b, pubs(0, 2, 3), &Signers{Names: []string{"k0", "k2"}, Unknown: []string{hint(1)}}, nil},
		{"signatures by unknown keys are reported", b, pubs(1), &Signers{Names: []string{"k1"}, Unknown: []string{hint(0), hint(2)}}, nil},
		{"no given key signed", b, pubs(3), nil, ErrSignature},
		{"co-signature corrupted", flipSig(t, b, 1), pubs(0, 1, 2), nil, ErrSignature},
		{"corrupted signature of an unlisted key is not checked", flipSig(t, b, 1), pubs(0, 2), &Signers{Names: []string{"k0", "k2"}, Unknown: []string{hint(1)}}, nil},
		{"lead signature corrupted", flipSig(t, b, 0), pubs(1), &Signers{Names: []string{"k1"}, Unknown: []string{hint(0), hint(2)}}, nil},
		{"signature claims another signer's keyid", editBundle(t, b, func(_ map[string]any, sigs []any) {
			sigs[1].(map[string]any)["sig"] = sigs[2].(map[string]any)["sig"]
		}), pubs(0, 1, 2), nil, ErrSignature},
		{"one-signature bundle", f.bundle, map[string]*ecdsa.PublicKey{"lead": &f.key.PublicKey, "k3": &keys[3].PublicKey}, &Signers{Names: []string{"lead"}}, nil},
		{"one-signature bundle, hint ignored", f.bundle, map[string]*ecdsa.PublicKey{"x": &keys[3].PublicKey, "lead": &f.key.PublicKey}, &Signers{Names: []string{"lead"}}, nil},
		{"one-signature bundle by another key", f.bundle, pubs(3), nil, ErrSignature},
		{"one-signature bundle corrupted", flipSig(t, f.bundle, 0), map[string]*ecdsa.PublicKey{"lead": &f.key.PublicKey}, nil, ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := VerifyDecisionSigners(tt.bundle, tt.keys)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("signers (-want +got):\n%s", diff)
			}
		})
	}
	// Single-key verification of a corrupted co-signature fails for that
	// key only.
	bad := flipSig(t, b, 1)
	if _, err := VerifyDecision(bad, &keys[1].PublicKey); !errors.Is(err, ErrSignature) {
		t.Errorf("VerifyDecision(corrupted co-signature) = %v, want ErrSignature", err)
	}
	if _, err := VerifyDecision(bad, &keys[0].PublicKey); err != nil {
		t.Errorf("VerifyDecision(lead, intact): %v", err)
	}
	if _, err := VerifyDecision(b, &keys[3].PublicKey); !errors.Is(err, ErrSignature) {
		t.Errorf("VerifyDecision(non-signer) = %v, want ErrSignature", err)
	}
	if _, _, err := VerifyDecisionSignersDigest(b, pubs(0, 1), hexBytes(t, f.manifest.RootHex())); err != nil {
		t.Errorf("VerifyDecisionSignersDigest(root): %v", err)
	}
	if _, _, err := VerifyDecisionSignersDigest(b, pubs(0, 1), make([]byte, 32)); !errors.Is(err, ErrSubject) {
		t.Errorf("VerifyDecisionSignersDigest(other digest) = %v, want ErrSubject", err)
	}
	same := map[string]*ecdsa.PublicKey{"a": &keys[0].PublicKey, "b": &keys[0].PublicKey}
	if _, _, err := VerifyDecisionSigners(b, same); err == nil || !strings.Contains(err.Error(), "same key") {
		t.Errorf("two names for one key: %v", err)
	}
}

// TestParseBundleSignatures checks the rules on a co-signed envelope.
func TestParseBundleSignatures(t *testing.T) {
	f := newFixture(t)
	keys := genKeys(t, 2)
	b, err := CoSignDecisionDigest(keys, testDecision(), f.manifest.RootHex())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	env := m["dsseEnvelope"].(map[string]any)
	sig0 := env["signatures"].([]any)[0].(map[string]any)
	var seventeen []any
	for i := range MaxSignatures + 1 {
		s := map[string]any{"sig": sig0["sig"], "keyid": fmt.Sprint("key", i)}
		if i == 0 {
			s["keyid"] = sig0["keyid"]
		}
		seventeen = append(seventeen, s)
	}
	tests := []struct {
		name string
		edit func(env map[string]any, sigs []any)
		want string // "" = accepted
	}{
		{"co-signed", func(map[string]any, []any) {}, ""},
		{"duplicate keyid", func(_ map[string]any, sigs []any) {
			sigs[1].(map[string]any)["keyid"] = sigs[0].(map[string]any)["keyid"]
		}, "signs twice"},
		{"missing keyid", func(_ map[string]any, sigs []any) { delete(sigs[1].(map[string]any), "keyid") }, "no keyid"},
		{"lead is not the hint", func(_ map[string]any, sigs []any) { sigs[0], sigs[1] = sigs[1], sigs[0] }, "is not the bundle's key hint"},
		{"no signatures", func(env map[string]any, _ []any) { env["signatures"] = []any{} }, "no signatures"},
		{"too many", func(env map[string]any, _ []any) { env["signatures"] = seventeen }, "at most 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBundle(editBundle(t, b, tt.edit))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseBundle = %v, want ErrMalformed containing %q", err, tt.want)
			}
		})
	}
	if _, err := CoSignDecisionDigest([]*ecdsa.PrivateKey{keys[0], keys[0]}, testDecision(), f.manifest.RootHex()); err == nil || !strings.Contains(err.Error(), "already signed") {
		t.Errorf("co-sign with one key twice: %v", err)
	}
	if _, err := CoSignDecisionDigest(nil, testDecision(), f.manifest.RootHex()); err == nil {
		t.Error("co-sign with no key succeeded")
	}
	// An OMS model signature stays one-signature.
	two, err := addSignature(f.omsSig, keys[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseModelSignature(two, &f.key.PublicKey); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseModelSignature(2 signatures) = %v, want ErrMalformed", err)
	}
}

// TestAddSignature has a second agency co-sign a bundle the lead made.
func TestAddSignature(t *testing.T) {
	f := newFixture(t)
	keys := genKeys(t, 2)
	lead, err := SignDecisionDigest(f.key, testDecision(), f.manifest.RootHex())
	if err != nil {
		t.Fatal(err)
	}
	b, err := AddSignature(lead, keys[0], &f.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = AddSignature(b, keys[1], &f.key.PublicKey); err != nil {
		t.Fatal(err)
	}
	_, who, err := VerifyDecisionSigners(b, map[string]*ecdsa.PublicKey{"lead": &f.key.PublicKey, "a": &keys[0].PublicKey, "b": &keys[1].PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "lead"}, who.Names); diff != "" {
		t.Errorf("signers (-want +got):\n%s", diff)
	}
	p0, _ := ParseBundle(lead)
	p1, _ := ParseBundle(b)
	if string(p0.GetDsseEnvelope().GetPayload()) != string(p1.GetDsseEnvelope().GetPayload()) {
		t.Error("AddSignature changed the payload")
	}

	// The payload changed after the lead signed: refused.
	changed := editBundle(t, lead, func(env map[string]any, _ []any) {
		raw, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
		env["payload"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), "cleared_with_conditions", "cleared", 1)))
	})
	if _, err := AddSignature(changed, keys[0], &f.key.PublicKey); !errors.Is(err, ErrSignature) {
		t.Errorf("AddSignature(changed payload) = %v, want ErrSignature", err)
	}
	if _, err := AddSignature(lead, keys[0], &keys[1].PublicKey); !errors.Is(err, ErrSignature) {
		t.Errorf("AddSignature(lead key is another) = %v, want ErrSignature", err)
	}
	if _, err := AddSignature(b, keys[1], nil); err == nil || !strings.Contains(err.Error(), "already signed") {
		t.Errorf("AddSignature(signer again) = %v", err)
	}
	if _, err := AddSignature(f.omsSig, keys[0], nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("AddSignature(OMS signature) = %v, want ErrMalformed", err)
	}
}
