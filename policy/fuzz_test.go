package policy

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func FuzzLoadProfile(f *testing.F) {
	for _, id := range BuiltinIDs() {
		data, err := BuiltinSource(id)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimalProfile))
	f.Add([]byte("id: x\ntitle: x\nversion: '1'\nstatus: draft\ndecision: [{id: a, outcome: hold, rationale: r, when: 'events.all(a, events.all(b, true))'}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Load("fuzz.yaml", data, nil)
		if err != nil {
			var pe *ProfileError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidProfile) || len(pe.Problems) == 0 {
				t.Fatalf("Load error %v is not a *ProfileError with problems", err)
			}
			return
		}
		// A profile that loads must evaluate without panicking.
		if _, err := Decide(baseEvidence(), p); err != nil {
			t.Fatalf("Decide: %v", err)
		}
		lintProfile(p)
	})
}

// FuzzRule compiles arbitrary CEL as a decision rule and runs it.
func FuzzRule(f *testing.F) {
	for _, s := range []string{
		"size(failed_evals) > 0", "model.training_compute_flop > consts.limit", "events.exists(e, e.type == 'x')",
		"metrics['misuse.attack_success_rate'].rate < 0.1", "clocks.x.expired", "[1,2,3].map(x, x * 2).size() > 2",
		"'a' + 'b' == 'ab'", "math.greatest(1.0, 2.0) > 1.0", "events.all(a, events.all(b, a.date < b.date))",
		"string(now) != ''", "1 / 0 == 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		src := strings.Replace(minimalProfile, `"size(failed_evals) > 0"`, quoteYAML(expr), 1)
		p, err := Load("rule.yaml", []byte(src), nil)
		if err != nil {
			if !errors.Is(err, ErrInvalidProfile) {
				t.Fatalf("Load error %v does not wrap ErrInvalidProfile", err)
			}
			return
		}
		d, err := Decide(baseEvidence(), p)
		if err != nil {
			t.Fatalf("Decide: %v", err)
		}
		if r := d.Results[0]; len(r.Errors) > 0 && r.Outcome != Hold {
			t.Fatalf("rule error %v gave outcome %s, want hold (fail closed)", r.Errors, r.Outcome)
		}
	})
}

func quoteYAML(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s) + `"`
}

func FuzzLoadEvidence(f *testing.F) {
	f.Add(mustReadF(f, "testdata/evidence.json"))
	f.Add(mustReadF(f, "testdata/dossier.yaml"))
	f.Add([]byte(`{"metrics": {"misuse.attack_success_rate": {"flagged": 1, "n": 2, "by_category": {"x": {"flagged": 3, "n": 1}}}}}`))
	f.Add([]byte("events:\n  - {type: incident, class: death, date: 2026-01-01}\n"))
	profiles, err := Builtins()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := LoadEvidence("fuzz.json", data)
		if err != nil {
			if !errors.Is(err, ErrInvalidEvidence) {
				t.Fatalf("LoadEvidence error %v does not wrap ErrInvalidEvidence", err)
			}
			return
		}
		if ev.AsOf.IsZero() {
			ev.AsOf = day(2026, 6, 1)
		}
		d, err := Decide(ev, profiles...)
		if err != nil {
			t.Fatalf("Decide: %v", err)
		}
		for _, r := range d.Results {
			if len(r.Errors) > 0 {
				t.Fatalf("%s: rule errors on valid evidence: %v", r.Profile, r.Errors)
			}
		}
		if _, err := MakePlan(ev, profiles...); err != nil {
			t.Fatalf("MakePlan: %v", err)
		}
	})
}

func mustReadF(f *testing.F, name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
