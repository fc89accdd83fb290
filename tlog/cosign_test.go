package tlog_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/tlog"
	"github.com/google/go-cmp/cmp"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

type cosigner struct {
	signer note.Signer
	vkey   string // cosignature/v1
}

func newCosigner(t *testing.T, name string) cosigner {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	if vkey, err = fnote.VKeyToCosignatureV1(vkey); err != nil {
		t.Fatal(err)
	}
	return cosigner{s, vkey}
}

func TestVerifyCosigned(t *testing.T) {
	const origin = "clearance.test/cosign"
	lskey, lvkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	logSigner, _ := note.NewSigner(lskey)
	w1, w2, w3, outsider := newCosigner(t, "w1.test"), newCosigner(t, "w2.test"), newCosigner(t, "w3.test"), newCosigner(t, "outsider.test")
	text := origin + "\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
	sign := func(signers ...note.Signer) []byte {
		b, err := note.Sign(&note.Note{Text: text}, signers...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	all := []string{w1.vkey, w2.vkey, w3.vkey}
	twoOfThree := sign(logSigner, w1.signer, w3.signer, outsider.signer)
	// A signature line under w2's name and key hash whose signature does
	// not verify (anyone relaying a checkpoint can add one).
	good := string(sign(logSigner, w2.signer))
	b64 := strings.Fields(good[strings.LastIndex(good, "— w2.test "):])[2]
	junk := append(sign(logSigner, w1.signer, w3.signer), "— w2.test "+b64[:8]+strings.Repeat("A", len(b64)-8)+"\n"...)

	for _, tc := range []struct {
		name    string
		raw     []byte
		policy  tlog.WitnessPolicy
		want    []string
		wantErr error
		errText string
	}{
		{"no policy", sign(logSigner), tlog.WitnessPolicy{}, nil, nil, ""},
		{"2 of 3", twoOfThree, tlog.WitnessPolicy{Threshold: 2, Keys: all}, []string{"w1.test", "w3.test"}, nil, ""},
		{"3 of 3", twoOfThree, tlog.WitnessPolicy{Threshold: 3, Keys: all}, nil, tlog.ErrWitnessPolicy, "2 of 3"},
		{"no cosignatures", sign(logSigner), tlog.WitnessPolicy{Threshold: 1, Keys: all}, nil, tlog.ErrWitnessPolicy, "0 of 1"},
		{"outsider does not count", sign(logSigner, w1.signer, outsider.signer), tlog.WitnessPolicy{Threshold: 2, Keys: all}, nil, tlog.ErrWitnessPolicy, "1 of 2"},
		{"plain Ed25519 witness key accepted", sign(logSigner, w1.signer), tlog.WitnessPolicy{Threshold: 1, Keys: []string{plainKey(t, w1.vkey)}}, []string{"w1.test"}, nil, ""},
		{"bad line beside good ones", junk, tlog.WitnessPolicy{Threshold: 2, Keys: all}, []string{"w1.test", "w3.test"}, nil, ""},
		{"bad line does not count", junk, tlog.WitnessPolicy{Threshold: 3, Keys: all}, nil, tlog.ErrWitnessPolicy, "2 of 3"},
		{"not signed by the log", sign(w1.signer, w2.signer), tlog.WitnessPolicy{Threshold: 1, Keys: all}, nil, tlog.ErrCheckpoint, ""},
		{"threshold over keys", twoOfThree, tlog.WitnessPolicy{Threshold: 4, Keys: all}, nil, nil, "threshold 4 of 3"},
		{"negative threshold", twoOfThree, tlog.WitnessPolicy{Threshold: -1, Keys: all}, nil, nil, "threshold -1"},
		{"bad key", twoOfThree, tlog.WitnessPolicy{Threshold: 1, Keys: []string{"nonsense"}}, nil, nil, "key 1"},
		{"key twice", twoOfThree, tlog.WitnessPolicy{Threshold: 1, Keys: []string{w1.vkey, w1.vkey}}, nil, nil, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tlog.VerifyCosigned(tc.raw, lvkey, tc.policy)
			if tc.wantErr != nil || tc.errText != "" {
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("VerifyCosigned = %v, want %v containing %q", err, tc.wantErr, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Size != 5 {
				t.Errorf("size %d, want 5", got.Size)
			}
			if d := cmp.Diff(tc.want, got.Witnesses); d != "" {
				t.Errorf("witnesses (-want +got):\n%s", d)
			}
		})
	}
}

// plainKey turns a cosignature/v1 vkey back into the plain Ed25519 (0x01)
// form of the same key.
func plainKey(t *testing.T, vkey string) string {
	t.Helper()
	name, rest, _ := strings.Cut(vkey, "+")
	_, b64, _ := strings.Cut(rest, "+")
	v, err := note.NewEd25519VerifierKey(name, mustDecode(t, b64)[1:])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
