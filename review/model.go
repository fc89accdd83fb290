package review

import (
	"encoding/json"
	"slices"
	"time"
)

// OrgKind is the kind of an organisation.
type OrgKind string

// Organisation kinds. Developers submit models; assessors run the
// evaluations; agencies review and decide.
const (
	OrgDeveloper OrgKind = "developer"
	OrgAssessor  OrgKind = "assessor"
	OrgAgency    OrgKind = "agency"
)

func (k OrgKind) valid() bool {
	return k == OrgDeveloper || k == OrgAssessor || k == OrgAgency
}

// Role is what a user may do.
type Role string

// Roles. RoleSystem is not granted to users: it is the actor of
// transitions made by the service itself (a clock expiring).
const (
	RoleDeveloper Role = "developer"
	RoleAssessor  Role = "assessor"
	RoleReviewer  Role = "reviewer"
	RoleOfficial  Role = "official"
	RoleAuditor   Role = "auditor"
	RoleAdmin     Role = "admin"
	// RoleRedteamer attacks a case's model through the campaign console
	// (campaign.go); like assessors, only on cases assigned to them.
	RoleRedteamer Role = "redteamer"
	RoleSystem    Role = "system"
)

// Roles lists the roles a user may be granted, in a fixed order.
func Roles() []Role {
	return []Role{RoleDeveloper, RoleAssessor, RoleReviewer, RoleOfficial, RoleAuditor, RoleAdmin, RoleRedteamer}
}

// Org is an organisation, the unit of tenancy.
type Org struct {
	ID        string
	Name      string
	Kind      OrgKind
	CreatedAt time.Time
}

// User is a person or a machine account of one organisation.
type User struct {
	ID        string
	OrgID     string
	Name      string
	Email     string
	Roles     []Role
	Disabled  bool
	CreatedAt time.Time
}

// Has reports whether u holds role r.
func (u User) Has(r Role) bool { return slices.Contains(u.Roles, r) }

// Token is an API token. Only the SHA-256 of the secret is stored; the
// secret is shown once, when the token is issued.
type Token struct {
	ID        string
	UserID    string
	Name      string
	Hash      [32]byte
	CreatedAt time.Time
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt time.Time
	// RevokedAt is zero for a token that has not been revoked.
	RevokedAt time.Time
	// ParentID is the token that minted this one ("" for a token issued
	// without one, such as the bootstrap token). A token never expires
	// after its parent and is revoked with it (see IssueToken).
	ParentID string
}

// Case is one review of one model under one or more profiles.
type Case struct {
	ID    string
	OrgID string // the developer organisation
	// ModelDigest is the OMS manifest root digest, "sha256:<64 hex>".
	ModelDigest string
	ModelName   string
	// Dossier is the developer's declaration, a compact JSON object.
	Dossier json.RawMessage
	// TargetURL is the endpoint assessors run evaluations against.
	TargetURL string
	// Credentials are the endpoint credentials sealed by a Sealer; nil
	// when none were submitted. Stores keep them opaque.
	Credentials []byte
	Profiles    []string
	State       State
	// Clock is the review clock; nil when the profiles set none.
	Clock *Clock
	// Assignees are the ids of the staff assigned to the case, in the
	// order assigned; Store.UpdateCase stores them.
	Assignees []string
	// Agencies are the agencies reviewing the case together, the lead
	// first; empty for a case that is not a joint review (see
	// Service.AddAgency). Store.UpdateCase stores them.
	Agencies []CaseAgency
	// Version increases by one with every update; Store.UpdateCase
	// refuses an update made from a stale version.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CaseAgency is one agency taking part in a joint review.
type CaseAgency struct {
	OrgID string
	// Lead is true for the lead agency, which adds the others and may
	// work in every domain.
	Lead bool
	// Domains are the agency's domains (keys of Domains); its assessors
	// schedule only the suites those domains map to.
	Domains []string
	AddedBy string
	AddedAt time.Time
}

// Severity of a finding.
type Severity string

// Severities, highest first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityModerate Severity = "moderate"
	SeverityLow      Severity = "low"
)

// RemediationDays is the default time to remediate a finding of
// severity s, in calendar days, after the pattern of FedRAMP continuous
// monitoring POA&M deadlines (high 30, moderate 90, low 180; recalled from
// memory, not checked against the current FedRAMP text). Critical is set
// tighter, at 15. It returns 0 for an unknown severity.
func RemediationDays(s Severity) int {
	switch s {
	case SeverityCritical:
		return 15
	case SeverityHigh:
		return 30
	case SeverityModerate:
		return 90
	case SeverityLow:
		return 180
	}
	return 0
}

// FindingStatus is where a finding stands.
type FindingStatus string

// Finding statuses.
const (
	FindingOpen         FindingStatus = "open"
	FindingResponded    FindingStatus = "responded"
	FindingResolved     FindingStatus = "resolved"
	FindingAcceptedRisk FindingStatus = "accepted-risk"
)

// Finding is a problem found in review.
type Finding struct {
	ID          string
	CaseID      string
	Severity    Severity
	Title       string
	Description string
	// SampleIDs link the samples that show the problem.
	SampleIDs []string
	// Deadline is when remediation is due.
	Deadline  time.Time
	Status    FindingStatus
	CreatedBy string
	// OrgID is the agency whose finding it is in a joint review ("" in a
	// case that is not joint); Shared says whether that agency shares it
	// with the case's other agencies and its developer (see
	// Service.ShareFinding).
	OrgID     string
	Shared    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Response is a developer's answer to a finding.
type Response struct {
	ID        string
	CaseID    string
	FindingID string
	AuthorID  string
	Body      string
	CreatedAt time.Time
}

// Decision is an official's decision on a case.
type Decision struct {
	ID         string
	CaseID     string
	OfficialID string
	// Outcomes maps profile id to its outcome, a JSON object such as
	// {"us-caisi":{"outcome":"cleared"}}.
	Outcomes  json.RawMessage
	Rationale string
	// Missing lists the evidence the profiles required that was absent
	// when the decision was made; non-empty only with an override.
	Missing []string
	// OverrideReason is the recorded reason for deciding without the
	// required evidence; empty when nothing was missing.
	OverrideReason string
	// Deemed is true for an outcome deemed by an expired clock.
	Deemed bool
	// Concurring lists the participating agencies of a joint review
	// whose position on the proposal (given, or deemed from silence) was
	// concurrence when the lead decided; the decision's signers are the
	// lead and these. Empty for a case one agency reviews.
	Concurring []string
	// Variants are the labels of the variants the case's finished
	// assessments tested when the decision was made (Variant.Label):
	// the variants its claims cover. Empty when there were none.
	Variants []string
	// Fingerprint is the digest of the endpoint fingerprint the decision
	// binds (the latest recorded on the case by then; conformance.go);
	// empty when none was recorded. Not stored: it is derived again.
	Fingerprint string
	// Bundle is the signed attestation of the decision; nil when the
	// service has no Signer.
	Bundle []byte
	// LogIndex is the bundle's index in the transparency log and Receipt
	// its inclusion receipt; LogIndex is -1 until the bundle is logged
	// (the service logs it after the decision is committed).
	LogIndex  int64
	Receipt   []byte
	CreatedAt time.Time
}

// Appeal contests a decision and reopens the case.
type Appeal struct {
	ID         string
	CaseID     string
	DecisionID string
	FiledBy    string
	Grounds    string
	CreatedAt  time.Time
}
