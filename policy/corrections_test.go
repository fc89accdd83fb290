package policy

import (
	"slices"
	"strings"
	"testing"
)

// Tests for the corrections of issue 13 ("Corrections to the profiles"),
// each against the built-in profile through Decide.

func why(r Result, clause string) bool {
	return slices.ContainsFunc(r.Why, func(y Reason) bool { return y.Clause == clause && y.Holds })
}

// nyEvidence moves the base evidence into 2027, after the amended RAISE
// Act took effect, with a 1.2×10^26 frontier model.
func nyEvidence(e *Evidence) {
	e.AsOf = day(2027, 2, 1)
	e.Release.PlannedDate = day(2027, 3, 1)
	e.Model.TrainingComputeFLOP = 1.2e26
	e.Events = []Event{{Type: "ny_registered", Date: day(2027, 1, 5)}}
}

// Correction 1: ny-raise models the amended Act (in force 2027-01-01):
// >10^26 operations with no compute-cost test, >$500M revenue for large
// developers, 72 h / 24 h incidents to the DFS office, $1M/$3M penalties for
// large developers only, registration, no deployment-prohibition gate.
func TestCorrectionNY(t *testing.T) {
	penalty := func(max float64) func(*testing.T, Result) {
		return func(t *testing.T, r Result) {
			if r.Penalty == nil || r.Penalty.Max != max {
				t.Errorf("penalty = %+v, want max %v", r.Penalty, max)
			}
			if r.Penalty != nil && max == 0 && r.Penalty.Subsequent != 0 {
				t.Errorf("penalty = %+v, want no repeat maximum where no first violation is penalised", r.Penalty)
			}
		}
	}
	runCases(t, "ny-raise", []decideCase{
		{name: "before 2027-01-01 the amended Act is not in force", mutate: func(e *Evidence) {
			nyEvidence(e)
			e.AsOf = day(2026, 12, 31)
		}, applicable: false, outcome: NotInForce},
		{name: "exactly 10^26 is not above the line", mutate: func(e *Evidence) { nyEvidence(e); e.Model.TrainingComputeFLOP = 1e26 },
			applicable: false, outcome: NotApplicable},
		{name: "just above 10^26 with $0 compute cost is covered (no cost test)", mutate: func(e *Evidence) {
			nyEvidence(e)
			e.Model.TrainingComputeFLOP = 1.0000001e26
			e.Model.TrainingComputeCostUSD = 0
		}, applicable: true, tier: "large-frontier-developer", outcome: Cleared, check: func(t *testing.T, r Result) {
			penalty(1e6)(t, r)
			if r.Penalty.Subsequent != 3e6 {
				t.Errorf("subsequent = %v, want 3M", r.Penalty.Subsequent)
			}
			if len(r.Incidents) != 2 || r.Incidents[0].Deadline != "72 hours" || r.Incidents[1].Deadline != "24 hours" {
				t.Errorf("incidents = %+v, want 72 hours and 24 hours", r.Incidents)
			}
			if r.Incidents[0].To != "the office in the New York Department of Financial Services" {
				t.Errorf("incident recipient = %q, want the DFS office", r.Incidents[0].To)
			}
		}},
		{name: "revenue exactly $500M is not large: no penalty", mutate: func(e *Evidence) { nyEvidence(e); e.Developer.AnnualGrossRevenueUSD = 5e8 },
			applicable: true, tier: "frontier-developer", outcome: Cleared, check: penalty(0)},
		{name: "revenue just above $500M is large: $1M", mutate: func(e *Evidence) { nyEvidence(e); e.Developer.AnnualGrossRevenueUSD = 5e8 + 1 },
			applicable: true, tier: "large-frontier-developer", outcome: Cleared, check: penalty(1e6)},
		{name: "non-large developer needs no framework nor internal-use summary", mutate: func(e *Evidence) {
			nyEvidence(e)
			e.Developer.AnnualGrossRevenueUSD = 1e8
			e.Documents.Framework = Document{}
		}, applicable: true, tier: "frontier-developer", outcome: Cleared, check: func(t *testing.T, r Result) {
			for _, d := range r.Disclosures {
				if d.ID == "internal-use-summary" || d.ID == "framework" {
					t.Errorf("disclosure %s listed for a non-large developer", d.ID)
				}
			}
		}},
		{name: "large developer without a framework holds (§1421(1))", mutate: func(e *Evidence) {
			nyEvidence(e)
			e.Documents.Framework = Document{}
		}, applicable: true, tier: "large-frontier-developer", outcome: Hold, check: func(t *testing.T, r Result) {
			if !slices.ContainsFunc(r.Disclosures, func(d DisclosureDue) bool { return d.ID == "internal-use-summary" && d.Cite == "§1422(2)" }) {
				t.Errorf("disclosures = %+v, want the quarterly internal-use summary", r.Disclosures)
			}
		}},
		{name: "no deployment-prohibition gate: own framework refusing does not refuse", mutate: func(e *Evidence) {
			nyEvidence(e)
			e.Metrics["jailbreak.attack_success_rate"] = mv(600, 1200)
		}, applicable: true, outcome: Cleared},
		{name: "safety incident overdue after 72 hours", mutate: func(e *Evidence) {
			nyEvidence(e)
			e.Events = append(e.Events, Event{Type: "incident", Class: "safety-incident", Ref: "y", Date: day(2027, 1, 28)})
		}, applicable: true, outcome: Hold},
		{name: "imminent-risk incident within 24 hours is open", mutate: func(e *Evidence) {
			nyEvidence(e)
			e.Events = append(e.Events, Event{Type: "incident", Class: "imminent-risk", Ref: "z", Date: day(2027, 2, 1)})
		}, applicable: true, outcome: ClearedWithConditions},
		{name: "not registered with the DFS office: condition", mutate: func(e *Evidence) { nyEvidence(e); e.Events = nil },
			applicable: true, outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
				if !hasCondition(r, "register") {
					t.Errorf("conditions = %+v, want register", r.Conditions)
				}
			}},
	})
}

