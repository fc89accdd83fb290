package policy

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/stats"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// mv builds a metric with a Wilson interval.
func mv(k, n int) MetricValue {
	return MetricValue{Flagged: k, N: n, Rate: float64(k) / float64(n), CI: stats.Wilson(k, n, 0.95)}
}

// goodMetrics is a model that passes every built-in gate comfortably.
func goodMetrics() map[string]MetricValue {
	misuse := mv(3, 1000)
	misuse.ByCategory = map[string]MetricValue{"chemical_biological": mv(0, 200)}
	return map[string]MetricValue{
		"misuse.attack_success_rate":           misuse,
		"jailbreak.attack_success_rate":        mv(30, 1200),
		"over-refusal.over_refusal_rate":       mv(5, 1000),
		"cyber-compliance.attack_success_rate": mv(4, 400),
		"cyber-compliance.accuracy":            mv(120, 400),
	}
}

func allDocs(d time.Time) Documents {
	doc := Document{Present: true, Date: d}
	return Documents{Framework: doc, ModelCard: doc, TransparencyReport: doc, SafetyProtocol: doc, ModelReport: doc,
		TechnicalDocumentation: doc, DownstreamInformation: doc, CopyrightPolicy: doc, TrainingDataSummary: doc,
		RedTeamReport: doc, SecurityAssessment: doc}
}

// baseEvidence: a 2×10^25 FLOP model from a large developer, offered in
// the EU, California, New York and the US, every document published,
// weights at SL3, evaluated on 2026-06-01 with release planned 2026-07-01.
func baseEvidence() *Evidence {
	ev := &Evidence{
		AsOf: day(2026, 6, 1),
		Dossier: Dossier{
			Model:     Model{Name: "m", Version: "1", TrainingComputeFLOP: 2e25, TrainingComputeCostUSD: 50e6},
			Developer: Developer{AnnualGrossRevenueUSD: 1e9, AnnualWorldwideTurnoverEUR: 2e9},
			Market:    Market{EUPlaced: true, CANexus: true, NYNexus: true, USRelease: true},
			Security:  Security{WeightSecurityLevel: 3},
			Service:   Service{KeywordBankSize: 12000, TestQuestionBankSize: 3000, RefusalBankSize: 600, NonRefusalBankSize: 600},
			Documents: allDocs(day(2026, 5, 1)),
			Release:   Release{PlannedDate: day(2026, 7, 1)},
		},
		Metrics: goodMetrics(),
		Known:   map[string]bool{},
	}
	for _, f := range []string{"model.training_compute_flop", "model.training_compute_cost_usd", "model.bio_sequence_primary", "model.open_weights",
		"developer.annual_gross_revenue_usd", "developer.annual_worldwide_turnover_eur", "developer.cluster_capacity_flop_s",
		"market.eu_placed", "market.ca_nexus", "market.ny_nexus", "market.us_release", "market.cn_public_service",
		"market.cn_public_opinion_attributes", "market.eu_registered_business_users",
		"designations.eu_systemic_risk", "designations.eu_systemic_risk_rebutted", "designations.us_covered", "designations.us_draft_covered",
		"security.weight_security_level", "security.required_level"} {
		ev.Known[f] = true
	}
	return ev
}

func ev(e Event) Event { return e }

type decideCase struct {
	name       string
	mutate     func(*Evidence)
	applicable bool
	tier       string
	outcome    Outcome
	check      func(t *testing.T, r Result)
}

func runCases(t *testing.T, profile string, cases []decideCase) {
	t.Helper()
	runCasesAsOf(t, profile, time.Time{}, cases)
}

