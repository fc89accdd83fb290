package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func attestEnv(now time.Time, vars map[string]string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{
		stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		getenv: func(k string) string { return vars[k] },
		now:    func() time.Time { return now },
	}, &out, &errb
}

const cliDecision = `{"caseId":"case-1","decision":"cleared_with_conditions","verifier":{"id":"https://review.example.gov"},
"timeVerified":"2026-05-01T10:00:00Z","expiresAt":"2027-05-01T00:00:00Z","model":{"name":"m"},
"profiles":[{"id":"us","digest":{"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},"outcome":"cleared"},
{"id":"eu","digest":{"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},"outcome":"cleared_with_conditions",
"conditions":[{"text":"report incidents","dueAt":"2026-06-01T00:00:00Z"}]}]}`

// TestSignVerifyLogCLI walks the whole contract: keys, OMS signature,
// decision, log, verify, and one distinct exit code per kind of failure.
func TestSignVerifyLogCLI(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	model := p("model")
	os.MkdirAll(filepath.Join(model, "sub"), 0o755)
	os.WriteFile(filepath.Join(model, "weights.safetensors"), []byte("weights"), 0o644)
	os.WriteFile(filepath.Join(model, "sub", "config.json"), []byte("{}"), 0o644)
	os.WriteFile(p("decision.json"), []byte(cliDecision), 0o644)
	// A decision made by the service names itself dec_… as the UI does.
	os.WriteFile(p("service.json"), []byte(strings.Replace(cliDecision, `"caseId":"case-1"`, `"caseId":"case-1","decisionId":"dec_01"`, 1)), 0o644)
	os.WriteFile(p("garbage.bundle"), []byte(`{"mediaType":"nope"}`), 0o644)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	vars := map[string]string{"PASS": "s3cret"}

	steps := []struct {
		name     string
		args     []string
		now      time.Time
		code     int
		contains []string
		after    func(t *testing.T)
	}{
		{"keys", []string{"keys", "generate", "--out", p("signer")}, now, 0, []string{"signer.key"}, nil},
		{"keys encrypted", []string{"keys", "generate", "--out", p("enc"), "--passphrase-env", "PASS"}, now, 0, []string{"encrypted"}, nil},
		{"keys exists", []string{"keys", "generate", "--out", p("signer")}, now, 1, []string{"exists"}, nil},
		{"other key", []string{"keys", "generate", "--out", p("other")}, now, 0, nil, nil},
		{"sign model", []string{"sign", "model", model, "--key", p("signer.key")}, now, 0, []string{"2 files"}, nil},
		{"verify model", []string{"verify", "model", model, "--key", p("signer.pub")}, now, 0, []string{"verified"}, nil},
		{"verify model other key", []string{"verify", "model", model, "--key", p("other.pub")}, now, exitVerifySignature, []string{"signature"}, nil},
		{"sign decision encrypted key", []string{"sign", "decision", "--decision", p("decision.json"), "--model", model, "--key", p("enc.key"), "--passphrase-env", "PASS", "--out", p("enc.bundle")}, now, 0, nil, nil},
		{"sign decision no passphrase", []string{"sign", "decision", "--decision", p("decision.json"), "--model", model, "--key", p("enc.key"), "--out", p("x.bundle")}, now, 1, []string{"passphrase"}, nil},
		{"sign decision", []string{"sign", "decision", "--decision", p("decision.json"), "--model", model, "--key", p("signer.key"), "--out", p("d.bundle")}, now, 0, []string{"case-1"}, nil},
		{"log init", []string{"log", "init", "--dir", p("log"), "--origin", "clearance.test/log"}, now, 0, []string{"verifier key"}, nil},
		{"log append", []string{"log", "append", "--dir", p("log"), p("d.bundle")}, now, 0, []string{"index 0"}, nil},
		{"verify all", []string{"verify", "--bundle", p("d.bundle"), "--model", model, "--key", p("signer.pub"), "--log", p("log"), "--log-key", p("log/log.pub"), "--require-outcome", "cleared", "--profile", "us"}, now, 0, []string{"verified", "index 0", "OMS model signature"}, nil},
		{"verify offline receipt", []string{"verify", "--bundle", p("d.bundle"), "--key", p("signer.pub"), "--log-key", p("log/log.pub")}, now, 0, []string{"logged in clearance.test/log"}, nil},
		{"verify json", []string{"verify", "--bundle", p("d.bundle"), "--key", p("signer.pub"), "--format", "json"}, now, 0, []string{`"ok": true`, `"caseId": "case-1"`}, nil},
		{"verify names the case", []string{"verify", "--bundle", p("d.bundle"), "--key", p("signer.pub")}, now, 0, []string{"over the decision of case case-1", "verified: the decision of case case-1 is"}, nil},
		{"sign service decision", []string{"sign", "decision", "--decision", p("service.json"), "--model", model, "--key", p("signer.key"), "--out", p("svc.bundle")}, now, 0, []string{"signed decision dec_01 of case case-1"}, nil},
		{"verify names the decision id", []string{"verify", "--bundle", p("svc.bundle"), "--key", p("signer.pub")}, now, 0, []string{"over decision dec_01 of case case-1", "verified: decision dec_01 of case case-1 is cleared_with_conditions"}, nil},
		{"log verify", []string{"log", "verify", "--dir", p("log"), "--log-key", p("log/log.pub"), "--key", p("signer.pub"), "--save", p("cp")}, now, 0, []string{"1 entries"}, nil},
		{"log proof", []string{"log", "proof", "--dir", p("log"), "--index", "0"}, now, 0, []string{`"inclusionProof"`}, nil},
		{"outcome not met", []string{"verify", "--bundle", p("d.bundle"), "--key", p("signer.pub"), "--require-outcome", "cleared"}, now, exitVerifyOutcome, []string{"cleared_with_conditions"}, nil},
		{"unknown profile", []string{"verify", "--bundle", p("d.bundle"), "--key", p("signer.pub"), "--require-outcome", "cleared", "--profile", "cn"}, now, exitVerifyOutcome, []string{"no profile cn"}, nil},
		{"expired", []string{"verify", "--bundle", p("d.bundle"), "--key", p("signer.pub")}, now.AddDate(2, 0, 0), exitVerifyExpired, []string{"expired"}, nil},
		{"other signer", []string{"verify", "--bundle", p("d.bundle"), "--key", p("other.pub")}, now, exitVerifyUntrusted, []string{"signed by another key"}, nil},
		{"malformed", []string{"verify", "--bundle", p("garbage.bundle"), "--key", p("signer.pub")}, now, exitVerifyMalformed, []string{"bundle"}, nil},
		{"not logged", []string{"verify", "--bundle", p("enc.bundle"), "--key", p("enc.pub"), "--log", p("log")}, now, exitVerifyLog, []string{"no receipt"}, nil},
		{"usage", []string{"verify", "--bundle", p("d.bundle")}, now, 2, []string{"--key"}, nil},
		{"weights changed", []string{"verify", "--bundle", p("d.bundle"), "--model", model, "--key", p("signer.pub")}, now, exitVerifyModel, []string{"weights.safetensors changed"}, nil},
	}
	for _, s := range steps {
		if s.name == "weights changed" {
			os.WriteFile(filepath.Join(model, "weights.safetensors"), []byte("weightz"), 0o644)
		}
		e, out, errb := attestEnv(s.now, vars)
		code := run(context.Background(), e, s.args)
		all := out.String() + errb.String()
		if code != s.code {
			t.Fatalf("%s: clearance %v: exit %d, want %d\n%s", s.name, s.args, code, s.code, all)
		}
		for _, w := range s.contains {
			if !strings.Contains(all, w) {
				t.Errorf("%s: output lacks %q:\n%s", s.name, w, all)
			}
		}
	}

	// A receipt against another checkpoint, and an edited log.
	var r map[string]any
	raw, _ := os.ReadFile(p("d.bundle.receipt.json"))
	json.Unmarshal(raw, &r)
	r["index"] = 1
	bad, _ := json.Marshal(r)
	os.WriteFile(p("bad.receipt.json"), bad, 0o644)
	tamper := []struct {
		name string
		args []string
		code int
	}{
		{"receipt edited", []string{"verify", "--bundle", p("d.bundle"), "--key", p("signer.pub"), "--log-key", p("log/log.pub"), "--receipt", p("bad.receipt.json")}, exitVerifyLog},
	}
	entries := filepath.Join(p("log"), "tile", "entries", "000.p", "1")
	orig, err := os.ReadFile(entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tamper {
		e, out, errb := attestEnv(now, vars)
		if code := run(context.Background(), e, tc.args); code != tc.code {
			t.Fatalf("%s: exit %d, want %d\n%s%s", tc.name, code, tc.code, out, errb)
		}
	}
	edited := bytes.Clone(orig)
	edited[len(edited)-3] ^= 1
	os.WriteFile(entries, edited, 0o644)
	e, out, errb := attestEnv(now, vars)
	if code := run(context.Background(), e, []string{"log", "verify", "--dir", p("log"), "--log-key", p("log/log.pub"), "--since", p("cp")}); code != exitLogTampered {
		t.Fatalf("log verify of an edited entry: exit %d, want %d\n%s%s", code, exitLogTampered, out, errb)
	}
}
