package oscal

// The OSCAL v1.1.3 JSON structures Clearance emits: a subset of the
// assessment-plan, assessment-results and plan-of-action-and-milestones
// models, field names as in the NIST schemas. Every array is omitted when
// empty (the schemas want at least one item in any array present).

// Version is the OSCAL version of the documents and of the embedded
// schemas.
const Version = "1.1.3"

// Namespace qualifies Clearance's own property names (rate, n, …).
const Namespace = "https://clearance.dev/ns/oscal"

// APDocument is an assessment plan as a JSON document.
type APDocument struct {
	AssessmentPlan *AssessmentPlan `json:"assessment-plan"`
}

// ARDocument is an assessment results document.
type ARDocument struct {
	AssessmentResults *AssessmentResults `json:"assessment-results"`
}

// POAMDocument is a plan of action and milestones document.
type POAMDocument struct {
	POAM *POAM `json:"plan-of-action-and-milestones"`
}

// AssessmentPlan is the plan: what is reviewed (the model) against what
// (the profiles' criteria) and how (the assessments).
type AssessmentPlan struct {
	UUID               string              `json:"uuid"`
	Metadata           Metadata            `json:"metadata"`
	ImportSSP          Import              `json:"import-ssp"`
	LocalDefinitions   *LocalDefinitions   `json:"local-definitions,omitempty"`
	ReviewedControls   ReviewedControls    `json:"reviewed-controls"`
	AssessmentSubjects []AssessmentSubject `json:"assessment-subjects,omitempty"`
	Tasks              []Task              `json:"tasks,omitempty"`
	BackMatter         *BackMatter         `json:"back-matter,omitempty"`
}

// AssessmentResults holds the review's results.
type AssessmentResults struct {
	UUID       string      `json:"uuid"`
	Metadata   Metadata    `json:"metadata"`
	ImportAP   Import      `json:"import-ap"`
	Results    []Result    `json:"results"`
	BackMatter *BackMatter `json:"back-matter,omitempty"`
}

// POAM is a plan of action and milestones.
type POAM struct {
	UUID         string        `json:"uuid"`
	Metadata     Metadata      `json:"metadata"`
	ImportSSP    *Import       `json:"import-ssp,omitempty"`
	SystemID     *SystemID     `json:"system-id,omitempty"`
	Observations []Observation `json:"observations,omitempty"`
	Risks        []Risk        `json:"risks,omitempty"`
	Findings     []Finding     `json:"findings,omitempty"`
	POAMItems    []POAMItem    `json:"poam-items"`
	BackMatter   *BackMatter   `json:"back-matter,omitempty"`
}

// Metadata is a document's metadata.
type Metadata struct {
	Title              string             `json:"title"`
	LastModified       string             `json:"last-modified"`
	Version            string             `json:"version"`
	OSCALVersion       string             `json:"oscal-version"`
	Props              []Prop             `json:"props,omitempty"`
	Roles              []Role             `json:"roles,omitempty"`
	Parties            []Party            `json:"parties,omitempty"`
	ResponsibleParties []ResponsibleParty `json:"responsible-parties,omitempty"`
	Remarks            string             `json:"remarks,omitempty"`
}

// Role is a function a party performs.
type Role struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Party is an organisation or a person.
type Party struct {
	UUID                  string   `json:"uuid"`
	Type                  string   `json:"type"` // person, organization
	Name                  string   `json:"name,omitempty"`
	Props                 []Prop   `json:"props,omitempty"`
	MemberOfOrganizations []string `json:"member-of-organizations,omitempty"`
}

// ResponsibleParty assigns parties to a role.
type ResponsibleParty struct {
	RoleID     string   `json:"role-id"`
	PartyUUIDs []string `json:"party-uuids"`
}

// Prop is a name/value property.
type Prop struct {
	Name  string `json:"name"`
	NS    string `json:"ns,omitempty"`
	Value string `json:"value"`
	Class string `json:"class,omitempty"`
}

// Link points at a resource, "#uuid" for one in the back matter.
type Link struct {
	Href      string `json:"href"`
	Rel       string `json:"rel,omitempty"`
	MediaType string `json:"media-type,omitempty"`
	Text      string `json:"text,omitempty"`
}