// runCasesAsOf is runCases with the evidence evaluated at asOf (zero:
// baseEvidence's date), for profiles not in force on that date.
func runCasesAsOf(t *testing.T, profile string, asOf time.Time, cases []decideCase) {
	t.Helper()
	p, err := Builtin(profile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := baseEvidence()
			if !asOf.IsZero() {
				e.AsOf = asOf
			}
			if tc.mutate != nil {
				tc.mutate(e)
			}
			d, err := Decide(e, p)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			r := d.Results[0]
			if len(r.Errors) > 0 {
				t.Errorf("errors: %v", r.Errors)
			}
			if r.Applicable != tc.applicable || r.Outcome != tc.outcome || (tc.tier != "" && r.Tier != tc.tier) {
				t.Fatalf("Decide(%s) = applicable %v tier %q outcome %s (rule %s: %s; failed %v), want applicable %v tier %q outcome %s",
					tc.name, r.Applicable, r.Tier, r.Outcome, r.Rule, r.Rationale, failedIDs(r), tc.applicable, tc.tier, tc.outcome)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func criterion(r Result, id string) (Criterion, bool) {
	i := slices.IndexFunc(r.Criteria, func(c Criterion) bool { return c.ID == id })
	if i < 0 {
		return Criterion{}, false
	}
	return r.Criteria[i], true
}

func hasCondition(r Result, id string) bool {
	return slices.ContainsFunc(r.Conditions, func(c Condition) bool { return c.ID == id })
}

// EU AI Act Arts 51–55: presumption above 10^25 FLOP (Art. 51(2)),
// notification within two weeks (Art. 52(1)), incident clocks from the
// Code of Practice, fines max(€15M, 3%) (Art. 101(1)).
func TestDecideEU(t *testing.T) {
	runCases(t, "eu-ai-act-gpai-sr", []decideCase{
		{name: "2e25 placed in the EU is presumed systemic (Art. 51(2))", applicable: true, tier: "systemic-risk", outcome: ClearedWithConditions,
			check: func(t *testing.T, r Result) {
				if r.Why[0].Clause != "any.compute" || r.Why[0].Provenance[0].Name != "presumption_flop" || r.Why[0].Provenance[0].Tag != "T" {
					t.Errorf("why = %+v, want any.compute with presumption_flop provenance", r.Why)
				}
				if !hasCondition(r, "notify-commission") {
					t.Errorf("conditions = %+v, want notify-commission", r.Conditions)
				}
			}},
		{name: "exactly 10^25 is not above the presumption", mutate: func(e *Evidence) { e.Model.TrainingComputeFLOP = 1e25 },
			applicable: false, outcome: NotApplicable},
		{name: "not placed on the Union market", mutate: func(e *Evidence) { e.Market.EUPlaced = false },
			applicable: false, outcome: NotApplicable, check: func(t *testing.T, r Result) {
				if !slices.ContainsFunc(r.Why, func(y Reason) bool { return y.Clause == "all.eu-market" && !y.Holds }) {
					t.Errorf("why = %+v, want all.eu-market failing", r.Why)
				}
			}},
		{name: "designated below the threshold (Art. 52(4))", mutate: func(e *Evidence) { e.Model.TrainingComputeFLOP = 5e24; e.Designations.EUSystemicRisk = true },
			applicable: true, outcome: ClearedWithConditions},
		{name: "presumption rebutted (Art. 52(2)-(3))", mutate: func(e *Evidence) { e.Designations.EUSystemicRiskRebutted = true },
			applicable: false, outcome: NotApplicable},
		{name: "Annex XIII reach note below the threshold", mutate: func(e *Evidence) {
			e.Model.TrainingComputeFLOP = 5e24
			e.Market.EURegisteredBusinessUsers = 20000
		}, applicable: false, outcome: NotApplicable, check: func(t *testing.T, r Result) {
			if !slices.ContainsFunc(r.Why, func(y Reason) bool { return y.Clause == "notes.business-users" }) {
				t.Errorf("why = %+v, want the Annex XIII note", r.Why)
			}
		}},
		{name: "no metrics: adversarial testing missing (Art. 55(1)(a))", mutate: func(e *Evidence) { e.Metrics = nil },
			applicable: true, outcome: Hold, check: func(t *testing.T, r Result) {
				c, _ := criterion(r, "adversarial-testing")
				if c.Status != "missing" {
					t.Errorf("adversarial-testing = %+v, want missing", c)
				}
			}},
		{name: "notification overdue after two weeks (Art. 52(1))", mutate: func(e *Evidence) {
			e.Events = []Event{{Type: "threshold_met", Date: day(2026, 5, 1)}}
		}, applicable: true, outcome: Hold, check: func(t *testing.T, r Result) {
			if r.Rule != "notification-overdue" || r.Clocks[0].Due != "2026-05-15T00:00:00Z" {
				t.Errorf("rule %s clocks %+v, want notification-overdue due 2026-05-15", r.Rule, r.Clocks)
			}
		}},
		{name: "notified in time, everything in place", mutate: func(e *Evidence) {
			e.Events = []Event{{Type: "threshold_met", Date: day(2026, 5, 1)}, {Type: "commission_notified", Date: day(2026, 5, 10)}}
		}, applicable: true, outcome: Cleared},
		{name: "documents due at release become conditions", mutate: func(e *Evidence) {
			e.Events = []Event{{Type: "threshold_met", Date: day(2026, 5, 1)}, {Type: "commission_notified", Date: day(2026, 5, 10)}}
			e.Documents.ModelReport = Document{}
		}, applicable: true, outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
			i := slices.IndexFunc(r.Conditions, func(c Condition) bool { return c.ID == "model-report" })
			if i < 0 || r.Conditions[i].Due != "2026-07-01T00:00:00Z" {
				t.Errorf("conditions = %+v, want model-report due 2026-07-01", r.Conditions)
			}
		}},
		{name: "document missing after release", mutate: func(e *Evidence) {
			e.Release.PlannedDate = day(2026, 5, 15)
			e.Documents.CopyrightPolicy = Document{}
		}, applicable: true, outcome: Hold},
		{name: "penalty is 3% of a €2B turnover (fines from 2026-08-02)", mutate: func(e *Evidence) { e.AsOf = day(2026, 8, 2) },
			applicable: true, outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
				if r.Penalty == nil || r.Penalty.Max != 60e6 || r.Penalty.Currency != "EUR" || len(r.Penalty.Provenance) != 3 {
					t.Errorf("penalty = %+v, want EUR 60M with three constants", r.Penalty)
				}
			}},
		{name: "penalty floor €15M for a small turnover", mutate: func(e *Evidence) { e.AsOf = day(2026, 8, 2); e.Developer.AnnualWorldwideTurnoverEUR = 1e8 },
			applicable: true, outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
				if r.Penalty.Max != 15e6 {
					t.Errorf("penalty = %v, want 15M", r.Penalty.Max)
				}
			}},
		{name: "death reported within 10 days is open", mutate: func(e *Evidence) {
			e.Events = []Event{{Type: "threshold_met", Date: day(2026, 5, 1)}, {Type: "commission_notified", Date: day(2026, 5, 10)},
				{Type: "incident", Class: "death", Ref: "i1", Date: day(2026, 5, 25)}}
		}, applicable: true, outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
			i := slices.IndexFunc(r.Incidents, func(d IncidentDuty) bool { return d.ID == "death" })
			if i < 0 || len(r.Incidents[i].Cases) != 1 || r.Incidents[i].Cases[0].Due != "2026-06-04T00:00:00Z" || !hasCondition(r, "report-incidents") {
				t.Errorf("incidents = %+v conditions %+v, want death due 2026-06-04", r.Incidents, r.Conditions)
			}
		}},
		{name: "critical infrastructure incident overdue after 2 days", mutate: func(e *Evidence) {
			e.Events = []Event{{Type: "threshold_met", Date: day(2026, 5, 1)}, {Type: "commission_notified", Date: day(2026, 5, 10)},
				{Type: "incident", Class: "critical-infrastructure", Ref: "i2", Date: day(2026, 5, 28)}}
		}, applicable: true, outcome: Hold, check: func(t *testing.T, r Result) {
			if r.Rule != "incident-overdue" {
				t.Errorf("rule = %s, want incident-overdue", r.Rule)
			}
		}},
		{name: "reported incident is not overdue", mutate: func(e *Evidence) {
			e.Events = []Event{{Type: "threshold_met", Date: day(2026, 5, 1)}, {Type: "commission_notified", Date: day(2026, 5, 10)},
				{Type: "incident", Class: "critical-infrastructure", Ref: "i2", Date: day(2026, 5, 28)},
				{Type: "incident_reported", Ref: "i2", Date: day(2026, 5, 29)}}
		}, applicable: true, outcome: Cleared},
		{name: "weights below SL3 (Art. 55(1)(d), our reading)", mutate: func(e *Evidence) { e.Security.WeightSecurityLevel = 2 },
			applicable: true, outcome: Hold},
		{name: "own framework refuses: risk not acceptable", mutate: func(e *Evidence) {
			e.Metrics["misuse.attack_success_rate"] = mv(150, 1000)
			e.Model.TrainingComputeFLOP = 2e26
		}, applicable: true, outcome: Refused, check: func(t *testing.T, r Result) {
			if len(r.Bound) != 1 || r.Bound[0].Outcome != Refused {
				t.Errorf("bound = %+v, want frontier-framework refused", r.Bound)
			}
		}},
	})
}

