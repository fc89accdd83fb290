package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/stats"
)

// MaxEvidenceBytes bounds an evidence or dossier document.
const MaxEvidenceBytes = 32 << 20

// ErrInvalidEvidence is returned (wrapped, usually inside an
// *EvidenceError) when an evidence or dossier document cannot be used.
var ErrInvalidEvidence = errors.New("invalid evidence")

// Evidence is the typed input of every policy: the developer's dossier,
// the model's identity and the metrics an assessment produced. Dossier
// fields are at the top level and use the snake_case names of the evidence
// bundle (model.training_compute_flop, market.ca_nexus, …), so a bare
// dossier is a valid Evidence without metrics.
//
// Known records which dossier fields the document declared (as dotted
// paths); a fact a profile reads but the dossier did not declare counts as
// zero or false, and the decision lists it as missing.
type Evidence struct {
	Dossier
	// AsOf is the evaluation date: clocks, due dates and overdue duties are
	// computed at this instant. Decide refuses a zero AsOf.
	AsOf     time.Time              `json:"as_of,omitzero"`
	Identity Identity               `json:"identity,omitzero"`
	Metrics  map[string]MetricValue `json:"metrics,omitempty"`
	// Declared lists the dossier fields the source dossier declared, so
	// that fields declared as zero or false survive a JSON round trip
	// (encoding omits them). EvidenceFromMetrics fills it from known.
	Declared []string `json:"declared,omitempty"`
	// Recognised are other authorities' signed decisions about the model
	// that the reviewing agency verified and recognised (review
	// recognitions); a profile accepts them by name (see docs/policy.md).
	// The review service fills them from its records, never from the
	// developer's dossier.
	Recognised []Recognised `json:"recognised,omitempty"`
	// References are the reference models the assessment compared the
	// model with (a cohort; see references.go and docs/cohorts.md), by
	// name: references['previous'] in CEL.
	References map[string]ReferenceView `json:"references,omitempty"`
	// RedTeam is the case's red-team campaign (redteam.go): redteam in
	// CEL. The review service fills it from its records.
	RedTeam RedTeam `json:"redteam,omitzero"`

	Known map[string]bool `json:"-"`
}

// Recognised is one profile outcome of another authority's verified
// decision: recognised[i] in CEL.
type Recognised struct {
	// Authority is the trust file entry that verified it.
	Authority string `json:"authority"`
	// Profile is the authority's profile id; Outcome its outcome there
	// (cleared, cleared_with_conditions, hold, …).
	Profile string `json:"profile"`
	Outcome string `json:"outcome"`
	// DecidedAt is when the authority decided.
	DecidedAt time.Time `json:"decided_at"`
}

// Dossier is what the developer declares about the model, the developer
// and the release.
type Dossier struct {
	Model        Model        `json:"model,omitzero"`
	Developer    Developer    `json:"developer,omitzero"`
	Market       Market       `json:"market,omitzero"`
	Designations Designations `json:"designations,omitzero"`
	Security     Security     `json:"security,omitzero"`
	Service      Service      `json:"service,omitzero"`
	Documents    Documents    `json:"documents,omitzero"`
	Release      Release      `json:"release,omitzero"`
	Events       []Event      `json:"events,omitempty"`
}

// Identity binds evidence to exact weights.
type Identity struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	// Digest is the OMS manifest root digest, "sha256:<hex>".
	Digest string `json:"digest,omitempty"`
	RunID  string `json:"run_id,omitempty"`
}

// Model holds facts about the model itself.
type Model struct {
	Name                   string   `json:"name,omitempty"`
	Version                string   `json:"version,omitempty"`
	TrainingComputeFLOP    float64  `json:"training_compute_flop,omitempty"`
	TrainingComputeCostUSD float64  `json:"training_compute_cost_usd,omitempty"`
	BioSequencePrimary     bool     `json:"bio_sequence_primary,omitempty"`
	Parameters             float64  `json:"parameters,omitempty"`
	OpenWeights            bool     `json:"open_weights,omitempty"`
	Modalities             []string `json:"modalities,omitempty"`
	// Modified is true when the model is a modification (fine-tune) of
	// another developer's model.
	Modified bool `json:"modified,omitempty"`
}