// Correction 2: SB 53's penalties and the duty to follow one's own
// framework bind large frontier developers only.
func TestCorrectionCA(t *testing.T) {
	frontier := func(e *Evidence) { e.Model.TrainingComputeFLOP = 1.2e26 }
	refusing := func(e *Evidence) { e.Metrics["jailbreak.attack_success_rate"] = mv(600, 1200) }
	runCases(t, "ca-sb-53", []decideCase{
		{name: "exactly 10^26 is not a frontier model", mutate: func(e *Evidence) { e.Model.TrainingComputeFLOP = 1e26 },
			applicable: false, outcome: NotApplicable},
		{name: "revenue exactly $500M: not large, no penalty", mutate: func(e *Evidence) { frontier(e); e.Developer.AnnualGrossRevenueUSD = 5e8 },
			applicable: true, tier: "frontier-developer", outcome: Cleared, check: func(t *testing.T, r Result) {
				if r.Penalty == nil || r.Penalty.Max != 0 {
					t.Errorf("penalty = %+v, want 0 for a non-large developer", r.Penalty)
				}
			}},
		{name: "revenue just above $500M: large, $1M", mutate: func(e *Evidence) { frontier(e); e.Developer.AnnualGrossRevenueUSD = 5e8 + 1 },
			applicable: true, tier: "large-frontier-developer", outcome: Cleared, check: func(t *testing.T, r Result) {
				if r.Penalty == nil || r.Penalty.Max != 1e6 {
					t.Errorf("penalty = %+v, want 1M", r.Penalty)
				}
			}},
		{name: "large developer departing from its framework is refused (§22757.12(a))", mutate: func(e *Evidence) { frontier(e); refusing(e) },
			applicable: true, tier: "large-frontier-developer", outcome: Refused},
		{name: "non-large developer: framework duty does not bind", mutate: func(e *Evidence) {
			frontier(e)
			refusing(e)
			e.Developer.AnnualGrossRevenueUSD = 1e8
		}, applicable: true, tier: "frontier-developer", outcome: Cleared},
		{name: "non-large developer still owes the transparency report", mutate: func(e *Evidence) {
			frontier(e)
			e.Developer.AnnualGrossRevenueUSD = 1e8
			e.Documents.TransparencyReport = Document{}
		}, applicable: true, tier: "frontier-developer", outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
			if !hasCondition(r, "transparency-report") {
				t.Errorf("conditions = %+v, want transparency-report", r.Conditions)
			}
		}},
		{name: "non-large developer: 24-hour imminent-risk clock applies", mutate: func(e *Evidence) {
			frontier(e)
			e.Developer.AnnualGrossRevenueUSD = 1e8
			e.Events = []Event{{Type: "incident", Class: "imminent-risk", Ref: "x", Date: day(2026, 5, 30)}}
		}, applicable: true, tier: "frontier-developer", outcome: Hold},
	})
}

