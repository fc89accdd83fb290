package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// EvidenceChecker says which evidence a case's profiles require that the
// case does not yet have (evaluations not run, artifacts not supplied).
// Service.Decide refuses to decide without that evidence unless the
// official records an override reason.
type EvidenceChecker interface {
	MissingEvidence(ctx context.Context, c Case) ([]string, error)
}

// OutcomeChecker may also be implemented by an EvidenceChecker: it
// rejects outcomes the case's profiles do not allow, such as clearing a
// profile whose applicability turns on facts the dossier lacks. Its
// errors wrap ErrInvalidInput; no override lifts them.
type OutcomeChecker interface {
	CheckOutcomes(ctx context.Context, c Case, outcomes json.RawMessage) error
}

// ClockRules gives the review clock for a set of profiles; a nil spec
// means the profiles set no clock.
type ClockRules interface {
	ClockFor(profiles []string) (*ClockSpec, error)
}

// Signer signs a decision, returning the attestation bundle stored with
// it. Appending the bundle to the transparency log is left to the
// caller, after the decision is committed.
type Signer interface {
	SignDecision(ctx context.Context, c Case, d Decision) ([]byte, error)
}

// Config configures a Service.
type Config struct {
	// Store is required.
	Store Store
	// Sealer seals target credentials; required.
	Sealer Sealer
	// Evidence is required: without it no decision could be checked,
	// and the check fails closed.
	Evidence EvidenceChecker
	// Clocks is optional; without it cases have no clock.
	Clocks ClockRules
	// Concurrence is optional; without it every joint review has
	// DefaultConcurrence.
	Concurrence ConcurrenceRules
	// Signer is optional; without it decisions carry no bundle.
	Signer Signer
	// Planner and Scheduler are optional; without them the service runs
	// no assessments and schedules no clock expiries (Expire may still be
	// called).
	Planner   Planner
	Scheduler Scheduler
	// Publisher is optional; without it signed decisions are not logged.
	Publisher Publisher
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger is optional; nil discards.
	Logger *slog.Logger
	// Quota bounds what each developer organisation stores; the zero
	// Quota is unlimited.
	Quota Quota
	// Authorities is optional; without it no other authority's evidence
	// is recognised (RecogniseEvidence).
	Authorities Authorities
	// RedTeam is optional; without it the campaign console and retests
	// are refused (campaign.go).
	RedTeam RedTeam
	// Endpoints is optional; without it no endpoint fingerprint is
	// recorded and no conformance check runs (conformance.go).
	Endpoints Endpoints
}

func (c Config) validate() error {
	if err := c.Quota.validate(); err != nil {
		return err
	}
	switch {
	case c.Store == nil:
		return errors.New("review config: Store is required")
	case c.Sealer == nil:
		return errors.New("review config: Sealer is required")
	case c.Evidence == nil:
		return errors.New("review config: Evidence is required")
	}
	return nil
}

// Service carries out review actions for authenticated actors, enforcing
// roles and tenant isolation, and records each change with its audit
// entry in one Store transaction. It is safe for concurrent use.
type Service struct {
	store       Store
	sealer      Sealer
	evidence    EvidenceChecker
	clocks      ClockRules
	concurrence ConcurrenceRules
	signer      Signer
	planner     Planner
	scheduler   Scheduler
	publisher   Publisher
	publishMu   sync.Mutex // one publisher at a time, so no entry is logged twice
	quota       Quota
	authorities Authorities
	redteam     RedTeam
	endpoints   Endpoints
	now         func() time.Time
	log         *slog.Logger
}

