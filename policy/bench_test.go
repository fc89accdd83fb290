package policy

import "testing"

func BenchmarkLoadProfile(b *testing.B) {
	data, err := BuiltinSource("eu-ai-act-gpai-sr")
	if err != nil {
		b.Fatal(err)
	}
	frontier, err := Builtin("frontier-framework")
	if err != nil {
		b.Fatal(err)
	}
	_ = frontier
	for b.Loop() {
		if _, err := Load("eu.yaml", data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecideAll(b *testing.B) {
	ps, err := Builtins()
	if err != nil {
		b.Fatal(err)
	}
	ev := baseEvidence()
	for b.Loop() {
		if _, err := Decide(ev, ps...); err != nil {
			b.Fatal(err)
		}
	}
}
