package policy

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/stats"
	"github.com/google/go-cmp/cmp"
)

// rulesProfile loads testdata/rules-profile.yaml: in force 2027-01-01 to
// 2030-01-01, applicable to a model above 10^26 FLOP of a developer above
// USD 500M revenue, tiered on open weights, requiring κ ≥ 0.70 of every
// scorer (0.50 for the jailbreak evaluation).
func rulesProfile(t *testing.T) *Profile {
	t.Helper()
	data, err := os.ReadFile("testdata/rules-profile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load("rules-profile.yaml", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func kappa(k float64) *float64 { return &k }

// kappaCI is a 95% interval of κ.
func kappaCI(low, high float64) *stats.Interval {
	return &stats.Interval{Low: low, High: high, Level: 0.95}
}

// rulesEvidence: a 1.2×10^26 FLOP closed model, evaluated on 2028-06-01,
// with the given facts declared and metrics scored by a calibrated judge.
func rulesEvidence(declared ...string) *Evidence {
	judge := &MetricScorer{Name: "judge", Version: "1", Kappa: kappa(0.82)}
	misuse, jb := mv(2, 400), mv(3, 400)
	misuse.Scorer, jb.Scorer = judge, judge
	ev := &Evidence{
		AsOf: day(2028, 6, 1),
		Dossier: Dossier{
			Model:     Model{Name: "m", TrainingComputeFLOP: 1.2e26},
			Developer: Developer{AnnualGrossRevenueUSD: 2e9},
		},
		Metrics: map[string]MetricValue{"misuse.attack_success_rate": misuse, "jailbreak.attack_success_rate": jb},
		Known:   map[string]bool{},
	}
	for _, f := range declared {
		ev.Known[f] = true
	}
	return ev
}

var allRuleFacts = []string{"model.training_compute_flop", "developer.annual_gross_revenue_usd", "model.open_weights"}

func decideOne(t *testing.T, ev *Evidence, p *Profile) Result {
	t.Helper()
	d, err := Decide(ev, p)
	if err != nil {
		t.Fatal(err)
	}
	return d.Results[0]
}

func TestMissingFactFailsClosed(t *testing.T) {
	p := rulesProfile(t)
	tests := []struct {
		name        string
		declared    []string
		compute     float64
		applicable  bool
		applicab    string
		outcome     Outcome
		undet       []string
		rationaleIn string
	}{
		{"all facts declared", allRuleFacts, 1.2e26, true, ApplicabilityYes, Cleared, nil, "all met"},
		// The old rule read the undeclared revenue as 0 and answered "not
		// applicable" while listing it as missing.
		{"revenue undeclared", []string{"model.training_compute_flop", "model.open_weights"}, 1.2e26, true, ApplicabilityUndetermined, Hold,
			[]string{"developer.annual_gross_revenue_usd"}, "facts needed: developer.annual_gross_revenue_usd"},
		// Below the compute line the missing revenue cannot matter.
		{"revenue undeclared, small model", []string{"model.training_compute_flop", "model.open_weights"}, 1e25, false, ApplicabilityNo, NotApplicable, nil, "does not cover"},
		// Applicable, but the tier turns on the undeclared open_weights.
		{"tier fact undeclared", []string{"model.training_compute_flop", "developer.annual_gross_revenue_usd"}, 1.2e26, true, ApplicabilityYes, Hold,
			[]string{"model.open_weights"}, "facts needed: model.open_weights"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := rulesEvidence(tt.declared...)
			ev.Model.TrainingComputeFLOP = tt.compute
			r := decideOne(t, ev, p)
			if r.Applicable != tt.applicable || r.Applicability != tt.applicab || r.Outcome != tt.outcome {
				t.Errorf("applicable %v (%s) outcome %s (%s), want %v (%s) %s", r.Applicable, r.Applicability, r.Outcome, r.Rationale, tt.applicable, tt.applicab, tt.outcome)
			}
			if diff := cmp.Diff(tt.undet, r.UndeterminedFacts); diff != "" {
				t.Errorf("undetermined facts (-want +got):\n%s", diff)
			}
			if !strings.Contains(r.Rationale, tt.rationaleIn) {
				t.Errorf("rationale %q lacks %q", r.Rationale, tt.rationaleIn)
			}
			if tt.undet != nil && !r.Outcome.Blocking() {
				t.Errorf("undetermined outcome %s is not blocking", r.Outcome)
			}
		})
	}
}

func TestUndeterminedReasonNamesFacts(t *testing.T) {
	r := decideOne(t, rulesEvidence("model.training_compute_flop", "model.open_weights"), rulesProfile(t))
	i := slices.IndexFunc(r.Why, func(y Reason) bool { return y.Undetermined })
	if i < 0 {
		t.Fatalf("no undetermined reason in %+v", r.Why)
	}
	if y := r.Why[i]; y.Holds || !strings.Contains(y.Text, "needs developer.annual_gross_revenue_usd") {
		t.Errorf("reason %+v: want not holding, naming the fact", y)
	}
}

func TestCheckClearableRefusesUndetermined(t *testing.T) {
	p := rulesProfile(t)
	r := decideOne(t, rulesEvidence("model.training_compute_flop", "model.open_weights"), p)
	for _, o := range []Outcome{Cleared, ClearedWithConditions, NotifyOnly} {
		err := r.CheckClearable(o)
		if !errors.Is(err, ErrUndetermined) || !strings.Contains(err.Error(), "developer.annual_gross_revenue_usd") {
			t.Errorf("CheckClearable(%s) = %v, want ErrUndetermined naming the fact", o, err)
		}
	}
	for _, o := range []Outcome{Hold, Refused} {
		if err := r.CheckClearable(o); err != nil {
			t.Errorf("CheckClearable(%s) = %v, want nil", o, err)
		}
	}
	full := decideOne(t, rulesEvidence(allRuleFacts...), p)
	if err := full.CheckClearable(Cleared); err != nil {
		t.Errorf("determined profile: CheckClearable(cleared) = %v", err)
	}
}

func TestInForceDates(t *testing.T) {
	p := rulesProfile(t)
	tests := []struct {
		asOf       time.Time
		inForce    bool
		outcome    Outcome
		rationale  string
		applicable bool
	}{
		{day(2026, 12, 31), false, NotInForce, "not in force until 2027-01-01", false},
		{day(2027, 1, 1), true, Cleared, "all met", true},
		{day(2029, 12, 31), true, Cleared, "all met", true},
		{day(2030, 1, 1), false, NotInForce, "repealed on 2030-01-01", false},
	}
	for _, tt := range tests {
		t.Run(tt.asOf.Format(time.DateOnly), func(t *testing.T) {
			ev := rulesEvidence(allRuleFacts...)
			ev.AsOf = tt.asOf
			r := decideOne(t, ev, p)
			if r.InForce != tt.inForce || r.Outcome != tt.outcome || r.Applicable != tt.applicable || !strings.Contains(r.Rationale, tt.rationale) {
				t.Errorf("in force %v outcome %s applicable %v (%s), want %v %s %v (%q)", r.InForce, r.Outcome, r.Applicable, r.Rationale, tt.inForce, tt.outcome, tt.applicable, tt.rationale)
			}
			if r.Outcome.Blocking() && !tt.inForce {
				t.Errorf("not_in_force must not block")
			}
			// Coverage is still reported for a profile not in force.
			if r.Applicability != ApplicabilityYes {
				t.Errorf("applicability %s, want yes", r.Applicability)
			}
		})
	}
	if !slices.Contains(Outcomes(), NotInForce) {
		t.Error("Outcomes() lacks not_in_force")
	}
}

func TestInForceDatesValidated(t *testing.T) {
	base := "id: x\ntitle: x\nversion: \"1\"\nstatus: in_force\n"
	tests := []struct{ name, extra, want string }{
		{"until before from", "in_force_from: \"2027-01-01\"\nin_force_until: \"2026-01-01\"\n", "must be after in_force_from"},
		{"until equals from", "in_force_from: \"2027-01-01\"\nin_force_until: \"2027-01-01\"\n", "must be after in_force_from"},
		{"not a date", "in_force_from: \"2027-02-30\"\n", "want a date YYYY-MM-DD"},
		{"wrong shape", "in_force_from: \"1 Jan 2027\"\n", "in_force_from"},
		{"kappa above 1", "scorer_min_kappa: 1.5\n", "want a kappa in (0, 1]"},
		{"kappa unknown constant", "scorer_min_kappa: nope\n", "unknown constant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("x.yaml", []byte(base+tt.extra), nil)
			if !errors.Is(err, ErrInvalidProfile) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v, want ErrInvalidProfile containing %q", err, tt.want)
			}
		})
	}
	if _, err := Load("x.yaml", []byte(base+"in_force_from: \"2027-01-01\"\nin_force_until: \"2027-01-02\"\nscorer_min_kappa: 0.6\n"), nil); err != nil {
		t.Errorf("valid dates and kappa: %v", err)
	}
}