// Correction 3: EU profile: CoP Commitment 6 exemption of the SL3 hold,
// fines from 2026-08-02, legacy models until 2027-08-02, the notification
// clock once the threshold is foreseen, framework and Model Report timing.
func TestCorrectionEU(t *testing.T) {
	notified := []Event{{Type: "threshold_met", Date: day(2026, 5, 1)}, {Type: "commission_notified", Date: day(2026, 5, 10)}}
	runCases(t, "eu-ai-act-gpai-sr", []decideCase{
		{name: "SL2 closed weights: SL3 hold", mutate: func(e *Evidence) { e.Events = notified; e.Security.WeightSecurityLevel = 2 },
			applicable: true, outcome: Hold, check: func(t *testing.T, r Result) {
				if r.Rule != "cybersecurity" {
					t.Errorf("rule = %s, want cybersecurity", r.Rule)
				}
			}},
		{name: "SL2 but no more capable than an open-weight model: exempt (Commitment 6)", mutate: func(e *Evidence) {
			e.Events = append(notified, Event{Type: "open_weight_parity", Date: day(2026, 5, 20)})
			e.Security.WeightSecurityLevel = 2
		}, applicable: true, outcome: Cleared, check: func(t *testing.T, r Result) {
			if _, ok := criterion(r, "cybersecurity"); ok {
				t.Errorf("cybersecurity safeguard judged for an exempt model")
			}
		}},
		{name: "SL2 with published weights: the duty has ended", mutate: func(e *Evidence) {
			e.Events = notified
			e.Security.WeightSecurityLevel = 2
			e.Model.OpenWeights = true
		}, applicable: true, outcome: Cleared},
		{name: "no fines before 2026-08-02", mutate: func(e *Evidence) { e.AsOf = day(2026, 8, 1) },
			applicable: true, check: func(t *testing.T, r Result) {
				if r.Penalty == nil || r.Penalty.Max != 0 || !why(r, "notes.before-fines") {
					t.Errorf("penalty = %+v why %+v, want 0 and the before-fines note", r.Penalty, r.Why)
				}
			}, outcome: ClearedWithConditions},
		{name: "fines from 2026-08-02", mutate: func(e *Evidence) { e.AsOf = day(2026, 8, 2) },
			applicable: true, outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
				if r.Penalty == nil || r.Penalty.Max != 60e6 {
					t.Errorf("penalty = %+v, want 60M", r.Penalty)
				}
			}},
		{name: "legacy model (placed 2025-06-01) missing documents: until 2027-08-02", mutate: func(e *Evidence) {
			e.Events = []Event{{Type: "placed_on_market", Date: day(2025, 6, 1)}}
			e.Release.PlannedDate = day(2025, 6, 1)
			e.Documents.CopyrightPolicy = Document{}
		}, applicable: true, outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
			if r.Rule != "legacy-transition" || !hasCondition(r, "comply-by-2027") {
				t.Errorf("rule %s conditions %+v, want legacy-transition with comply-by-2027", r.Rule, r.Conditions)
			}
		}},
		{name: "legacy model after 2027-08-02: obligations apply", mutate: func(e *Evidence) {
			e.AsOf = day(2027, 8, 2)
			e.Events = []Event{{Type: "placed_on_market", Date: day(2025, 6, 1)}}
			e.Release.PlannedDate = day(2025, 6, 1)
			e.Documents.CopyrightPolicy = Document{}
		}, applicable: true, outcome: Hold},
		{name: "model placed on 2025-08-02 is not legacy", mutate: func(e *Evidence) {
			e.Events = []Event{{Type: "placed_on_market", Date: day(2025, 8, 2)}}
			e.Release.PlannedDate = day(2025, 8, 2)
			e.Documents.CopyrightPolicy = Document{}
		}, applicable: true, outcome: Hold},
		{name: "threshold foreseen during training, not notified in two weeks", mutate: func(e *Evidence) {
			e.Events = []Event{{Type: "threshold_foreseen", Date: day(2026, 4, 1)}}
		}, applicable: true, outcome: Hold, check: func(t *testing.T, r Result) {
			if r.Rule != "notification-overdue" {
				t.Errorf("rule = %s, want notification-overdue", r.Rule)
			}
		}},
		{name: "framework absent 10 days before release: past the 2-week line (Measure 1.1)", mutate: func(e *Evidence) {
			e.Events = notified
			e.AsOf = day(2026, 6, 21)
			e.Documents.Framework = Document{}
		}, applicable: true, outcome: Hold},
		{name: "framework absent 30 days before release: pending", mutate: func(e *Evidence) {
			e.Events = []Event{{Type: "threshold_met", Date: day(2026, 5, 25)}, {Type: "commission_notified", Date: day(2026, 5, 28)}}
			e.Documents.Framework = Document{}
		}, applicable: true, outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
			c, _ := criterion(r, "safety-framework")
			if c.Status != "pending" || c.Due != "2026-06-17T00:00:00Z" {
				t.Errorf("safety-framework = %+v, want pending due 2026-06-17", c)
			}
		}},
		{name: "Model Report late with an interim report: 15 business days (Measure 7.7)", mutate: func(e *Evidence) {
			e.Events = append(notified, Event{Type: "interim_model_report", Date: day(2026, 5, 25)})
			e.Release.PlannedDate = day(2026, 5, 25)
			e.Documents.ModelReport = Document{}
		}, applicable: true, outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
			c, _ := criterion(r, "model-report-after-interim")
			if c.Status != "pending" || c.Due != "2026-06-15T00:00:00Z" {
				t.Errorf("model-report-after-interim = %+v, want pending due 2026-06-15", c)
			}
		}},
		{name: "Model Report late without an interim report: hold", mutate: func(e *Evidence) {
			e.Events = notified
			e.Release.PlannedDate = day(2026, 5, 25)
			e.Documents.ModelReport = Document{}
		}, applicable: true, outcome: Hold},
	})
}