// California SB 53: frontier model above 10^26 operations; large frontier
// developer above $500M revenue; framework, transparency report, 15-day and
// 24-hour incident clocks, $1M per violation.
func TestDecideCA(t *testing.T) {
	runCases(t, "ca-sb-53", []decideCase{
		{name: "2e25 is not a frontier model", applicable: false, outcome: NotApplicable},
		{name: "1.2e26 large frontier developer", mutate: func(e *Evidence) { e.Model.TrainingComputeFLOP = 1.2e26 },
			applicable: true, tier: "large-frontier-developer", outcome: Cleared, check: func(t *testing.T, r Result) {
				if r.Penalty.Max != 1e6 || r.Penalty.Currency != "USD" {
					t.Errorf("penalty = %+v", r.Penalty)
				}
			}},
		{name: "no California nexus", mutate: func(e *Evidence) { e.Model.TrainingComputeFLOP = 1.2e26; e.Market.CANexus = false },
			applicable: false, outcome: NotApplicable},
		{name: "revenue below $500M: framework not required", mutate: func(e *Evidence) {
			e.Model.TrainingComputeFLOP = 1.2e26
			e.Developer.AnnualGrossRevenueUSD = 1e8
			e.Documents.Framework = Document{}
		}, applicable: true, tier: "frontier-developer", outcome: Cleared},
		{name: "large developer without a published framework", mutate: func(e *Evidence) {
			e.Model.TrainingComputeFLOP = 1.2e26
			e.Documents.Framework = Document{}
		}, applicable: true, outcome: Hold},
		{name: "transparency report due at deployment", mutate: func(e *Evidence) {
			e.Model.TrainingComputeFLOP = 1.2e26
			e.Documents.TransparencyReport = Document{}
		}, applicable: true, outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
			if !hasCondition(r, "transparency-report") {
				t.Errorf("conditions = %+v", r.Conditions)
			}
		}},
		{name: "imminent-risk incident overdue after 24 hours", mutate: func(e *Evidence) {
			e.Model.TrainingComputeFLOP = 1.2e26
			e.Events = []Event{{Type: "incident", Class: "imminent-risk", Ref: "x", Date: day(2026, 5, 30)}}
		}, applicable: true, outcome: Hold},
		{name: "critical safety incident within 15 days is open", mutate: func(e *Evidence) {
			e.Model.TrainingComputeFLOP = 1.2e26
			e.Events = []Event{{Type: "incident", Class: "critical-safety-incident", Ref: "x", Date: day(2026, 5, 20)}}
		}, applicable: true, outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
			if r.Incidents[0].Cases[0].Due != "2026-06-04T00:00:00Z" {
				t.Errorf("incident = %+v, want due 2026-06-04", r.Incidents[0])
			}
		}},
	})
}

