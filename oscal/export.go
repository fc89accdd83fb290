package oscal

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
)

// Kind is one of the three OSCAL documents a case exports as.
type Kind string

// The kinds: assessment plan, assessment results, plan of action and
// milestones.
const (
	KindAP   Kind = "ap"
	KindAR   Kind = "ar"
	KindPOAM Kind = "poam"
)

// Kinds lists the kinds in a fixed order.
func Kinds() []Kind { return []Kind{KindAP, KindAR, KindPOAM} }

// ErrUnknownKind is returned for a kind other than ap, ar or poam.
var ErrUnknownKind = errors.New("unknown OSCAL kind (want ap, ar or poam)")

// ParseKind returns the kind named s, or an error wrapping ErrUnknownKind.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Kinds(), k) {
		return "", fmt.Errorf("kind %q: %w", s, ErrUnknownKind)
	}
	return k, nil
}

// Case is everything a case's OSCAL documents are made from, as the
// review service returns it to the reader (see Load).
type Case struct {
	Case        review.Case
	Assessments []review.Assessment
	Findings    []review.Finding
	Responses   []review.Response
	// Decisions, oldest first; the latest one's outcomes are the
	// profile findings and its bundle is referenced from the results.
	Decisions []review.Decision
	// Evaluation is the policy's judgement of the case under its
	// profiles, criterion by criterion; nil when not available (then
	// the profiles' controls are selected with include-all and findings
	// are made per profile only).
	Evaluation *policy.Decision
	// Names maps user ids to display names; optional.
	Names map[string]string
	// DeveloperName is the developer organisation's name; optional.
	DeveloperName string
}

// Export builds the document of kind k for c and returns it as indented
// JSON. The document is a function of c alone: exporting the same case
// data twice gives the same bytes (UUIDs are version 5, derived from the
// case id and the kind or the object; last-modified is the latest time
// in the data).
func Export(k Kind, c Case) ([]byte, error) {
	var doc any
	switch k {
	case KindAP:
		doc = APDocument{AssessmentPlan: BuildAP(c)}
	case KindAR:
		doc = ARDocument{AssessmentResults: BuildAR(c)}
	case KindPOAM:
		doc = POAMDocument{POAM: BuildPOAM(c)}
	default:
		return nil, fmt.Errorf("export: %w: %q", ErrUnknownKind, k)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export %s of case %s: %w", k, c.Case.ID, err)
	}
	return append(b, '\n'), nil
}

// BuildAP builds the assessment plan: the model as the assessment
// subject, the profiles' criteria as the reviewed controls, each
// assessment as a TEST activity with its task, and the review clock's
// deadline as a milestone.
func BuildAP(c Case) *AssessmentPlan {
	id := c.Case.ID
	ap := &AssessmentPlan{
		UUID:             uuid5(id, "ap"),
		Metadata:         c.metadata("Assessment plan"),
		ImportSSP:        Import{Href: "#" + c.modelResourceUUID(), Remarks: "Clearance keeps no system security plan: the system is the model under review, described by the back-matter resource this points to."},
		ReviewedControls: c.reviewedControls(),
		AssessmentSubjects: []AssessmentSubject{{Type: "component", IncludeAll: &struct{}{},
			Description: fmt.Sprintf("The model %s, weights %s, as served at the endpoint its developer submitted.", nonEmpty(c.Case.ModelName, "(unnamed)"), c.Case.ModelDigest)}},
		BackMatter: &BackMatter{Resources: []Resource{c.modelResource()}},
	}
	var acts []Activity
	for _, a := range c.Assessments {
		act := Activity{UUID: uuid5(id, "activity/"+a.ID), Title: "Assessment " + a.ID,
			Description: activityText(a), Props: []Prop{{Name: "method", Value: "TEST"}}}
		acts = append(acts, act)
		ap.Tasks = append(ap.Tasks, Task{UUID: uuid5(id, "task/"+a.ID), Type: "action",
			Title:       "Run assessment " + a.ID,
			Description: fmt.Sprintf("Run the assessment's evaluation suites against the model's endpoint in %d shard(s); state %s.", a.Shards, a.State),
			Timing:      &Timing{OnDate: &OnDate{Date: stamp(a.CreatedAt)}},
			AssociatedActivities: []AssociatedActivity{{ActivityUUID: act.UUID,
				Subjects: []AssessmentSubject{{Type: "component", IncludeAll: &struct{}{}}}}},
			ResponsibleRoles: []ResponsibleRoleOnly{{RoleID: "assessor"}}})
	}
	if len(acts) > 0 {
		ap.LocalDefinitions = &LocalDefinitions{Activities: acts}
	}
	if k := c.Case.Clock; k != nil {
		dl := k.Deadline(c.lastModified())
		ap.Tasks = append(ap.Tasks, Task{UUID: uuid5(id, "task/clock"), Type: "milestone",
			Title:            "Review clock deadline",
			Description:      fmt.Sprintf("The review clock of %d %s (with %d extension(s)); when it runs out the outcome is deemed %s.", k.Length, strings.ReplaceAll(string(k.Unit), "_", " "), len(k.Extensions), k.OnExpiry),
			Timing:           &Timing{OnDate: &OnDate{Date: stamp(dl)}},
			ResponsibleRoles: []ResponsibleRoleOnly{{RoleID: "official"}}})
	}
	return ap
}