// Correction 4: GB/T 45654-2025 replaces TC260-003: per-risk quotas and
// corpus safety (§9.2, out of scope) surface as conditions and a note.
func TestCorrectionCN(t *testing.T) {
	runCases(t, "cn-tc260-003", []decideCase{
		{name: "passing every gate leaves the per-risk quotas and corpus safety to attest", mutate: func(e *Evidence) {
			e.Market.CNPublicService = true
			e.Market.CNPublicOpinionAttributes = true
		}, applicable: true, tier: "assessment", outcome: ClearedWithConditions, check: func(t *testing.T, r Result) {
			if !hasCondition(r, "per-risk-quotas") || !hasCondition(r, "corpus-safety") || !why(r, "notes.corpus-safety-out-of-scope") {
				t.Errorf("conditions %+v why %+v, want per-risk-quotas, corpus-safety and the out-of-scope note", r.Conditions, r.Why)
			}
			c, _ := criterion(r, "should-refuse")
			for _, u := range c.Provenance {
				if u.Name == "refuse_min_n" && (u.Confidence != "low" || u.Tag != "M") {
					t.Errorf("refuse_min_n provenance = %+v, want unverified (M, low)", u.Provenance)
				}
			}
		}},
	})
	p, err := Builtin("cn-tc260-003")
	if err != nil {
		t.Fatal(err)
	}
	if k := p.Constants["keyword_bank_min"]; k.Tag != "S" || p.Constants["keyword_per_a1_risk_min"].Value != 200.0 || p.Constants["keyword_per_a2_risk_min"].Value != 100.0 {
		t.Errorf("keyword constants = %+v, %+v, %+v", k, p.Constants["keyword_per_a1_risk_min"], p.Constants["keyword_per_a2_risk_min"])
	}
}