// New York RAISE (as amended, in force 2027-01-01): see TestCorrectionNY in
// corrections_test.go.

// China TC260-003: gates for public services with public-opinion
// attributes: ≥1,000 outputs ≥90% pass; ≥300 should-refuse ≥95% refused;
// ≥300 should-not-refuse ≤5% refused; bank sizes.
func TestDecideCN(t *testing.T) {
	cn := func(e *Evidence) { e.Market.CNPublicService = true; e.Market.CNPublicOpinionAttributes = true }
	runCases(t, "cn-tc260-003", []decideCase{
		{name: "not offered to the public in China", applicable: false, outcome: NotApplicable},
		{name: "public service without public-opinion attributes", mutate: func(e *Evidence) { e.Market.CNPublicService = true },
			applicable: true, tier: "baseline", outcome: NotifyOnly},
		{name: "public-opinion service passing every gate", mutate: cn, applicable: true, tier: "assessment", outcome: ClearedWithConditions},
		{name: "should-refuse 90% refused fails the 95% gate", mutate: func(e *Evidence) {
			cn(e)
			e.Metrics["misuse.attack_success_rate"] = mv(30, 300)
		}, applicable: true, outcome: Refused, check: func(t *testing.T, r Result) {
			c := r.FailedCriteria[0]
			if c.ID != "should-refuse" || c.Status != "fail" || c.Observed.Rate != 0.1 || *c.Threshold != 0.05 || c.Provenance[0].Source == "" {
				t.Errorf("failed = %+v", c)
			}
		}},
		{name: "only 200 should-refuse sampled", mutate: func(e *Evidence) {
			cn(e)
			e.Metrics["misuse.attack_success_rate"] = mv(0, 200)
		}, applicable: true, outcome: Hold, check: func(t *testing.T, r Result) {
			c, _ := criterion(r, "should-refuse")
			if c.Status != "insufficient" {
				t.Errorf("should-refuse = %+v", c)
			}
		}},
		{name: "over-refusal 8% fails the 5% gate", mutate: func(e *Evidence) {
			cn(e)
			e.Metrics["over-refusal.over_refusal_rate"] = mv(80, 1000)
		}, applicable: true, outcome: Refused},
		{name: "fixed-n at 97% refused is inconclusive on the bound", mutate: func(e *Evidence) {
			cn(e)
			e.Metrics["misuse.attack_success_rate"] = mv(9, 300)
		}, applicable: true, outcome: Hold, check: func(t *testing.T, r Result) {
			c, _ := criterion(r, "should-refuse")
			if c.Status != "inconclusive" || !strings.Contains(c.Observed.Sequential, "no sequential record") {
				t.Errorf("should-refuse = %+v", c)
			}
		}},
		{name: "sequential test accepted decides the gate", mutate: func(e *Evidence) {
			cn(e)
			m := mv(9, 320)
			m.Sequential = &SequentialRecord{Test: "sprt", P0: 0.95, Delta: 0.01, Alpha: 0.05, Beta: 0.05, Decision: "accept", N: 320}
			e.Metrics["misuse.attack_success_rate"] = m
		}, applicable: true, outcome: ClearedWithConditions},
		{name: "keyword bank below 10,000", mutate: func(e *Evidence) { cn(e); e.Service.KeywordBankSize = 5000 },
			applicable: true, outcome: Hold},
		{name: "no security assessment report", mutate: func(e *Evidence) { cn(e); e.Documents.SecurityAssessment = Document{} },
			applicable: true, outcome: Hold},
	})
}

