package trust

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/attest"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/note"
)

func testKeys(t testing.TB) (pemKey, logKey, witKey string) {
	t.Helper()
	k, err := attest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := attest.MarshalPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	_, lv, err := note.GenerateKey(rand.Reader, "clearance.test/decisions")
	if err != nil {
		t.Fatal(err)
	}
	_, wv, err := note.GenerateKey(rand.Reader, "witness.test")
	if err != nil {
		t.Fatal(err)
	}
	return string(pub), lv, wv
}

func TestRoundTrip(t *testing.T) {
	pemKey, logKey, witKey := testKeys(t)
	f := &File{}
	e := Entry{Name: "agency", DecisionKeys: []string{pemKey}, LogKey: logKey, LogURL: "https://agency.example/log/",
		Witnesses: []Witness{{Name: "w1", Key: witKey}}, WitnessThreshold: 1}
	if err := f.Add(e); err != nil {
		t.Fatal(err)
	}
	if err := f.Add(e); !errors.Is(err, ErrExists) {
		t.Fatalf("Add(twice) = %v, want ErrExists", err)
	}
	path := filepath.Join(t.TempDir(), "sub", "trust.json")
	if err := Save(path, f); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("Stat = %v, %v; want mode 0600", st, err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, got); diff != "" {
		t.Fatalf("Load after Save (-want +got):\n%s", diff)
	}
	if o := got.Entries[0].Origin(); o != "clearance.test/decisions" {
		t.Errorf("Origin() = %q", o)
	}
	if n := len(got.ByOrigin("clearance.test/decisions")); n != 1 {
		t.Errorf("ByOrigin = %d entries, want 1", n)
	}
	if err := got.Remove("agency"); err != nil {
		t.Fatal(err)
	}
	if err := got.Remove("agency"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Remove(twice) = %v, want ErrNotFound", err)
	}
	empty, err := Load(filepath.Join(t.TempDir(), "missing.json"))
	if err != nil || len(empty.Entries) != 0 {
		t.Fatalf("Load(missing) = %v, %v; want an empty file", empty, err)
	}
}

func TestParseRejects(t *testing.T) {
	pemKey, logKey, witKey := testKeys(t)
	good := Entry{Name: "a", DecisionKeys: []string{pemKey}, LogKey: logKey, Witnesses: []Witness{{Name: "w1", Key: witKey}}, WitnessThreshold: 1}
	enc := func(mod func(f map[string]any)) string {
		b, _ := json.Marshal(File{Version: 1, Entries: []Entry{good}})
		var m map[string]any
		json.Unmarshal(b, &m)
		mod(m)
		b, _ = json.Marshal(m)
		return string(b)
	}
	entry := func(m map[string]any) map[string]any { return m["entries"].([]any)[0].(map[string]any) }
	tests := []struct {
		name, data, want string
	}{
		{"not json", "{", "unexpected EOF"},
		{"unknown field", enc(func(m map[string]any) { m["keys"] = 1 }), `unknown field "keys"`},
		{"version", enc(func(m map[string]any) { m["version"] = 2 }), "version 2, want 1"},
		{"trailing", enc(func(map[string]any) {}) + "{}", "trailing data"},
		{"bad name", enc(func(m map[string]any) { entry(m)["name"] = "../x" }), `name "../x"`},
		{"no decision key", enc(func(m map[string]any) { entry(m)["decisionKeys"] = []string{} }), "decisionKeys: at least one"},
		{"bad decision key", enc(func(m map[string]any) { entry(m)["decisionKeys"] = []string{"x"} }), "decisionKeys[0]: parse public key"},
		{"bad log key", enc(func(m map[string]any) { entry(m)["logKey"] = "nope" }), "logKey:"},
		{"bad log url", enc(func(m map[string]any) { entry(m)["logURL"] = "file:///etc" }), "logURL"},
		{"threshold too high", enc(func(m map[string]any) { entry(m)["witnessThreshold"] = 2 }), "threshold 2 of 1"},
		{"negative threshold", enc(func(m map[string]any) { entry(m)["witnessThreshold"] = -1 }), "threshold -1"},
		{"bad witness key", enc(func(m map[string]any) {
			entry(m)["witnesses"] = []any{map[string]any{"name": "w", "key": "x"}}
		}), "witnesses: witness policy: key 1"},
		{"duplicate entry", enc(func(m map[string]any) { m["entries"] = append(m["entries"].([]any), entry(m)) }), `name "a" listed twice`},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(tc.data), "T.json")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "T.json") {
			t.Errorf("%s: Parse = %v, want an error naming T.json and containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Parse([]byte(enc(func(map[string]any) {})), "T.json"); err != nil {
		t.Fatalf("Parse(good) = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	pemKey, logKey, witKey := testKeys(f)
	b, _ := (&File{Entries: []Entry{{Name: "a", DecisionKeys: []string{pemKey}, LogKey: logKey,
		Witnesses: []Witness{{Name: "w1", Key: witKey}}, WitnessThreshold: 1}}}).Marshal()
	f.Add(b)
	f.Add([]byte(`{"version":1,"entries":[]}`))
	f.Add([]byte(`{"version":1,"entries":[{"name":"x","witnessThreshold":-5}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := Parse(data, "fuzz")
		if err != nil {
			return
		}
		// What parses round-trips and every entry is usable.
		out, err := tf.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out, "again"); err != nil {
			t.Fatalf("Parse(Marshal(Parse(x))) = %v", err)
		}
		for _, e := range tf.Entries {
			if _, err := e.PublicKeys(); err != nil || e.Origin() == "" {
				t.Fatalf("accepted entry %s unusable: %v", e.Name, err)
			}
		}
	})
}