// Correction 5: the EO 14110 cluster trigger is a developer duty, not a
// reason the model is reportable.
func TestCorrectionEO14110Cluster(t *testing.T) {
	cluster := func(e *Evidence) { e.Developer.ClusterCapacityFLOPS = 1e20 }
	runCasesAsOf(t, "us-eo-14110", day(2024, 6, 1), []decideCase{
		{name: "cluster holder with a 2e25 model: model not reportable, duty noted", mutate: cluster,
			applicable: false, outcome: NotApplicable, check: func(t *testing.T, r Result) {
				if !why(r, "notes.cluster-duty") {
					t.Errorf("why = %+v, want the cluster-duty note", r.Why)
				}
			}},
		{name: "just below 10^20 op/s: no duty", mutate: func(e *Evidence) { e.Developer.ClusterCapacityFLOPS = 0.99e20 },
			applicable: false, outcome: NotApplicable, check: func(t *testing.T, r Result) {
				if why(r, "notes.cluster-duty") {
					t.Errorf("cluster-duty noted below the threshold")
				}
			}},
		{name: "reportable model and a cluster: both duties", mutate: func(e *Evidence) { cluster(e); e.Model.TrainingComputeFLOP = 1.2e26 },
			applicable: true, outcome: NotifyOnly, check: func(t *testing.T, r Result) {
				if !hasCondition(r, "report-cluster") || !hasCondition(r, "report-commerce") {
					t.Errorf("conditions = %+v, want report-commerce and report-cluster", r.Conditions)
				}
			}},
	})
}

// Correction 6: the 2026 draft is triggered by designation or cyber
// capability, not by a 10^26 compute line.
func TestCorrectionUSDraft(t *testing.T) {
	cyber := func(k int) func(*Evidence) {
		return func(e *Evidence) { e.Metrics["cyber-compliance.accuracy"] = mv(k, 400) }
	}
	runCases(t, "us-2026-draft", []decideCase{
		{name: "2e26 undesignated with low cyber capability is not covered", mutate: func(e *Evidence) { e.Model.TrainingComputeFLOP = 2e26 },
			applicable: false, outcome: NotApplicable, check: func(t *testing.T, r Result) {
				if !why(r, "notes.compute-no-trigger") {
					t.Errorf("why = %+v, want the compute note", r.Why)
				}
			}},
		{name: "cyber accuracy just below the proxy", mutate: cyber(199), applicable: false, outcome: NotApplicable},
		{name: "cyber accuracy at the proxy", mutate: cyber(200), applicable: true, outcome: Hold},
		{name: "designated", mutate: func(e *Evidence) { e.Designations.USDraftCovered = true }, applicable: true, outcome: Hold,
			check: func(t *testing.T, r Result) {
				p, _ := Builtin("us-2026-draft")
				if k := p.Constants["share_min_days"]; k.Confidence != "low" || k.Note == "" {
					t.Errorf("share_min_days = %+v, want low confidence with the dispute noted", k)
				}
			}},
	})
}

// Correction 7: provenance cites instruments, never an internal tracker.
func TestCorrectionNoTrackerProvenance(t *testing.T) {
	ps, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		for n, k := range p.Constants {
			for _, s := range []string{k.Source, k.Pinpoint, k.Note} {
				if strings.Contains(strings.ToLower(s), "issue #") {
					t.Errorf("%s: constant %s cites a tracker: %q", p.ID, n, s)
				}
			}
		}
		for id, s := range p.Sources {
			if strings.Contains(strings.ToLower(s), "issue #") {
				t.Errorf("%s: source %s cites a tracker: %q", p.ID, id, s)
			}
		}
	}
}