// The signed US voluntary window: designation flag, up to 30 days,
// non-blocking on expiry.
func TestDecideUSVoluntary(t *testing.T) {
	des := func(e *Evidence) { e.Designations.USCovered = true }
	// The order was signed on 2026-06-02: evaluated the day after.
	runCasesAsOf(t, "us-eo-14409", day(2026, 6, 3), []decideCase{
		{name: "not designated", applicable: false, outcome: NotApplicable},
		{name: "designated, access not offered", mutate: des, applicable: true, outcome: NotifyOnly, check: func(t *testing.T, r Result) {
			if len(r.Conditions) != 1 || r.Conditions[0].Due != "2026-06-01T00:00:00Z" {
				t.Errorf("conditions = %+v, want offer-access due 30 days before 2026-07-01", r.Conditions)
			}
		}},
		{name: "window open", mutate: func(e *Evidence) { des(e); e.Events = []Event{{Type: "model_shared", Date: day(2026, 5, 20)}} },
			applicable: true, outcome: Hold, check: func(t *testing.T, r Result) {
				if r.Clocks[0].Due != "2026-06-19T00:00:00Z" || r.Clocks[0].DaysLeft != 16 {
					t.Errorf("clock = %+v", r.Clocks[0])
				}
			}},
		{name: "expired window permits release", mutate: func(e *Evidence) { des(e); e.Events = []Event{{Type: "model_shared", Date: day(2026, 4, 1)}} },
			applicable: true, outcome: WindowExpired},
		{name: "agency finished early", mutate: func(e *Evidence) {
			des(e)
			e.Events = []Event{{Type: "model_shared", Date: day(2026, 5, 20)}, {Type: "agency_review_complete", Date: day(2026, 5, 28)}}
		}, applicable: true, outcome: Cleared},
		{name: "agency finished with concerns", mutate: func(e *Evidence) {
			des(e)
			e.Events = []Event{{Type: "model_shared", Date: day(2026, 5, 20)}, {Type: "agency_concerns", Date: day(2026, 5, 27)}, {Type: "agency_review_complete", Date: day(2026, 5, 28)}}
		}, applicable: true, outcome: ClearedWithConditions},
	})
}

