package attest

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// writeModel creates a model directory with the given files (path → content).
func writeModel(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny-model")
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var tinyModel = map[string]string{
	"config.json":                 `{"layers":2}`,
	"model.safetensors":           "weights-0123456789",
	"model/extra.bin":             "extra",
	"model-b.txt":                 "dash",
	".git/HEAD":                   "ref: refs/heads/main",
	".gitattributes":              "*.bin lfs",
	".github/workflows/ci.yml":    "on: push",
	".gitignore":                  "*.tmp",
	"model.sig":                   "old signature",
	"tokenizer/tokenizer.json":    "{}",
	"tokenizer/special_tokens.md": "none",
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestComparePaths(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"a", "b", -1},
		{"a/b", "a.b", -1},   // component "a" < "a.b"; a byte sort says the opposite
		{"a/b", "a-b", -1},   // likewise for '-'
		{"a/b", "a/b", 0},    //
		{"a/b/c", "a/b", 1},  // more components sort later
		{"ab/c", "a/c", 1},   // "ab" > "a"
		{"é", "z", 1},        // code point order (U+00E9 > 'z')
		{"日本", "é", 1},       // and across UTF-8 lengths
		{"B", "a", -1},       // case-sensitive, uppercase first
		{"x/y", "x/y/z", -1}, //
	}
	for _, tt := range tests {
		if got := ComparePaths(tt.a, tt.b); got != tt.want {
			t.Errorf("ComparePaths(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := ComparePaths(tt.b, tt.a); got != -tt.want {
			t.Errorf("ComparePaths(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestHashModel(t *testing.T) {
	dir := writeModel(t, tinyModel)
	for _, workers := range []int{1, 4} {
		m, err := HashModel(context.Background(), dir, HashOptions{Workers: workers, BufferSize: 3})
		if err != nil {
			t.Fatalf("HashModel: %v", err)
		}
		var paths []string
		for _, f := range m.Files {
			paths = append(paths, f.Path)
			if f.Hex() != sum(tinyModel[f.Path]) {
				t.Errorf("digest of %s = %s, want %s", f.Path, f.Hex(), sum(tinyModel[f.Path]))
			}
		}
		want := []string{"config.json", "model/extra.bin", "model-b.txt", "model.safetensors", "tokenizer/special_tokens.md", "tokenizer/tokenizer.json"}
		if diff := cmp.Diff(want, paths); diff != "" {
			t.Errorf("files (-want +got):\n%s", diff)
		}
		h := sha256.New()
		for _, p := range want {
			d := sha256.Sum256([]byte(tinyModel[p]))
			h.Write(d[:])
		}
		if got, want := m.RootHex(), hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("RootHex = %s, want %s", got, want)
		}
		if m.Name != "tiny-model" {
			t.Errorf("Name = %q, want tiny-model", m.Name)
		}
		if diff := cmp.Diff([]string{".git", ".gitattributes", ".github", ".gitignore", "model.sig"}, m.Ignored); diff != "" {
			t.Errorf("Ignored (-want +got):\n%s", diff)
		}
	}
}

func TestHashModelRejects(t *testing.T) {
	tests := []struct {
		name  string
		setup func(dir string) error
		want  string
	}{
		{"symlink", func(dir string) error { return os.Symlink("config.json", filepath.Join(dir, "link")) }, "symbolic link"},
		{"fifo-free missing dir", func(dir string) error { return os.RemoveAll(dir) }, "no such file"},
		{"bad utf8", func(dir string) error { return os.WriteFile(filepath.Join(dir, "bad\xff"), nil, 0o644) }, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeModel(t, map[string]string{"config.json": "{}"})
			if err := tt.setup(dir); err != nil {
				t.Fatal(err)
			}
			_, err := HashModel(context.Background(), dir, HashOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("HashModel = %v, want error containing %q", err, tt.want)
			}
		})
	}
	if _, err := HashModel(context.Background(), t.TempDir(), HashOptions{Ignore: []string{"../x"}}); err == nil {
		t.Error("HashModel with ignore path outside the directory succeeded")
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, pass := range []string{"", "correct horse"} {
		pemKey, err := MarshalPrivateKey(key, []byte(pass))
		if err != nil {
			t.Fatalf("MarshalPrivateKey: %v", err)
		}
		wantType := "-----BEGIN PRIVATE KEY-----"
		if pass != "" {
			wantType = "-----BEGIN ENCRYPTED PRIVATE KEY-----"
		}
		if !strings.HasPrefix(string(pemKey), wantType) {
			t.Errorf("key PEM starts %q, want %q", strings.SplitN(string(pemKey), "\n", 2)[0], wantType)
		}
		got, err := ParsePrivateKey(pemKey, []byte(pass))
		if err != nil {
			t.Fatalf("ParsePrivateKey: %v", err)
		}
		if !got.Equal(key) {
			t.Error("ParsePrivateKey returned another key")
		}
		if pass != "" {
			if _, err := ParsePrivateKey(pemKey, []byte("wrong")); !errors.Is(err, ErrPassphrase) {
				t.Errorf("ParsePrivateKey(wrong passphrase) = %v, want ErrPassphrase", err)
			}
			if _, err := ParsePrivateKey(pemKey, nil); !errors.Is(err, ErrPassphrase) {
				t.Errorf("ParsePrivateKey(no passphrase) = %v, want ErrPassphrase", err)
			}
		}
	}
	pubPEM, err := MarshalPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil || !pub.Equal(&key.PublicKey) {
		t.Fatalf("ParsePublicKey = %v, %v; want the key", pub, err)
	}
	if _, err := ParsePublicKey([]byte("-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n")); err == nil {
		t.Error("ParsePublicKey accepted a private key block")
	}

	prefix := filepath.Join(t.TempDir(), "signer")
	if err := WriteKeyFiles(prefix, key, nil); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(prefix + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode = %v, want 0600", st.Mode().Perm())
	}
	if err := WriteKeyFiles(prefix, key, nil); err == nil {
		t.Error("WriteKeyFiles overwrote an existing key")
	}
}

// fixture is a signed model and decision shared by tests.
type fixture struct {
	dir      string
	key      *ecdsa.PrivateKey
	manifest *Manifest
	omsSig   []byte
	decision *Decision
	bundle   []byte
}

func testDecision() *Decision {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return &Decision{
		CaseID:    "case-0042",
		Outcome:   OutcomeClearedWithConditions,
		Verifier:  Verifier{ID: "https://caisi.example.gov/review", Name: "Example review office", Version: map[string]string{"clearance": "v0.1.0"}},
		DecidedAt: at,
		ExpiresAt: at.AddDate(1, 0, 0),
		Model:     Model{Name: "tiny-model", Version: "2026-02"},
		Profiles: []ProfileOutcome{
			{ID: "us-voluntary-30d", Version: "1", Digest: map[string]string{"sha256": sum("profile-a")}, Outcome: OutcomeCleared, Rationale: "all gates met"},
			{ID: "eu-gpai-systemic", Version: "2", Digest: map[string]string{"sha256": sum("profile-b")}, Outcome: OutcomeClearedWithConditions,
				Conditions: []Condition{{ID: "c1", Text: "publish a serious-incident report channel", DueAt: at.AddDate(0, 1, 0)}}},
		},
		Evidence: []Evidence{{Name: "run-7/metrics.json", MediaType: "application/json", Digest: map[string]string{"sha256": sum("metrics")}}},
	}
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{dir: writeModel(t, tinyModel), decision: testDecision()}
	var err error
	if f.key, err = GenerateKey(); err != nil {
		t.Fatal(err)
	}
	if f.manifest, err = HashModel(context.Background(), f.dir, HashOptions{}); err != nil {
		t.Fatal(err)
	}
	if f.omsSig, err = SignModel(f.key, f.manifest); err != nil {
		t.Fatal(err)
	}
	if f.bundle, err = SignDecision(f.key, f.decision, f.manifest, f.omsSig); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestModelSignature(t *testing.T) {
	f := newFixture(t)
	sigPath := filepath.Join(f.dir, DefaultSignatureName)
	if err := os.WriteFile(sigPath, f.omsSig, 0o644); err != nil {
		t.Fatal(err)
	}
	sig, err := VerifyModel(context.Background(), f.dir, f.omsSig, sigPath, &f.key.PublicKey)
	if err != nil {
		t.Fatalf("VerifyModel: %v", err)
	}
	if sig.Root != f.manifest.RootHex() || sig.Name != "tiny-model" {
		t.Errorf("VerifyModel = %s %s, want tiny-model %s", sig.Name, sig.Root, f.manifest.RootHex())
	}

	// The statement has the OMS shape.
	b, _ := ParseBundle(f.omsSig)
	st, err := ParseStatement(b.GetDsseEnvelope().GetPayload())
	if err != nil {
		t.Fatal(err)
	}
	if st.GetPredicateType() != OMSPredicateType || st.GetPredicate().GetFields()["serialization"].GetStructValue().GetFields()["method"].GetStringValue() != "files" {
		t.Errorf("OMS statement = %v", st)
	}

	other, _ := GenerateKey()
	tests := []struct {
		name   string
		change func(t *testing.T)
		key    *ecdsa.PublicKey
		want   error
	}{
		{"one byte changed", func(t *testing.T) { writeFile(t, f.dir, "model.safetensors", "weights-0123456788") }, &f.key.PublicKey, ErrSubject},
		{"file added", func(t *testing.T) { writeFile(t, f.dir, "new.bin", "x") }, &f.key.PublicKey, ErrSubject},
		{"file removed", func(t *testing.T) { os.Remove(filepath.Join(f.dir, "tokenizer/tokenizer.json")) }, &f.key.PublicKey, ErrSubject},
		{"other key", func(t *testing.T) {}, &other.PublicKey, ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeModel(t, tinyModel)
			m, _ := HashModel(context.Background(), dir, HashOptions{})
			s, _ := SignModel(f.key, m)
			f.dir = dir
			tt.change(t)
			_, err := VerifyModel(context.Background(), dir, s, "", tt.key)
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyModel = %v, want %v", err, tt.want)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDecisionRoundTrip(t *testing.T) {
	f := newFixture(t)
	v, err := VerifyDecision(f.bundle, &f.key.PublicKey)
	if err != nil {
		t.Fatalf("VerifyDecision: %v", err)
	}
	want := f.decision.normalised(f.manifest, f.omsSig)
	if diff := cmp.Diff(want, v.Decision); diff != "" {
		t.Errorf("decision (-want +got):\n%s", diff)
	}
	if v.Decision.VerificationResult != ResultPassed {
		t.Errorf("verificationResult = %q, want PASSED", v.Decision.VerificationResult)
	}
	if err := v.CheckModel(f.manifest); err != nil {
		t.Errorf("CheckModel: %v", err)
	}
	if err := v.CheckSignature(f.omsSig); err != nil {
		t.Errorf("CheckSignature: %v", err)
	}
	if len(v.Files) != len(f.manifest.Files) {
		t.Errorf("file subjects = %d, want %d", len(v.Files), len(f.manifest.Files))
	}
	// The predicate is lowerCamelCase JSON with RFC 3339 UTC times.
	b, _ := ParseBundle(f.bundle)
	payload := string(b.GetDsseEnvelope().GetPayload())
	for _, s := range []string{`"caseId":"case-0042"`, `"timeVerified":"2026-03-01T12:00:00Z"`, `"predicateType":"` + DecisionPredicateType + `"`, `"dueAt":"2026-04-01T12:00:00Z"`} {
		if !strings.Contains(payload, s) {
			t.Errorf("payload lacks %s:\n%s", s, payload)
		}
	}

	// By digest, as cosign --digest does: the root, a weight file and the
	// OMS signature are subjects; anything else is not.
	for _, d := range []string{f.manifest.RootHex(), sum(tinyModel["model.safetensors"]), sum(string(f.omsSig))} {
		raw, _ := hex.DecodeString(d)
		if _, err := VerifyDecisionDigest(f.bundle, &f.key.PublicKey, raw); err != nil {
			t.Errorf("VerifyDecisionDigest(%s): %v", d, err)
		}
	}
	raw, _ := hex.DecodeString(sum("not a subject"))
	if _, err := VerifyDecisionDigest(f.bundle, &f.key.PublicKey, raw); !errors.Is(err, ErrSubject) {
		t.Errorf("VerifyDecisionDigest(other) = %v, want ErrSubject", err)
	}

	// A weight file changed by one byte.
	writeFile(t, f.dir, "model.safetensors", "weights-0123456788")
	m2, err := HashModel(context.Background(), f.dir, HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.CheckModel(m2); !errors.Is(err, ErrSubject) || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("CheckModel(changed) = %v, want ErrSubject naming model.safetensors", err)
	}
	if err := v.CheckSignature([]byte("other")); !errors.Is(err, ErrSubject) {
		t.Errorf("CheckSignature(other) = %v, want ErrSubject", err)
	}
}

// mutateBundle decodes a bundle, applies fn to it and re-encodes it.
func mutateBundle(t *testing.T, data []byte, fn func(b *protobundle.Bundle)) []byte {
	t.Helper()
	var b protobundle.Bundle
	if err := protojson.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	fn(&b)
	out, err := protojson.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecisionByteFlips(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var b protobundle.Bundle
	if err := protojson.Unmarshal(f.bundle, &b); err != nil {
		t.Fatal(err)
	}
	sigLen := len(b.GetDsseEnvelope().GetSignatures()[0].GetSig())
	payloadLen := len(b.GetDsseEnvelope().GetPayload())
	for i := range sigLen {
		bad := mutateBundle(t, f.bundle, func(b *protobundle.Bundle) { b.GetDsseEnvelope().GetSignatures()[0].Sig[i] ^= 0x01 })
		if _, err := VerifyDecision(bad, &f.key.PublicKey); err == nil {
			t.Fatalf("signature byte %d flipped: verified", i)
		}
	}
	for i := range payloadLen {
		bad := mutateBundle(t, f.bundle, func(b *protobundle.Bundle) { b.GetDsseEnvelope().Payload[i] ^= 0x01 })
		if _, err := VerifyDecision(bad, &f.key.PublicKey); err == nil {
			t.Fatalf("payload byte %d flipped: verified", i)
		}
	}
	bad := mutateBundle(t, f.bundle, func(b *protobundle.Bundle) { b.GetDsseEnvelope().PayloadType = "application/json" })
	if _, err := VerifyDecision(bad, &f.key.PublicKey); err == nil {
		t.Fatal("payload type changed: verified")
	}
	der, err := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for i := range der {
		k := slices.Clone(der)
		k[i] ^= 0x01
		pk, err := x509.ParsePKIXPublicKey(k)
		if err != nil {
			continue // rejected at parse
		}
		ek, ok := pk.(*ecdsa.PublicKey)
		if !ok {
			continue
		}
		if _, err := VerifyDecision(f.bundle, ek); err == nil {
			t.Fatalf("key byte %d flipped: verified", i)
		}
	}
	t.Logf("flipped %d signature, %d payload and %d key bytes", sigLen, payloadLen, len(der))
}

func TestDecisionRejects(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		edit func(d *Decision)
		want string
	}{
		{"no case", func(d *Decision) { d.CaseID = "" }, "caseId"},
		{"bad outcome", func(d *Decision) { d.Outcome = "maybe" }, "known outcome"},
		{"expires before decided", func(d *Decision) { d.ExpiresAt = d.DecidedAt.Add(-time.Hour) }, "expiresAt"},
		{"bad profile digest", func(d *Decision) { d.Profiles[0].Digest = map[string]string{"sha256": "ABC"} }, "digest"},
		{"duplicate profile", func(d *Decision) { d.Profiles[1].ID = d.Profiles[0].ID }, "twice"},
		{"condition without due date", func(d *Decision) { d.Profiles[1].Conditions[0].DueAt = time.Time{} }, "dueAt"},
		{"contradicting result", func(d *Decision) { d.VerificationResult = ResultFailed }, "contradicts"},
		{"no verifier", func(d *Decision) { d.Verifier.ID = "" }, "verifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDecision()
			tt.edit(d)
			_, err := SignDecision(f.key, d, f.manifest, nil)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("SignDecision = %v, want ErrMalformed mentioning %q", err, tt.want)
			}
		})
	}
	// An OMS bundle is not a decision, and a decision is not an OMS bundle.
	if _, err := VerifyDecision(f.omsSig, &f.key.PublicKey); !errors.Is(err, ErrMalformed) {
		t.Errorf("VerifyDecision(OMS bundle) = %v, want ErrMalformed", err)
	}
	if _, err := ParseModelSignature(f.bundle, &f.key.PublicKey); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseModelSignature(decision) = %v, want ErrMalformed", err)
	}
	if _, err := VerifyDecision([]byte("{}"), &f.key.PublicKey); !errors.Is(err, ErrMalformed) {
		t.Errorf("VerifyDecision({}) = %v, want ErrMalformed", err)
	}
}

func TestParseDecision(t *testing.T) {
	d := testDecision()
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseDecision(data)
	if err != nil {
		t.Fatalf("ParseDecision: %v", err)
	}
	if diff := cmp.Diff(d, got); diff != "" {
		t.Errorf("ParseDecision (-want +got):\n%s", diff)
	}
	if _, err := ParseDecision([]byte(`{"caseId":"x","unknownField":1}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseDecision(unknown field) = %v, want ErrMalformed", err)
	}
}
