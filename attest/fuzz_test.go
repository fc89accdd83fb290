package attest

import (
	"crypto/ecdsa"
	"encoding/json"
	"testing"
)

// fuzzKey is one fixed key so that fuzzed bundles exercise the full
// verification path.
func fuzzFixture(f *testing.F) (*ecdsa.PublicKey, *fixture) {
	fx := newFixture(f)
	return &fx.key.PublicKey, fx
}

// coSigned is fx's decision co-signed by fx.key and another key.
func coSigned(f *testing.F, fx *fixture) []byte {
	other, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	b, err := AddSignature(fx.bundle, other, &fx.key.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func FuzzParseBundle(f *testing.F) {
	_, fx := fuzzFixture(f)
	f.Add(fx.bundle)
	f.Add(coSigned(f, fx))
	f.Add(fx.omsSig)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err == nil && b.GetDsseEnvelope() == nil {
			t.Fatal("ParseBundle accepted a bundle without an envelope")
		}
		if err == nil {
			if n := len(b.GetDsseEnvelope().GetSignatures()); n < 1 || n > MaxSignatures {
				t.Fatalf("ParseBundle accepted %d signatures", n)
			}
		}
	})
}

func FuzzVerifyDecision(f *testing.F) {
	pub, fx := fuzzFixture(f)
	f.Add(fx.bundle)
	f.Add(fx.omsSig)
	f.Add(coSigned(f, fx))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := VerifyDecision(data, pub)
		if err == nil && v.Decision.Model.RootDigest["sha256"] != fx.manifest.RootHex() {
			t.Fatalf("verified a decision about another model: %v", v.Decision.Model)
		}
		v, who, err := VerifyDecisionSigners(data, map[string]*ecdsa.PublicKey{"lead": pub})
		if err == nil && (v.Decision.Model.RootDigest["sha256"] != fx.manifest.RootHex() || len(who.Names) != 1) {
			t.Fatalf("VerifyDecisionSigners verified %v signed by %v", v.Decision.Model, who)
		}
	})
}

func FuzzParseModelSignature(f *testing.F) {
	pub, fx := fuzzFixture(f)
	f.Add(fx.omsSig)
	f.Add(fx.bundle)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseModelSignature(data, pub)
		if err == nil && s.Root != s.Manifest.RootHex() {
			t.Fatal("root does not match resources")
		}
	})
}

func FuzzParseStatement(f *testing.F) {
	_, fx := fuzzFixture(f)
	b, _ := ParseBundle(fx.bundle)
	f.Add(b.GetDsseEnvelope().GetPayload())
	o, _ := ParseBundle(fx.omsSig)
	f.Add(o.GetDsseEnvelope().GetPayload())
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseStatement(data)
		if err == nil && len(st.GetSubject()) == 0 {
			t.Fatal("accepted a statement without subjects")
		}
	})
}

func FuzzParseDecision(f *testing.F) {
	d, _ := json.Marshal(testDecision())
	f.Add(d)
	f.Add([]byte(`{"caseId":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec, err := ParseDecision(data)
		if err == nil && (dec.CaseID == "" || !dec.Outcome.Valid() || len(dec.Profiles) == 0) {
			t.Fatalf("accepted an invalid decision: %+v", dec)
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	key, _ := GenerateKey()
	plain, _ := MarshalPrivateKey(key, nil)
	enc, _ := encryptPKCS8(mustPKCS8(key), []byte("pw"), 2) // cheap work factor for fuzzing
	pub, _ := MarshalPublicKey(&key.PublicKey)
	f.Add(plain)
	f.Add(pemBlock(pemEncryptedPrivateKey, enc))
	f.Add(pub)
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := ParsePrivateKey(data, []byte("pw")); err == nil && k.Curve.Params().Name != "P-256" {
			t.Fatal("accepted a non-P-256 private key")
		}
		if k, err := ParsePublicKey(data); err == nil && k.Curve.Params().Name != "P-256" {
			t.Fatal("accepted a non-P-256 public key")
		}
	})
}