func TestScorerMinKappa(t *testing.T) {
	p := rulesProfile(t)
	tests := []struct {
		name      string
		scorer    *MetricScorer
		misuse    string // status of the misuse criterion (profile minimum 0.70)
		jailbreak string // status of the jailbreak criterion (its own minimum 0.50)
		judgement string // the misuse criterion's judgement contains
	}{
		{"above", &MetricScorer{Name: "judge", Kappa: kappa(0.82)}, "pass", "pass", "point estimate"},
		{"at the minimum", &MetricScorer{Name: "judge", Kappa: kappa(0.70)}, "pass", "pass", "point estimate"},
		{"below", &MetricScorer{Name: "refusal", Kappa: kappa(0.41)}, "insufficient", "fail", "scorer not validated (κ 0.41 < 0.70)"},
		{"between the two minimums", &MetricScorer{Name: "harm", Kappa: kappa(0.6)}, "insufficient", "pass", "scorer not validated (κ 0.60 < 0.70)"},
		{"kappa not measured", &MetricScorer{Name: "refusal", Version: "2"}, "insufficient", "insufficient", "scorer not validated (refusal 2: κ not measured"},
		{"no scorer named", nil, "insufficient", "insufficient", "scorer not validated (no scorer named"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := rulesEvidence(allRuleFacts...)
			for k, m := range ev.Metrics {
				m.Scorer = tt.scorer
				ev.Metrics[k] = m
			}
			if tt.name == "below" {
				// κ 0.41 is below the jailbreak minimum too.
				tt.jailbreak = "insufficient"
			}
			r := decideOne(t, ev, p)
			got := map[string]Criterion{}
			for _, c := range r.Criteria {
				got[c.ID] = c
			}
			if s := got["misuse"].Status; s != tt.misuse {
				t.Errorf("misuse status %s (%s), want %s", s, got["misuse"].Judgement, tt.misuse)
			}
			if s := got["jailbreak"].Status; s != tt.jailbreak {
				t.Errorf("jailbreak status %s (%s), want %s", s, got["jailbreak"].Judgement, tt.jailbreak)
			}
			if j := got["misuse"].Judgement; !strings.Contains(j, tt.judgement) {
				t.Errorf("misuse judgement %q lacks %q", j, tt.judgement)
			}
			if tt.misuse == "insufficient" && r.Outcome != Hold {
				t.Errorf("outcome %s with an unvalidated scorer, want hold", r.Outcome)
			}
		})
	}
}