// New returns a Service, or an error naming a missing dependency.
func New(c Config) (*Service, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	s := &Service{store: c.Store, sealer: c.Sealer, evidence: c.Evidence,
		clocks: c.Clocks, concurrence: c.Concurrence, signer: c.Signer, planner: c.Planner, scheduler: c.Scheduler,
		publisher: c.Publisher, now: c.Now, log: c.Logger, quota: c.Quota, authorities: c.Authorities, redteam: c.RedTeam, endpoints: c.Endpoints}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Actor is who performs an action: an authenticated user and its
// organisation. Obtain one from Authenticate (or SystemActor for the
// service's own actions); Service trusts the Actor it is given.
type Actor struct {
	User User
	Org  Org
	// Token is the token the actor authenticated with; zero for the
	// system actor and actors built without one. Tokens the actor mints
	// are its children (IssueToken).
	Token Token
}

// SystemActor is the actor of actions the service takes itself, such as
// deeming an outcome when a clock expires.
func SystemActor() Actor {
	return Actor{User: User{ID: "system", Name: "system", Roles: []Role{RoleSystem}}}
}

func (a Actor) has(r Role) bool { return a.User.Has(r) }

func (a Actor) system() bool { return a.has(RoleSystem) }

// sees reports whether a may see case c: the system sees every case;
// developers their own organisation's; officials, admins and auditors of
// an agency (the reviewing organisation) every case; every other member
// of staff (assessors and reviewers of assessor and agency organisations,
// and anyone of an assessor organisation) only the cases it is assigned
// to (Service.AssignCase). A joint review (Case.Agencies) is seen by
// the overseers of its agencies only, and by its assigned staff. Anything
// else sees nothing: the check fails closed.
func (a Actor) sees(c Case) bool {
	switch {
	case a.system():
		return true
	case a.Org.Kind == OrgDeveloper:
		return a.Org.ID != "" && a.Org.ID == c.OrgID
	case a.overseer() && c.joint():
		_, ok := c.Agency(a.Org.ID)
		return ok || a.assignedTo(c)
	case a.overseer():
		return true
	case a.Org.Kind == OrgAssessor || a.Org.Kind == OrgAgency:
		return a.assignedTo(c)
	}
	return false
}

// namesOrg reports whether a may learn the names of o and its members:
// a developer its own organisation's and the reviewing side's (agencies,
// assessors), never another developer's; everyone else every one.
func (a Actor) namesOrg(o Org) bool {
	return a.Org.Kind != OrgDeveloper || o.Kind != OrgDeveloper || o.ID == a.Org.ID
}

// overseer reports whether a sees every case without being assigned to
// it: an official, admin or auditor of an agency organisation.
func (a Actor) overseer() bool {
	return a.Org.Kind == OrgAgency && (a.has(RoleOfficial) || a.has(RoleAdmin) || a.has(RoleAuditor))
}

// assignedTo reports whether a is one of c's assignees.
func (a Actor) assignedTo(c Case) bool {
	return a.User.ID != "" && slices.Contains(c.Assignees, a.User.ID)
}

// requireAssigned refuses an assessor's or reviewer's action on a case
// the actor is not assigned to. An actor that sees the case without
// being assigned (an official who is also an assessor) gets
// ErrForbidden; one that does not see it never gets this far.
func requireAssigned(action string, a Actor, c Case) error {
	if a.assignedTo(c) {
		return nil
	}
	return fmt.Errorf("%s: not assigned to case %s: %w", action, c.ID, ErrForbidden)
}

func (s *Service) stamp() time.Time { return AuditTime(s.now()) }

// audit appends an audit entry through st, normally inside the Tx that
// made the change.
func (s *Service) audit(ctx context.Context, st Store, a Actor, action, caseID string, details map[string]any) error {
	d := []byte("{}")
	if len(details) > 0 {
		var err error
		if d, err = json.Marshal(details); err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
	}
	_, err := st.AppendAudit(ctx, AuditEntry{Time: s.stamp(), Actor: a.User.ID, Action: action, CaseID: caseID, Details: d})
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

func forbidden(action string, need ...Role) error {
	return fmt.Errorf("%s: requires role %v: %w", action, need, ErrForbidden)
}

// Authenticate returns the actor holding the token secret. A missing,
// unknown, revoked or expired token or a disabled user is
// ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, secret string) (Actor, error) {
	if secret == "" {
		return Actor{}, fmt.Errorf("authenticate: no token: %w", ErrUnauthenticated)
	}
	t, err := s.store.TokenByHash(ctx, HashToken(secret))
	if errors.Is(err, ErrNotFound) {
		return Actor{}, fmt.Errorf("authenticate: unknown token: %w", ErrUnauthenticated)
	}
	if err != nil {
		return Actor{}, fmt.Errorf("authenticate: %w", err)
	}
	now := s.now()
	if !t.RevokedAt.IsZero() {
		return Actor{}, fmt.Errorf("authenticate: token %s revoked: %w", t.ID, ErrUnauthenticated)
	}
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return Actor{}, fmt.Errorf("authenticate: token %s expired: %w", t.ID, ErrUnauthenticated)
	}
	u, err := s.store.GetUser(ctx, t.UserID)
	if err != nil {
		return Actor{}, fmt.Errorf("authenticate: load user %s: %w", t.UserID, err)
	}
	if u.Disabled {
		return Actor{}, fmt.Errorf("authenticate: user %s disabled: %w", u.ID, ErrUnauthenticated)
	}
	o, err := s.store.GetOrg(ctx, u.OrgID)
	if err != nil {
		return Actor{}, fmt.Errorf("authenticate: load org %s: %w", u.OrgID, err)
	}
	return Actor{User: u, Org: o, Token: t}, nil
}