// BuildAR builds the assessment results: one result holding an
// observation per metric of every finished assessment (rate, interval, n,
// scorer), a finding per criterion of every profile (when the evaluation
// is known), a finding per profile outcome of the latest decision, and a
// finding and a risk per reviewer's finding. The latest decision's signed
// bundle is a back-matter resource, with its SHA-256, linked from the
// result.
func BuildAR(c Case) *AssessmentResults {
	id := c.Case.ID
	ar := &AssessmentResults{
		UUID:     uuid5(id, "ar"),
		Metadata: c.metadata("Assessment results"),
		ImportAP: Import{Href: "#" + uuid5(id, "resource/ap"), Remarks: "The assessment plan of the same case (clearance case oscal --kind ap)."},
	}
	res := Result{
		UUID:             uuid5(id, "result"),
		Title:            "Review of " + nonEmpty(c.Case.ModelName, id),
		Description:      fmt.Sprintf("Results of case %s under %s: the assessments' measured rates, the criteria they were judged against, the profiles' outcomes and the reviewers' findings.", id, strings.Join(c.Case.Profiles, ", ")),
		Start:            stamp(c.Case.CreatedAt),
		ReviewedControls: c.reviewedControls(),
		Props:            []Prop{c.prop("case-state", string(c.Case.State))},
	}
	if len(c.Decisions) > 0 {
		res.End = stamp(c.Decisions[len(c.Decisions)-1].CreatedAt)
	}
	obs, byMetric := c.observations()
	res.Observations = obs
	res.Findings = append(res.Findings, c.criterionFindings(byMetric)...)
	res.Findings = append(res.Findings, c.outcomeFindings()...)
	res.Findings = append(res.Findings, c.reviewFindings()...)
	res.Risks = c.risks()
	resources := []Resource{c.modelResource(), {UUID: uuid5(id, "resource/ap"), Title: "Assessment plan of case " + id,
		RLinks: []RLink{{Href: c.oscalHref(KindAP), MediaType: "application/json"}}}}
	for i, d := range c.Decisions {
		r, ok := c.bundleResource(d)
		if !ok {
			continue
		}
		resources = append(resources, r)
		if i == len(c.Decisions)-1 {
			res.Links = append(res.Links, Link{Href: "#" + r.UUID, Rel: "reference", MediaType: "application/json",
				Text: "Signed decision bundle " + d.ID})
		}
	}
	ar.BackMatter = &BackMatter{Resources: resources}
	ar.Results = []Result{res}
	return ar
}

