package review

import (
	"fmt"
	"slices"
)

// State is where a case stands in its review.
type State string

// Case states.
const (
	StateSubmitted            State = "submitted"
	StateInAssessment         State = "in_assessment"
	StateUnderReview          State = "under_review"
	StateInformationRequested State = "information_requested"
	StateDecided              State = "decided"
	StateAppealed             State = "appealed"
	StateWithdrawn            State = "withdrawn"
)

// States lists every state, in workflow order.
func States() []State {
	return []State{StateSubmitted, StateInAssessment, StateUnderReview,
		StateInformationRequested, StateDecided, StateAppealed, StateWithdrawn}
}

func (s State) valid() bool { return slices.Contains(States(), s) }

// Transition is one allowed move of a case, and the roles that may make it.
type Transition struct {
	From, To State
	Roles    []Role
}

// Transitions returns the table of allowed transitions. Every pair not
// listed, and every listed pair made by a role not listed, is invalid.
//
// The clock stops on entering information_requested and resumes on
// leaving it. Decisions (to decided) are made through Service.Decide,
// which records the Decision; appeals (to appealed) through
// Service.Appeal; a system decision is an outcome deemed by an expired
// clock.
func Transitions() []Transition {
	dev := []Role{RoleDeveloper}
	return []Transition{
		{StateSubmitted, StateInAssessment, []Role{RoleAssessor}},
		// The system moves a case on when its last assessment finishes.
		{StateInAssessment, StateUnderReview, []Role{RoleAssessor, RoleSystem}},
		// Re-run an assessment, e.g. after the developer remediated.
		{StateUnderReview, StateInAssessment, []Role{RoleAssessor, RoleReviewer}},
		{StateUnderReview, StateInformationRequested, []Role{RoleReviewer, RoleOfficial}},
		// The developer supplies the information, or the reviewer
		// withdraws the request.
		{StateInformationRequested, StateUnderReview, []Role{RoleDeveloper, RoleReviewer, RoleOfficial}},
		{StateUnderReview, StateDecided, []Role{RoleOfficial, RoleSystem}},
		// A clock that runs out before the review is done deems the
		// outcome; the clock does not run while information is requested.
		{StateSubmitted, StateDecided, []Role{RoleSystem}},
		{StateInAssessment, StateDecided, []Role{RoleSystem}},
		{StateDecided, StateAppealed, dev},
		// An appeal either reopens the review or is dismissed, upholding
		// the decision.
		{StateAppealed, StateUnderReview, []Role{RoleOfficial}},
		{StateAppealed, StateDecided, []Role{RoleOfficial}},
		{StateSubmitted, StateWithdrawn, dev},
		{StateInAssessment, StateWithdrawn, dev},
		{StateUnderReview, StateWithdrawn, dev},
		{StateInformationRequested, StateWithdrawn, dev},
	}
}

// CheckTransition reports whether a user holding roles may move a case
// from one state to another. It returns nil or an error wrapping
// ErrInvalidTransition.
func CheckTransition(from, to State, roles ...Role) error {
	for _, t := range Transitions() {
		if t.From != from || t.To != to {
			continue
		}
		for _, r := range roles {
			if slices.Contains(t.Roles, r) {
				return nil
			}
		}
		return fmt.Errorf("transition %s -> %s: requires role %v: %w", from, to, t.Roles, ErrInvalidTransition)
	}
	return fmt.Errorf("transition %s -> %s: not allowed: %w", from, to, ErrInvalidTransition)
}