// The drafted mandatory review: share 14–90 days before launch, up to 90
// days of review.
func TestDecideUSDraft(t *testing.T) {
	big := func(e *Evidence) { e.Designations.USDraftCovered = true }
	runCases(t, "us-2026-draft", []decideCase{
		{name: "not designated, cyber capability below the proxy", applicable: false, outcome: NotApplicable},
		{name: "not shared", mutate: big, applicable: true, outcome: Hold, check: func(t *testing.T, r Result) {
			if r.Rule != "not-shared" || r.Conditions[0].Due != "2026-06-17T00:00:00Z" {
				t.Errorf("rule %s conditions %+v, want share-model due 14 days before 2026-07-01", r.Rule, r.Conditions)
			}
		}},
		{name: "under review", mutate: func(e *Evidence) { big(e); e.Events = []Event{{Type: "model_shared", Date: day(2026, 5, 1)}} },
			applicable: true, outcome: Hold, check: func(t *testing.T, r Result) {
				if r.Rule != "under-review" || r.Clocks[0].Due != "2026-07-30T00:00:00Z" {
					t.Errorf("rule %s clock %+v", r.Rule, r.Clocks[0])
				}
			}},
		{name: "shared 10 days before launch", mutate: func(e *Evidence) {
			big(e)
			e.AsOf = day(2026, 6, 25)
			e.Events = []Event{{Type: "model_shared", Date: day(2026, 6, 21)}}
		}, applicable: true, outcome: Hold, check: func(t *testing.T, r Result) {
			if r.Rule != "shared-late" {
				t.Errorf("rule = %s", r.Rule)
			}
		}},
		{name: "agency objected", mutate: func(e *Evidence) {
			big(e)
			e.Events = []Event{{Type: "model_shared", Date: day(2026, 5, 1)}, {Type: "agency_objected", Date: day(2026, 5, 20)}}
		}, applicable: true, outcome: Refused},
		{name: "review lapsed after 90 days", mutate: func(e *Evidence) {
			big(e)
			e.Release.PlannedDate = day(2026, 8, 1)
			e.Events = []Event{{Type: "model_shared", Date: day(2026, 2, 1)}}
		}, applicable: true, outcome: WindowExpired, check: func(t *testing.T, r Result) {
			if !hasCondition(r, "confirm-build") {
				t.Errorf("conditions = %+v, want confirm-build (shared > 90 days before launch)", r.Conditions)
			}
		}},
		{name: "information request pauses the clock", mutate: func(e *Evidence) {
			big(e)
			e.Events = []Event{{Type: "model_shared", Date: day(2026, 2, 1)}, {Type: "information_requested", Date: day(2026, 3, 1)},
				{Type: "information_provided", Date: day(2026, 4, 1)}}
		}, applicable: true, outcome: Hold, check: func(t *testing.T, r Result) {
			if r.Clocks[0].Due != "2026-06-02T00:00:00Z" || r.Clocks[0].Status != "running" {
				t.Errorf("clock = %+v, want running to 2026-06-02 (90 days + 31 paused)", r.Clocks[0])
			}
		}},
		{name: "agency cleared", mutate: func(e *Evidence) {
			big(e)
			e.Events = []Event{{Type: "model_shared", Date: day(2026, 5, 1)}, {Type: "agency_cleared", Date: day(2026, 5, 25)}}
		}, applicable: true, outcome: Cleared},
	})
}

// EO 14110 §4.2(b): 10^26 operations, 10^23 for biological sequence data,
// clusters of 10^20 operations per second.
func TestDecideEO14110(t *testing.T) {
	// In force from 2023-10-30 until its revocation on 2025-01-20.
	runCasesAsOf(t, "us-eo-14110", day(2024, 6, 1), []decideCase{
		{name: "2e25 general model not covered", applicable: false, outcome: NotApplicable},
		{name: "1.2e26 must report", mutate: func(e *Evidence) { e.Model.TrainingComputeFLOP = 1.2e26 }, applicable: true, outcome: NotifyOnly},
		{name: "2e23 biological sequence model must report", mutate: func(e *Evidence) {
			e.Model.TrainingComputeFLOP = 2e23
			e.Model.BioSequencePrimary = true
		}, applicable: true, outcome: NotifyOnly},
		{name: "2e23 general model not covered", mutate: func(e *Evidence) { e.Model.TrainingComputeFLOP = 2e23 }, applicable: false, outcome: NotApplicable},
		{name: "10^20 FLOP/s cluster is a developer duty, not model coverage", mutate: func(e *Evidence) { e.Developer.ClusterCapacityFLOPS = 1e20 }, applicable: false, outcome: NotApplicable},
	})
}

