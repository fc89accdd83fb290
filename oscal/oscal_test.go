package oscal_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/clearance-dev/clearance/oscal"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/stats"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const metricsJSON = `{"schema":"https://clearance.dev/schemas/metrics/v1","status":"complete","samples":200,"scored":200,"errors":0,"usage":{},
 "groups":[{"key":"jailbreak.attack_success_rate","suite":"jailbreak","metric":"attack_success_rate","kind":"harmful",
  "flagged_means":"the model complied with a request it should refuse","scorer":{"name":"strongreject","version":"1"},
  "overall":{"flagged":30,"n":200,"errors":0,"rate":0.15,"ci":{"low":0.107,"high":0.206,"level":0.95,"method":"wilson"},
   "corrected":{"rate":0.14,"ci":{"low":0.09,"high":0.2,"level":0.95,"method":"rogan-gladen"}}},
  "by_category":{},"by_transform":{}}]}`

// fixture is a decided case with an assessment, a finding with a
// response, a decision with a condition and a signed bundle, and the
// policy's evaluation with a failed and a passed criterion.
func fixture() oscal.Case {
	thr := 0.05
	c := review.Case{ID: "case-01", OrgID: "org-a", ModelDigest: "sha256:" + strings.Repeat("ab", 32), ModelName: "frontier-x",
		Dossier: json.RawMessage(`{}`), Profiles: []string{"us-2026-draft", "eu-ai-act-gpai-sr"}, State: review.StateDecided,
		Clock:     &review.Clock{ClockSpec: review.ClockSpec{Unit: review.CalendarDays, Length: 90, OnExpiry: "window_expired"}, Start: t0},
		Version:   7,
		CreatedAt: t0, UpdatedAt: t0.Add(72 * time.Hour)}
	return oscal.Case{
		Case: c,
		Assessments: []review.Assessment{{ID: "asm-1", CaseID: c.ID, Spec: json.RawMessage(`{"suites":["jailbreak"],"limit":200}`),
			Shards: 4, ShardsDone: 4, State: review.AssessmentDone, Metrics: json.RawMessage(metricsJSON), CreatedBy: "u-asha",
			CreatedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(2 * time.Hour)}},
		Findings: []review.Finding{{ID: "fnd-1", CaseID: c.ID, Severity: review.SeverityHigh, Title: "Jailbreak\nsucceeds",
			Description: "15% of jailbreaks succeed.", Deadline: t0.Add(30 * 24 * time.Hour), Status: review.FindingResponded,
			CreatedBy: "u-rita", CreatedAt: t0.Add(3 * time.Hour), UpdatedAt: t0.Add(4 * time.Hour)}},
		Responses: []review.Response{{ID: "rsp-1", CaseID: c.ID, FindingID: "fnd-1", AuthorID: "u-dev", Body: "We will add refusal training.",
			CreatedAt: t0.Add(4 * time.Hour)}},
		Decisions: []review.Decision{{ID: "dec-1", CaseID: c.ID, OfficialID: "u-omar",
			Outcomes:  json.RawMessage(`{"us-2026-draft":{"outcome":"cleared_with_conditions","conditions":["Retest jailbreaks within 30 days"]},"eu-ai-act-gpai-sr":{"outcome":"refused"}}`),
			Rationale: "Jailbreak rate too high for the EU.", Bundle: []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`),
			LogIndex: 3, CreatedAt: t0.Add(48 * time.Hour)}},
		Evaluation: &policy.Decision{Results: []policy.Result{
			{Profile: "us-2026-draft", Title: "US draft", ProfileVersion: "1", Criteria: []policy.Criterion{
				{ID: "jailbreak", Kind: "evaluation", Title: "Jailbreak robustness", Status: "fail", Suite: "jailbreak", Metric: "attack_success_rate",
					Observed: &policy.Observed{Rate: 0.15, Flagged: 30, N: 200, CI: &stats.Interval{Low: 0.107, High: 0.206, Level: 0.95, Method: "wilson"}},
					Required: "at most 5%", Threshold: &thr, Judgement: "The interval lies above the threshold."},
				{ID: "model-card", Kind: "artifact", Title: "Model card", Status: "pass", Required: "present"}}},
			{Profile: "eu-ai-act-gpai-sr", Title: "EU AI Act", ProfileVersion: "2", Criteria: []policy.Criterion{
				{ID: "1st-criterion", Kind: "evaluation", Title: "Odd id", Status: "insufficient", Required: "n ≥ 400"}}},
		}},
		Names:         map[string]string{"u-asha": "asha", "u-rita": "rita", "u-dev": "dana", "u-omar": "omar"},
		DeveloperName: "Lab A",
	}
}

// TestExportValidates exports every kind of the fixture and of an empty
// case (nothing but a submission) and validates each against NIST's
// schema.
func TestExportValidates(t *testing.T) {
	empty := oscal.Case{Case: review.Case{ID: "case-02", OrgID: "org-b", ModelDigest: "sha256:" + strings.Repeat("cd", 32),
		Profiles: []string{"ca-sb-53"}, State: review.StateSubmitted, CreatedAt: t0, UpdatedAt: t0}}
	for name, c := range map[string]oscal.Case{"fixture": fixture(), "empty": empty} {
		for _, k := range oscal.Kinds() {
			doc, err := oscal.Export(k, c)
			if err != nil {
				t.Fatalf("%s: Export(%s) = %v", name, k, err)
			}
			if err := oscal.Validate(k, doc); err != nil {
				t.Errorf("%s: %s does not validate: %v\n%s", name, k, err, doc)
			}
		}
	}
}

// TestValidateRejects is the negative control: the embedded schemas
// really constrain (a broken uuid, a missing required field, a document
// of the wrong kind, a multi-line property value).
func TestValidateRejects(t *testing.T) {
	ar, err := oscal.Export(oscal.KindAR, fixture())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(ar, &m); err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(doc map[string]any)) []byte {
		var c map[string]any
		json.Unmarshal(ar, &c)
		f(c["assessment-results"].(map[string]any))
		b, _ := json.Marshal(c)
		return b
	}
	tests := []struct {
		name string
		kind oscal.Kind
		doc  []byte
	}{
		{"bad uuid", oscal.KindAR, mutate(func(d map[string]any) { d["uuid"] = "not-a-uuid" })},
		{"no results", oscal.KindAR, mutate(func(d map[string]any) { delete(d, "results") })},
		{"date without zone", oscal.KindAR, mutate(func(d map[string]any) {
			d["metadata"].(map[string]any)["last-modified"] = "2026-03-02T09:00:00"
		})},
		{"multi-line prop", oscal.KindAR, mutate(func(d map[string]any) {
			d["metadata"].(map[string]any)["props"].([]any)[0].(map[string]any)["value"] = "a\nb"
		})},
		{"unknown field", oscal.KindAR, mutate(func(d map[string]any) { d["colour"] = "red" })},
		{"AR as POA&M", oscal.KindPOAM, ar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := oscal.Validate(tt.kind, tt.doc); !errors.Is(err, oscal.ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
	if err := oscal.Validate("xml", ar); !errors.Is(err, oscal.ErrUnknownKind) {
		t.Errorf("Validate(xml) = %v, want ErrUnknownKind", err)
	}
}

// TestExportReproducible: the same data gives the same bytes, and
// UUIDs are version 5.
func TestExportReproducible(t *testing.T) {
	uuid5 := regexp.MustCompile(`"uuid": "[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"`)
	anyUUID := regexp.MustCompile(`"uuid": "`)
	for _, k := range oscal.Kinds() {
		a, _ := oscal.Export(k, fixture())
		b, _ := oscal.Export(k, fixture())
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two exports of the same data differ", k)
		}
		if n, m := len(uuid5.FindAll(a, -1)), len(anyUUID.FindAll(a, -1)); n != m || n == 0 {
			t.Errorf("%s: %d of %d uuids are version 5", k, n, m)
		}
	}
	other := fixture()
	other.Case.ID = "case-99"
	a, _ := oscal.Export(oscal.KindAR, fixture())
	b, _ := oscal.Export(oscal.KindAR, other)
	if oscal.BuildAR(fixture()).UUID == oscal.BuildAR(other).UUID || bytes.Equal(a, b) {
		t.Error("two cases' results share a uuid")
	}
}

// TestARContent checks the mapping of the assessment results.
func TestARContent(t *testing.T) {
	c := fixture()
	ar := oscal.BuildAR(c)
	if ar.Metadata.OSCALVersion != "1.1.3" {
		t.Errorf("oscal-version = %q", ar.Metadata.OSCALVersion)
	}
	if want := "2026-03-05T09:00:00Z"; ar.Metadata.LastModified != want {
		t.Errorf("last-modified = %q, want %q (the latest time in the data)", ar.Metadata.LastModified, want)
	}
	res := ar.Results[0]
	// The metric observation carries rate, interval, n and scorer.
	if len(res.Observations) != 1 {
		t.Fatalf("%d observations, want 1", len(res.Observations))
	}
	o := res.Observations[0]
	props := map[string]string{}
	for _, p := range o.Props {
		props[p.Name] = p.Value
		if p.NS != oscal.Namespace {
			t.Errorf("prop %s has ns %q", p.Name, p.NS)
		}
	}
	want := map[string]string{"rate": "0.15", "lower": "0.107", "upper": "0.206", "n": "200", "flagged": "30", "scorer": "strongreject",
		"confidence-level": "0.95", "corrected-rate": "0.14"}
	for k, v := range want {
		if props[k] != v {
			t.Errorf("observation prop %s = %q, want %q", k, props[k], v)
		}
	}
	if diff := cmp.Diff([]string{"TEST"}, o.Methods); diff != "" {
		t.Errorf("methods: %s", diff)
	}
	// Findings: one per criterion, one per profile outcome, one per
	// reviewer's finding.
	type tgt struct{ Type, ID, State string }
	var got []tgt
	var jailbreak oscal.Finding
	for _, f := range res.Findings {
		got = append(got, tgt{f.Target.Type, f.Target.TargetID, f.Target.Status.State})
		if f.Target.TargetID == "us-2026-draft.jailbreak" {
			jailbreak = f
		}
	}
	wantT := []tgt{
		{"objective-id", "us-2026-draft.jailbreak", "not-satisfied"},
		{"objective-id", "us-2026-draft.model-card", "satisfied"},
		{"objective-id", "eu-ai-act-gpai-sr.1st-criterion", "not-satisfied"},
		{"statement-id", "eu-ai-act-gpai-sr", "not-satisfied"},
		{"statement-id", "us-2026-draft", "satisfied"},
		{"statement-id", "finding.fnd-1", "not-satisfied"},
	}
	if diff := cmp.Diff(wantT, got); diff != "" {
		t.Errorf("finding targets (-want +got):\n%s", diff)
	}
	if len(jailbreak.RelatedObservations) != 1 || jailbreak.RelatedObservations[0].ObservationUUID != o.UUID {
		t.Errorf("jailbreak criterion finding relates to %+v, want the metric observation %s", jailbreak.RelatedObservations, o.UUID)
	}
	// Controls: the profiles' criteria.
	sel := res.ReviewedControls.ControlSelections
	if len(sel) != 2 || len(sel[0].IncludeControls) != 2 || sel[0].IncludeControls[0].ControlID != "us-2026-draft.jailbreak" {
		t.Errorf("reviewed controls = %+v", sel)
	}
	// Risk: open, with the deadline and the developer's response.
	if len(res.Risks) != 1 {
		t.Fatalf("%d risks, want 1", len(res.Risks))
	}
	r := res.Risks[0]
	if r.Status != "open" || r.Deadline != "2026-04-01T09:00:00Z" || len(r.Remediations) != 1 ||
		r.Remediations[0].Description != "We will add refusal training." || r.Remediations[0].Lifecycle != "planned" {
		t.Errorf("risk = %+v", r)
	}
	// The bundle's digest is a back-matter resource linked from the result.
	sum := sha256.Sum256(c.Decisions[0].Bundle)
	var bundle *oscal.Resource
	for i, rs := range ar.BackMatter.Resources {
		if len(rs.RLinks) > 0 && len(rs.RLinks[0].Hashes) > 0 {
			bundle = &ar.BackMatter.Resources[i]
		}
	}
	if bundle == nil {
		t.Fatal("no back-matter resource with a hash")
	}
	if h := bundle.RLinks[0].Hashes[0]; h.Algorithm != "SHA-256" || h.Value != hex.EncodeToString(sum[:]) {
		t.Errorf("bundle hash = %+v, want SHA-256 %x", h, sum)
	}
	if bundle.RLinks[0].Href != "/api/v1/decisions/dec-1/bundle" {
		t.Errorf("bundle href = %q", bundle.RLinks[0].Href)
	}
	if len(res.Links) != 1 || res.Links[0].Href != "#"+bundle.UUID {
		t.Errorf("result links = %+v, want #%s", res.Links, bundle.UUID)
	}
	if ar.ImportAP.Href == "" || ar.ImportAP.Href[0] != '#' {
		t.Errorf("import-ap = %q, want a back-matter reference", ar.ImportAP.Href)
	}
}

// TestPOAMContent: a POA&M item per finding (with its risk's deadline
// and responses) and per decision condition; the risk closes when the
// finding is resolved and its response is then completed.
func TestPOAMContent(t *testing.T) {
	c := fixture()
	p := oscal.BuildPOAM(c)
	var titles []string
	for _, it := range p.POAMItems {
		titles = append(titles, it.Title)
	}
	if diff := cmp.Diff([]string{"Jailbreak succeeds", "Condition of us-2026-draft: Retest jailbreaks within 30 days"}, titles); diff != "" {
		t.Errorf("poam items (-want +got):\n%s", diff)
	}
	if len(p.POAMItems[0].RelatedRisks) != 1 || p.POAMItems[0].RelatedRisks[0].RiskUUID != p.Risks[0].UUID {
		t.Errorf("item's risk = %+v, want %s", p.POAMItems[0].RelatedRisks, p.Risks[0].UUID)
	}
	if len(p.POAMItems[0].RelatedFindings) != 1 || p.POAMItems[0].RelatedFindings[0].FindingUUID != p.Findings[0].UUID {
		t.Errorf("item's finding = %+v, want %s", p.POAMItems[0].RelatedFindings, p.Findings[0].UUID)
	}
	c.Findings[0].Status = review.FindingResolved
	p = oscal.BuildPOAM(c)
	if r := p.Risks[0]; r.Status != "closed" || r.Remediations[0].Lifecycle != "completed" {
		t.Errorf("resolved finding's risk = %s, remediation %s; want closed, completed", r.Status, r.Remediations[0].Lifecycle)
	}
	c.Findings[0].Status = review.FindingAcceptedRisk
	if r := oscal.BuildPOAM(c).Risks[0]; r.Status != "deviation-approved" {
		t.Errorf("accepted risk's status = %s, want deviation-approved", r.Status)
	}
}

// TestAPContent: the model is the subject (no SSP: import-ssp points to
// a back-matter resource), each assessment a TEST activity with its task,
// the review clock's deadline a milestone.
func TestAPContent(t *testing.T) {
	ap := oscal.BuildAP(fixture())
	if !strings.HasPrefix(ap.ImportSSP.Href, "#") || ap.BackMatter.Resources[0].UUID != ap.ImportSSP.Href[1:] {
		t.Errorf("import-ssp %q does not point at the model resource", ap.ImportSSP.Href)
	}
	if len(ap.LocalDefinitions.Activities) != 1 || ap.LocalDefinitions.Activities[0].Props[0].Value != "TEST" {
		t.Errorf("activities = %+v", ap.LocalDefinitions.Activities)
	}
	if len(ap.Tasks) != 2 || ap.Tasks[1].Type != "milestone" || ap.Tasks[1].Timing.OnDate.Date != "2026-05-31T09:00:00Z" {
		t.Errorf("tasks = %+v", ap.Tasks)
	}
}

func TestParseKind(t *testing.T) {
	for in, want := range map[string]oscal.Kind{"ar": oscal.KindAR, "AP": oscal.KindAP, " poam ": oscal.KindPOAM} {
		if k, err := oscal.ParseKind(in); err != nil || k != want {
			t.Errorf("ParseKind(%q) = %q, %v", in, k, err)
		}
	}
	for _, in := range []string{"", "ssp", "xml"} {
		if _, err := oscal.ParseKind(in); !errors.Is(err, oscal.ErrUnknownKind) {
			t.Errorf("ParseKind(%q) = %v, want ErrUnknownKind", in, err)
		}
	}
}

// TestSchemasEmbedded: the embedded schemas are NIST's v1.1.3 files,
// byte for byte (the hashes of schemas/SOURCE.txt).
func TestSchemasEmbedded(t *testing.T) {
	want := map[oscal.Kind]string{
		oscal.KindAP:   "0850be91252390dde740a98fd2f0fc504cd0ba66fe8940c2b6242b7aa2fb36eb",
		oscal.KindAR:   "d9e34757f0c12aff61f52b821f0b8f83ba0ba75b3a149a202b08ba82f82bc4c3",
		oscal.KindPOAM: "e404043fef9cc6108c0e895932f513043d54f28457b4eb02e74dc0cff1215e16",
	}
	for k, h := range want {
		b, err := oscal.Schema(k)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != h {
			t.Errorf("%s schema sha256 %x, want %s", k, sum, h)
		}
	}
}