// BuildPOAM builds the plan of action and milestones: a POA&M item per
// reviewer's finding, with its risk (deadline, status) and the
// developer's responses as the risk's remediations, and an item per
// condition of the latest decision. A case with neither has one item
// saying so (the schema wants at least one).
func BuildPOAM(c Case) *POAM {
	id := c.Case.ID
	p := &POAM{
		UUID:     uuid5(id, "poam"),
		Metadata: c.metadata("Plan of action and milestones"),
		ImportSSP: &Import{Href: "#" + c.modelResourceUUID(),
			Remarks: "Clearance keeps no system security plan: the system is the model under review."},
		SystemID:   &SystemID{IdentifierType: Namespace + "/model-digest", ID: nonEmpty(c.Case.ModelDigest, id)},
		Findings:   c.reviewFindings(),
		Risks:      c.risks(),
		BackMatter: &BackMatter{Resources: []Resource{c.modelResource()}},
	}
	for _, f := range c.Findings {
		item := POAMItem{UUID: uuid5(id, "poam-item/"+f.ID), Title: text(oneLine(f.Title), "Finding "+f.ID),
			Description:     text(f.Description, f.Title),
			Props:           []Prop{c.prop("finding-id", f.ID), c.prop("severity", string(f.Severity)), c.prop("status", string(f.Status)), c.prop("deadline", stamp(f.Deadline))},
			RelatedFindings: []RelatedFinding{{FindingUUID: uuid5(id, "finding/review/"+f.ID)}},
			RelatedRisks:    []RelatedRisk{{RiskUUID: uuid5(id, "risk/"+f.ID)}}}
		p.POAMItems = append(p.POAMItems, item)
	}
	for _, cond := range c.conditions() {
		p.POAMItems = append(p.POAMItems, POAMItem{UUID: uuid5(id, "poam-item/condition/"+cond.profile+"/"+strconv.Itoa(cond.n)),
			Title:       "Condition of " + cond.profile + ": " + firstLine(cond.text),
			Description: cond.text,
			Props:       []Prop{c.prop("profile", cond.profile), c.prop("decision-id", cond.decision)},
			Remarks:     "A condition attached to the outcome " + cond.outcome + " of decision " + cond.decision + "."})
	}
	if len(p.POAMItems) == 0 {
		p.POAMItems = []POAMItem{{UUID: uuid5(id, "poam-item/none"), Title: "No remediation items",
			Description: "The case has no reviewer's findings and its decision attached no conditions: there is nothing to remediate."}}
	}
	return p
}

// roles are the review's roles as OSCAL roles.
var roles = []Role{
	{ID: "developer", Title: "Developer (submits the model and responds to findings)"},
	{ID: "assessor", Title: "Assessor (runs the evaluations)"},
	{ID: "reviewer", Title: "Reviewer (records findings)"},
	{ID: "official", Title: "Official (decides)"},
}

func (c Case) metadata(what string) Metadata {
	m := Metadata{
		Title:        fmt.Sprintf("%s: %s, case %s", what, nonEmpty(c.Case.ModelName, "model"), c.Case.ID),
		LastModified: stamp(c.lastModified()),
		Version:      "case-" + c.Case.ID + "@" + c.lastModified().UTC().Format("20060102T150405.000000000Z"),
		OSCALVersion: Version,
		Props: []Prop{c.prop("case-id", c.Case.ID), c.prop("model-digest", nonEmpty(c.Case.ModelDigest, "unknown")),
			c.prop("case-state", string(c.Case.State))},
		Roles: roles,
	}
	dev := Party{UUID: uuid5(c.Case.ID, "party/org/"+c.Case.OrgID), Type: "organization",
		Name:  nonEmpty(oneLine(c.DeveloperName), "Developer organisation "+c.Case.OrgID),
		Props: []Prop{c.prop("org-id", c.Case.OrgID)}}
	m.Parties = append(m.Parties, dev)
	m.ResponsibleParties = append(m.ResponsibleParties, ResponsibleParty{RoleID: "developer", PartyUUIDs: []string{dev.UUID}})
	people := map[string][]string{} // role → party uuids
	add := func(role, userID string) {
		if userID == "" {
			return
		}
		u := uuid5(c.Case.ID, "party/user/"+userID)
		if !slices.ContainsFunc(m.Parties, func(p Party) bool { return p.UUID == u }) {
			m.Parties = append(m.Parties, Party{UUID: u, Type: "person", Name: nonEmpty(oneLine(c.Names[userID]), "User "+userID),
				Props: []Prop{c.prop("user-id", userID)}})
		}
		if !slices.Contains(people[role], u) {
			people[role] = append(people[role], u)
		}
	}
	for _, a := range c.Assessments {
		add("assessor", a.CreatedBy)
	}
	for _, f := range c.Findings {
		add("reviewer", f.CreatedBy)
	}
	for _, r := range c.Responses {
		add("developer-person", r.AuthorID)
	}
	for _, d := range c.Decisions {
		if !d.Deemed {
			add("official", d.OfficialID)
		}
	}
	for _, role := range []string{"assessor", "reviewer", "official"} {
		if len(people[role]) > 0 {
			m.ResponsibleParties = append(m.ResponsibleParties, ResponsibleParty{RoleID: role, PartyUUIDs: people[role]})
		}
	}
	for _, u := range people["developer-person"] {
		i := slices.IndexFunc(m.Parties, func(p Party) bool { return p.UUID == u })
		m.Parties[i].MemberOfOrganizations = []string{dev.UUID}
	}
	return m
}