// Bootstrap creates the first agency organisation, its admin user and a
// token for that user, returning the token secret (shown once). It fails
// with ErrConflict once any admin exists.
func (s *Service) Bootstrap(ctx context.Context, orgName, userName, email string) (Actor, string, error) {
	if err := checkName("org name", orgName); err != nil {
		return Actor{}, "", fmt.Errorf("bootstrap: %w", err)
	}
	if err := checkName("user name", userName); err != nil {
		return Actor{}, "", fmt.Errorf("bootstrap: %w", err)
	}
	now := s.stamp()
	var a Actor
	var secret string
	err := s.store.Tx(ctx, func(tx Store) error {
		n, err := tx.CountAdmins(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("an admin already exists: %w", ErrConflict)
		}
		o := Org{Name: orgName, Kind: OrgAgency, CreatedAt: now}
		if o.ID, err = newID("org", now); err != nil {
			return err
		}
		u := User{OrgID: o.ID, Name: userName, Email: email, Roles: []Role{RoleAdmin}, CreatedAt: now}
		if u.ID, err = newID("usr", now); err != nil {
			return err
		}
		if err := tx.CreateOrg(ctx, o); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		a = Actor{User: u, Org: o}
		var t Token
		if t, secret, err = s.issueToken(ctx, tx, Token{UserID: u.ID, Name: "bootstrap"}, now); err != nil {
			return err
		}
		a.Token = t
		return s.audit(ctx, tx, a, "admin.bootstrap", "", map[string]any{"org": o.ID, "user": u.ID, "token": t.ID})
	})
	if err != nil {
		return Actor{}, "", fmt.Errorf("bootstrap: %w", err)
	}
	return a, secret, nil
}

// CreateOrg creates an organisation. Admins only.
func (s *Service) CreateOrg(ctx context.Context, a Actor, name string, kind OrgKind) (Org, error) {
	if !a.has(RoleAdmin) {
		return Org{}, forbidden("create org", RoleAdmin)
	}
	if err := checkName("name", name); err != nil {
		return Org{}, fmt.Errorf("create org: %w", err)
	}
	if !kind.valid() {
		return Org{}, fmt.Errorf("create org: %w", invalid("kind", "%q: want developer, assessor or agency", kind))
	}
	now := s.stamp()
	id, err := newID("org", now)
	if err != nil {
		return Org{}, fmt.Errorf("create org: %w", err)
	}
	o := Org{ID: id, Name: name, Kind: kind, CreatedAt: now}
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := tx.CreateOrg(ctx, o); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "org.create", "", map[string]any{"org": o.ID, "name": name, "kind": kind})
	})
	if err != nil {
		return Org{}, fmt.Errorf("create org %q: %w", name, err)
	}
	return o, nil
}

// UserInput describes a new user.
type UserInput struct {
	OrgID string
	Name  string
	Email string
	Roles []Role
}