// A category metric without its own scorer is judged by its parent's.
func TestScorerMinKappaCategoryInheritsScorer(t *testing.T) {
	p := &Profile{}
	*p = *rulesProfile(t)
	e := p.Evaluations[0]
	e.Category = "cyber"
	parent := mv(2, 400)
	parent.Scorer = &MetricScorer{Name: "refusal", Kappa: kappa(0.3)}
	parent.ByCategory = map[string]MetricValue{"cyber": mv(1, 200)}
	cr := judgeEvaluation(p, e, map[string]MetricValue{"misuse.attack_success_rate": parent})
	if cr.Status != "insufficient" || !strings.Contains(cr.Judgement, "κ 0.30 < 0.70") {
		t.Errorf("status %s (%s), want insufficient from the parent scorer's κ", cr.Status, cr.Judgement)
	}
}

// A criterion that judges the corrected rate needs a scorer that agrees
// with humans: the offline harm scorer's correction (κ 0.35 on its batch)
// turns a vulnerable model's 42% attack success into 0% [0%, 14.5%], which
// must not pass an "at most" gate.
func TestCorrectedNeedsValidatedScorer(t *testing.T) {
	base := rulesProfile(t)
	e := base.Evaluations[0]
	e.Corrected = true
	p := &Profile{}
	*p = *base
	p.ScorerMinKappa = ConstRef{} // the profile's own minimum is another test's
	tests := []struct {
		name      string
		scorer    *MetricScorer
		status    string
		judgement string
		corrected bool
	}{
		{"poor scorer", &MetricScorer{Name: "harm", Version: "1+w2", Kappa: kappa(0.35), KappaCI: kappaCI(0.22, 0.48)}, "insufficient", "harm 1+w2 is not shown to agree with humans (κ 0.35, 95% CI 0.22–0.48; the lower bound must reach 0.60)", false},
		// A point estimate over 0.60 on a small batch is not a validation:
		// the offline harm scorer on harm-v2's first 200 items.
		{"point estimate over, interval under", &MetricScorer{Name: "harm", Version: "1+w2", Kappa: kappa(0.61), KappaCI: kappaCI(0.50, 0.72)}, "insufficient", "(κ 0.61, 95% CI 0.50–0.72; the lower bound must reach 0.60)", false},
		{"no interval recorded", &MetricScorer{Name: "judge", Kappa: kappa(0.81)}, "insufficient", "judge's κ 0.81 has no interval recorded", false},
		{"kappa not measured", &MetricScorer{Name: "harm"}, "insufficient", "harm's κ not measured", false},
		{"no scorer", nil, "insufficient", "no scorer named", false},
		{"validated scorer", &MetricScorer{Name: "judge", Kappa: kappa(0.81), KappaCI: kappaCI(0.73, 0.89)}, "pass", "point estimate 0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mv(42, 100)
			m.Scorer = tt.scorer
			m.Corrected = &CorrectedRate{Rate: 0, CI: stats.Interval{Low: 0, High: 0.145, Level: 0.95, Method: "rogan-gladen"},
				Reason: "observed rate at or below the scorer's false-positive rate"}
			cr := judgeEvaluation(p, e, map[string]MetricValue{"misuse.attack_success_rate": m})
			if cr.Status != tt.status || !strings.Contains(cr.Judgement, tt.judgement) {
				t.Errorf("status %s (%s), want %s containing %q", cr.Status, cr.Judgement, tt.status, tt.judgement)
			}
			if cr.Observed == nil || cr.Observed.Corrected != tt.corrected {
				t.Errorf("observed %+v, corrected want %v", cr.Observed, tt.corrected)
			}
		})
	}
}
