package main

import (
	"cmp"
	"context"
	"errors"
	"math"
	"time"

	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
)

// IncidentRules implements review.IncidentRules from the profiles'
// incidents blocks: each class's covers, initial deadline (its unit,
// rounded up to whole units), intermediate and final intervals, and the
// profile's in_force_from.
func (policyEvidence) IncidentRules(ids []string) ([]review.IncidentRule, error) {
	profs, err := loadProfiles(ids)
	if err != nil {
		return nil, err
	}
	var out []review.IncidentRule
	for _, p := range profs {
		num := func(r policy.ConstRef) float64 {
			if r.Name == "" {
				return r.Literal
			}
			if k, ok := p.Constants[r.Name]; ok {
				f, _ := k.Value.(float64)
				return f
			}
			return 0
		}
		var from time.Time
		if t, err := time.Parse(time.DateOnly, p.InForceFrom); err == nil {
			from = t
		}
		for _, k := range p.Incidents {
			if len(k.Covers) == 0 {
				continue
			}
			r := review.IncidentRule{Profile: p.ID, Class: k.ID, Title: k.Title, To: k.To, Cite: k.Cite, From: from,
				Initial:          review.ClockSpec{Unit: review.Unit(cmp.Or(k.Unit, policy.CalendarDays)), Length: int(math.Ceil(num(k.Deadline)))},
				IntermediateDays: int(math.Ceil(num(k.Intermediate))), FinalDays: int(math.Ceil(num(k.Final)))}
			for _, c := range k.Covers {
				r.Covers = append(r.Covers, review.IncidentClass(c))
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// ScheduleDuty implements review.DutyScheduler.
func (l *lateScheduler) ScheduleDuty(ctx context.Context, dutyID string, due time.Time) error {
	if l.q == nil {
		return errors.New("job queue not open")
	}
	_, err := l.q.ScheduleDuty(ctx, dutyID, due)
	return err
}

// ModificationFractions implements review.ModificationRules from the
// profiles' modification blocks.
func (policyEvidence) ModificationFractions(ids []string) (map[string]float64, error) {
	profs, err := loadProfiles(ids)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, p := range profs {
		if p.Modification == nil {
			continue
		}
		r := p.Modification.ComputeFraction
		f := r.Literal
		if r.Name != "" {
			if k, ok := p.Constants[r.Name]; ok {
				f, _ = k.Value.(float64)
			}
		}
		out[p.ID] = f
	}
	return out, nil
}

// DutySchedules implements review.DutySchedules from the profiles'
// duties blocks (first and every in their unit, months by default; the
// tiers that owe each).
func (policyEvidence) DutySchedules(ids []string) ([]review.DutySchedule, error) {
	profs, err := loadProfiles(ids)
	if err != nil {
		return nil, err
	}
	var out []review.DutySchedule
	for _, p := range profs {
		for _, k := range p.Duties {
			first, _ := p.ConstNumber(k.First)
			every, _ := p.ConstNumber(k.Every)
			out = append(out, review.DutySchedule{Profile: p.ID, ID: k.ID, Title: k.Title, To: k.To, Cite: k.Cite,
				First: int(first), Every: int(every), Unit: cmp.Or(k.Unit, policy.Months), Tiers: k.Tiers})
		}
	}
	return out, nil
}

// CaseTiers implements review.CaseTiers: the tier each applicable
// profile places the case in, from the same evaluation as the case's
// regime comparison (dossier and finished assessments, judged now).
func (p policyEvidence) CaseTiers(ctx context.Context, c review.Case) (map[string]string, error) {
	d, err := evaluateCase(ctx, p.store, c, p.now())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range d.Results {
		if r.Applicable {
			out[r.Profile] = r.Tier
		}
	}
	return out, nil
}
