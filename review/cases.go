package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Submit opens a case for the actor's developer organisation from a
// validated submission. Developers only. Target credentials are sealed
// before they are stored; the clock, if the profiles set one, starts now.
// A case that would take the organisation over its Quota is refused with
// a *QuotaError (ErrQuotaExceeded).
func (s *Service) Submit(ctx context.Context, a Actor, sub Submission) (Case, error) {
	c, _, err := s.submit(ctx, a, sub, "", [32]byte{})
	return c, err
}

// ErrIdempotencyMismatch is returned by SubmitOnce when the key was
// used before with a different request.
var ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")

// SubmitOnce is Submit keyed by an Idempotency-Key: the first submission
// with key opens the case and records the key in the same transaction; a
// later one with the same key and request hash returns that case with
// replayed true (also after a crash, and on another server process); the
// same key with another request is ErrIdempotencyMismatch.
func (s *Service) SubmitOnce(ctx context.Context, a Actor, key string, requestHash [32]byte, sub Submission) (Case, bool, error) {
	if err := checkName("idempotency key", key); err != nil {
		return Case{}, false, fmt.Errorf("submit case: %w", err)
	}
	c, replayed, err := s.submit(ctx, a, sub, key, requestHash)
	if errors.Is(err, ErrConflict) {
		// A concurrent request with the same key won the race.
		c, replayed, err = s.submit(ctx, a, sub, key, requestHash)
	}
	return c, replayed, err
}