// Import references another OSCAL document (import-ssp, import-ap).
type Import struct {
	Href    string `json:"href"`
	Remarks string `json:"remarks,omitempty"`
}

// SystemID identifies the system (the model) of a POA&M.
type SystemID struct {
	IdentifierType string `json:"identifier-type,omitempty"`
	ID             string `json:"id"`
}

// LocalDefinitions of an assessment plan.
type LocalDefinitions struct {
	Activities []Activity `json:"activities,omitempty"`
}

// Activity is an assessment method: a run of evaluation suites.
type Activity struct {
	UUID        string `json:"uuid"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description"`
	Props       []Prop `json:"props,omitempty"`
}

// ReviewedControls selects the controls (criteria) assessed.
type ReviewedControls struct {
	Description       string             `json:"description,omitempty"`
	ControlSelections []ControlSelection `json:"control-selections"`
}

// ControlSelection is one profile's criteria, or all controls.
type ControlSelection struct {
	Description     string            `json:"description,omitempty"`
	Props           []Prop            `json:"props,omitempty"`
	IncludeAll      *struct{}         `json:"include-all,omitempty"`
	IncludeControls []SelectControlID `json:"include-controls,omitempty"`
}

// SelectControlID selects a control by id.
type SelectControlID struct {
	ControlID string `json:"control-id"`
}

// AssessmentSubject is what is assessed.
type AssessmentSubject struct {
	Type        string    `json:"type"`
	Description string    `json:"description,omitempty"`
	Props       []Prop    `json:"props,omitempty"`
	IncludeAll  *struct{} `json:"include-all,omitempty"`
}

// Task is a scheduled action or milestone.
type Task struct {
	UUID                 string                `json:"uuid"`
	Type                 string                `json:"type"` // action, milestone
	Title                string                `json:"title"`
	Description          string                `json:"description,omitempty"`
	Props                []Prop                `json:"props,omitempty"`
	Timing               *Timing               `json:"timing,omitempty"`
	AssociatedActivities []AssociatedActivity  `json:"associated-activities,omitempty"`
	Subjects             []AssessmentSubject   `json:"subjects,omitempty"`
	ResponsibleRoles     []ResponsibleRoleOnly `json:"responsible-roles,omitempty"`
}

// ResponsibleRoleOnly names a role responsible for a task.
type ResponsibleRoleOnly struct {
	RoleID string `json:"role-id"`
}

// Timing is when a task happens.
type Timing struct {
	OnDate *OnDate `json:"on-date,omitempty"`
}

// OnDate is a point in time.
type OnDate struct {
	Date string `json:"date"`
}

// AssociatedActivity links a task to an activity and its subjects.
type AssociatedActivity struct {
	ActivityUUID string              `json:"activity-uuid"`
	Subjects     []AssessmentSubject `json:"subjects"`
}

// Result is one set of assessment results.
type Result struct {
	UUID             string           `json:"uuid"`
	Title            string           `json:"title"`
	Description      string           `json:"description"`
	Start            string           `json:"start"`
	End              string           `json:"end,omitempty"`
	Props            []Prop           `json:"props,omitempty"`
	Links            []Link           `json:"links,omitempty"`
	ReviewedControls ReviewedControls `json:"reviewed-controls"`
	Observations     []Observation    `json:"observations,omitempty"`
	Risks            []Risk           `json:"risks,omitempty"`
	Findings         []Finding        `json:"findings,omitempty"`
	Remarks          string           `json:"remarks,omitempty"`
}

// Observation is a measurement: a metric's rate and interval.
type Observation struct {
	UUID             string             `json:"uuid"`
	Title            string             `json:"title,omitempty"`
	Description      string             `json:"description"`
	Props            []Prop             `json:"props,omitempty"`
	Methods          []string           `json:"methods"`
	Types            []string           `json:"types,omitempty"`
	Subjects         []SubjectReference `json:"subjects,omitempty"`
	RelevantEvidence []RelevantEvidence `json:"relevant-evidence,omitempty"`
	Collected        string             `json:"collected"`
	Remarks          string             `json:"remarks,omitempty"`
}

// SubjectReference names what an observation was made on.
type SubjectReference struct {
	SubjectUUID string `json:"subject-uuid"`
	Type        string `json:"type"`
	Title       string `json:"title,omitempty"`
}