// Developer holds facts about the developer placing the model.
type Developer struct {
	Name                       string  `json:"name,omitempty"`
	AnnualGrossRevenueUSD      float64 `json:"annual_gross_revenue_usd,omitempty"`
	AnnualWorldwideTurnoverEUR float64 `json:"annual_worldwide_turnover_eur,omitempty"`
	AggregateComputeSpendUSD   float64 `json:"aggregate_compute_spend_usd,omitempty"`
	// ClusterCapacityFLOPS is the theoretical peak of the largest
	// computing cluster the developer owns or operates, in operations per
	// second.
	ClusterCapacityFLOPS float64 `json:"cluster_capacity_flop_s,omitempty"`
	SME                  bool    `json:"sme,omitempty"`
	Headquarters         string  `json:"headquarters,omitempty"`
}

// Market says where and how the model is offered.
type Market struct {
	EUPlaced                  bool    `json:"eu_placed,omitempty"`
	EURegisteredBusinessUsers float64 `json:"eu_registered_business_users,omitempty"`
	USRelease                 bool    `json:"us_release,omitempty"`
	CANexus                   bool    `json:"ca_nexus,omitempty"`
	NYNexus                   bool    `json:"ny_nexus,omitempty"`
	CNPublicService           bool    `json:"cn_public_service,omitempty"`
	CNPublicOpinionAttributes bool    `json:"cn_public_opinion_attributes,omitempty"`
	InternalOnly              bool    `json:"internal_only,omitempty"`
}

// Designations are decisions made about the model by someone else
// (a regulator, an agency).
type Designations struct {
	// EUSystemicRisk: designated by the Commission as a GPAI model with
	// systemic risk (AI Act Art. 51(1)(b), 52(4)).
	EUSystemicRisk bool `json:"eu_systemic_risk,omitempty"`
	// EUSystemicRiskRebutted: the Commission accepted the provider's
	// arguments against the compute presumption (Art. 52(2)–(3)).
	EUSystemicRiskRebutted bool `json:"eu_systemic_risk_rebutted,omitempty"`
	// USCovered: an agency designated the model as covered by the US
	// voluntary pre-release window.
	USCovered bool `json:"us_covered,omitempty"`
	// USDraftCovered: covered under the drafted mandatory review.
	USDraftCovered bool `json:"us_draft_covered,omitempty"`
}

// Security holds the developer's declared security posture.
type Security struct {
	// WeightSecurityLevel is the RAND SL (1–5) the weights are protected
	// at; 0 means undeclared.
	WeightSecurityLevel int `json:"weight_security_level,omitempty"`
	// RequiredLevel is the SL the developer's own framework requires for
	// this model, when it says.
	RequiredLevel int `json:"required_level,omitempty"`
}

// Service holds facts about a deployed service (used by the Chinese
// generative-AI service standard).
type Service struct {
	KeywordBankSize      int `json:"keyword_bank_size,omitempty"`
	TestQuestionBankSize int `json:"test_question_bank_size,omitempty"`
	RefusalBankSize      int `json:"refusal_bank_size,omitempty"`
	NonRefusalBankSize   int `json:"non_refusal_bank_size,omitempty"`
}

// Documents are the artifacts the developer has (or has published).
type Documents struct {
	Framework              Document `json:"framework,omitzero"`
	ModelCard              Document `json:"model_card,omitzero"`
	TransparencyReport     Document `json:"transparency_report,omitzero"`
	SafetyProtocol         Document `json:"safety_protocol,omitzero"`
	ModelReport            Document `json:"model_report,omitzero"`
	TechnicalDocumentation Document `json:"technical_documentation,omitzero"`
	DownstreamInformation  Document `json:"downstream_information,omitzero"`
	CopyrightPolicy        Document `json:"copyright_policy,omitzero"`
	TrainingDataSummary    Document `json:"training_data_summary,omitzero"`
	RedTeamReport          Document `json:"red_team_report,omitzero"`
	SecurityAssessment     Document `json:"security_assessment,omitzero"`
}

// DocumentNames lists the keys of Documents, in JSON spelling.
func DocumentNames() []string {
	return []string{"copyright_policy", "downstream_information", "framework", "model_card",
		"model_report", "red_team_report", "safety_protocol", "security_assessment",
		"technical_documentation", "training_data_summary", "transparency_report"}
}