// lastModified is the latest time in the case's data: the documents'
// last-modified, so that exporting unchanged data gives the same bytes.
func (c Case) lastModified() time.Time {
	t := c.Case.UpdatedAt
	later := func(u time.Time) {
		if u.After(t) {
			t = u
		}
	}
	later(c.Case.CreatedAt)
	for _, a := range c.Assessments {
		later(a.UpdatedAt)
	}
	for _, f := range c.Findings {
		later(f.UpdatedAt)
	}
	for _, r := range c.Responses {
		later(r.CreatedAt)
	}
	for _, d := range c.Decisions {
		later(d.CreatedAt)
	}
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t
}

func (c Case) modelResourceUUID() string { return uuid5(c.Case.ID, "resource/model") }

// modelResource describes the system assessed: the model and its weights.
func (c Case) modelResource() Resource {
	return Resource{UUID: c.modelResourceUUID(), Title: "Model under review: " + nonEmpty(oneLine(c.Case.ModelName), c.Case.ID),
		Description: fmt.Sprintf("The model %s submitted for pre-release review in case %s; its weights are identified by the OMS manifest root digest %s.", nonEmpty(c.Case.ModelName, "(unnamed)"), c.Case.ID, c.Case.ModelDigest),
		Props:       []Prop{c.prop("model-digest", nonEmpty(c.Case.ModelDigest, "unknown")), c.prop("case-id", c.Case.ID)},
		RLinks:      []RLink{{Href: "/api/v1/cases/" + c.Case.ID, MediaType: "application/json"}}}
}

// bundleResource is the back-matter resource of a decision's signed
// bundle: its download link with the SHA-256 of its exact bytes.
func (c Case) bundleResource(d review.Decision) (Resource, bool) {
	if len(d.Bundle) == 0 {
		return Resource{}, false
	}
	sum := sha256.Sum256(d.Bundle)
	r := Resource{UUID: uuid5(c.Case.ID, "resource/bundle/"+d.ID), Title: "Signed decision bundle " + d.ID,
		Description: "The Sigstore bundle signing decision " + d.ID + " on this case (verify with clearance verify --bundle); the hash is of its exact bytes.",
		Props:       []Prop{c.prop("decision-id", d.ID), c.prop("bundle-sha256", hex.EncodeToString(sum[:]))},
		RLinks: []RLink{{Href: "/api/v1/decisions/" + d.ID + "/bundle", MediaType: "application/json",
			Hashes: []Hash{{Algorithm: "SHA-256", Value: hex.EncodeToString(sum[:])}}}}}
	if d.LogIndex >= 0 {
		r.Props = append(r.Props, c.prop("log-index", strconv.FormatInt(d.LogIndex, 10)))
	}
	return r, true
}

func (c Case) oscalHref(k Kind) string {
	return "/api/v1/cases/" + c.Case.ID + "/oscal?kind=" + string(k)
}

// reviewedControls selects, per profile, the profile's criteria (as
// "<profile>.<criterion>" control ids) when the evaluation is known, and
// all of the profile's controls otherwise.
func (c Case) reviewedControls() ReviewedControls {
	rc := ReviewedControls{Description: "The criteria of the profiles (regimes) the case is reviewed under; a control id is <profile>.<criterion>."}
	results := map[string]policy.Result{}
	if c.Evaluation != nil {
		for _, r := range c.Evaluation.Results {
			results[r.Profile] = r
		}
	}
	for _, p := range c.Case.Profiles {
		sel := ControlSelection{Description: "Profile " + p, Props: []Prop{c.prop("profile", p)}}
		r, ok := results[p]
		if ok {
			sel.Description = fmt.Sprintf("Profile %s (%s, version %s)", p, oneLine(r.Title), r.ProfileVersion)
			for _, cr := range r.Criteria {
				sel.IncludeControls = append(sel.IncludeControls, SelectControlID{ControlID: token(p + "." + cr.ID)})
			}
		}
		if len(sel.IncludeControls) == 0 {
			sel.IncludeAll = &struct{}{}
		}
		rc.ControlSelections = append(rc.ControlSelections, sel)
	}
	if len(rc.ControlSelections) == 0 {
		rc.ControlSelections = []ControlSelection{{IncludeAll: &struct{}{}}}
	}
	return rc
}

