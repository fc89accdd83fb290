package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Concurrence rules: who must agree before the lead decides a joint
// review.
const (
	// RuleLead: the lead decides once the consultation has closed (every
	// participating agency has given its position, or the deadline has
	// passed) and it has answered every objection.
	RuleLead = "lead"
	// RuleAll: every participating agency concurs (with conditions or
	// not).
	RuleAll = "all"
	// RuleKOfN: at least K participating agencies concur, and the lead
	// has answered every objection.
	RuleKOfN = "k_of_n"
)

// Positions an agency takes on a proposed decision.
const (
	Concur               = "concur"
	ConcurWithConditions = "concur_with_conditions"
	Object               = "object"
)

// ConcurrenceRule is what a case's profiles require of the participating
// agencies of a joint review (see policy's concurrence block).
type ConcurrenceRule struct {
	// Rule is RuleLead, RuleAll or RuleKOfN.
	Rule string `json:"rule"`
	// K is the number of concurring agencies RuleKOfN needs.
	K int `json:"k,omitempty"`
	// ConsultationDays is the consultation period, in calendar days from
	// the proposal.
	ConsultationDays int `json:"consultation_days"`
	// Silence is what an agency that has given no position by the
	// deadline is deemed to have said: Concur or Object.
	Silence string `json:"silence"`
}

// DefaultConcurrence is the rule of a case whose profiles name none: the
// lead decides after ten days' consultation, silence counting as
// concurrence.
var DefaultConcurrence = ConcurrenceRule{Rule: RuleLead, ConsultationDays: 10, Silence: Concur}

// ConcurrenceRules gives the concurrence rule for a set of profiles.
type ConcurrenceRules interface {
	ConcurrenceFor(profiles []string) (ConcurrenceRule, error)
}

// Proposal is the decision the lead agency of a joint review proposes,
// on which the participating agencies take positions until Deadline.
type Proposal struct {
	CaseID     string          `json:"case_id"`
	Outcomes   json.RawMessage `json:"outcomes"`
	Rationale  string          `json:"rationale"`
	ProposedBy string          `json:"proposed_by"`
	CreatedAt  time.Time       `json:"created_at"`
	Deadline   time.Time       `json:"deadline"`
}