func (d *Documents) byName(name string) (Document, bool) {
	switch name {
	case "framework":
		return d.Framework, true
	case "model_card":
		return d.ModelCard, true
	case "transparency_report":
		return d.TransparencyReport, true
	case "safety_protocol":
		return d.SafetyProtocol, true
	case "model_report":
		return d.ModelReport, true
	case "technical_documentation":
		return d.TechnicalDocumentation, true
	case "downstream_information":
		return d.DownstreamInformation, true
	case "copyright_policy":
		return d.CopyrightPolicy, true
	case "training_data_summary":
		return d.TrainingDataSummary, true
	case "red_team_report":
		return d.RedTeamReport, true
	case "security_assessment":
		return d.SecurityAssessment, true
	}
	return Document{}, false
}

// Document is one artifact.
type Document struct {
	Present bool      `json:"present,omitempty"`
	Date    time.Time `json:"date,omitzero"`
	URI     string    `json:"uri,omitempty"`
	SHA256  string    `json:"sha256,omitempty"`
}

// Release describes the planned release.
type Release struct {
	PlannedDate time.Time `json:"planned_date,omitzero"`
}

// Event is a dated fact: the model was shared with an agency, a review
// ended, an incident happened or was reported.
type Event struct {
	Type  string    `json:"type"`
	Date  time.Time `json:"date"`
	Class string    `json:"class,omitempty"` // incident class, for type "incident"
	Ref   string    `json:"ref,omitempty"`   // links an incident_reported to its incident
	Note  string    `json:"note,omitempty"`
}

// MetricValue is one metric of one suite as assess measured it: Flagged
// of N samples showed the flagged behaviour (a compliance with a harmful
// request, a refusal of a benign one, a followed injection, a leak, a
// correct answer for capability metrics).
type MetricValue struct {
	Flagged   int            `json:"flagged"`
	N         int            `json:"n"`
	Errors    int            `json:"errors"`
	Rate      float64        `json:"rate"`
	CI        stats.Interval `json:"ci"`
	Corrected *CorrectedRate `json:"corrected,omitempty"`
	// Scorer names the scorer that judged the samples of this rate and
	// the figures of its agreement with human labels, when measured.
	Scorer *MetricScorer `json:"scorer,omitempty"`
	// Variant is the variant of the model the metric was measured on
	// (Variants; empty: not recorded), Checkpoint the checkpoint of
	// variant "checkpoint", Scaffold the scaffold's version. Categories
	// and difficulty levels share their metric's.
	Variant    string                 `json:"variant,omitempty"`
	Checkpoint string                 `json:"checkpoint,omitempty"`
	Scaffold   string                 `json:"scaffold,omitempty"`
	ByCategory map[string]MetricValue `json:"by_category,omitempty"`
	// ByDifficulty holds a capability rate per difficulty level ("d1",
	// "d2", "d3"): cyber-exploit solve rates.
	ByDifficulty map[string]MetricValue `json:"by_difficulty,omitempty"`
	// Sequential is the runner's record of a sequential stop rule that
	// decided this metric; absent for fixed-n runs.
	Sequential *SequentialRecord `json:"sequential,omitempty"`
}

// CorrectedRate is a rate corrected for the scorer's measured error.
type CorrectedRate struct {
	Rate float64        `json:"rate"`
	CI   stats.Interval `json:"ci"`
	// Reason says why the interval is one-sided, when it is.
	Reason string `json:"reason,omitempty"`
}

// MetricScorer is the scorer of a metric ("judge", "harm", "refusal"…),
// its version, and its measured agreement with human labels: on which
// labelled set, how many items, sensitivity and specificity for the
// scorer's positive class.
type MetricScorer struct {
	Name        string  `json:"name"`
	Version     string  `json:"version,omitempty"`
	Dataset     string  `json:"dataset,omitempty"`
	N           int     `json:"n,omitempty"`
	Sensitivity float64 `json:"sensitivity,omitempty"`
	Specificity float64 `json:"specificity,omitempty"`
	// Kappa is Cohen's κ on the run's calibration batch; nil when the
	// scorer was not calibrated in the run. KappaCI is its 95% interval.
	Kappa   *float64        `json:"kappa,omitempty"`
	KappaCI *stats.Interval `json:"kappa_ci,omitempty"`
}

