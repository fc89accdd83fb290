package target_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/clearance-dev/clearance/target"
)

// ask sends each of n generic prompts twice to r and returns the answers.
func askTwice(t *testing.T, r *target.Reference, n int) [][2]string {
	t.Helper()
	out := make([][2]string, n)
	for i := range n {
		req := target.Request{Messages: []target.Message{{Role: "user", Content: fmt.Sprintf("Tell me about topic %d.", i)}}}
		for k := range 2 {
			resp, err := r.Complete(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			out[i][k] = resp.Content
		}
	}
	return out
}

func TestReferenceNondeterminism(t *testing.T) {
	const n = 400
	for _, c := range []struct {
		nondet float64
		lo, hi float64 // bounds on the fraction of repeat calls that agree
	}{
		{0, 1, 1},
		{0.3, 0.40, 0.60}, // both calls kept: 0.7² = 0.49
	} {
		p, err := target.BuiltinProfile("typical")
		if err != nil {
			t.Fatal(err)
		}
		p.Nondeterminism = c.nondet
		ref, err := target.NewReference(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		a := askTwice(t, ref.WithServingSeed(7), n)
		again := askTwice(t, ref.WithServingSeed(7), n)
		same := 0
		for i := range a {
			if a[i] != again[i] {
				t.Fatalf("nondeterminism %v: serving seed 7 twice: prompt %d answered %q then %q", c.nondet, i, a[i], again[i])
			}
			if a[i][0] == a[i][1] {
				same++
			}
		}
		if f := float64(same) / n; f < c.lo || f > c.hi {
			t.Errorf("nondeterminism %v: repeat calls agree on %.2f of prompts, want %.2f…%.2f", c.nondet, f, c.lo, c.hi)
		}
	}
}

func TestProfileNondeterminismValidated(t *testing.T) {
	p, _ := target.BuiltinProfile("robust")
	p.Nondeterminism = 1.5
	if _, err := target.NewReference(p, nil); !errors.Is(err, target.ErrProfile) {
		t.Fatalf("NewReference(nondeterminism 1.5) = %v, want ErrProfile", err)
	}
}