// RelevantEvidence links an observation to its evidence.
type RelevantEvidence struct {
	Href        string `json:"href,omitempty"`
	Description string `json:"description"`
}

// Finding is a conclusion about one target: a criterion, a profile or a
// reviewer's finding.
type Finding struct {
	UUID                string               `json:"uuid"`
	Title               string               `json:"title"`
	Description         string               `json:"description"`
	Props               []Prop               `json:"props,omitempty"`
	Target              FindingTarget        `json:"target"`
	RelatedObservations []RelatedObservation `json:"related-observations,omitempty"`
	RelatedRisks        []RelatedRisk        `json:"related-risks,omitempty"`
	Remarks             string               `json:"remarks,omitempty"`
}

// FindingTarget is what a finding concludes on.
type FindingTarget struct {
	Type        string          `json:"type"` // objective-id, statement-id
	TargetID    string          `json:"target-id"`
	Title       string          `json:"title,omitempty"`
	Description string          `json:"description,omitempty"`
	Props       []Prop          `json:"props,omitempty"`
	Status      ObjectiveStatus `json:"status"`
}

// ObjectiveStatus is satisfied or not-satisfied, with a reason.
type ObjectiveStatus struct {
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"` // pass, fail, other
	Remarks string `json:"remarks,omitempty"`
}

// RelatedObservation references an observation.
type RelatedObservation struct {
	ObservationUUID string `json:"observation-uuid"`
}

// RelatedRisk references a risk.
type RelatedRisk struct {
	RiskUUID string `json:"risk-uuid"`
}

// RelatedFinding references a finding.
type RelatedFinding struct {
	FindingUUID string `json:"finding-uuid"`
}

// Risk is an identified risk: a reviewer's finding with its deadline and
// the developer's responses as remediations.
type Risk struct {
	UUID                string               `json:"uuid"`
	Title               string               `json:"title"`
	Description         string               `json:"description"`
	Statement           string               `json:"statement"`
	Props               []Prop               `json:"props,omitempty"`
	Status              string               `json:"status"`
	Deadline            string               `json:"deadline,omitempty"`
	Remediations        []Response           `json:"remediations,omitempty"`
	RelatedObservations []RelatedObservation `json:"related-observations,omitempty"`
}

// Response is a remediation: here, a developer's response to a finding.
type Response struct {
	UUID        string   `json:"uuid"`
	Lifecycle   string   `json:"lifecycle"` // recommendation, planned, completed
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Props       []Prop   `json:"props,omitempty"`
	Origins     []Origin `json:"origins,omitempty"`
}

// Origin says who an item comes from.
type Origin struct {
	Actors []OriginActor `json:"actors"`
}

// OriginActor is a party or tool.
type OriginActor struct {
	Type      string `json:"type"` // party, tool, assessment-platform
	ActorUUID string `json:"actor-uuid"`
	RoleID    string `json:"role-id,omitempty"`
}

// POAMItem is one item of the plan of action.
type POAMItem struct {
	UUID                string               `json:"uuid"`
	Title               string               `json:"title"`
	Description         string               `json:"description"`
	Props               []Prop               `json:"props,omitempty"`
	RelatedFindings     []RelatedFinding     `json:"related-findings,omitempty"`
	RelatedObservations []RelatedObservation `json:"related-observations,omitempty"`
	RelatedRisks        []RelatedRisk        `json:"related-risks,omitempty"`
	Remarks             string               `json:"remarks,omitempty"`
}

// BackMatter holds resources referenced as "#uuid".
type BackMatter struct {
	Resources []Resource `json:"resources,omitempty"`
}

// Resource is a back-matter resource, such as the signed decision bundle.
type Resource struct {
	UUID        string  `json:"uuid"`
	Title       string  `json:"title,omitempty"`
	Description string  `json:"description,omitempty"`
	Props       []Prop  `json:"props,omitempty"`
	RLinks      []RLink `json:"rlinks,omitempty"`
	Remarks     string  `json:"remarks,omitempty"`
}

// RLink is a resource's location, with hashes of its exact bytes.
type RLink struct {
	Href      string `json:"href"`
	MediaType string `json:"media-type,omitempty"`
	Hashes    []Hash `json:"hashes,omitempty"`
}

// Hash is a digest of a resource.
type Hash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}