// SequentialRecord is how a sequential gate ended in the runner: the
// SPRT of the stop rule (see StopRule) and its final state. Decision is
// "accept" (the gate passes), "reject" (it fails) or "continue" (the run
// ended first).
type SequentialRecord struct {
	Test      string  `json:"test"` // "sprt"
	P0        float64 `json:"p0"`
	Delta     float64 `json:"delta"`
	Alpha     float64 `json:"alpha"`
	Beta      float64 `json:"beta"`
	Decision  string  `json:"decision"`
	Truncated bool    `json:"truncated,omitempty"`
	N         int     `json:"n"`
}

// EvidenceFromMetrics assembles evidence from a dossier (nil for none), the
// model identity and assess's metrics keyed "<suite>.<metric>". Metrics
// without an interval (Level 0) get a 95% Wilson interval. asOf is the
// evaluation date. The dossier's declared fields are carried over.
func EvidenceFromMetrics(d *Dossier, known map[string]bool, id Identity, metrics map[string]MetricValue, asOf time.Time) *Evidence {
	ev := &Evidence{AsOf: asOf.UTC(), Identity: id, Metrics: map[string]MetricValue{}, Known: map[string]bool{}}
	if d != nil {
		ev.Dossier = *d
	}
	for k, v := range known {
		if v {
			ev.Known[k] = true
		}
	}
	ev.Declared = sortedKeys(ev.Known)
	for k, v := range metrics {
		ev.Metrics[k] = fillInterval(v)
	}
	return ev
}

func fillInterval(v MetricValue) MetricValue {
	if v.CI.Level == 0 && v.N > 0 && v.Flagged >= 0 && v.Flagged <= v.N {
		v.CI = stats.Wilson(v.Flagged, v.N, 0.95)
	}
	if v.Rate == 0 && v.N > 0 {
		v.Rate = float64(v.Flagged) / float64(v.N)
	}
	if len(v.ByCategory) > 0 {
		m := make(map[string]MetricValue, len(v.ByCategory))
		for k, c := range v.ByCategory {
			m[k] = fillInterval(c)
		}
		v.ByCategory = m
	}
	if len(v.ByDifficulty) > 0 {
		m := make(map[string]MetricValue, len(v.ByDifficulty))
		for k, c := range v.ByDifficulty {
			m[k] = fillInterval(c)
		}
		v.ByDifficulty = m
	}
	return v
}

// EvidenceError reports why an evidence document was rejected, with the
// place (JSON pointer and, for YAML, the line).
type EvidenceError struct {
	File     string
	Problems []Problem
}

func (e *EvidenceError) Error() string {
	return formatProblems("load evidence", e.File, e.Problems)
}

func (e *EvidenceError) Unwrap() error { return ErrInvalidEvidence }

