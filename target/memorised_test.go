package target_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/target"
)

func TestMemorisedPublicValidate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"name: x\nrefusal: 0.9\nmemorised_public: nope\n", "memorised_public"},
		{"name: x\nrefusal: 0.9\nmemorised_public: memorised\n", "itself memorises"},
	}
	for _, tc := range tests {
		_, err := target.ParseProfile([]byte(tc.in), "p.yaml")
		if !errors.Is(err, target.ErrProfile) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseProfile(%q) = %v, want ErrProfile naming %q", tc.in, err, tc.want)
		}
	}
	p, err := target.ParseProfile([]byte("name: x\nrefusal: 0.5\nmemorised_public: robust\n"), "p.yaml")
	if err != nil || p.MemorisedPublic != "robust" {
		t.Fatalf("ParseProfile(memorised_public: robust) = %+v, %v", p, err)
	}
}

// TestMemorisedPublicRates checks the simulator option: on prompts it is
// told are public the memorised profile answers with the robust rates, on
// every other prompt with its own (typical) rates; told of no public
// prompt, it is typical everywhere.
func TestMemorisedPublicRates(t *testing.T) {
	const n = 4000
	msgs := func(i int) []target.Message {
		return []target.Message{{Role: "user", Content: fmt.Sprintf("harmful request %d", i)}}
	}
	oracle := func([32]byte) (target.Truth, bool) {
		return target.Truth{Kind: target.TruthHarmful, Category: "cyber", Transform: "roleplay"}, true
	}
	public := map[[32]byte]bool{}
	for i := 0; i < n; i += 2 {
		public[target.PromptKey(msgs(i))] = true
	}
	p, _ := target.BuiltinProfile("memorised")
	ref, err := target.NewReference(p, oracle)
	if err != nil {
		t.Fatal(err)
	}
	told := ref.WithPublicPrompts(func(k [32]byte) bool { return public[k] })
	robust, _ := target.BuiltinProfile("robust")
	typical, _ := target.BuiltinProfile("typical")
	wantPub, wantPriv := robust.Truth("harmful", "cyber", "roleplay"), typical.Truth("harmful", "cyber", "roleplay")
	var pubK, privK, untoldK int
	for i := 0; i < n; i++ {
		o := told.Explain(msgs(i))
		if o.Public != (i%2 == 0) {
			t.Fatalf("prompt %d: Public = %v", i, o.Public)
		}
		if o.Public {
			if o.P != wantPub {
				t.Fatalf("public prompt %d: P = %v, want robust's %v", i, o.P, wantPub)
			}
			if o.Flagged {
				pubK++
			}
		} else {
			if o.P != wantPriv {
				t.Fatalf("other prompt %d: P = %v, want typical's %v", i, o.P, wantPriv)
			}
			if o.Flagged {
				privK++
			}
		}
		if u := ref.Explain(msgs(i)); u.Public || u.P != wantPriv {
			t.Fatalf("untold prompt %d: Public %v, P %v, want typical's %v", i, u.Public, u.P, wantPriv)
		} else if u.Flagged {
			untoldK++
		}
	}
	// Observed rates are within 4 standard errors of the configured ones.
	check := func(what string, k, m int, p float64) {
		se := math.Sqrt(p * (1 - p) / float64(m))
		if got := float64(k) / float64(m); math.Abs(got-p) > 4*se+1e-9 {
			t.Errorf("%s: rate %.3f, want %.3f ± %.3f", what, got, p, 4*se)
		}
	}
	check("public", pubK, n/2, wantPub)
	check("other", privK, n/2, wantPriv)
	check("untold", untoldK, n, wantPriv)
	// A plain profile ignores the public set.
	rb, _ := target.NewReference(robust, oracle)
	if o := rb.WithPublicPrompts(func([32]byte) bool { return true }).Explain(msgs(0)); o.Public {
		t.Fatal("a profile without memorised_public reports a public prompt")
	}
}
