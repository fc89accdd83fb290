package main

import (
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
)

// policyConcurrence gives a joint review the concurrence rule of its
// profiles: the strictest of their concurrence blocks, or the default
// (lead, 10 days, silence concurs) when none names one. The stack passes
// it as review.Config.Concurrence.
type policyConcurrence struct{}

func (policyConcurrence) ConcurrenceFor(ids []string) (review.ConcurrenceRule, error) {
	profs, err := loadProfiles(ids)
	if err != nil {
		return review.ConcurrenceRule{}, err
	}
	k := policy.StrictestConcurrence(profs)
	return review.ConcurrenceRule{Rule: k.Rule, K: k.K, ConsultationDays: k.ConsultationDays, Silence: k.Silence}, nil
}

var _ review.ConcurrenceRules = policyConcurrence{}