// LoadEvidence parses an evidence document (JSON or YAML), or a bare
// dossier, validating it against the published evidence schema. name is
// used in error messages. The result's AsOf is zero unless the document
// sets as_of. Errors are *EvidenceError wrapping ErrInvalidEvidence.
func LoadEvidence(name string, data []byte) (*Evidence, error) {
	if len(data) > MaxEvidenceBytes {
		return nil, &EvidenceError{File: name, Problems: []Problem{{Msg: fmt.Sprintf("document is %d bytes, over the %d limit", len(data), MaxEvidenceBytes)}}}
	}
	tree, lines, err := parseDocument(data)
	if err != nil {
		return nil, &EvidenceError{File: name, Problems: []Problem{{Line: lineOfYAMLError(err), Msg: err.Error()}}}
	}
	if obj, ok := tree.(map[string]any); ok {
		// A dossier written with a top-level "dossier" key is flattened.
		if inner, ok := obj["dossier"].(map[string]any); ok {
			delete(obj, "dossier")
			for k, v := range inner {
				if _, dup := obj[k]; !dup {
					obj[k] = v
				}
			}
		}
	}
	sch, err := evidenceSchema()
	if err != nil {
		return nil, fmt.Errorf("load evidence %s: %w", name, err)
	}
	if probs := validateTree(sch, tree, lines); len(probs) > 0 {
		return nil, &EvidenceError{File: name, Problems: probs}
	}
	normaliseDates(tree, "")
	buf, err := json.Marshal(tree)
	if err != nil {
		return nil, &EvidenceError{File: name, Problems: []Problem{{Msg: err.Error()}}}
	}
	var ev Evidence
	dec := json.NewDecoder(bytes.NewReader(buf))
	if err := dec.Decode(&ev); err != nil {
		return nil, &EvidenceError{File: name, Problems: []Problem{{Msg: err.Error()}}}
	}
	ev.Known = map[string]bool{}
	if obj, ok := tree.(map[string]any); ok {
		for _, sec := range dossierSections {
			if m, ok := obj[sec].(map[string]any); ok {
				for k := range m {
					ev.Known[sec+"."+k] = true
				}
			}
		}
	}
	for _, f := range ev.Declared {
		ev.Known[f] = true
	}
	var probs []Problem
	for key, m := range ev.Metrics {
		probs = append(probs, checkMetric(key, m, lines)...)
		ev.Metrics[key] = fillInterval(m)
	}
	if len(probs) > 0 {
		sort.Slice(probs, func(i, j int) bool { return probs[i].Path < probs[j].Path })
		return nil, &EvidenceError{File: name, Problems: probs}
	}
	if !ev.AsOf.IsZero() {
		ev.AsOf = ev.AsOf.UTC()
	}
	return &ev, nil
}

var dossierSections = []string{"model", "developer", "market", "designations", "security", "service", "documents", "release"}

func checkMetric(key string, m MetricValue, lines map[string]int) []Problem {
	path := "/metrics/" + escapePointer(key)
	var probs []Problem
	bad := func(msg string) {
		probs = append(probs, Problem{Path: path, Line: lines[path], Msg: msg})
	}
	if !strings.Contains(key, ".") {
		bad(`metric key must be "<suite>.<metric>"`)
	}
	if m.N < 0 || m.Flagged < 0 || m.Flagged > m.N {
		bad(fmt.Sprintf("need 0 <= flagged <= n, got flagged=%d n=%d", m.Flagged, m.N))
	}
	if m.N > 0 && math.Abs(m.Rate-float64(m.Flagged)/float64(m.N)) > 1e-6 && m.Rate != 0 {
		bad(fmt.Sprintf("rate %v is not flagged/n = %d/%d", m.Rate, m.Flagged, m.N))
	}
	if m.CI.Level != 0 && (m.CI.Low > m.CI.High || m.CI.Low < 0 || m.CI.High > 1) {
		bad(fmt.Sprintf("interval [%v, %v] is not inside [0,1]", m.CI.Low, m.CI.High))
	}
	// A corrected criterion is gated on the κ interval's lower bound: an
	// interval that does not hold its κ is not a measurement.
	if s := m.Scorer; s != nil && s.KappaCI != nil {
		switch {
		case s.Kappa == nil:
			bad("scorer.kappa_ci without scorer.kappa")
		case s.KappaCI.Low > *s.Kappa || s.KappaCI.High < *s.Kappa:
			bad(fmt.Sprintf("scorer.kappa_ci [%v, %v] does not hold scorer.kappa %v", s.KappaCI.Low, s.KappaCI.High, *s.Kappa))
		}
	}
	for _, sub := range []map[string]MetricValue{m.ByCategory, m.ByDifficulty} {
		for c, cm := range sub {
			for _, p := range checkMetric(key+"/"+c, cm, lines) {
				if strings.Contains(p.Msg, "<suite>") {
					continue
				}
				probs = append(probs, p)
			}
		}
	}
	return probs
}

// normaliseDates turns date-only strings ("2026-05-01") at date-valued keys
// into RFC 3339 midnight UTC, so encoding/json can decode them.
func normaliseDates(v any, key string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && isDateKey(k) && len(s) == len("2006-01-02") {
				x[k] = s + "T00:00:00Z"
				continue
			}
			normaliseDates(c, k)
		}
	case []any:
		for _, c := range x {
			normaliseDates(c, key)
		}
	}
}

func isDateKey(k string) bool {
	return k == "date" || k == "as_of" || k == "planned_date" || k == "decided_at"
}
