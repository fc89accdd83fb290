package review

import (
	"context"
	"time"
)

// Store persists the review domain. Implementations translate their
// driver's errors into this package's sentinels: a missing row is
// ErrNotFound, a duplicate key or a lost optimistic update ErrConflict.
// Times are stored to the microsecond (AuditTime) and returned in UTC.
// A Store is safe for concurrent use.
//
// Tx runs fn in one transaction, passing a Store bound to it: either every
// write fn makes is committed or none is. fn's error, or a commit error,
// is returned; calling Tx on the Store passed to fn runs the nested fn in
// the same transaction. Reads and writes outside Tx are each atomic.
// Service makes every state change and its audit entry in one Tx.
type Store interface {
	Tx(ctx context.Context, fn func(Store) error) error

	CreateOrg(ctx context.Context, o Org) error
	GetOrg(ctx context.Context, id string) (Org, error)
	ListOrgs(ctx context.Context, p Page) ([]Org, error)

	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, id string) (User, error)
	// ListUsers lists the users of one organisation, or of all when
	// orgID is empty.
	ListUsers(ctx context.Context, orgID string, p Page) ([]User, error)
	// CountAdmins counts users holding RoleAdmin.
	CountAdmins(ctx context.Context) (int, error)

	// SetUserDisabled sets a user's Disabled flag; a missing user is
	// ErrNotFound.
	SetUserDisabled(ctx context.Context, id string, disabled bool) error

	// CreateToken stores t. When t.ParentID is set, the parent row is
	// locked and must not be revoked (ErrConflict if it is, ErrNotFound
	// if it is missing), so a token minted concurrently with its
	// parent's revocation is either refused or revoked by it.
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token with that hash, revoked or not.
	TokenByHash(ctx context.Context, hash [32]byte) (Token, error)
	// GetToken returns the token with that id, revoked or not.
	GetToken(ctx context.Context, id string) (Token, error)
	// ListTokens lists a user's tokens, revoked and expired included, by
	// id (oldest first).
	ListTokens(ctx context.Context, userID string, p Page) ([]Token, error)
	// RevokeToken revokes the token and every token descending from it
	// (ParentID chains) at once, keeping the first revocation time of any
	// already revoked. A missing token is ErrNotFound.
	RevokeToken(ctx context.Context, id string, at time.Time) error

	CreateCase(ctx context.Context, c Case) error
	GetCase(ctx context.Context, id string) (Case, error)
	// ListCases lists cases without their Dossier (nil), which may be
	// up to MaxDossierBytes each; GetCase returns it.
	ListCases(ctx context.Context, f CaseFilter) ([]Case, error)
	// OrgUsage returns what an organisation's cases hold (see Usage).
	// Within a Tx it holds the organisation until the transaction ends,
	// so that a quota check and the case it admits are one step against
	// concurrent submissions of the same organisation.
	OrgUsage(ctx context.Context, orgID string) (Usage, error)
	// UpdateCase stores c's State, Clock and Assignees if the stored version equals
	// c.Version, and returns c with Version incremented and UpdatedAt
	// set. A stale version is ErrConflict; a missing case ErrNotFound.
	UpdateCase(ctx context.Context, c Case) (Case, error)

	CreateFinding(ctx context.Context, f Finding) error
	GetFinding(ctx context.Context, id string) (Finding, error)
	ListFindings(ctx context.Context, caseID string, p Page) ([]Finding, error)
	// UpdateFinding stores f's Status, Deadline and UpdatedAt.
	UpdateFinding(ctx context.Context, f Finding) error

	CreateResponse(ctx context.Context, r Response) error
	// ListResponses lists a case's responses, all or (findingID not
	// empty) to one finding.
	ListResponses(ctx context.Context, caseID, findingID string, p Page) ([]Response, error)

	// CreateDecision stores d; its LogIndex and Receipt are ignored (a
	// new decision is not logged yet).
	CreateDecision(ctx context.Context, d Decision) error
	GetDecision(ctx context.Context, id string) (Decision, error)
	// ListDecisions lists a case's decisions, or every case's when
	// caseID is empty.
	ListDecisions(ctx context.Context, caseID string, p Page) ([]Decision, error)
	// SetDecisionLog records where a decision's bundle was logged. It is
	// ErrConflict if the decision is already logged at another index.
	SetDecisionLog(ctx context.Context, id string, index int64, receipt []byte) error
	// ListUnloggedDecisions lists decisions that have a Bundle and no
	// LogIndex yet, oldest first, at most limit.
	ListUnloggedDecisions(ctx context.Context, limit int) ([]Decision, error)

	// PutProposal stores a joint review's proposed decision, replacing
	// the case's earlier proposal and deleting every position taken on it.
	PutProposal(ctx context.Context, p Proposal) error
	// GetProposal returns a case's proposal, or ErrNotFound.
	GetProposal(ctx context.Context, caseID string) (Proposal, error)
	// PutPosition stores an agency's position on a case's proposal,
	// replacing its earlier one (key CaseID, OrgID).
	PutPosition(ctx context.Context, p Position) error
	// ListPositions lists a case's stored positions by org id.
	ListPositions(ctx context.Context, caseID string) ([]Position, error)

	CreateAppeal(ctx context.Context, a Appeal) error
	ListAppeals(ctx context.Context, caseID string, p Page) ([]Appeal, error)

	// CreateRecognition stores another authority's recognised evidence;
	// ListRecognitions lists a case's, by id.
	CreateRecognition(ctx context.Context, r Recognition) error
	ListRecognitions(ctx context.Context, caseID string, p Page) ([]Recognition, error)

	// PutTriageReview stores a reviewer's triage label of one episode,
	// replacing the one stored for the same AssessmentID and Seq;
	// ListTriageReviews lists an assessment's, by Seq (triage.go).
	PutTriageReview(ctx context.Context, r TriageReview) error
	ListTriageReviews(ctx context.Context, assessmentID string) ([]TriageReview, error)

	// Reference assessments (references.go). GetAssessmentReference
	// returns ErrNotFound for an assessment that is not one;
	// ListAssessmentReferences lists a case's by assessment id.
	CreateAssessmentReference(ctx context.Context, r AssessmentReference) error
	GetAssessmentReference(ctx context.Context, assessmentID string) (AssessmentReference, error)
	ListAssessmentReferences(ctx context.Context, caseID string) ([]AssessmentReference, error)

	// Red-team campaigns (campaign.go). UpdateAttempt refuses a stale
	// Version (ErrConflict) and returns the attempt at its new Version;
	// ListAttempts lists a case's by id. SetCaseTarget stores a case's
	// model digest, name, target URL and credentials under the same
	// version check as UpdateCase. ListModelVersions lists a case's by
	// id; PutRetest stores (or replaces) the result of one attempt on one
	// version; ListRetests lists a version's by attempt id.
	CreateAttempt(ctx context.Context, at Attempt) error
	GetAttempt(ctx context.Context, id string) (Attempt, error)
	UpdateAttempt(ctx context.Context, at Attempt) (Attempt, error)
	ListAttempts(ctx context.Context, caseID string, p Page) ([]Attempt, error)
	SetCaseTarget(ctx context.Context, c Case) (Case, error)
	CreateModelVersion(ctx context.Context, v ModelVersion) error
	ListModelVersions(ctx context.Context, caseID string, p Page) ([]ModelVersion, error)
	PutRetest(ctx context.Context, r Retest) error
	ListRetests(ctx context.Context, caseID, versionID string) ([]Retest, error)

	// Incidents, their duties and reports (review/incidents.go). A
	// missing row is ErrNotFound; UpdateDuty stores d's State, ReportID,
	// DoneAt and DueAt only if the stored state is still from, else
	// ErrConflict.
	CreateIncident(ctx context.Context, in Incident) error
	GetIncident(ctx context.Context, id string) (Incident, error)
	ListIncidents(ctx context.Context, f IncidentFilter) ([]Incident, error)
	UpdateIncident(ctx context.Context, in Incident) error
	CreateDuty(ctx context.Context, d Duty) error
	GetDuty(ctx context.Context, id string) (Duty, error)
	ListDuties(ctx context.Context, f DutyFilter) ([]Duty, error)
	UpdateDuty(ctx context.Context, d Duty, from DutyState) error
	CreateIncidentReport(ctx context.Context, r IncidentReport) error
	GetIncidentReport(ctx context.Context, id string) (IncidentReport, error)
	ListIncidentReports(ctx context.Context, incidentID string, p Page) ([]IncidentReport, error)
	// SetCasePrior records the prior case a modified model's case names
	// (review/modified.go); CasePrior returns it, ErrNotFound when none.
	SetCasePrior(ctx context.Context, caseID, priorID string, at time.Time) error
	CasePrior(ctx context.Context, caseID string) (string, error)

	// Endpoint fingerprints and conformance checks (conformance.go).
	// ListFingerprints lists a case's by id; ListConformanceChecks a
	// case's, or (decisionID not empty) a decision's, by id;
	// SetConformanceLog records where a check's statement was logged
	// (ErrConflict if already at another index);
	// ListUnloggedConformanceChecks lists checks with a Bundle and no
	// LogIndex, oldest first, at most limit.
	CreateFingerprint(ctx context.Context, f Fingerprint) error
	ListFingerprints(ctx context.Context, caseID string) ([]Fingerprint, error)
	// GetFingerprint returns one fingerprint, sealed bytes included;
	// FinishFingerprint sets a pending fingerprint's state, error, digest,
	// probes, requests, sealed bytes and recorded time (ErrConflict if
	// it is not pending).
	GetFingerprint(ctx context.Context, id string) (Fingerprint, error)
	FinishFingerprint(ctx context.Context, f Fingerprint) error
	CreateConformanceCheck(ctx context.Context, k ConformanceCheck) error
	GetConformanceCheck(ctx context.Context, id string) (ConformanceCheck, error)
	ListConformanceChecks(ctx context.Context, caseID, decisionID string, p Page) ([]ConformanceCheck, error)
	SetConformanceLog(ctx context.Context, id string, index int64) error
	ListUnloggedConformanceChecks(ctx context.Context, limit int) ([]ConformanceCheck, error)

	CreateAssessment(ctx context.Context, a Assessment) error
	GetAssessment(ctx context.Context, id string) (Assessment, error)
	// ListAssessments lists a case's assessments, or every case's when
	// caseID is empty.
	ListAssessments(ctx context.Context, caseID string, p Page) ([]Assessment, error)
	// ListAssessmentsByState lists assessments in one of the states,
	// oldest first, at most limit.
	ListAssessmentsByState(ctx context.Context, limit int, states ...AssessmentState) ([]Assessment, error)
	// UpdateAssessment stores a's State, ShardsDone, Metrics and Error if
	// the stored version equals a.Version, returning a with Version
	// incremented and UpdatedAt set; a stale version is ErrConflict.
	UpdateAssessment(ctx context.Context, a Assessment) (Assessment, error)
	// MarkShardDone records that a shard finished (again is a no-op) and
	// returns how many distinct shards of the assessment have.
	MarkShardDone(ctx context.Context, assessmentID string, shard int) (int, error)

	// PutSamples stores samples, replacing any stored at the same
	// (AssessmentID, Seq).
	PutSamples(ctx context.Context, samples []Sample) error
	GetSample(ctx context.Context, assessmentID string, seq int) (Sample, error)
	ListSamples(ctx context.Context, f SampleFilter) ([]Sample, error)
	CountSamples(ctx context.Context, assessmentID string) (int, error)

	// CachedResponse returns the model response stored under key, or
	// ErrNotFound; PutCachedResponse stores one (a key already present
	// keeps its first value).
	CachedResponse(ctx context.Context, key string) ([]byte, error)
	PutCachedResponse(ctx context.Context, key string, resp []byte) error

	// UpdateTargetLimit runs fn on the shared concurrency limit of one
	// target (see TargetLimit; the zero value with Target set when none
	// is stored) and stores what fn leaves, holding the target's row
	// until it commits: concurrent calls for one target, from any
	// process, are serialised, each seeing the last one's result. An
	// error from fn stores nothing and is returned.
	UpdateTargetLimit(ctx context.Context, target string, fn func(*TargetLimit) error) (TargetLimit, error)

	// GetIdempotencyKey returns the key recorded for (userID, key), or
	// ErrNotFound; CreateIdempotencyKey records one, ErrConflict if
	// (UserID, Key) is taken.
	GetIdempotencyKey(ctx context.Context, userID, key string) (IdempotencyKey, error)
	CreateIdempotencyKey(ctx context.Context, k IdempotencyKey) error

	CreateWebhook(ctx context.Context, w Webhook) error
	GetWebhook(ctx context.Context, id string) (Webhook, error)
	// ListWebhooks lists an organisation's webhooks, or all when orgID
	// is empty, disabled ones included.
	ListWebhooks(ctx context.Context, orgID string, p Page) ([]Webhook, error)
	// DisableWebhook marks a webhook disabled.
	DisableWebhook(ctx context.Context, id string) error
	// EnableWebhook marks a webhook enabled and clears its failures and
	// pause (LastError stays, for the record).
	EnableWebhook(ctx context.Context, id string) error
	// RecordWebhookFailure counts one more consecutive failed delivery
	// to a webhook, sets LastError and LastFailureAt, and returns the
	// new count; concurrent calls each count.
	RecordWebhookFailure(ctx context.Context, id, kind string, at time.Time) (int, error)
	// RecordWebhookSuccess clears a webhook's Failures and PausedUntil.
	RecordWebhookSuccess(ctx context.Context, id string) error
	// PauseWebhook sets a webhook's PausedUntil.
	PauseWebhook(ctx context.Context, id string, until time.Time) error
	// ClaimWebhookProbe moves a webhook's PausedUntil from a time no
	// later than now to until, and reports whether it did: of
	// concurrent callers after a pause, exactly one wins.
	ClaimWebhookProbe(ctx context.Context, id string, now, until time.Time) (bool, error)

	// Cursor returns a named position (such as the last audit sequence
	// number dispatched to webhooks), 0 when never set; SetCursor sets it.
	Cursor(ctx context.Context, name string) (int64, error)
	SetCursor(ctx context.Context, name string, v int64) error

	// CreateAnchor records an anchoring of the audit head in the log;
	// LastAnchor returns the latest by Seq, or ErrNotFound.
	CreateAnchor(ctx context.Context, a Anchor) error
	LastAnchor(ctx context.Context) (Anchor, error)

	// AppendAudit chains e after the current head of the trail (with
	// AuditEntry.Chain, holding the head against concurrent appends) and
	// stores it; it returns the stored entry.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// ListAudit lists entries in sequence order.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// AuditHead returns the last entry, or ErrNotFound for an empty trail.
	AuditHead(ctx context.Context) (AuditEntry, error)
}

// Page selects a page of a list ordered by id (ids sort by creation):
// the first Limit items with id greater than After. A Limit of zero or
// less means DefaultPageLimit; more than MaxPageLimit means MaxPageLimit.
type Page struct {
	After string
	Limit int
}

// Page limits.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// N returns the effective limit.
func (p Page) N() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	}
	return p.Limit
}

// CaseFilter selects cases. Empty fields match everything.
type CaseFilter struct {
	OrgID string
	State State
	// Assignee selects the cases whose Assignees include this user id.
	Assignee string
	// ModelDigest selects the cases about these weights ("sha256:…").
	ModelDigest string
	Page
}

// AuditFilter selects audit entries with Seq greater than AfterSeq, of
// one case when CaseID is not empty, at most Limit (as Page) of them.
type AuditFilter struct {
	CaseID   string
	AfterSeq int64
	Limit    int
}