func (s *Service) submit(ctx context.Context, a Actor, sub Submission, key string, hash [32]byte) (Case, bool, error) {
	if !a.has(RoleDeveloper) || a.Org.Kind != OrgDeveloper {
		return Case{}, false, forbidden("submit case", RoleDeveloper)
	}
	if err := sub.Validate(); err != nil {
		return Case{}, false, fmt.Errorf("submit case: %w", err)
	}
	if err := s.checkPriorCase(ctx, a, sub); err != nil { // review/modified.go
		return Case{}, false, fmt.Errorf("submit case: %w", err)
	}
	var dossier bytes.Buffer
	if err := json.Compact(&dossier, sub.Dossier); err != nil {
		return Case{}, false, fmt.Errorf("submit case: %w", invalid("dossier", "%v", err))
	}
	now := s.stamp()
	id, err := newID("case", now)
	if err != nil {
		return Case{}, false, fmt.Errorf("submit case: %w", err)
	}
	c := Case{
		ID: id, OrgID: a.Org.ID, ModelDigest: sub.Model.Digest, ModelName: sub.Model.Name,
		Dossier: dossier.Bytes(), TargetURL: sub.Target.URL, Profiles: slices.Clone(sub.Profiles),
		State: StateSubmitted, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if sub.Target.Credentials != "" {
		if c.Credentials, err = s.sealer.Seal([]byte(sub.Target.Credentials)); err != nil {
			return Case{}, false, fmt.Errorf("submit case: %w", err)
		}
	}
	if s.clocks != nil {
		spec, err := s.clocks.ClockFor(c.Profiles)
		if err != nil {
			return Case{}, false, fmt.Errorf("submit case: clock for %v: %w", c.Profiles, err)
		}
		if spec != nil {
			k, err := NewClock(*spec, now)
			if err != nil {
				return Case{}, false, fmt.Errorf("submit case: %w", err)
			}
			c.Clock = &k
		}
	}
	replayed := false
	err = s.store.Tx(ctx, func(tx Store) error {
		if key != "" {
			k, err := tx.GetIdempotencyKey(ctx, a.User.ID, key)
			switch {
			case err == nil && k.RequestHash != hash:
				return ErrIdempotencyMismatch
			case err == nil:
				if c, err = tx.GetCase(ctx, k.CaseID); err != nil {
					return err
				}
				replayed = true
				return nil
			case !errors.Is(err, ErrNotFound):
				return err
			}
			if err := tx.CreateIdempotencyKey(ctx, IdempotencyKey{UserID: a.User.ID, Key: key, RequestHash: hash, CaseID: c.ID, CreatedAt: now}); err != nil {
				return err
			}
		}
		if err := s.checkQuota(ctx, tx, c.OrgID, len(c.Dossier)); err != nil {
			return err
		}
		if err := tx.CreateCase(ctx, c); err != nil {
			return err
		}
		if sub.PriorCase != "" {
			if err := tx.SetCasePrior(ctx, c.ID, sub.PriorCase, now); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "case.submit", c.ID, map[string]any{
			"model_digest": c.ModelDigest, "model_name": c.ModelName, "profiles": c.Profiles, "state": c.State,
		})
	})
	if err != nil {
		return Case{}, false, fmt.Errorf("submit case: %w", err)
	}
	if !replayed {
		s.scheduleClock(ctx, c)
	}
	return redact(c), replayed, nil
}

// getCase loads a case the actor may see; a case it may not see is
// ErrNotFound, so that its existence is not disclosed.
func getCase(ctx context.Context, st Store, a Actor, id string) (Case, error) {
	c, err := st.GetCase(ctx, id)
	if err != nil {
		return Case{}, fmt.Errorf("case %s: %w", id, err)
	}
	if !a.sees(c) {
		return Case{}, fmt.Errorf("case %s: %w", id, ErrNotFound)
	}
	return c, nil
}

// GetCase returns a case the actor may see, without its credentials.
func (s *Service) GetCase(ctx context.Context, a Actor, id string) (Case, error) {
	c, err := getCase(ctx, s.store, a, id)
	if err != nil {
		return Case{}, err
	}
	return redact(c), nil
}

// redact removes sealed credentials: they leave the service only through
// TargetCredentials.
func redact(c Case) Case {
	c.Credentials = nil
	return c
}

// ListCases lists cases the actor may see: for a developer the filter's
// OrgID is forced to its own organisation, for staff who see only the
// cases assigned to them (see Actor.sees) its Assignee to themselves.
func (s *Service) ListCases(ctx context.Context, a Actor, f CaseFilter) ([]Case, error) {
	switch {
	case a.system(), a.overseer():
	case a.Org.Kind == OrgDeveloper:
		f.OrgID = a.Org.ID
	case (a.Org.Kind == OrgAssessor || a.Org.Kind == OrgAgency) && a.User.ID != "":
		f.Assignee = a.User.ID
	default:
		return nil, forbidden("list cases")
	}
	if f.State != "" && !f.State.valid() {
		return nil, fmt.Errorf("list cases: %w", invalid("state", "unknown state %q", f.State))
	}
	// The store's filter does the selecting; sees is checked again so
	// that a store matching too much never shows a case to the wrong
	// person (and an overseer no joint review its agency is not part
	// of), reading on so that a short page still means the end.
	out, err := visibleRecords(ctx, f.Page, func(p Page) ([]Case, error) {
		f.Page = p
		return s.store.ListCases(ctx, f)
	}, func(c Case) string { return c.ID }, a.sees)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	for i := range out {
		out[i] = redact(out[i])
	}
	return out, nil
}

// TargetCredentials opens a case's sealed endpoint credentials for an
// assessor assigned to the case, recording the access in the audit trail
// (case.credentials_read) before the credentials are opened. It returns
// nil when none were submitted. The service's own runner reads them with
// AssessmentTarget instead, as the system.
func (s *Service) TargetCredentials(ctx context.Context, a Actor, caseID string) ([]byte, error) {
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	if !a.has(RoleAssessor) {
		return nil, forbidden("read credentials", RoleAssessor)
	}
	if err := requireAssigned("read credentials", a, c); err != nil {
		return nil, err
	}
	if c.Credentials == nil {
		return nil, nil
	}
	if err := s.audit(ctx, s.store, a, "case.credentials_read", c.ID, nil); err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	b, err := s.sealer.Open(c.Credentials)
	if err != nil {
		return nil, fmt.Errorf("read credentials of case %s: %w", c.ID, err)
	}
	return b, nil
}

// Transition moves a case to another state with a note for the record.
// It is for the transitions that carry no other data; use Decide, Appeal
// and Expire for the others. Entering information_requested stops the
// clock; leaving it resumes the clock.
func (s *Service) Transition(ctx context.Context, a Actor, caseID string, to State, note string) (Case, error) {
	if to == StateDecided || to == StateAppealed {
		return Case{}, fmt.Errorf("transition case %s to %s: use Decide or Appeal: %w", caseID, to, ErrInvalidTransition)
	}
	if err := checkText("note", note, true); err != nil {
		return Case{}, fmt.Errorf("transition case %s: %w", caseID, err)
	}
	var out Case
	err := s.store.Tx(ctx, func(tx Store) error {
		c, err := getCase(ctx, tx, a, caseID)
		if err != nil {
			return err
		}
		if out, err = s.move(ctx, tx, a, c, to, map[string]any{"note": note}); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return Case{}, fmt.Errorf("transition case %s to %s: %w", caseID, to, err)
	}
	s.scheduleClock(ctx, out)
	return redact(out), nil
}

// move checks and makes a transition and its audit entry, inside a Tx.
func (s *Service) move(ctx context.Context, tx Store, a Actor, c Case, to State, details map[string]any) (Case, error) {
	if err := CheckTransition(c.State, to, a.User.Roles...); err != nil {
		return Case{}, err
	}
	from := c.State
	now := s.stamp()
	if c.Clock != nil {
		k := *c.Clock
		var err error
		switch {
		case to == StateInformationRequested && k.Running():
			k, err = k.Stop(now)
		case from == StateInformationRequested && !k.Running():
			k, err = k.Resume(now)
		}
		if err != nil {
			return Case{}, err
		}
		c.Clock = &k
	}
	c.State = to
	c.UpdatedAt = now
	c, err := tx.UpdateCase(ctx, c)
	if err != nil {
		return Case{}, err
	}
	if details == nil {
		details = map[string]any{}
	}
	details["from"], details["to"], details["version"] = from, to, c.Version
	if err := s.audit(ctx, tx, a, "case.transition", c.ID, details); err != nil {
		return Case{}, err
	}
	s.log.InfoContext(ctx, "case transition", "case", c.ID, "from", from, "to", to, "actor", a.User.ID)
	return c, nil
}

// Extend lengthens a case's clock by n units. Officials only.
func (s *Service) Extend(ctx context.Context, a Actor, caseID string, n int, reason string) (Case, error) {
	var out Case
	err := s.store.Tx(ctx, func(tx Store) error {
		c, err := getCase(ctx, tx, a, caseID)
		if err != nil {
			return err
		}
		if !a.has(RoleOfficial) {
			return forbidden("extend clock", RoleOfficial)
		}
		if c.Clock == nil {
			return fmt.Errorf("case has no clock: %w", ErrConflict)
		}
		if closed(c.State) {
			return fmt.Errorf("case is %s: %w", c.State, ErrConflict)
		}
		if err := checkText("reason", reason, false); err != nil {
			return err
		}
		k, err := c.Clock.Extend(n, reason, s.stamp())
		if err != nil {
			return err
		}
		c.Clock, c.UpdatedAt = &k, s.stamp()
		if out, err = tx.UpdateCase(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "clock.extend", c.ID, map[string]any{
			"length": n, "reason": reason, "deadline": k.Deadline(s.now()).UTC().Format(time.RFC3339),
		})
	})
	if err != nil {
		return Case{}, fmt.Errorf("extend clock of case %s: %w", caseID, err)
	}
	s.scheduleClock(ctx, out)
	return redact(out), nil
}

// closed reports whether a case takes no more findings, responses or
// clock changes.
func closed(st State) bool { return st == StateDecided || st == StateWithdrawn }

// Expire deems the outcome of a case whose clock has expired: the case
// moves to decided with a Decision marked Deemed whose outcome, for every
// profile, is the clock's OnExpiry. It reports false, changing nothing,
// when the case has no clock, the clock has not expired, or the case is
// not in a state a clock can decide (see Transitions). It is the
// service's own action (SystemActor) and is meant to be called by a
// scheduled job.
func (s *Service) Expire(ctx context.Context, caseID string) (Case, bool, error) {
	a := SystemActor()
	var out Case
	var done bool
	err := s.store.Tx(ctx, func(tx Store) error {
		c, err := tx.GetCase(ctx, caseID)
		if err != nil {
			return err
		}
		now := s.stamp()
		if c.Clock == nil || !c.Clock.Expired(now) || CheckTransition(c.State, StateDecided, RoleSystem) != nil {
			out = c
			return nil
		}
		outcomes := make(map[string]any, len(c.Profiles))
		for _, p := range c.Profiles {
			outcomes[p] = map[string]any{"outcome": c.Clock.OnExpiry, "deemed": true}
		}
		ob, err := json.Marshal(outcomes)
		if err != nil {
			return err
		}
		d := Decision{CaseID: c.ID, OfficialID: a.User.ID, Outcomes: ob, Deemed: true, LogIndex: -1, CreatedAt: now,
			Rationale: fmt.Sprintf("clock expired at %s; outcome deemed %s", c.Clock.Deadline(now).Format(time.RFC3339), c.Clock.OnExpiry)}
		if d.ID, err = newID("dec", now); err != nil {
			return err
		}
		if d.Variants, err = caseVariants(ctx, tx, c.ID); err != nil {
			return err
		}
		if d.Fingerprint, err = decisionFingerprint(ctx, tx, c.ID, now); err != nil {
			return err
		}
		if s.signer != nil {
			if d.Bundle, err = s.signer.SignDecision(ctx, redact(c), d); err != nil {
				return fmt.Errorf("sign deemed decision: %w", err)
			}
		}
		if out, err = s.move(ctx, tx, a, c, StateDecided, map[string]any{"decision": d.ID, "deemed": c.Clock.OnExpiry}); err != nil {
			return err
		}
		if err := tx.CreateDecision(ctx, d); err != nil {
			return err
		}
		done = true
		return nil
	})
	if err != nil {
		return Case{}, false, fmt.Errorf("expire case %s: %w", caseID, err)
	}
	if done {
		s.publishAfter(ctx)
	}
	return redact(out), done, nil
}

// DecisionInput is an official's decision.
type DecisionInput struct {
	// Outcomes is a JSON object with one member per profile of the
	// case, each the outcome for that profile.
	Outcomes  json.RawMessage
	Rationale string
	// OverrideReason must be given when evidence the profiles require is
	// missing, and is recorded with the decision.
	OverrideReason string
}

// Decide records an official's decision and moves the case to decided,
// from under_review or (dismissing an appeal) from appealed. The case's
// required evidence is checked first: if any is missing, the decision
// needs an OverrideReason, and the missing items are recorded with it.
// With a Signer the decision is signed before it is stored. In a joint
// review only an official of the lead agency decides, on the proposal the
// agencies were consulted on (empty outcomes and rationale take the
// proposal's; other outcomes are a conflict) and once the case's
// concurrence rule is met (see Positions); the decision records the
// concurring agencies, and the positions deemed from silence are audited
// (concurrence.deemed).
func (s *Service) Decide(ctx context.Context, a Actor, caseID string, in DecisionInput) (Decision, error) {
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return Decision{}, fmt.Errorf("decide case %s: %w", caseID, err)
	}
	if !a.has(RoleOfficial) {
		return Decision{}, forbidden("decide case", RoleOfficial)
	}
	if err := CheckTransition(c.State, StateDecided, a.User.Roles...); err != nil {
		return Decision{}, fmt.Errorf("decide case %s: %w", caseID, err)
	}
	var consult Concurrence
	if c.joint() {
		if in, consult, err = s.checkConcurrence(ctx, a, c, in); err != nil {
			return Decision{}, fmt.Errorf("decide case %s: %w", caseID, err)
		}
	}
	outcomes, err := checkOutcomes(in.Outcomes, c.Profiles)
	if err != nil {
		return Decision{}, fmt.Errorf("decide case %s: %w", caseID, err)
	}
	if err := checkText("rationale", in.Rationale, false); err != nil {
		return Decision{}, fmt.Errorf("decide case %s: %w", caseID, err)
	}
	if err := checkText("override_reason", in.OverrideReason, true); err != nil {
		return Decision{}, fmt.Errorf("decide case %s: %w", caseID, err)
	}
	missing, err := s.evidence.MissingEvidence(ctx, c)
	if err != nil {
		return Decision{}, fmt.Errorf("decide case %s: check evidence: %w", caseID, err)
	}
	if oc, ok := s.evidence.(OutcomeChecker); ok {
		if err := oc.CheckOutcomes(ctx, c, outcomes); err != nil {
			return Decision{}, fmt.Errorf("decide case %s: %w", caseID, err)
		}
	}
	if len(missing) > 0 && in.OverrideReason == "" {
		return Decision{}, fmt.Errorf("decide case %s: %w", caseID,
			invalid("override_reason", "required: evidence missing: %v", missing))
	}
	now := s.stamp()
	d := Decision{CaseID: c.ID, OfficialID: a.User.ID, Outcomes: outcomes, Rationale: in.Rationale,
		Missing: slices.Clone(missing), Concurring: consult.Concurring, LogIndex: -1, CreatedAt: now}
	if len(missing) > 0 {
		d.OverrideReason = in.OverrideReason
	}
	if d.ID, err = newID("dec", now); err != nil {
		return Decision{}, fmt.Errorf("decide case %s: %w", caseID, err)
	}
	if d.Variants, err = caseVariants(ctx, s.store, c.ID); err != nil {
		return Decision{}, fmt.Errorf("decide case %s: %w", caseID, err)
	}
	if d.Fingerprint, err = decisionFingerprint(ctx, s.store, c.ID, now); err != nil {
		return Decision{}, fmt.Errorf("decide case %s: %w", caseID, err)
	}
	if s.signer != nil {
		if d.Bundle, err = s.signer.SignDecision(ctx, redact(c), d); err != nil {
			return Decision{}, fmt.Errorf("decide case %s: sign: %w", caseID, err)
		}
	}
	scheds, err := s.owedSchedules(ctx, c, d) // review/duties.go
	if err != nil {
		return Decision{}, fmt.Errorf("decide case %s: %w", caseID, err)
	}
	var condDuties []Duty // the decision's conditions with due dates (review/incidents.go)
	err = s.store.Tx(ctx, func(tx Store) error {
		// c was read outside the transaction; UpdateCase's version check
		// makes the decision lose to any change made since.
		details := map[string]any{"decision": d.ID, "override": d.OverrideReason != "", "missing": d.Missing}
		if len(d.Variants) > 0 {
			details["variants"] = d.Variants
		}
		if c.joint() {
			details["concurring"] = d.Concurring
		}
		if _, err := s.move(ctx, tx, a, c, StateDecided, details); err != nil {
			return err
		}
		if c.joint() {
			if err := s.auditDeemed(ctx, tx, a, c, consult, d.ID); err != nil {
				return err
			}
		}
		if err := tx.CreateDecision(ctx, d); err != nil {
			return err
		}
		if condDuties, err = s.conditionDuties(ctx, tx, d); err != nil {
			return err
		}
		sched, err := s.scheduledDuties(ctx, tx, d, scheds) // review/duties.go
		condDuties = append(condDuties, sched...)
		return err
	})
	if err != nil {
		return Decision{}, fmt.Errorf("decide case %s: %w", caseID, err)
	}
	s.scheduleDuties(ctx, condDuties)
	s.publishAfter(ctx)
	if got, err := s.store.GetDecision(ctx, d.ID); err == nil {
		// The fingerprint is in the signed bundle, not a column: keep it
		// (scheduleConformance needs it).
		got.Fingerprint = d.Fingerprint
		d = got
	}
	s.scheduleConformance(ctx, d)
	return d, nil
}

// publishAfter logs pending decisions after a commit and anchors the
// audit trail's head, so that the decision's entries are anchored even
// when the decision itself is not logged (no Signer); a failure is
// logged and left to the next PublishPending or AnchorAudit.
func (s *Service) publishAfter(ctx context.Context) {
	if _, err := s.PublishPending(ctx); err != nil {
		s.log.WarnContext(ctx, "publish decisions", "err", err)
	}
	if _, _, err := s.AnchorAudit(ctx); err != nil {
		s.log.WarnContext(ctx, "anchor audit trail", "err", err)
	}
}

// checkOutcomes requires a JSON object whose members are exactly the
// case's profiles, and returns it compacted.
func checkOutcomes(raw json.RawMessage, profiles []string) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if len(raw) == 0 {
		return nil, invalid("outcomes", "missing")
	}
	if err := CheckJSONText(raw, "outcomes"); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, invalid("outcomes", "want a JSON object keyed by profile id")
	}
	for _, p := range profiles {
		if _, ok := m[p]; !ok {
			return nil, invalid("outcomes", "no outcome for profile %q", p)
		}
	}
	for k := range m {
		if !slices.Contains(profiles, k) {
			return nil, invalid("outcomes", "profile %q is not under review in this case", k)
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, invalid("outcomes", "%v", err)
	}
	return buf.Bytes(), nil
}