// observations makes one observation per metric group of every finished
// assessment; byMetric maps "suite.metric" to the latest one's uuid.
func (c Case) observations() ([]Observation, map[string]string) {
	byMetric := map[string]string{}
	var out []Observation
	subject := []SubjectReference{{SubjectUUID: c.modelResourceUUID(), Type: "resource", Title: nonEmpty(oneLine(c.Case.ModelName), c.Case.ID)}}
	for _, a := range c.Assessments {
		if a.State != review.AssessmentDone || len(a.Metrics) == 0 {
			continue
		}
		var m assess.Metrics
		if json.Unmarshal(a.Metrics, &m) != nil {
			continue
		}
		for _, g := range m.Groups {
			o := Observation{UUID: uuid5(c.Case.ID, "observation/"+a.ID+"/"+g.Key),
				Title:       fmt.Sprintf("%s.%s: %s (assessment %s)", g.Suite, g.Metric, percent(g.Overall.Rate), a.ID),
				Description: fmt.Sprintf("%s of suite %s: %d of %d scored samples flagged (flagged means %s); %s confidence interval %s–%s (%s).", g.Metric, g.Suite, g.Overall.Flagged, g.Overall.N, oneLine(g.Flagged), percent(g.Overall.CI.Level), percent(g.Overall.CI.Low), percent(g.Overall.CI.High), g.Overall.CI.Method),
				Methods:     []string{"TEST"},
				Subjects:    subject,
				Collected:   stamp(a.UpdatedAt),
				RelevantEvidence: []RelevantEvidence{
					{Href: "/api/v1/assessments/" + a.ID, Description: "The assessment's metrics (metrics.json), every rate with its count and interval."},
					{Href: "/api/v1/assessments/" + a.ID + "/samples?suite=" + g.Suite, Description: "The scored samples of suite " + g.Suite + "."}},
			}
			o.Props = []Prop{c.prop("suite", g.Suite), c.prop("metric", g.Metric), c.prop("rate", num(g.Overall.Rate)),
				c.prop("lower", num(g.Overall.CI.Low)), c.prop("upper", num(g.Overall.CI.High)),
				c.prop("confidence-level", num(g.Overall.CI.Level)), c.prop("interval-method", g.Overall.CI.Method),
				c.prop("n", strconv.Itoa(g.Overall.N)), c.prop("flagged", strconv.Itoa(g.Overall.Flagged)),
				c.prop("errors", strconv.Itoa(g.Overall.Errors)), c.prop("scorer", nonEmpty(g.Scorer.Name, "unknown"))}
			if g.Scorer.Version != "" {
				o.Props = append(o.Props, c.prop("scorer-version", g.Scorer.Version))
			}
			// The variant of the model the metric was measured on
			// ("unrecorded" for an assessment that records none).
			v := a.Variant()
			o.Props = append(o.Props, c.prop("variant", v.Label()))
			if v.Scaffold != "" {
				o.Props = append(o.Props, c.prop("scaffold", v.Scaffold))
			}
			if cr := g.Overall.Corrected; cr != nil {
				o.Props = append(o.Props, c.prop("corrected-rate", num(cr.Rate)), c.prop("corrected-lower", num(cr.CI.Low)),
					c.prop("corrected-upper", num(cr.CI.High)))
			}
			out = append(out, o)
			byMetric[g.Suite+"."+g.Metric] = o.UUID
		}
	}
	return out, byMetric
}

