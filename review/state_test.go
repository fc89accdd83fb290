package review

import (
	"errors"
	"slices"
	"testing"
)

func TestTransitionsTable(t *testing.T) {
	allowed := map[[2]State][]Role{}
	for _, tr := range Transitions() {
		k := [2]State{tr.From, tr.To}
		if _, dup := allowed[k]; dup {
			t.Fatalf("transition %s -> %s listed twice", tr.From, tr.To)
		}
		allowed[k] = tr.Roles
	}
	roles := append(Roles(), RoleSystem)
	for _, from := range States() {
		for _, to := range States() {
			for _, r := range roles {
				err := CheckTransition(from, to, r)
				want := slices.Contains(allowed[[2]State{from, to}], r)
				if want && err != nil {
					t.Errorf("CheckTransition(%s, %s, %s) = %v, want nil", from, to, r, err)
				}
				if !want && !errors.Is(err, ErrInvalidTransition) {
					t.Errorf("CheckTransition(%s, %s, %s) = %v, want ErrInvalidTransition", from, to, r, err)
				}
			}
			if err := CheckTransition(from, to); !errors.Is(err, ErrInvalidTransition) {
				t.Errorf("CheckTransition(%s, %s) with no roles = %v, want ErrInvalidTransition", from, to, err)
			}
		}
	}
}

func TestTransitionsSpotChecks(t *testing.T) {
	tests := []struct {
		from, to State
		role     Role
		ok       bool
	}{
		{StateSubmitted, StateInAssessment, RoleAssessor, true},
		{StateSubmitted, StateInAssessment, RoleDeveloper, false},
		{StateUnderReview, StateInformationRequested, RoleReviewer, true},
		{StateInformationRequested, StateUnderReview, RoleDeveloper, true},
		{StateUnderReview, StateDecided, RoleOfficial, true},
		{StateUnderReview, StateDecided, RoleReviewer, false},
		{StateDecided, StateAppealed, RoleDeveloper, true},
		{StateAppealed, StateUnderReview, RoleOfficial, true},
		{StateDecided, StateWithdrawn, RoleDeveloper, false},
		{StateWithdrawn, StateSubmitted, RoleAdmin, false},
		{StateSubmitted, StateDecided, RoleOfficial, false},
		{StateSubmitted, StateDecided, RoleSystem, true},
		{StateInformationRequested, StateDecided, RoleSystem, false},
		{StateSubmitted, StateSubmitted, RoleAdmin, false},
		{State("bogus"), StateSubmitted, RoleAdmin, false},
	}
	for _, tt := range tests {
		err := CheckTransition(tt.from, tt.to, tt.role)
		if (err == nil) != tt.ok {
			t.Errorf("CheckTransition(%s, %s, %s) = %v, want ok=%v", tt.from, tt.to, tt.role, err, tt.ok)
		}
	}
}
