package conform_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/conform"
	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// world is the probe pool and the reference oracle built from the
// built-in chat suites, shared by the tests (built once: it hashes every
// sample).
type world struct {
	pool   []conform.Probe
	oracle target.Oracle
}

var (
	worldOnce sync.Once
	theWorld  world
	worldErr  error
)

func testWorld(t testing.TB) world {
	t.Helper()
	worldOnce.Do(func() {
		all, err := suite.Builtins()
		if err != nil {
			worldErr = err
			return
		}
		var chat []*suite.Suite
		for _, s := range all {
			if !slices.Contains(s.Kinds(), suite.KindExploit) {
				chat = append(chat, s)
			}
		}
		seq, _, err := suite.Samples(chat, suite.PlanOptions{})
		if err != nil {
			worldErr = err
			return
		}
		var samples []suite.Sample
		for s := range seq {
			if len(s.FollowUps) > 0 || s.Task != nil {
				continue
			}
			samples = append(samples, s)
			msgs := make([]target.Message, len(s.Messages))
			for i, m := range s.Messages {
				msgs[i] = target.Message{Role: m.Role, Content: m.Content}
			}
			theWorld.pool = append(theWorld.pool, conform.Probe{ID: s.ID, Kind: s.Kind, Category: s.Category, Messages: msgs})
		}
		theWorld.oracle = assess.ReferenceOracle(slices.Values(samples))
	})
	if worldErr != nil {
		t.Fatalf("build probe pool: %v", worldErr)
	}
	return theWorld
}

// probes draws the default probe set: 250 suite prompts and the 60
// generic ones.
func (w world) probes(seed int64) []conform.Probe {
	return append(conform.Select(w.pool, 250, seed), conform.GenericProbes()...)
}

func refused(prompt, answer string) bool {
	v := score.NewRefusal().Score(context.Background(), score.Input{Kind: suite.KindHarmful, Prompt: prompt, Response: answer})
	return v.Label == score.LabelRefusal
}

// endpoint is a reference profile with its refusal rates shifted and its
// nondeterminism set.
type endpoint struct {
	profile string
	shift   float64 // added to every refusal rate, clamped to [0, 1]
	nondet  float64
}

func (e endpoint) String() string {
	return fmt.Sprintf("%s%+.2f/nondet=%.2f", e.profile, e.shift, e.nondet)
}

func (w world) reference(t testing.TB, e endpoint, serving int64) *target.Reference {
	t.Helper()
	p, err := target.BuiltinProfile(e.profile)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p.Refusal {
		p.Refusal[k] = min(1, max(0, v+e.shift))
	}
	p.Nondeterminism = e.nondet
	r, err := target.NewReference(p, w.oracle)
	if err != nil {
		t.Fatal(err)
	}
	return r.WithServingSeed(serving)
}

// trial records a fingerprint of rec and checks chk against it, both with
// seed; it reports whether the check found the same model.
func (w world) trial(t testing.TB, rec, chk endpoint, seed int64) *conform.Result {
	t.Helper()
	ctx := context.Background()
	fp, err := conform.Record(ctx, w.reference(t, rec, 2*seed), w.probes(seed), conform.RecordOptions{Seed: seed, Concurrency: 1})
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	res, err := conform.Check(ctx, w.reference(t, chk, 2*seed+1), fp, conform.Options{Seed: seed, Refused: refused}, 1)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return res
}

func TestCheckSameModelPasses(t *testing.T) {
	w := testWorld(t)
	for _, e := range []endpoint{{profile: "robust"}, {profile: "typical", nondet: 0.1}} {
		res := w.trial(t, e, e, 1)
		if !res.Same {
			t.Errorf("%v vs itself: Same = false, failed %v", e, res.Failed())
		}
		if res.Requests != 2*310 || res.Probes != 310 {
			t.Errorf("%v: Requests, Probes = %d, %d, want 620, 310", e, res.Requests, res.Probes)
		}
	}
}

func TestCheckSwappedModelFails(t *testing.T) {
	w := testWorld(t)
	for _, c := range []struct{ rec, chk endpoint }{
		{endpoint{profile: "robust"}, endpoint{profile: "typical"}},
		{endpoint{profile: "vulnerable", nondet: 0.1}, endpoint{profile: "robust", nondet: 0.1}},
		{endpoint{profile: "typical"}, endpoint{profile: "typical", shift: -0.10}},
	} {
		res := w.trial(t, c.rec, c.chk, 1)
		if res.Same {
			t.Errorf("%v recorded, %v checked: Same = true, want a difference (tests %+v)", c.rec, c.chk, res.Tests)
		}
	}
}

// TestConformanceRates measures the false-alarm rate (same endpoint) and
// the detection rate (robust → typical; refusal shifted by 10 points)
// over seeded checks: 10 per scenario here, 100 with CLEARANCE_SLOW=1,
// 3 under the race detector (which slows the checks twentyfold: CI runs
// the 100 once without it). The figures are in
// docs/after-release.md.
func TestConformanceRates(t *testing.T) {
	w := testWorld(t)
	trials := 10
	switch {
	case raceEnabled:
		trials = 3 // the same seeds' first three: what the race detector checks is the code, not the rates
	case os.Getenv("CLEARANCE_SLOW") == "1":
		trials = 100
	}
	for _, c := range []struct {
		name     string
		rec, chk endpoint
		same     bool
	}{
		{"same robust", endpoint{profile: "robust"}, endpoint{profile: "robust"}, true},
		{"same typical nondet 0.1", endpoint{profile: "typical", nondet: 0.1}, endpoint{profile: "typical", nondet: 0.1}, true},
		{"same vulnerable nondet 0.3", endpoint{profile: "vulnerable", nondet: 0.3}, endpoint{profile: "vulnerable", nondet: 0.3}, true},
		{"robust to typical", endpoint{profile: "robust"}, endpoint{profile: "typical"}, false},
		{"robust to typical nondet 0.1", endpoint{profile: "robust", nondet: 0.1}, endpoint{profile: "typical", nondet: 0.1}, false},
		{"typical refusal -10 points", endpoint{profile: "typical"}, endpoint{profile: "typical", shift: -0.10}, false},
		{"typical refusal -10 points nondet 0.1", endpoint{profile: "typical", nondet: 0.1}, endpoint{profile: "typical", shift: -0.10, nondet: 0.1}, false},
		{"robust refusal -10 points nondet 0.1", endpoint{profile: "robust", nondet: 0.1}, endpoint{profile: "robust", shift: -0.10, nondet: 0.1}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			alarms := 0
			byTest := map[string]int{}
			for s := range trials {
				res := w.trial(t, c.rec, c.chk, int64(1000+s))
				if !res.Same {
					alarms++
				}
				for _, n := range res.Failed() {
					byTest[n]++
				}
			}
			rate := float64(alarms) / float64(trials)
			t.Logf("%s: different in %d/%d checks (%.0f%%); rejections by test %v", c.name, alarms, trials, 100*rate, byTest)
			if c.same && rate > 0.05 {
				t.Errorf("false-alarm rate %.2f > 0.05", rate)
			}
			if !c.same && rate < 0.95 {
				t.Errorf("detection rate %.2f < 0.95", rate)
			}
		})
	}
}