// criterionFindings makes a finding per criterion of every profile: the
// target is the objective "<profile>.<criterion>", satisfied when the
// criterion passed, not satisfied otherwise (failed: reason fail;
// inconclusive, insufficient, missing or pending: reason other).
func (c Case) criterionFindings(byMetric map[string]string) []Finding {
	if c.Evaluation == nil {
		return nil
	}
	var out []Finding
	for _, r := range c.Evaluation.Results {
		if !slices.Contains(c.Case.Profiles, r.Profile) {
			continue
		}
		for _, cr := range r.Criteria {
			st := ObjectiveStatus{State: "not-satisfied", Reason: "other", Remarks: "Criterion status: " + cr.Status + "."}
			switch cr.Status {
			case "pass":
				st = ObjectiveStatus{State: "satisfied", Reason: "pass"}
			case "fail":
				st.Reason = "fail"
			}
			f := Finding{UUID: uuid5(c.Case.ID, "finding/criterion/"+r.Profile+"/"+cr.ID),
				Title:       fmt.Sprintf("%s: %s — %s", r.Profile, text(oneLine(cr.Title), cr.ID), cr.Status),
				Description: criterionText(cr),
				Props:       []Prop{c.prop("profile", r.Profile), c.prop("criterion", text(cr.ID, "unnamed")), c.prop("criterion-kind", text(cr.Kind, "unknown")), c.prop("criterion-status", text(cr.Status, "unknown"))},
				Target: FindingTarget{Type: "objective-id", TargetID: token(r.Profile + "." + cr.ID),
					Title: oneLine(cr.Title), Status: st}}
			if o := cr.Observed; o != nil {
				f.Props = append(f.Props, c.prop("rate", num(o.Rate)), c.prop("n", strconv.Itoa(o.N)), c.prop("flagged", strconv.Itoa(o.Flagged)))
				if o.CI != nil {
					f.Props = append(f.Props, c.prop("lower", num(o.CI.Low)), c.prop("upper", num(o.CI.High)), c.prop("confidence-level", num(o.CI.Level)))
				}
				if o.Corrected {
					f.Props = append(f.Props, c.prop("corrected", "true"))
				}
			}
			if cr.Scorer != nil && cr.Scorer.Name != "" {
				f.Props = append(f.Props, c.prop("scorer", cr.Scorer.Name))
			}
			if cr.Threshold != nil {
				f.Props = append(f.Props, c.prop("threshold", num(*cr.Threshold)))
			}
			if u, ok := byMetric[cr.Suite+"."+cr.Metric]; ok && cr.Suite != "" {
				f.RelatedObservations = []RelatedObservation{{ObservationUUID: u}}
			}
			out = append(out, f)
		}
	}
	return out
}

func criterionText(cr policy.Criterion) string {
	s := fmt.Sprintf("%s criterion %s: %s.", text(cr.Kind, "A"), cr.ID, cr.Status)
	if cr.Required != "" {
		s += " Required: " + cr.Required + "."
	}
	if o := cr.Observed; o != nil {
		s += fmt.Sprintf(" Observed: %s (%d of %d)", percent(o.Rate), o.Flagged, o.N)
		if o.CI != nil {
			s += fmt.Sprintf(", %s interval %s–%s", percent(o.CI.Level), percent(o.CI.Low), percent(o.CI.High))
		}
		s += "."
	}
	if cr.Judgement != "" {
		s += " " + cr.Judgement
	}
	if cr.Cite != "" {
		s += " (" + cr.Cite + ")"
	}
	return s
}

// outcome is one profile's outcome in a decision.
type outcome struct {
	Outcome    string
	Conditions []string
	Deemed     bool
}

func parseOutcomes(raw json.RawMessage) map[string]outcome {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := map[string]outcome{}
	for p, v := range m {
		if e, ok := review.ParseOutcomeEntry(v); ok {
			out[p] = outcome{Outcome: e.Outcome, Deemed: e.Deemed, Conditions: e.Conditions}
		}
	}
	return out
}

// satisfiedOutcomes are the outcomes under which a profile is satisfied.
var satisfiedOutcomes = []string{"cleared", "cleared_with_conditions", "notify_only", "not_applicable"}

