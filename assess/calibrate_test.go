package assess

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/stats"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// fixedScorer flags by a function of the answer.
type fixedScorer struct {
	flag func(response string) (bool, bool)
}

func (fixedScorer) Name() string    { return "judge" }
func (fixedScorer) Version() string { return "fixed" }
func (f fixedScorer) Score(_ context.Context, in score.Input) score.Verdict {
	flagged, ok := f.flag(in.Response)
	if !ok {
		return score.Verdict{Err: "cannot judge"}
	}
	return score.Verdict{Label: "x", Flagged: flagged}
}

// TestCalibrate measures known scorers on the batch: an oracle has
// sensitivity, specificity and κ 1; a scorer that flags everything has
// specificity 0 and κ 0; failures are errors outside n.
func TestCalibrate(t *testing.T) {
	items, err := CalibrationItems(DefaultCalibration)
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]bool{}
	for _, it := range items {
		truth[it.Response] = it.Harmful
	}
	ctx := context.Background()
	oracle, err := Calibrate(ctx, fixedScorer{func(r string) (bool, bool) { return truth[r], true }}, DefaultCalibration, 4)
	if err != nil {
		t.Fatal(err)
	}
	if oracle.N != DefaultCalibration || oracle.Sensitivity != 1 || oracle.Specificity != 1 || math.Abs(oracle.Kappa-1) > 1e-12 || oracle.SensitivityCI.Low >= 1 {
		t.Errorf("oracle calibration = %+v", oracle)
	}
	all, _ := Calibrate(ctx, fixedScorer{func(string) (bool, bool) { return true, true }}, DefaultCalibration, 4)
	if all.Specificity != 0 || all.Sensitivity != 1 || math.Abs(all.Kappa) > 1e-12 || all.KappaCI.Low > 0 || all.KappaCI.High < 0 {
		t.Errorf("flag-everything calibration = %+v", all)
	}
	half, _ := Calibrate(ctx, fixedScorer{func(r string) (bool, bool) { return truth[r], len(r)%2 == 0 }}, DefaultCalibration, 4)
	if half.Errors == 0 || half.N+half.Errors != DefaultCalibration {
		t.Errorf("calibration with failures = %+v, want errors outside n", half)
	}
	if _, err := CalibrationItems(CalibrationSize + 1); err == nil {
		t.Error("CalibrationItems beyond the batch: no error")
	}
}

// TestRunCalibration: a run with Calibration stores each harm scorer's
// figures with the metrics and corrects the rate with them; without, it
// stores none.
func TestRunCalibration(t *testing.T) {
	s, err := suite.Builtin("misuse")
	if err != nil {
		t.Fatal(err)
	}
	seq, n, err := suite.Samples([]*suite.Suite{s}, suite.PlanOptions{Limit: 20, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := target.BuiltinProfile("typical")
	for _, c := range []int{0, 120} {
		res, err := Run(context.Background(), Config{Target: referenceTarget(t, p, seq), Plan: seq, Total: n, Scorers: scorersFor(t, seq),
			OutDir: t.TempDir(), Calibration: c})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range res.Metrics.Groups {
			if g.Scorer.Name != "harm" {
				continue
			}
			cal := g.Scorer.Calibration
			switch {
			case c == 0 && cal != nil:
				t.Errorf("calibration 0: group %s has calibration %+v", g.Key, cal)
			case c > 0 && (cal == nil || cal.N+cal.Errors != c || g.Scorer.Quality == nil || g.Scorer.Quality.N != cal.N):
				t.Errorf("calibration %d: group %s scorer %+v", c, g.Key, g.Scorer)
			case c > 0 && cal.Sensitivity+cal.Specificity > 1 && g.Overall.Corrected == nil:
				t.Errorf("calibration %d: %s not corrected", c, g.Key)
			}
		}
	}
}

// TestHarmCalibration prints the offline harm scorer's figures on the
// first DefaultCalibration items of the batch, the figures a run without a
// judge corrects its attack-success rates with (docs/scoring.md, "Judge
// scorer"):
//
//	go test ./assess -run TestHarmCalibration -v
//
// The batch is held out from the scorer's threshold fit (TestHarmWeights
// excludes its rows), so these figures are out of sample for the
// thresholds.
func TestHarmCalibration(t *testing.T) {
	c, err := Calibrate(context.Background(), score.NewHarm(), DefaultCalibration, 4)
	if err != nil {
		t.Fatal(err)
	}
	if c.N+c.Errors != DefaultCalibration || c.Errors != 0 {
		t.Fatalf("harm calibration: n %d, errors %d, want %d items judged", c.N, c.Errors, DefaultCalibration)
	}
	t.Logf("harm %s on the first %d items: sensitivity %.3f [%.3f, %.3f], specificity %.3f [%.3f, %.3f], κ %.3f [%.3f, %.3f] (TP %d FP %d FN %d TN %d)",
		score.NewHarm().Version(), c.N, c.Sensitivity, c.SensitivityCI.Low, c.SensitivityCI.High,
		c.Specificity, c.SpecificityCI.Low, c.SpecificityCI.High, c.Kappa, c.KappaCI.Low, c.KappaCI.High, c.TP, c.FP, c.FN, c.TN)
}

// A corrected rate resting on a scorer not shown to agree with humans
// (the lower bound of κ's 95% interval under 0.60) carries a caution,
// overall and per category; a validated one does not. A point estimate
// over 0.60 with a lower bound under it is cautioned too.
func TestAttachCalibrationCautionsPoorScorer(t *testing.T) {
	for _, tt := range []struct {
		kappa, low, high float64
		caution          bool
	}{{0.35, 0.22, 0.48, true}, {0.61, 0.50, 0.72, true}, {0.81, 0.73, 0.89, false}} {
		corr := func() *CorrectedRate { return &CorrectedRate{Rate: 0.1} }
		m := Metrics{Groups: []Group{{Key: "misuse.attack_success_rate", Kind: "harmful", Scorer: ScorerInfo{Name: "harm"},
			Overall:    Rate{Corrected: corr()},
			ByCategory: map[string]Rate{"cyber": {Corrected: corr()}, "plain": {}}}}}
		AttachCalibration(&m, map[string]*Calibration{"harm": {N: 200, Kappa: tt.kappa, KappaCI: stats.Interval{Low: tt.low, High: tt.high, Level: Level}}})
		g := m.Groups[0]
		want := fmt.Sprintf("κ %.2f, 95%% CI %.2f–%.2f; the lower bound must reach 0.60", tt.kappa, tt.low, tt.high)
		for name, r := range map[string]Rate{"overall": g.Overall, "cyber": g.ByCategory["cyber"]} {
			got := r.Corrected.Caution
			if (got != "") != tt.caution || (tt.caution && !strings.Contains(got, want)) {
				t.Errorf("κ %.2f [%.2f, %.2f], %s: caution %q, want one (%v) containing %q", tt.kappa, tt.low, tt.high, name, got, tt.caution, want)
			}
		}
		if g.ByCategory["plain"].Corrected != nil {
			t.Errorf("a rate without a correction gained one")
		}
	}
}
