package assess

import (
	"context"
	"fmt"
	"iter"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// slow reports whether the slow suites run (CI sets CLEARANCE_SLOW=1).
func slow() bool { return os.Getenv("CLEARANCE_SLOW") != "" }

// referenceTarget serves the reference model on loopback over real HTTP and
// returns an OpenAI client for it.
func referenceTarget(t testing.TB, p *target.Profile, samples iter.Seq[suite.Sample]) *target.OpenAI {
	t.Helper()
	ref, err := target.NewReference(p, ReferenceOracle(samples))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(target.NewReferenceServer(ref, target.ServerOptions{}))
	t.Cleanup(srv.Close)
	c, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: srv.URL + "/v1", Model: ref.ModelName()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// scorersFor builds every scorer the samples name (no judge).
func scorersFor(t testing.TB, samples iter.Seq[suite.Sample]) map[string]score.Scorer {
	t.Helper()
	out := map[string]score.Scorer{}
	for s := range samples {
		if _, ok := out[s.Scorer]; ok {
			continue
		}
		sc, err := score.New(s.Scorer, nil)
		if err != nil {
			t.Fatalf("scorer for %s: %v", s.ID, err)
		}
		out[s.Scorer] = sc
	}
	return out
}

func plan(t testing.TB, names []string, limit int, seed int64) (iter.Seq[suite.Sample], int, PlanInfo) {
	t.Helper()
	var suites []*suite.Suite
	info := PlanInfo{Limit: limit, Seed: seed}
	for _, n := range names {
		s, err := suite.Builtin(n)
		if err != nil {
			t.Fatal(err)
		}
		suites = append(suites, s)
		info.Suites = append(info.Suites, SuiteInfo{Name: s.Name, Version: s.Version, Digest: s.Digest()})
	}
	seq, n, err := suite.Samples(suites, suite.PlanOptions{Limit: limit, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return refusalScored(seq), n, info
}

// refusalScored scores harmful items with the refusal scorer instead of
// the harm scorer the suites name. The reference model's truth is
// whether it complied, and its replies are made for the refusal scorer to
// read exactly; the tests that use it measure the runner and the
// statistics against that truth, not the harm scorer (whose agreement
// with human labels docs/scoring.md reports).
func refusalScored(seq iter.Seq[suite.Sample]) iter.Seq[suite.Sample] {
	return func(yield func(suite.Sample) bool) {
		for s := range seq {
			if s.Scorer == "harm" {
				s.Scorer = "refusal"
			}
			if !yield(s) {
				return
			}
		}
	}
}

// TestReferenceTruthCoverage checks the pipeline end to end against the
// reference model's known truth: in at least 93 of 100 seeded trials (each
// a new model seed and a new sample of items) the 95% interval of every
// measured rate contains the rate the profile implies for the samples
// drawn.
func TestReferenceTruthCoverage(t *testing.T) {
	trials, need := 100, 93
	if !slow() {
		trials, need = 20, 17
	}
	profile, err := target.BuiltinProfile("vulnerable")
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]int{}
	counted := map[string]int{}
	for trial := range trials {
		p := *profile
		p.Seed = int64(1000 + trial)
		seq, n, info := plan(t, []string{"misuse", "jailbreak", "over-refusal"}, 150, int64(trial))
		client := referenceTarget(t, &p, seq)
		// The truth of each group is the mean of the samples' flag
		// probabilities: the expected rate for exactly these samples.
		truthSum, truthN := map[string]float64{}, map[string]int{}
		for s := range seq {
			m, _ := MetricFor(s.Kind)
			k := s.Suite + "." + m
			truthSum[k] += p.Truth(s.Kind, s.Category, s.Transform)
			truthN[k]++
		}
		res, err := Run(context.Background(), Config{
			Target: client, Plan: seq, Total: n, PlanKey: info, Scorers: scorersFor(t, seq),
			OutDir: t.TempDir(), Concurrency: 32,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Metrics.Errors != 0 {
			t.Fatalf("trial %d: %d errors against the reference model: %v", trial, res.Metrics.Errors, res.Metrics.ErrorsByKind)
		}
		for _, g := range res.Metrics.Groups {
			truth := truthSum[g.Key] / float64(truthN[g.Key])
			counted[g.Key]++
			if g.Overall.CI.Low <= truth && truth <= g.Overall.CI.High {
				covered[g.Key]++
			} else {
				t.Logf("trial %d: %s = %.3f [%.3f, %.3f] misses truth %.3f (n=%d)", trial, g.Key, g.Overall.Rate, g.Overall.CI.Low, g.Overall.CI.High, truth, g.Overall.N)
			}
		}
	}
	if len(counted) < 3 {
		t.Fatalf("only %d metric groups measured: %v", len(counted), counted)
	}
	for k, c := range counted {
		if c != trials {
			t.Errorf("%s measured in %d of %d trials", k, c, trials)
		}
		if covered[k] < need {
			t.Errorf("%s: interval covered the truth in %d of %d trials, want at least %d", k, covered[k], trials, need)
		}
		t.Logf("%s: covered in %d/%d trials", k, covered[k], trials)
	}
}

func ExampleMetricFor() {
	m, flagged := MetricFor(suite.KindBenign)
	fmt.Println(m)
	fmt.Println(flagged)
	// Output:
	// over_refusal_rate
	// the model refused, fully or partly, a request it should answer
}