// Position is a participating agency's position on the proposal. As
// stored, Deemed is true only for an objection deemed from silence that
// the lead has answered; Positions also returns deemed positions it
// computes from the clock, and pending ones (Position "").
type Position struct {
	CaseID     string   `json:"case_id"`
	OrgID      string   `json:"org_id"`
	Position   string   `json:"position"`
	Reason     string   `json:"reason,omitempty"`
	Conditions []string `json:"conditions"`
	// Deemed marks a position the agency did not give: deemed from its
	// silence after the deadline.
	Deemed     bool      `json:"deemed"`
	Answer     string    `json:"answer,omitempty"`
	AnsweredBy string    `json:"answered_by,omitempty"`
	UserID     string    `json:"user_id,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
}

// concurs reports whether p counts as concurrence.
func (p Position) concurs() bool { return p.Position == Concur || p.Position == ConcurWithConditions }

// PositionInput is an agency official's position.
type PositionInput struct {
	Position   string
	Reason     string
	Conditions []string
}

// Concurrence is the state of a joint review's consultation.
type Concurrence struct {
	Rule ConcurrenceRule `json:"rule"`
	// Lead is the lead agency's org id.
	Lead string `json:"lead"`
	// Proposal is nil until the lead proposes.
	Proposal *Proposal `json:"proposal"`
	// Open is true while the consultation runs: a proposal, before its
	// deadline, with an agency yet to give its position.
	Open bool `json:"open"`
	// Positions has one entry per participating agency, in the case's
	// order: given, deemed, or pending (Position "").
	Positions []Position `json:"positions"`
	// Concurring lists the agencies whose position (given or deemed) is
	// concurrence.
	Concurring []string `json:"concurring"`
	// Blocking says why the lead may not decide yet; empty when it may.
	Blocking []string `json:"blocking"`
}

const maxConditions = 20

// concurrenceFor returns the rule of c's profiles, the default without a
// ConcurrenceRules.
func (s *Service) concurrenceFor(c Case) (ConcurrenceRule, error) {
	if s.concurrence == nil {
		return DefaultConcurrence, nil
	}
	r, err := s.concurrence.ConcurrenceFor(c.Profiles)
	if err != nil {
		return ConcurrenceRule{}, fmt.Errorf("concurrence rule of profiles %v: %w", c.Profiles, err)
	}
	return r, nil
}

// leadOfficial refuses unless a is an official of c's lead agency.
func leadOfficial(action string, a Actor, c Case) error {
	if !c.joint() {
		return invalid("case", "case %s is not a joint review: its official decides without consultation", c.ID)
	}
	if a.Org.ID != c.LeadAgency() || a.Org.Kind != OrgAgency {
		return fmt.Errorf("%s: only an official of the lead agency %s: %w", action, c.LeadAgency(), ErrForbidden)
	}
	if !a.has(RoleOfficial) {
		return forbidden(action, RoleOfficial)
	}
	return nil
}

// touch bumps c's version, so that a decision made on what was read
// before loses to a change of the consultation (Decide's version check).
func (s *Service) touch(ctx context.Context, tx Store, c Case) error {
	c.UpdatedAt = s.stamp()
	_, err := tx.UpdateCase(ctx, c)
	return err
}

// ProposeDecision opens (or, replacing the proposal and every position
// taken on it, reopens) the consultation on a joint review: an official
// of the lead agency proposes outcomes and a rationale, and the
// participating agencies have the rule's consultation period to give
// their positions. Audited as concurrence.proposed.
func (s *Service) ProposeDecision(ctx context.Context, a Actor, caseID string, in DecisionInput) (Proposal, error) {
	var out Proposal
	err := s.store.Tx(ctx, func(tx Store) error {
		c, err := getCase(ctx, tx, a, caseID)
		if err != nil {
			return err
		}
		if err := leadOfficial("propose decision", a, c); err != nil {
			return err
		}
		if err := CheckTransition(c.State, StateDecided, a.User.Roles...); err != nil {
			return err
		}
		outcomes, err := checkOutcomes(in.Outcomes, c.Profiles)
		if err != nil {
			return err
		}
		if err := checkText("rationale", in.Rationale, false); err != nil {
			return err
		}
		rule, err := s.concurrenceFor(c)
		if err != nil {
			return err
		}
		now := s.stamp()
		out = Proposal{CaseID: c.ID, Outcomes: outcomes, Rationale: in.Rationale, ProposedBy: a.User.ID,
			CreatedAt: now, Deadline: now.AddDate(0, 0, rule.ConsultationDays)}
		if err := tx.PutProposal(ctx, out); err != nil {
			return err
		}
		if err := s.touch(ctx, tx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "concurrence.proposed", c.ID, map[string]any{
			"outcomes": json.RawMessage(outcomes), "deadline": out.Deadline, "rule": rule})
	})
	if err != nil {
		return Proposal{}, fmt.Errorf("propose decision on case %s: %w", caseID, err)
	}
	return out, nil
}

// currentProposal returns c's proposal if it was made after c's latest
// decision (a proposal an earlier decision used is spent), else
// ErrNotFound.
func currentProposal(ctx context.Context, st Store, c Case) (Proposal, error) {
	p, err := st.GetProposal(ctx, c.ID)
	if err != nil {
		return Proposal{}, err
	}
	ds, err := st.ListDecisions(ctx, c.ID, Page{Limit: MaxPageLimit})
	if err != nil {
		return Proposal{}, err
	}
	for _, d := range ds { // a handful: one per decision or appeal
		if !p.CreatedAt.After(d.CreatedAt) {
			return Proposal{}, fmt.Errorf("proposal predates decision %s: %w", d.ID, ErrNotFound)
		}
	}
	return p, nil
}

// RecordPosition records the position of the actor's agency, a
// participating agency of a joint review, on the lead's proposal:
// officials only. It replaces the agency's earlier position (and the
// lead's answer to it); the audit trail keeps each one
// (concurrence.position). An objection needs a reason; a concurrence
// with conditions, one or more conditions. A position given after the
// deadline counts: it replaces the one deemed from silence.
func (s *Service) RecordPosition(ctx context.Context, a Actor, caseID string, in PositionInput) (Position, error) {
	var out Position
	err := s.store.Tx(ctx, func(tx Store) error {
		c, err := getCase(ctx, tx, a, caseID)
		if err != nil {
			return err
		}
		if !c.joint() {
			return invalid("case", "case %s is not a joint review", c.ID)
		}
		g, ok := c.Agency(a.Org.ID)
		if !ok || g.Lead || a.Org.Kind != OrgAgency {
			return fmt.Errorf("record position: only officials of the participating agencies (not the lead, which proposes): %w", ErrForbidden)
		}
		if !a.has(RoleOfficial) {
			return forbidden("record position", RoleOfficial)
		}
		if closed(c.State) {
			return fmt.Errorf("case is %s: %w", c.State, ErrConflict)
		}
		if err := checkPosition(in); err != nil {
			return err
		}
		if _, err := currentProposal(ctx, tx, c); errors.Is(err, ErrNotFound) {
			return fmt.Errorf("no proposed decision to take a position on: %w", ErrConflict)
		} else if err != nil {
			return err
		}
		out = Position{CaseID: c.ID, OrgID: a.Org.ID, Position: in.Position, Reason: in.Reason,
			Conditions: slices.Clone(in.Conditions), UserID: a.User.ID, CreatedAt: s.stamp()}
		if out.Conditions == nil {
			out.Conditions = []string{}
		}
		if err := tx.PutPosition(ctx, out); err != nil {
			return err
		}
		if err := s.touch(ctx, tx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "concurrence.position", c.ID, map[string]any{
			"org": out.OrgID, "position": out.Position, "reason": out.Reason, "conditions": out.Conditions})
	})
	if err != nil {
		return Position{}, fmt.Errorf("record position on case %s: %w", caseID, err)
	}
	return out, nil
}

func checkPosition(in PositionInput) error {
	switch in.Position {
	case Concur, ConcurWithConditions, Object:
	case "":
		return invalid("position", "missing: want %s, %s or %s", Concur, ConcurWithConditions, Object)
	default:
		return invalid("position", "unknown position %q: want %s, %s or %s", in.Position, Concur, ConcurWithConditions, Object)
	}
	if err := checkText("reason", in.Reason, in.Position != Object); err != nil {
		if in.Position == Object && in.Reason == "" {
			return invalid("reason", "required: an objection needs a reason")
		}
		return err
	}
	if len(in.Conditions) > maxConditions {
		return invalid("conditions", "%d conditions exceed the limit of %d", len(in.Conditions), maxConditions)
	}
	for i, k := range in.Conditions {
		if err := checkText(fmt.Sprintf("conditions[%d]", i), k, false); err != nil {
			return err
		}
	}
	switch {
	case in.Position == ConcurWithConditions && len(in.Conditions) == 0:
		return invalid("conditions", "required: a concurrence with conditions needs one or more")
	case in.Position != ConcurWithConditions && len(in.Conditions) > 0:
		return invalid("conditions", "only a concurrence with conditions has conditions (position is %s)", in.Position)
	}
	return nil
}

// AnswerObjection records the lead's answer to a participating agency's
// objection (given, or deemed from silence after the deadline): officials
// of the lead agency. Audited as concurrence.answered.
func (s *Service) AnswerObjection(ctx context.Context, a Actor, caseID, orgID, answer string) (Position, error) {
	var out Position
	err := s.store.Tx(ctx, func(tx Store) error {
		c, err := getCase(ctx, tx, a, caseID)
		if err != nil {
			return err
		}
		if err := leadOfficial("answer objection", a, c); err != nil {
			return err
		}
		if closed(c.State) {
			return fmt.Errorf("case is %s: %w", c.State, ErrConflict)
		}
		if err := checkText("answer", answer, false); err != nil {
			return err
		}
		st, err := s.concurrenceState(ctx, tx, c)
		if err != nil {
			return err
		}
		if st.Proposal == nil {
			return fmt.Errorf("no proposed decision: %w", ErrConflict)
		}
		i := slices.IndexFunc(st.Positions, func(p Position) bool { return p.OrgID == orgID })
		if i < 0 {
			return fmt.Errorf("answer objection: %q is not a participating agency of case %s: %w", orgID, c.ID, ErrNotFound)
		}
		out = st.Positions[i]
		if out.Position != Object {
			what := out.Position
			if what == "" {
				what = "given no position yet"
			}
			return fmt.Errorf("agency %s has not objected (%s): %w", orgID, what, ErrConflict)
		}
		out.Answer, out.AnsweredBy = answer, a.User.ID
		if out.CreatedAt.IsZero() {
			out.CreatedAt = s.stamp()
		}
		if err := tx.PutPosition(ctx, out); err != nil {
			return err
		}
		if err := s.touch(ctx, tx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "concurrence.answered", c.ID, map[string]any{"org": orgID, "deemed": out.Deemed, "answer": answer})
	})
	if err != nil {
		return Position{}, fmt.Errorf("answer objection of %s on case %s: %w", orgID, caseID, err)
	}
	return out, nil
}

// Positions returns the consultation of a joint review: its rule, the
// proposal and every participating agency's position, with the
// positions deemed from silence once the deadline has passed, and what
// (if anything) keeps the lead from deciding. Anyone who sees the case.
func (s *Service) Positions(ctx context.Context, a Actor, caseID string) (Concurrence, error) {
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return Concurrence{}, fmt.Errorf("get positions of case %s: %w", caseID, err)
	}
	if !c.joint() {
		return Concurrence{}, fmt.Errorf("get positions of case %s: %w", caseID,
			invalid("case", "case %s is not a joint review", c.ID))
	}
	st, err := s.concurrenceState(ctx, s.store, c)
	if err != nil {
		return Concurrence{}, fmt.Errorf("get positions of case %s: %w", caseID, err)
	}
	return st, nil
}

// concurrenceState reads c's proposal and positions and evaluates them
// against the rule at the service's now.
func (s *Service) concurrenceState(ctx context.Context, st Store, c Case) (Concurrence, error) {
	rule, err := s.concurrenceFor(c)
	if err != nil {
		return Concurrence{}, err
	}
	var prop *Proposal
	var stored []Position
	p, err := currentProposal(ctx, st, c)
	switch {
	case err == nil:
		prop = &p
		if stored, err = st.ListPositions(ctx, c.ID); err != nil {
			return Concurrence{}, err
		}
	case !errors.Is(err, ErrNotFound):
		return Concurrence{}, err
	}
	return evaluate(rule, c, prop, stored, s.stamp()), nil
}

// evaluate computes the consultation's state at now.
func evaluate(rule ConcurrenceRule, c Case, prop *Proposal, stored []Position, now time.Time) Concurrence {
	out := Concurrence{Rule: rule, Lead: c.LeadAgency(), Proposal: prop, Positions: []Position{}, Concurring: []string{}, Blocking: []string{}}
	if prop == nil {
		out.Blocking = append(out.Blocking, "no decision has been proposed: the lead proposes one and consults the participating agencies")
		for _, g := range c.Agencies {
			if !g.Lead {
				out.Positions = append(out.Positions, Position{CaseID: c.ID, OrgID: g.OrgID, Conditions: []string{}})
			}
		}
		return out
	}
	past := !now.Before(prop.Deadline)
	var pending, objecting, unanswered []string
	n := 0
	for _, g := range c.Agencies {
		if g.Lead {
			continue
		}
		n++
		i := slices.IndexFunc(stored, func(p Position) bool { return p.OrgID == g.OrgID })
		var p Position
		switch {
		case i >= 0:
			p = stored[i]
		case past:
			p = Position{CaseID: c.ID, OrgID: g.OrgID, Position: rule.Silence, Deemed: true, Conditions: []string{},
				Reason: "deemed: no position by the deadline " + prop.Deadline.Format(time.RFC3339)}
		default:
			p = Position{CaseID: c.ID, OrgID: g.OrgID, Conditions: []string{}}
		}
		if p.Conditions == nil {
			p.Conditions = []string{}
		}
		out.Positions = append(out.Positions, p)
		switch {
		case p.Position == "":
			pending = append(pending, g.OrgID)
		case p.concurs():
			out.Concurring = append(out.Concurring, g.OrgID)
		case p.Position == Object:
			objecting = append(objecting, describeObjection(p))
			if p.Answer == "" {
				unanswered = append(unanswered, describeObjection(p))
			}
		}
	}
	out.Open = !past && len(pending) > 0
	until := prop.Deadline.Format(time.RFC3339)
	switch rule.Rule {
	case RuleAll:
		if len(pending) > 0 {
			out.Blocking = append(out.Blocking, fmt.Sprintf("every participating agency must concur: %s %s not given a position (consultation open until %s)",
				strings.Join(pending, ", "), hasHave(len(pending)), until))
		}
		for _, o := range objecting {
			out.Blocking = append(out.Blocking, "every participating agency must concur: "+o)
		}
	case RuleKOfN:
		if len(out.Concurring) < rule.K {
			msg := fmt.Sprintf("%d of %d participating agencies must concur, %d %s (%s)", rule.K, n, len(out.Concurring),
				hasHave(len(out.Concurring)), listOr(out.Concurring, "none"))
			if rule.K > n {
				msg += fmt.Sprintf("; the case has only %d participating agencies", n)
			} else if len(pending) > 0 {
				msg += fmt.Sprintf("; %s %s not given a position (consultation open until %s)", strings.Join(pending, ", "), hasHave(len(pending)), until)
			}
			out.Blocking = append(out.Blocking, msg)
		}
		for _, o := range unanswered {
			out.Blocking = append(out.Blocking, "the lead must answer every objection: "+o)
		}
	default: // RuleLead
		if len(pending) > 0 && !past {
			out.Blocking = append(out.Blocking, fmt.Sprintf("the consultation is open until %s: %s %s not given a position",
				until, strings.Join(pending, ", "), hasHave(len(pending))))
		}
		for _, o := range unanswered {
			out.Blocking = append(out.Blocking, "the lead must answer every objection: "+o)
		}
	}
	return out
}

func describeObjection(p Position) string {
	s := fmt.Sprintf("agency %s objects", p.OrgID)
	if p.Deemed {
		s += " (deemed, silent after the deadline)"
	} else if p.Reason != "" {
		s += ": " + p.Reason
	}
	if p.Answer == "" {
		s += " [unanswered]"
	} else {
		s += " [answered]"
	}
	return s
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func listOr(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	return strings.Join(xs, ", ")
}

// checkConcurrence is Decide's check on a joint review: a current
// proposal whose outcomes are the decision's (empty outcomes and
// rationale take the proposal's), and the rule satisfied. It returns the
// input completed and the consultation's state.
func (s *Service) checkConcurrence(ctx context.Context, a Actor, c Case, in DecisionInput) (DecisionInput, Concurrence, error) {
	if a.Org.ID != c.LeadAgency() || a.Org.Kind != OrgAgency {
		return in, Concurrence{}, fmt.Errorf("only an official of the lead agency %s decides a joint review: %w", c.LeadAgency(), ErrForbidden)
	}
	st, err := s.concurrenceState(ctx, s.store, c)
	if err != nil {
		return in, Concurrence{}, err
	}
	if st.Proposal == nil {
		return in, Concurrence{}, fmt.Errorf("joint review: propose the decision to the participating agencies first (POST /api/v1/cases/%s/proposal): %w", c.ID, ErrConflict)
	}
	if len(in.Outcomes) == 0 {
		in.Outcomes = st.Proposal.Outcomes
	}
	if in.Rationale == "" {
		in.Rationale = st.Proposal.Rationale
	}
	if !sameJSON(in.Outcomes, st.Proposal.Outcomes) {
		return in, Concurrence{}, fmt.Errorf("joint review: outcomes differ from the proposal the agencies were consulted on (%s); propose them again: %w",
			st.Proposal.Outcomes, ErrConflict)
	}
	if len(st.Blocking) > 0 {
		return in, Concurrence{}, fmt.Errorf("joint review: concurrence rule %s not met: %s: %w", ruleText(st.Rule), strings.Join(st.Blocking, "; "), ErrConflict)
	}
	return in, st, nil
}

func ruleText(r ConcurrenceRule) string {
	if r.Rule == RuleKOfN {
		return fmt.Sprintf("%s (k=%d)", r.Rule, r.K)
	}
	return r.Rule
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// auditDeemed records, in Decide's transaction, the positions deemed
// from silence that the decision relied on.
func (s *Service) auditDeemed(ctx context.Context, tx Store, a Actor, c Case, st Concurrence, decisionID string) error {
	for _, p := range st.Positions {
		if !p.Deemed {
			continue
		}
		if err := s.audit(ctx, tx, a, "concurrence.deemed", c.ID, map[string]any{
			"decision": decisionID, "org": p.OrgID, "position": p.Position, "deadline": st.Proposal.Deadline}); err != nil {
			return err
		}
	}
	return nil
}