// CreateUser creates a user. Admins only. Developer users belong to
// developer organisations and hold only RoleDeveloper; the other roles
// belong to assessor and agency organisations.
func (s *Service) CreateUser(ctx context.Context, a Actor, in UserInput) (User, error) {
	if !a.has(RoleAdmin) {
		return User{}, forbidden("create user", RoleAdmin)
	}
	if err := checkName("name", in.Name); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	if in.Email != "" {
		if err := checkName("email", in.Email); err != nil {
			return User{}, fmt.Errorf("create user: %w", err)
		}
	}
	if len(in.Roles) == 0 {
		return User{}, fmt.Errorf("create user: %w", invalid("roles", "empty"))
	}
	o, err := s.store.GetOrg(ctx, in.OrgID)
	if err != nil {
		return User{}, fmt.Errorf("create user: org %s: %w", in.OrgID, err)
	}
	roles := slices.Clone(in.Roles)
	slices.Sort(roles)
	roles = slices.Compact(roles)
	for _, r := range roles {
		if !slices.Contains(Roles(), r) {
			return User{}, fmt.Errorf("create user: %w", invalid("roles", "unknown role %q", r))
		}
		if (r == RoleDeveloper) != (o.Kind == OrgDeveloper) {
			return User{}, fmt.Errorf("create user: %w", invalid("roles", "role %s cannot be held in a %s organisation", r, o.Kind))
		}
	}
	now := s.stamp()
	id, err := newID("usr", now)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	u := User{ID: id, OrgID: o.ID, Name: in.Name, Email: in.Email, Roles: roles, CreatedAt: now}
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "user.create", "", map[string]any{"user": u.ID, "org": o.ID, "roles": roles})
	})
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// caseRecords lists one kind of record of a case the actor may see.
func caseRecords[T any](ctx context.Context, s *Service, a Actor, caseID, what string, p Page,
	list func(ctx context.Context, caseID string, p Page) ([]T, error)) ([]T, error) {
	if _, err := getCase(ctx, s.store, a, caseID); err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	out, err := list(ctx, caseID, p)
	if err != nil {
		return nil, fmt.Errorf("list %s of case %s: %w", what, caseID, err)
	}
	return out, nil
}

// UserNames returns display names ("name (organisation)") for user ids
// met in records the actor can see: authors of findings, responses,
// decisions and audit entries. Unknown ids map to themselves; the system
// actor to "system". A developer never learns who works for another
// developer organisation: such ids map to themselves too (namesOrg).
func (s *Service) UserNames(ctx context.Context, a Actor, ids []string) (map[string]string, error) {
	if a.User.ID == "" {
		return nil, fmt.Errorf("user names: %w", ErrUnauthenticated)
	}
	out := make(map[string]string, len(ids))
	orgs := map[string]string{}
	for _, id := range ids {
		if _, done := out[id]; done || id == "" {
			continue
		}
		if id == "system" {
			out[id] = "system"
			continue
		}
		u, err := s.store.GetUser(ctx, id)
		if errors.Is(err, ErrNotFound) {
			out[id] = id
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("user names: %w", err)
		}
		org, ok := orgs[u.OrgID]
		if !ok {
			o, err := s.store.GetOrg(ctx, u.OrgID)
			if err != nil {
				return nil, fmt.Errorf("user names: %w", err)
			}
			org = o.Name
			if !a.namesOrg(o) {
				org = ""
			}
			orgs[u.OrgID] = org
		}
		if org == "" {
			out[id] = id
			continue
		}
		out[id] = u.Name + " (" + org + ")"
	}
	return out, nil
}

// OrgNames returns the names of organisations met in records the actor
// can see, such as the developer organisation of a listed case. Unknown
// ids map to themselves.
func (s *Service) OrgNames(ctx context.Context, a Actor, ids []string) (map[string]string, error) {
	if a.User.ID == "" {
		return nil, fmt.Errorf("org names: %w", ErrUnauthenticated)
	}
	out := make(map[string]string, len(ids))
	for _, id := range ids {
		if _, done := out[id]; done || id == "" {
			continue
		}
		o, err := s.store.GetOrg(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			out[id] = id
		case err != nil:
			return nil, fmt.Errorf("org names: %w", err)
		case !a.namesOrg(o):
			out[id] = id
		default:
			out[id] = o.Name
		}
	}
	return out, nil
}
