package policy

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

const minimalProfile = `id: test
title: Test
version: "1"
status: template
constants:
  limit:
    value: 0.05
    source: "test"
    tag: I
    confidence: low
    inference: true
evaluations:
  - id: e1
    title: misuse
    suite: misuse
    metric: attack_success_rate
    direction: at_most
    threshold: limit
    judge: point
decision:
  - id: fail
    when: "size(failed_evals) > 0"
    outcome: refused
    rationale: failed
  - id: ok
    outcome: cleared
    rationale: ok
`

func TestLoadProfileErrors(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(string) string
		want    []string // substrings of the error
		wantErr error
	}{
		{"unknown field names line and field", func(s string) string {
			return strings.Replace(s, "    judge: point", "    judge: point\n    jugde: bound", 1)
		}, []string{"test.yaml:20:", "evaluations[0].jugde", "unknown field"}, ErrInvalidProfile},
		{"unknown constant", func(s string) string { return strings.Replace(s, "threshold: limit", "threshold: limt", 1) },
			[]string{"test.yaml:18:", "evaluations[0].threshold", `unknown constant "limt"`}, ErrInvalidProfile},
		{"bad enum", func(s string) string { return strings.Replace(s, "outcome: refused", "outcome: banned", 1) },
			[]string{"test.yaml:23:", "decision[0].outcome"}, ErrInvalidProfile},
		{"CEL undeclared reference names profile and rule", func(s string) string {
			return strings.Replace(s, "size(failed_evals) > 0", "size(failed_evalz) > 0", 1)
		}, []string{"test.yaml:22:", "profile test: rule decision[fail].when", "undeclared reference to 'failed_evalz'"}, ErrInvalidProfile},
		{"CEL type error", func(s string) string {
			return strings.Replace(s, "size(failed_evals) > 0", "model.training_compute_flop", 1)
		},
			[]string{"rule decision[fail].when", "want bool"}, ErrInvalidProfile},
		{"CEL field type-checked", func(s string) string {
			return strings.Replace(s, "size(failed_evals) > 0", "model.training_compute_flops > 1.0", 1)
		}, []string{"undefined field 'training_compute_flops'"}, ErrInvalidProfile},
		{"expensive CEL rejected", func(s string) string {
			return strings.Replace(s, "size(failed_evals) > 0", "events.all(a, events.all(b, events.all(c, a.type == b.type && b.type == c.type)))", 1)
		}, []string{"estimated cost"}, ErrRuleCost},
		{"deeply nested CEL rejected", func(s string) string {
			return strings.Replace(s, "size(failed_evals) > 0", strings.Repeat("(", 200)+"true"+strings.Repeat(")", 200), 1)
		}, []string{"rule decision[fail].when"}, ErrInvalidProfile},
		{"inference tag needs inference true", func(s string) string { return strings.Replace(s, "inference: true", "inference: false", 1) },
			[]string{"constants.limit.inference", "tag I"}, ErrInvalidProfile},
		{"duplicate ids", func(s string) string { return strings.Replace(s, "id: ok", "id: fail", 1) },
			[]string{`duplicate id "fail"`}, ErrInvalidProfile},
		{"unknown condition", func(s string) string {
			return strings.Replace(s, "    rationale: failed", "    rationale: failed\n    conditions: [nope]", 1)
		}, []string{`unknown condition "nope"`}, ErrInvalidProfile},
		{"unknown tier", func(s string) string {
			return strings.Replace(s, "    judge: point", "    judge: point\n    tiers: [gold]", 1)
		}, []string{`unknown tier "gold"`}, ErrInvalidProfile},
		{"unknown document", func(s string) string {
			return s + "artifacts:\n  - {id: a, title: a, document: memo}\n"
		}, []string{`unknown document "memo"`}, ErrInvalidProfile},
		{"aliases rejected", func(s string) string { return s + "summary: &x hi\nsources: {a: *x}\n" },
			[]string{"aliases are not allowed"}, ErrInvalidProfile},
		{"duplicate keys rejected", func(s string) string { return s + "title: Again\n" }, []string{`duplicate key "title"`}, ErrInvalidProfile},
		{"sequential needs parameters", func(s string) string { return strings.Replace(s, "judge: point", "judge: sequential", 1) },
			[]string{"evaluations[0].delta", "required"}, ErrInvalidProfile},
		{"unknown extends", func(s string) string { return s + "extends: nowhere\n" }, []string{"extends", `resolve "nowhere"`}, ErrInvalidProfile},
		{"not an object", func(string) string { return "- a\n- b\n" }, []string{"test.yaml"}, ErrInvalidProfile},
		{"empty", func(string) string { return "" }, []string{"empty"}, ErrInvalidProfile},
		{"huge file", func(string) string { return strings.Repeat("#", MaxProfileBytes+1) }, []string{"over the"}, ErrInvalidProfile},
		{"deep YAML", func(string) string { return strings.Repeat("[", 100) + strings.Repeat("]", 100) }, []string{"deeper"}, ErrInvalidProfile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("test.yaml", []byte(tc.edit(minimalProfile)), nil)
			if err == nil {
				t.Fatalf("Load succeeded, want error containing %q", tc.want)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Load error %v is not %v", err, tc.wantErr)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load error = %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadProfileOK(t *testing.T) {
	p, err := Load("test.yaml", []byte(minimalProfile), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "test" || !strings.HasPrefix(p.Digest(), "sha256:") || len(p.Digest()) != 71 {
		t.Fatalf("profile %s digest %s", p.ID, p.Digest())
	}
	q, _ := Load("other-name.yaml", []byte(minimalProfile), nil)
	if q.Digest() != p.Digest() {
		t.Errorf("digest depends on the file name: %s vs %s", p.Digest(), q.Digest())
	}
	r, _ := Load("test.yaml", []byte(strings.Replace(minimalProfile, "value: 0.05", "value: 0.06", 1)), nil)
	if r.Digest() == p.Digest() {
		t.Errorf("digest does not change with a constant")
	}
}

func TestExtends(t *testing.T) {
	child := `id: child
title: Child
version: "1"
status: template
extends: test
remove: [e1]
constants:
  limit: {value: 0.1, source: child, tag: I, confidence: low, inference: true}
`
	parent, err := Load("test.yaml", []byte(minimalProfile), nil)
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(id string) (*Profile, error) {
		if id == "test" {
			return parent, nil
		}
		return nil, ErrUnknownProfile
	}
	p, err := Load("child.yaml", []byte(child), resolve)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Evaluations) != 0 || len(p.Decision) != 2 || p.Constants["limit"].Value != 0.1 || parent.Constants["limit"].Value != 0.05 {
		t.Fatalf("merged: evals %d rules %d limit %v (parent %v)", len(p.Evaluations), len(p.Decision), p.Constants["limit"].Value, parent.Constants["limit"].Value)
	}
	// A broken rule inherited from the parent is reported in the parent's file.
	bad := strings.Replace(child, "remove: [e1]", "remove: [limit]", 1)
	bad = strings.Replace(bad, "constants:\n  limit: {value: 0.1, source: child, tag: I, confidence: low, inference: true}\n", "", 1)
	_, err = Load("child.yaml", []byte(bad), resolve)
	if err == nil || !strings.Contains(err.Error(), "test.yaml:18:") || !strings.Contains(err.Error(), `unknown constant "limit"`) {
		t.Fatalf("Load(child removing a used constant) = %v, want the parent's line", err)
	}
}

func TestBuiltinsLintClean(t *testing.T) {
	for _, id := range BuiltinIDs() {
		data, err := BuiltinSource(id)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := Lint("builtin:"+id, data, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			t.Errorf("%s", f)
		}
	}
}

func TestLintFindings(t *testing.T) {
	src := strings.Replace(minimalProfile, "constants:\n", "constants:\n  spare: {value: 3, source: x, tag: M, confidence: low, inference: false}\n", 1)
	src = strings.Replace(src, "  - id: ok\n    outcome: cleared", "  - id: ok\n    outcome: cleared\n    rationale: ok\n  - id: after\n    when: \"true\"\n    outcome: hold", 1)
	src = strings.Replace(src, "threshold: limit", "threshold: limit\n    min_n: 50", 1)
	fs, err := Lint("l.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.String())
	}
	all := strings.Join(got, "\n")
	for _, w := range []string{
		`l.yaml:6: warning: constants.spare: constant "spare" is never used`,
		`warning: evaluations[0].min_n: literal 50 has no provenance`,
		`warning: decision[2]: rule "after" is unreachable: rule "ok" before it always matches`,
	} {
		if !strings.Contains(all, w) {
			t.Errorf("lint = \n%s\nwant %q", all, w)
		}
	}
	fs, _ = Lint("bad.yaml", []byte("id: x\n"), nil)
	if len(fs) == 0 || fs[0].Severity != "error" {
		t.Errorf("Lint(bad) = %v, want errors", fs)
	}
}

func TestLoadEvidence(t *testing.T) {
	data, err := os.ReadFile("testdata/dossier.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := LoadEvidence("dossier.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Model.TrainingComputeFLOP != 1.2e26 || !ev.Market.CANexus || ev.AsOf != day(2026, 6, 1) ||
		!ev.Documents.Framework.Present || ev.Documents.Framework.Date != day(2026, 1, 15) || len(ev.Events) != 3 || len(ev.Metrics) != 0 {
		t.Fatalf("dossier = %+v", ev)
	}
	if !ev.Known["model.training_compute_flop"] || ev.Known["model.bio_sequence_primary"] {
		t.Errorf("known = %v", ev.Known)
	}
	data, _ = os.ReadFile("testdata/evidence.json")
	ev, err = LoadEvidence("evidence.json", data)
	if err != nil {
		t.Fatal(err)
	}
	j := ev.Metrics["jailbreak.attack_success_rate"]
	if j.CI.Method != "wilson" || j.CI.Level != 0.95 || j.CI.High <= j.Rate {
		t.Errorf("interval not filled: %+v", j)
	}
	// A scorer's κ and its interval (negative bounds allowed) load.
	ev, err = LoadEvidence("k.json", []byte(`{"metrics": {"misuse.attack_success_rate": {"flagged": 1, "n": 4, "scorer": {"name": "harm", "kappa": 0.1, "kappa_ci": {"low": -0.2, "high": 0.4, "level": 0.95}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s := ev.Metrics["misuse.attack_success_rate"].Scorer; s == nil || s.KappaCI == nil || s.KappaCI.Low != -0.2 || s.KappaCI.High != 0.4 {
		t.Errorf("scorer = %+v, want κ interval -0.2–0.4", s)
	}
	// A bare dossier: evaluation requirements show as missing.
	dos, _ := LoadEvidence("dossier.yaml", mustRead(t, "testdata/dossier.yaml"))
	p, _ := Builtin("frontier-framework")
	d, err := Decide(dos, p)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := criterion(d.Results[0], "misuse-safeguard"); c.Status != "missing" {
		t.Errorf("bare dossier: misuse-safeguard = %+v, want missing", c)
	}
	// Nested under "dossier".
	wrapped := "dossier:\n  model:\n    training_compute_flop: 3e25\n"
	ev, err = LoadEvidence("w.yaml", []byte(wrapped))
	if err != nil || ev.Model.TrainingComputeFLOP != 3e25 {
		t.Fatalf("wrapped dossier: %v %+v", err, ev)
	}
}

func mustRead(t *testing.T, f string) []byte {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadEvidenceErrors(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []string
	}{
		{"misspelt fact", "model:\n  training_compute_flops: 1e26\n", []string{"e.yaml:2:", "model.training_compute_flops", "unknown field"}},
		{"wrong type", "market:\n  ca_nexus: yes please\n", []string{"e.yaml:2:", "market.ca_nexus"}},
		{"negative compute", "model:\n  training_compute_flop: -1\n", []string{"model.training_compute_flop"}},
		{"bad date", "events:\n  - {type: x, date: yesterday}\n", []string{"events[0].date"}},
		{"flagged above n", `{"metrics": {"misuse.attack_success_rate": {"flagged": 5, "n": 3}}}`, []string{"flagged <= n"}},
		{"bad metric key", `{"metrics": {"misuse": {"flagged": 1, "n": 3}}}`, []string{"e.yaml:1:", "metrics.misuse: invalid name"}},
		{"rate inconsistent", `{"metrics": {"misuse.attack_success_rate": {"flagged": 1, "n": 4, "rate": 0.5}}}`, []string{"not flagged/n"}},
		{"not YAML", "model: [\n", []string{"e.yaml"}},
		{"kappa outside its interval", `{"metrics": {"misuse.attack_success_rate": {"flagged": 1, "n": 4, "scorer": {"name": "harm", "kappa": 0.1, "kappa_ci": {"low": 0.9, "high": 0.95}}}}}`, []string{"e.yaml:1:", "scorer.kappa_ci [0.9, 0.95] does not hold scorer.kappa 0.1"}},
		{"kappa interval without kappa", `{"metrics": {"misuse.attack_success_rate": {"flagged": 1, "n": 4, "scorer": {"name": "harm", "kappa_ci": {"low": 0.7, "high": 0.9}}}}}`, []string{"scorer.kappa_ci without scorer.kappa"}},
		{"kappa interval out of range", `{"metrics": {"misuse.attack_success_rate": {"flagged": 1, "n": 4, "scorer": {"name": "harm", "kappa": 0.6, "kappa_ci": {"low": -2, "high": 0.7}}}}}`, []string{"e.yaml:1:", "metrics.misuse.attack_success_rate.scorer.kappa_ci.low"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadEvidence("e.yaml", []byte(tc.doc))
			if !errors.Is(err, ErrInvalidEvidence) {
				t.Fatalf("LoadEvidence = %v, want ErrInvalidEvidence", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadEvidence error = %v\nwant %q", err, w)
				}
			}
		})
	}
}

func TestEvidenceFromMetrics(t *testing.T) {
	d := &Dossier{Model: Model{TrainingComputeFLOP: 2e26}}
	ev := EvidenceFromMetrics(d, map[string]bool{"model.training_compute_flop": true}, Identity{Name: "m"},
		map[string]MetricValue{"misuse.attack_success_rate": {Flagged: 2, N: 100}}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))
	buf, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	back, err := LoadEvidence("evidence.json", buf)
	if err != nil {
		t.Fatalf("round trip: %v\n%s", err, buf)
	}
	if !back.Known["model.training_compute_flop"] || back.Metrics["misuse.attack_success_rate"].N != 100 || !back.AsOf.Equal(ev.AsOf) {
		t.Errorf("round trip lost data: %+v", back)
	}
	m := ev.Metrics["misuse.attack_success_rate"]
	if m.Rate != 0.02 || m.CI.Method != "wilson" || ev.AsOf.Location() != time.UTC || !ev.Known["model.training_compute_flop"] {
		t.Fatalf("EvidenceFromMetrics = %+v", ev)
	}
}
