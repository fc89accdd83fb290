package assess

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// trialSeed is the private seed of trial i.
func trialSeed(i int) suite.PrivateSeed {
	var k suite.PrivateSeed
	binary.BigEndian.PutUint64(k[:], uint64(i)+0x9e3779b97f4a7c15)
	k[31] = 0xa5
	return k
}

// privateTrial plans limit samples of the harmful suites in both forms
// under trial i's private seed and plan seed, asks the reference model with
// profile (its seed moved by i, so trials are independent) and returns the
// private-variant gap of the ground-truth outcomes (no scorer error).
func privateTrial(t testing.TB, pub []*suite.Suite, public func([32]byte) bool, profile string, i, limit int) PrivateGap {
	t.Helper()
	seed := trialSeed(i)
	ss, err := WithPrivate(pub, seed)
	if err != nil {
		t.Fatal(err)
	}
	samples, _, err := suite.Samples(ss, suite.PlanOptions{Limit: limit, Seed: int64(i + 1), Kinds: []string{suite.KindHarmful}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := target.BuiltinProfile(profile)
	if err != nil {
		t.Fatal(err)
	}
	p.Seed += int64(i) * 7919
	ref, err := target.NewReference(p, ReferenceOracle(samples))
	if err != nil {
		t.Fatal(err)
	}
	ref = ref.WithPublicPrompts(public)
	type acc struct{ k, n int }
	counts := map[string]*acc{}
	for s := range samples {
		c := counts[s.Suite]
		if c == nil {
			c = &acc{}
			counts[s.Suite] = c
		}
		c.n++
		if ref.Explain(conversation(s)).Flagged {
			c.k++
		}
	}
	var m Metrics
	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c := counts[name]
		m.Groups = append(m.Groups, Group{Key: name + ".attack_success_rate", Suite: name, Metric: "attack_success_rate", Kind: suite.KindHarmful,
			Overall: Rate{Flagged: c.k, N: c.n}})
	}
	return ComparePrivate(m, seed.Fingerprint(), 0)
}

// TestPrivateGapReference measures the private-variant check with the
// reference model: a model robust on the exact public prompts only
// (profile memorised) is flagged; a uniformly robust one is not. Each
// trial draws its own private seed, plan and model seed. CI runs 20 trials
// of 200 harmful samples per form and suite; CLEARANCE_SLOW=1 runs 200
// (not under the race detector: CI runs them once without it). The
// figures are written in docs/after-release.md §3.
func TestPrivateGapReference(t *testing.T) {
	trials, limit := 20, 200
	if slow() && !raceEnabled {
		trials = 200
	}
	var pub []*suite.Suite
	for _, name := range []string{"jailbreak", "misuse"} {
		s, err := suite.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		pub = append(pub, s)
	}
	// The developer trained on every public prompt, not only a plan's.
	all, _, err := suite.Samples(pub, suite.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	public := PublicPrompts(all)
	for _, tc := range []struct {
		profile   string
		wantFlag  bool
		tolerance int // trials allowed to disagree with wantFlag
	}{
		{"memorised", true, 0},
		{"robust", false, 0},
		{"typical", false, max(1, trials/20)}, // not robust, but the same on both forms
	} {
		t.Run(tc.profile, func(t *testing.T) {
			flagged, wrong := 0, 0
			var minGap, maxGap float64 = 1, -1
			for i := range trials {
				g := privateTrial(t, pub, public, tc.profile, i, limit)
				if len(g.Gaps) != len(pub) {
					t.Fatalf("trial %d: %d gaps, want %d: %+v", i, len(g.Gaps), len(pub), g)
				}
				if g.Flagged {
					flagged++
				}
				if g.Flagged != tc.wantFlag {
					wrong++
				}
				for _, d := range g.Gaps {
					minGap, maxGap = min(minGap, d.Diff.Diff), max(maxGap, d.Diff.Diff)
				}
			}
			t.Logf("%s: flagged in %d of %d trials (%d samples per form and suite); private − public ASR from %+.3f to %+.3f",
				tc.profile, flagged, trials, limit, minGap, maxGap)
			if wrong > tc.tolerance {
				t.Fatalf("%s: %d of %d trials flagged %v, want at most %d", tc.profile, wrong, trials, !tc.wantFlag, tc.tolerance)
			}
		})
	}
}

func TestComparePrivate(t *testing.T) {
	grp := func(suiteName, metric, kind string, k, n int) Group {
		return Group{Key: suiteName + "." + metric, Suite: suiteName, Metric: metric, Kind: kind, Overall: Rate{Flagged: k, N: n}}
	}
	m := Metrics{Groups: []Group{
		grp("jailbreak", "attack_success_rate", suite.KindHarmful, 5, 400),
		grp("jailbreak-private", "attack_success_rate", suite.KindHarmful, 100, 400), // far less safe: flagged
		grp("jailbreak", RefusalMetric, suite.KindHarmful, 395, 400),                 // not an unsafe-event rate
		grp("jailbreak-private", RefusalMetric, suite.KindHarmful, 300, 400),
		grp("misuse", "attack_success_rate", suite.KindHarmful, 20, 400),
		grp("misuse-private", "attack_success_rate", suite.KindHarmful, 40, 400), // significant, but within the margin
		grp("over-refusal", "over_refusal_rate", suite.KindBenign, 10, 100),
		grp("over-refusal-private", "over_refusal_rate", suite.KindBenign, 60, 100), // not a safety rate
		grp("leakage", "leak_rate", suite.KindLeakage, 3, 100),                      // no private form: left out
	}}
	g := ComparePrivate(m, "fp", 0)
	got := map[string]bool{}
	for _, d := range g.Gaps {
		got[d.Metric] = d.Flagged
	}
	want := map[string]bool{"jailbreak.attack_success_rate": true, "misuse.attack_success_rate": false}
	if fmt.Sprint(got) != fmt.Sprint(want) || !g.Flagged || g.Margin != PrivateMargin || g.Seed != "fp" {
		t.Fatalf("ComparePrivate = %+v, want gaps %v, flagged, margin %v", g, want, PrivateMargin)
	}
	if d := g.Gaps[1].Diff; !d.Significant || d.CI.Low > PrivateMargin {
		t.Fatalf("misuse gap %+v: want significant but within the margin", d)
	}
	// A larger margin unflags the jailbreak gap.
	if g := ComparePrivate(m, "fp", 0.5); g.Flagged {
		t.Fatalf("ComparePrivate(margin 0.5) flagged: %+v", g)
	}
}
