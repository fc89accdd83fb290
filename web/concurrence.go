package web

import (
	"encoding/json"
	"net/http"

	"github.com/clearance-dev/clearance/review"
)

// Concurrence in joint reviews (review.ProposeDecision, RecordPosition,
// AnswerObjection, Positions).

type positionRequest struct {
	// Position is concur, concur_with_conditions or object.
	Position   string   `json:"position"`
	Reason     string   `json:"reason,omitempty"`
	Conditions []string `json:"conditions,omitempty"`
}

type answerRequest struct {
	Answer string `json:"answer"`
}

type proposalJSON struct {
	CaseID     string          `json:"case_id"`
	Outcomes   json.RawMessage `json:"outcomes"`
	Rationale  string          `json:"rationale"`
	ProposedBy string          `json:"proposed_by"`
	CreatedAt  string          `json:"created_at"`
	Deadline   string          `json:"deadline"`
}

type positionJSON struct {
	OrgID string `json:"org_id"`
	// Position is concur, concur_with_conditions, object, or "" while the
	// agency has said nothing and the deadline is ahead.
	Position   string   `json:"position"`
	Reason     string   `json:"reason,omitempty"`
	Conditions []string `json:"conditions"`
	// Deemed: the agency said nothing by the deadline; the position is
	// the rule's silence.
	Deemed     bool   `json:"deemed"`
	Answer     string `json:"answer,omitempty"`
	AnsweredBy string `json:"answered_by,omitempty"`
	UserID     string `json:"user_id,omitempty"`
	CreatedAt  string `json:"created_at,omitempty"`
}

type concurrenceJSON struct {
	Rule       review.ConcurrenceRule `json:"rule"`
	Lead       string                 `json:"lead"`
	Proposal   *proposalJSON          `json:"proposal"`
	Open       bool                   `json:"open"`
	Positions  []positionJSON         `json:"positions"`
	Concurring []string               `json:"concurring"`
	// Blocking says why the lead may not decide yet; empty when it may.
	Blocking []string `json:"blocking"`
}

func toProposal(p review.Proposal) proposalJSON {
	return proposalJSON{CaseID: p.CaseID, Outcomes: p.Outcomes, Rationale: p.Rationale, ProposedBy: p.ProposedBy,
		CreatedAt: ts(p.CreatedAt), Deadline: ts(p.Deadline)}
}

func toPosition(p review.Position) positionJSON {
	out := positionJSON{OrgID: p.OrgID, Position: p.Position, Reason: p.Reason, Conditions: nonNil(p.Conditions),
		Deemed: p.Deemed, Answer: p.Answer, AnsweredBy: p.AnsweredBy, UserID: p.UserID}
	if !p.CreatedAt.IsZero() {
		out.CreatedAt = ts(p.CreatedAt)
	}
	return out
}

func toConcurrence(c review.Concurrence) concurrenceJSON {
	out := concurrenceJSON{Rule: c.Rule, Lead: c.Lead, Open: c.Open, Positions: []positionJSON{},
		Concurring: nonNil(c.Concurring), Blocking: nonNil(c.Blocking)}
	if c.Proposal != nil {
		p := toProposal(*c.Proposal)
		out.Proposal = &p
	}
	for _, p := range c.Positions {
		out.Positions = append(out.Positions, toPosition(p))
	}
	return out
}

func (handlers) proposeDecision(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in decisionRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := srv(r).svc.ProposeDecision(r.Context(), a, r.PathValue("id"), review.DecisionInput{Outcomes: in.Outcomes, Rationale: in.Rationale})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toProposal(p))
	return nil
}

func (handlers) recordPosition(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in positionRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := srv(r).svc.RecordPosition(r.Context(), a, r.PathValue("id"), review.PositionInput{
		Position: in.Position, Reason: in.Reason, Conditions: in.Conditions})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPosition(p))
	return nil
}

func (handlers) answerObjection(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in answerRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := srv(r).svc.AnswerObjection(r.Context(), a, r.PathValue("id"), r.PathValue("org"), in.Answer)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPosition(p))
	return nil
}

func (handlers) listPositions(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	c, err := srv(r).svc.Positions(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toConcurrence(c))
	return nil
}
