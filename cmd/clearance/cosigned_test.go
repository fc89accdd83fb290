package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// corruptSignature writes a copy of bundle src with one bit of DSSE
// signature i flipped.
func corruptSignature(t *testing.T, src, dst string, i int) {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	s := m["dsseEnvelope"].(map[string]any)["signatures"].([]any)[i].(map[string]any)
	sig, err := base64.StdEncoding.DecodeString(s["sig"].(string))
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)-2] ^= 1
	s["sig"] = base64.StdEncoding.EncodeToString(sig)
	out, _ := json.Marshal(m)
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCoSignedDecisionCLI signs a decision with two agencies' keys (at
// once, and one after the other with sign add), verifies it under each
// signer policy, and checks the exit codes of a missing signer (19), a
// corrupted co-signature (11) and a bundle signed by no key given (18).
func TestCoSignedDecisionCLI(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	model := p("model")
	os.MkdirAll(model, 0o755)
	os.WriteFile(filepath.Join(model, "weights.safetensors"), []byte("weights"), 0o644)
	os.WriteFile(p("decision.json"), []byte(cliDecision), 0o644)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	run1 := func(t *testing.T, args ...string) (int, string) {
		t.Helper()
		e, out, errb := attestEnv(now, nil)
		code := run(context.Background(), e, args)
		return code, out.String() + errb.String()
	}
	for _, k := range []string{"caisi", "nsa", "aisi"} {
		if code, out := run1(t, "keys", "generate", "--out", p(k)); code != 0 {
			t.Fatalf("keys generate %s: %d\n%s", k, code, out)
		}
	}
	sign := []string{"sign", "decision", "--decision", p("decision.json"), "--model", model}
	setup := [][]string{
		{"sign", "model", model, "--key", p("caisi.key")},
		append(sign, "--key", p("caisi.key"), "--key", p("nsa.key"), "--out", p("co.bundle")),
		append(sign, "--key", p("caisi.key"), "--out", p("lead.bundle")),
		{"sign", "add", "--bundle", p("lead.bundle"), "--key", p("nsa.key"), "--lead-key", p("caisi.pub"), "--out", p("added.bundle")},
		{"sign", "split", "--bundle", p("co.bundle"), "--out-dir", p("split")},
		{"log", "init", "--dir", p("log"), "--origin", "clearance.test/log"},
		{"log", "append", "--dir", p("log"), p("co.bundle")},
	}
	for _, args := range setup {
		if code, out := run1(t, args...); code != 0 {
			t.Fatalf("clearance %v: exit %d\n%s", args, code, out)
		}
	}
	corruptSignature(t, p("co.bundle"), p("bad-nsa.bundle"), 1)

	verify := func(bundle string, args ...string) []string {
		return append([]string{"verify", "--bundle", p(bundle)}, args...)
	}
	both := []string{"--key", p("caisi.pub"), "--key", p("nsa.pub")}
	all := append(both, "--key", p("aisi.pub"))
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"lead key alone", verify("co.bundle", "--key", p("caisi.pub"), "--model", model), 0, []string{"verified", "weights in"}},
		{"co-signer key alone", verify("co.bundle", "--key", p("nsa.pub")), 0, []string{"verified"}},
		{"both required", verify("co.bundle", append(both, "--require-signers", "caisi,nsa", "--model", model, "--log", p("log"))...), 0,
			[]string{"ok: signed by: caisi, nsa", "signer policy met", "logged in clearance.test/log", "verified"}},
		{"named keys", verify("co.bundle", "--key", "lead="+p("caisi.pub"), "--key", "second="+p("nsa.pub"), "--require-signers", "lead,second"), 0, []string{"signed by: lead, second"}},
		{"json", verify("co.bundle", append(both, "--format", "json")...), 0, []string{`"signers": [`, `"caisi"`, `"nsa"`}},
		{"min signers met", verify("co.bundle", append(all, "--min-signers", "2")...), 0, []string{"signed by: caisi, nsa"}},
		{"added co-signature", verify("added.bundle", append(both, "--require-signers", "caisi,nsa")...), 0, []string{"signed by: caisi, nsa"}},
		{"unknown signer reported", verify("co.bundle", "--key", p("caisi.pub"), "--require-signers", "caisi"), 0, []string{"signed by: caisi", "1 more signature(s) by keys not given"}},
		{"required signer missing", verify("co.bundle", append(all, "--require-signers", "caisi,aisi")...), exitVerifySigners, []string{"aisi did not sign"}},
		{"too few signers", verify("co.bundle", append(all, "--min-signers", "3")...), exitVerifySigners, []string{"--min-signers 3"}},
		{"one-signature bundle, co-signer required", verify("lead.bundle", append(both, "--require-signers", "caisi,nsa")...), exitVerifySigners, []string{"nsa did not sign"}},
		{"corrupted co-signature", verify("bad-nsa.bundle", append(both, "--require-signers", "caisi,nsa")...), exitVerifySignature, []string{"signature by nsa"}},
		{"corrupted co-signature, its key alone", verify("bad-nsa.bundle", "--key", p("nsa.pub")), exitVerifySignature, []string{"signature"}},
		{"corrupted co-signature, lead key alone", verify("bad-nsa.bundle", "--key", p("caisi.pub")), 0, []string{"verified"}},
		{"signed by no key given", verify("co.bundle", "--key", p("aisi.pub")), exitVerifyUntrusted, []string{"signed by another key"}},
		{"signed by no key given, policy", verify("co.bundle", "--key", p("aisi.pub"), "--require-signers", "aisi"), exitVerifyUntrusted, []string{"none of the keys given"}},
		{"split lead", verify("split/signature-1.bundle", "--key", p("caisi.pub")), 0, []string{"verified"}},
		{"split co-signer", verify("split/signature-2.bundle", "--key", p("nsa.pub")), 0, []string{"verified"}},
		{"split co-signer, lead key", verify("split/signature-2.bundle", "--key", p("caisi.pub")), exitVerifyUntrusted, nil},
		{"unknown required name", verify("co.bundle", append(both, "--require-signers", "bob")...), 2, []string{"no --key of that name"}},
		{"two keys, one name", verify("co.bundle", "--key", p("caisi.pub"), "--key", filepath.Join(p("split"), "..", "caisi.pub")), 2, []string{"two --key named"}},
		{"negative --min-signers with --from", []string{"verify", "--from", "https://agency.example/transparency/dec_1", "--min-signers", "-1"}, 2, []string{"want 1 or more trust entries"}},
		{"add refuses another lead", []string{"sign", "add", "--bundle", p("lead.bundle"), "--key", p("nsa.key"), "--lead-key", p("aisi.pub"), "--out", p("x.bundle")}, 1, []string{"lead signature"}},
		{"add refuses a second signature by one key", []string{"sign", "add", "--bundle", p("co.bundle"), "--key", p("nsa.key"), "--out", p("x.bundle")}, 1, []string{"already signed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := run1(t, tt.args...)
			if code != tt.code {
				t.Fatalf("clearance %v: exit %d, want %d\n%s", tt.args, code, tt.code, out)
			}
			for _, w := range tt.contains {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