// outcomeFindings makes a finding per profile of the latest decision: the
// target is the profile (statement-id), satisfied (reason pass) when the
// outcome clears the model or the profile does not apply, not satisfied
// with reason fail when refused and other otherwise (hold, window expired).
func (c Case) outcomeFindings() []Finding {
	if len(c.Decisions) == 0 {
		return nil
	}
	d := c.Decisions[len(c.Decisions)-1]
	outs := parseOutcomes(d.Outcomes)
	profiles := make([]string, 0, len(outs))
	for p := range outs {
		profiles = append(profiles, p)
	}
	sort.Strings(profiles)
	var out []Finding
	for _, p := range profiles {
		o := outs[p]
		st := ObjectiveStatus{State: "not-satisfied", Reason: "other", Remarks: "Outcome: " + text(o.Outcome, "none") + "."}
		switch {
		case slices.Contains(satisfiedOutcomes, o.Outcome):
			st = ObjectiveStatus{State: "satisfied", Reason: "pass"}
		case o.Outcome == "refused":
			st.Reason = "fail"
		}
		desc := fmt.Sprintf("Decision %s: %s under %s.", d.ID, text(o.Outcome, "no outcome"), p)
		if d.Deemed || o.Deemed {
			desc += " The outcome was deemed: the review clock ran out."
		}
		if len(o.Conditions) > 0 {
			desc += " Conditions: " + strings.Join(o.Conditions, "; ") + "."
		}
		if d.Rationale != "" {
			desc += " Rationale: " + d.Rationale
		}
		f := Finding{UUID: uuid5(c.Case.ID, "finding/outcome/"+p),
			Title:       fmt.Sprintf("Outcome under %s: %s", p, text(o.Outcome, "unknown")),
			Description: desc,
			Props:       []Prop{c.prop("profile", p), c.prop("outcome", text(o.Outcome, "unknown")), c.prop("decision-id", d.ID)},
			Target:      FindingTarget{Type: "statement-id", TargetID: token(p), Title: "Profile " + p, Status: st}}
		if len(d.Missing) > 0 {
			f.Remarks = "Decided without required evidence (" + strings.Join(d.Missing, ", ") + "): " + d.OverrideReason
		}
		out = append(out, f)
	}
	return out
}

// reviewFindings makes a finding per reviewer's finding, targeting the
// finding itself, satisfied once resolved.
func (c Case) reviewFindings() []Finding {
	var out []Finding
	for _, f := range c.Findings {
		st := ObjectiveStatus{State: "not-satisfied", Reason: "fail", Remarks: "Finding status: " + string(f.Status) + "."}
		if f.Status == review.FindingResolved {
			st = ObjectiveStatus{State: "satisfied", Reason: "other", Remarks: "Finding status: resolved."}
		}
		out = append(out, Finding{UUID: uuid5(c.Case.ID, "finding/review/"+f.ID), Title: text(oneLine(f.Title), "Finding "+f.ID),
			Description: text(f.Description, f.Title),
			Props: []Prop{c.prop("finding-id", f.ID), c.prop("severity", string(f.Severity)), c.prop("status", string(f.Status)),
				c.prop("deadline", stamp(f.Deadline))},
			Target:       FindingTarget{Type: "statement-id", TargetID: token("finding." + f.ID), Title: oneLine(f.Title), Status: st},
			RelatedRisks: []RelatedRisk{{RiskUUID: uuid5(c.Case.ID, "risk/"+f.ID)}}})
	}
	return out
}

// riskStatus maps a finding's status: open and responded findings are
// open risks, resolved ones closed, accepted risks deviation-approved.
func riskStatus(s review.FindingStatus) string {
	switch s {
	case review.FindingResolved:
		return "closed"
	case review.FindingAcceptedRisk:
		return "deviation-approved"
	}
	return "open"
}

// risks makes a risk per reviewer's finding: its deadline is the
// remediation deadline, its remediations the developer's responses.
func (c Case) risks() []Risk {
	var out []Risk
	for _, f := range c.Findings {
		r := Risk{UUID: uuid5(c.Case.ID, "risk/"+f.ID), Title: text(oneLine(f.Title), "Finding "+f.ID),
			Description: text(f.Description, f.Title),
			Statement:   fmt.Sprintf("A %s finding recorded in review; remediation due %s.", f.Severity, f.Deadline.UTC().Format(time.DateOnly)),
			Props:       []Prop{c.prop("severity", string(f.Severity)), c.prop("finding-status", string(f.Status))},
			Status:      riskStatus(f.Status), Deadline: stamp(f.Deadline)}
		for _, rsp := range c.Responses {
			if rsp.FindingID != f.ID {
				continue
			}
			lc := "planned"
			if f.Status == review.FindingResolved {
				lc = "completed"
			}
			rem := Response{UUID: uuid5(c.Case.ID, "response/"+rsp.ID), Lifecycle: lc,
				Title:       "Developer's response of " + rsp.CreatedAt.UTC().Format(time.DateOnly),
				Description: text(rsp.Body, "(empty)"),
				Props:       []Prop{c.prop("response-id", rsp.ID), c.prop("responded", stamp(rsp.CreatedAt))}}
			if rsp.AuthorID != "" {
				rem.Origins = []Origin{{Actors: []OriginActor{{Type: "party", ActorUUID: uuid5(c.Case.ID, "party/user/"+rsp.AuthorID), RoleID: "developer"}}}}
			}
			r.Remediations = append(r.Remediations, rem)
		}
		out = append(out, r)
	}
	return out
}