// Appeal contests the latest decision on a case and moves it to
// appealed. Developers of the case's organisation only.
func (s *Service) Appeal(ctx context.Context, a Actor, caseID, grounds string) (Appeal, error) {
	if err := checkText("grounds", grounds, false); err != nil {
		return Appeal{}, fmt.Errorf("appeal case %s: %w", caseID, err)
	}
	var ap Appeal
	err := s.store.Tx(ctx, func(tx Store) error {
		c, err := getCase(ctx, tx, a, caseID)
		if err != nil {
			return err
		}
		if err := CheckTransition(c.State, StateAppealed, a.User.Roles...); err != nil {
			return err
		}
		ds, err := latestDecision(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		now := s.stamp()
		ap = Appeal{CaseID: c.ID, DecisionID: ds.ID, FiledBy: a.User.ID, Grounds: grounds, CreatedAt: now}
		if ap.ID, err = newID("apl", now); err != nil {
			return err
		}
		if _, err := s.move(ctx, tx, a, c, StateAppealed, map[string]any{"appeal": ap.ID, "decision": ds.ID}); err != nil {
			return err
		}
		return tx.CreateAppeal(ctx, ap)
	})
	if err != nil {
		return Appeal{}, fmt.Errorf("appeal case %s: %w", caseID, err)
	}
	return ap, nil
}

// latestDecision returns the last decision on a case, or ErrConflict
// when there is none.
func latestDecision(ctx context.Context, st Store, caseID string) (Decision, error) {
	var last Decision
	p := Page{Limit: MaxPageLimit}
	for {
		ds, err := st.ListDecisions(ctx, caseID, p)
		if err != nil {
			return Decision{}, err
		}
		if len(ds) == 0 {
			break
		}
		last = ds[len(ds)-1]
		p.After = last.ID
	}
	if last.ID == "" {
		return Decision{}, fmt.Errorf("case has no decision to appeal: %w", ErrConflict)
	}
	return last, nil
}

// Decisions lists the decisions on a case the actor may see.
func (s *Service) Decisions(ctx context.Context, a Actor, caseID string, p Page) ([]Decision, error) {
	return caseRecords(ctx, s, a, caseID, "decisions", p, s.store.ListDecisions)
}

// Appeals lists the appeals on a case the actor may see.
func (s *Service) Appeals(ctx context.Context, a Actor, caseID string, p Page) ([]Appeal, error) {
	return caseRecords(ctx, s, a, caseID, "appeals", p, s.store.ListAppeals)
}

// maxAssignees bounds the people assigned to one case.
const maxAssignees = 16

// AssignCase sets the staff assigned to a case (replacing the previous
// list; empty clears it). Officials and admins; every user must be an
// enabled member of an assessor or agency organisation.
func (s *Service) AssignCase(ctx context.Context, a Actor, caseID string, userIDs []string) (Case, error) {
	if !a.has(RoleOfficial) && !a.has(RoleAdmin) {
		return Case{}, forbidden("assign case", RoleOfficial, RoleAdmin)
	}
	if len(userIDs) > maxAssignees {
		return Case{}, fmt.Errorf("assign case %s: %w", caseID, invalid("user_ids", "%d users exceeds the limit of %d", len(userIDs), maxAssignees))
	}
	ids := slices.Clone(userIDs)
	var out Case
	err := s.store.Tx(ctx, func(tx Store) error {
		c, err := getCase(ctx, tx, a, caseID)
		if err != nil {
			return err
		}
		if closed(c.State) {
			return fmt.Errorf("case is %s: %w", c.State, ErrConflict)
		}
		for i, id := range ids {
			if slices.Contains(ids[:i], id) {
				return invalid(fmt.Sprintf("user_ids[%d]", i), "%q is listed twice", id)
			}
			u, err := tx.GetUser(ctx, id)
			if errors.Is(err, ErrNotFound) {
				return invalid(fmt.Sprintf("user_ids[%d]", i), "no user %q", id)
			}
			if err != nil {
				return err
			}
			o, err := tx.GetOrg(ctx, u.OrgID)
			if err != nil {
				return err
			}
			if u.Disabled || o.Kind == OrgDeveloper {
				return invalid(fmt.Sprintf("user_ids[%d]", i), "%q is not an enabled member of an assessor or agency organisation", id)
			}
		}
		c.Assignees, c.UpdatedAt = ids, s.stamp()
		if out, err = tx.UpdateCase(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "case.assign", c.ID, map[string]any{"assignees": ids})
	})
	if err != nil {
		return Case{}, fmt.Errorf("assign case %s: %w", caseID, err)
	}
	return redact(out), nil
}

// Staff lists the enabled users of assessor and agency organisations,
// the people a case may be assigned to. Officials and admins.
func (s *Service) Staff(ctx context.Context, a Actor) ([]User, error) {
	if !a.has(RoleOfficial) && !a.has(RoleAdmin) {
		return nil, forbidden("list staff", RoleOfficial, RoleAdmin)
	}
	var out []User
	op := Page{Limit: MaxPageLimit}
	for {
		orgs, err := s.store.ListOrgs(ctx, op)
		if err != nil {
			return nil, fmt.Errorf("list staff: %w", err)
		}
		for _, o := range orgs {
			if o.Kind == OrgDeveloper {
				continue
			}
			up := Page{Limit: MaxPageLimit}
			for {
				us, err := s.store.ListUsers(ctx, o.ID, up)
				if err != nil {
					return nil, fmt.Errorf("list staff: %w", err)
				}
				for _, u := range us {
					if !u.Disabled {
						out = append(out, u)
					}
				}
				if len(us) < up.N() {
					break
				}
				up.After = us[len(us)-1].ID
			}
		}
		if len(orgs) < op.N() {
			return out, nil
		}
		op.After = orgs[len(orgs)-1].ID
	}
}