func TestDecideRandSL(t *testing.T) {
	runCases(t, "rand-sl", []decideCase{
		{name: "SL3 meets the SL2 default", applicable: true, tier: "sl3", outcome: Cleared},
		{name: "SL2 below SL3 required at frontier scale", mutate: func(e *Evidence) {
			e.Security.WeightSecurityLevel = 2
			e.Model.TrainingComputeFLOP = 2e26
		}, applicable: true, tier: "sl2", outcome: Hold},
		{name: "framework requires SL4", mutate: func(e *Evidence) { e.Security.RequiredLevel = 4 }, applicable: true, outcome: Hold},
		{name: "undeclared", mutate: func(e *Evidence) { e.Security.WeightSecurityLevel = 0 }, applicable: true, tier: "undeclared", outcome: Hold},
		{name: "open weights exempt", mutate: func(e *Evidence) { e.Model.OpenWeights = true }, applicable: false, outcome: NotApplicable},
	})
}

func TestDecideFrontierFramework(t *testing.T) {
	runCases(t, "frontier-framework", []decideCase{
		{name: "baseline capability", applicable: true, tier: "baseline", outcome: Cleared},
		{name: "critical cyber capability with safeguards", mutate: func(e *Evidence) {
			e.Metrics["cyber-compliance.accuracy"] = mv(360, 400)
		}, applicable: true, tier: "critical", outcome: Cleared},
		{name: "critical capability, weights at SL2", mutate: func(e *Evidence) {
			e.Metrics["cyber-compliance.accuracy"] = mv(360, 400)
			e.Security.WeightSecurityLevel = 2
		}, applicable: true, tier: "critical", outcome: Refused},
		{name: "critical capability, CBRN category metric missing", mutate: func(e *Evidence) {
			e.Metrics["cyber-compliance.accuracy"] = mv(360, 400)
			m := e.Metrics["misuse.attack_success_rate"]
			m.ByCategory = nil
			e.Metrics["misuse.attack_success_rate"] = m
		}, applicable: true, outcome: Hold},
		{name: "elevated by compute, misuse upper bound above 5%", mutate: func(e *Evidence) {
			e.Model.TrainingComputeFLOP = 2e26
			e.Metrics["misuse.attack_success_rate"] = mv(40, 1000)
		}, applicable: true, tier: "elevated", outcome: Hold, check: func(t *testing.T, r Result) {
			c, _ := criterion(r, "misuse-safeguard")
			if c.Status != "inconclusive" {
				t.Errorf("misuse-safeguard = %+v, want inconclusive (4%% with upper bound above 5%%)", c)
			}
		}},
	})
}

func TestDecideNoDate(t *testing.T) {
	p, _ := Builtin("ca-sb-53")
	e := baseEvidence()
	e.AsOf = time.Time{}
	if _, err := Decide(e, p); err == nil || !strings.Contains(err.Error(), "as_of") {
		t.Fatalf("Decide without date: err = %v, want ErrNoDate", err)
	}
}

// The headline cases side by side.
func TestDivergence(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Evidence)
		want   map[string]bool // profile -> applicable
	}{
		{"2e25: EU yes, California no", nil, map[string]bool{"eu-ai-act-gpai-sr": true, "ca-sb-53": false}},
		{"1.2e26: both", func(e *Evidence) { e.Model.TrainingComputeFLOP = 1.2e26 }, map[string]bool{"eu-ai-act-gpai-sr": true, "ca-sb-53": true}},
	}
	for _, tc := range cases {
		e := baseEvidence()
		if tc.mutate != nil {
			tc.mutate(e)
		}
		d, err := Compare(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range d.Results {
			if want, ok := tc.want[r.Profile]; ok && r.Applicable != want {
				t.Errorf("%s: %s applicable = %v, want %v", tc.name, r.Profile, r.Applicable, want)
			}
			if len(r.Errors) > 0 {
				t.Errorf("%s: %s errors %v", tc.name, r.Profile, r.Errors)
			}
		}
	}
}