type condition struct {
	profile, text, outcome, decision string
	n                                int
}

// conditions are the latest decision's conditions, by profile.
func (c Case) conditions() []condition {
	if len(c.Decisions) == 0 {
		return nil
	}
	d := c.Decisions[len(c.Decisions)-1]
	outs := parseOutcomes(d.Outcomes)
	var out []condition
	for p, o := range outs {
		for i, t := range o.Conditions {
			out = append(out, condition{profile: p, text: t, outcome: o.Outcome, decision: d.ID, n: i})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].profile != out[j].profile {
			return out[i].profile < out[j].profile
		}
		return out[i].n < out[j].n
	})
	return out
}

func activityText(a review.Assessment) string {
	var spec struct {
		Suites []string `json:"suites"`
		Limit  int      `json:"limit"`
		Seed   int64    `json:"seed"`
	}
	_ = json.Unmarshal(a.Spec, &spec)
	how := "scheduled through the job queue"
	if a.Imported {
		how = "imported from a run made with clearance assess"
	}
	s := "Automated test of the model's endpoint with evaluation suites, " + how + "."
	if len(spec.Suites) > 0 {
		s += " Suites: " + strings.Join(spec.Suites, ", ") + "."
	}
	if spec.Limit > 0 {
		s += fmt.Sprintf(" At most %d samples per suite.", spec.Limit)
	}
	return s
}

// prop is a Clearance property: its name in Clearance's namespace, its
// value one non-empty line (the schema's StringDatatype).
func (c Case) prop(name, value string) Prop {
	return Prop{Name: name, NS: Namespace, Value: text(oneLine(value), "none")}
}

// stamp formats t as the schema's date-time with time zone (UTC, "Z").
func stamp(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

func nonEmpty(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// text returns s trimmed, or def when it is empty.
func text(s, def string) string {
	if s = strings.TrimSpace(s); s == "" {
		return strings.TrimSpace(def)
	}
	return s
}

// oneLine folds runs of white space into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func firstLine(s string) string {
	s = oneLine(s)
	if r := []rune(s); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return s
}

// token makes s a TokenDatatype (an XML NCName: a letter or "_" first,
// then letters, digits, ".", "-" and "_"): other characters become "_".
func token(s string) string {
	var b strings.Builder
	for i, r := range s {
		ok := unicode.IsLetter(r) || r == '_' || (i > 0 && (unicode.IsDigit(r) || unicode.Is(unicode.N, r) || r == '.' || r == '-'))
		if i == 0 && !ok {
			b.WriteRune('_')
			if unicode.IsDigit(r) || r == '.' || r == '-' {
				b.WriteRune(r)
			}
			continue
		}
		if !ok {
			r = '_'
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// namespaceUUID is the UUIDv5 namespace of Clearance's OSCAL objects:
// uuid5(URL namespace, Namespace).
var namespaceUUID = func() [16]byte {
	urlNS := [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	return uuidV5(urlNS, Namespace)
}()

// uuid5 is the version 5 UUID of an object of a case: the same case and
// object always get the same UUID, so exports are reproducible and an
// object keeps its UUID across revisions of a document, as OSCAL asks.
func uuid5(caseID, object string) string {
	u := uuidV5(namespaceUUID, caseID+"/"+object)
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// uuidV5 is RFC 9562's name-based UUID with SHA-1.
func uuidV5(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = (u[6] & 0x0f) | 0x50
	u[8] = (u[8] & 0x3f) | 0x80
	return u
}

// FileName is the download name of a case's document of kind k, such as
// "case-01.oscal-ar.json".
func FileName(caseID string, k Kind) string { return caseID + ".oscal-" + string(k) + ".json" }
