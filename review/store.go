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

	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token with that hash, revoked or not.
	TokenByHash(ctx context.Context, hash [32]byte) (Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error

	CreateCase(ctx context.Context, c Case) error
	GetCase(ctx context.Context, id string) (Case, error)
	ListCases(ctx context.Context, f CaseFilter) ([]Case, error)
	// UpdateCase stores c's State and Clock if the stored version equals
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

	CreateDecision(ctx context.Context, d Decision) error
	GetDecision(ctx context.Context, id string) (Decision, error)
	ListDecisions(ctx context.Context, caseID string, p Page) ([]Decision, error)

	CreateAppeal(ctx context.Context, a Appeal) error
	ListAppeals(ctx context.Context, caseID string, p Page) ([]Appeal, error)

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
	Page
}

// AuditFilter selects audit entries with Seq greater than AfterSeq, of
// one case when CaseID is not empty, at most Limit (as Page) of them.
type AuditFilter struct {
	CaseID   string
	AfterSeq int64
	Limit    int
}
