package review

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Scheduled duties (issue 18 part 2): a profile's duties block states
// reports owed on a schedule once a decision clears a model under it (a
// transparency report at deployment, quarterly internal-use summaries,
// annual framework reviews). The decision creates the first occurrence
// of each as a Duty of kind scheduled, with the same clock (a duty_check
// job), states and report filing as an incident's duties; filing the
// report of a recurring one owes the next, one interval after the
// previous deadline.

// DutyScheduled is a recurring or one-off duty from a profile's duties
// block.
const DutyScheduled DutyKind = "scheduled"

// DutySchedule is one profile's scheduled duty as the service applies
// it: the first occurrence First units after the decision (0: by the end
// of the decision's UTC day), then every Every units (0: once). Unit is
// "months" or "calendar_days". Tiers, when set, are the profile's tiers
// that owe it (a case the profile places in another tier at decision
// time owes none); empty, every case cleared under the profile owes it.
type DutySchedule struct {
	Profile string
	ID      string
	Title   string
	To      string
	Cite    string
	First   int
	Every   int
	Unit    string
	Tiers   []string
}

// DutySchedules may be implemented by the service's EvidenceChecker
// (cmd/clearance does, from the profiles): the scheduled duties of a
// decision's profiles.
type DutySchedules interface {
	DutySchedules(profiles []string) ([]DutySchedule, error)
}

// CaseTiers may also be implemented by the service's EvidenceChecker
// (cmd/clearance does, from the policy result): the tier each of the
// case's profiles places it in, judged at decision time ("" where the
// profile sets none or does not apply). Without it a scheduled duty
// limited to tiers is owed on every case, as if the tier held.
type CaseTiers interface {
	CaseTiers(ctx context.Context, c Case) (map[string]string, error)
}

// add returns t plus n of the schedule's units.
func (s DutySchedule) add(t time.Time, n int) time.Time {
	if s.Unit == "calendar_days" {
		return t.AddDate(0, 0, n)
	}
	return t.AddDate(0, n, 0)
}

// FirstDue is the first occurrence's deadline for a decision made at
// decided.
func (s DutySchedule) FirstDue(decided time.Time) time.Time {
	decided = decided.UTC()
	if s.First <= 0 {
		y, m, d := decided.Date()
		return time.Date(y, m, d, 23, 59, 59, 0, time.UTC)
	}
	return s.add(decided, s.First)
}

// clearedProfiles returns the profiles a decision cleared (with or
// without conditions), sorted.
func clearedProfiles(d Decision) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal(d.Outcomes, &m) != nil {
		return nil
	}
	var out []string
	for p, v := range m {
		if e, ok := ParseOutcomeEntry(v); ok && (e.Outcome == "cleared" || e.Outcome == "cleared_with_conditions") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func (s *Service) dutySchedules(profiles []string) ([]DutySchedule, error) {
	r, ok := s.evidence.(DutySchedules)
	if !ok || len(profiles) == 0 {
		return nil, nil
	}
	return r.DutySchedules(profiles)
}

// owedSchedules returns the scheduled duties of the profiles d cleared
// that c owes: those limited to tiers only where the case's tier for the
// profile (CaseTiers, judged now, before the decision's transaction) is
// one of them.
func (s *Service) owedSchedules(ctx context.Context, c Case, d Decision) ([]DutySchedule, error) {
	scheds, err := s.dutySchedules(clearedProfiles(d))
	if err != nil {
		return nil, fmt.Errorf("scheduled duties: %w", err)
	}
	ct, ok := s.evidence.(CaseTiers)
	if !ok || !slices.ContainsFunc(scheds, func(sc DutySchedule) bool { return len(sc.Tiers) > 0 }) {
		return scheds, nil
	}
	tiers, err := ct.CaseTiers(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("scheduled duties: tiers: %w", err)
	}
	return slices.DeleteFunc(scheds, func(sc DutySchedule) bool {
		return len(sc.Tiers) > 0 && !slices.Contains(sc.Tiers, tiers[sc.Profile])
	}), nil
}

// scheduledDuties records, inside the decision's transaction, the first
// occurrence of each scheduled duty in scheds (owedSchedules). A duty the
// case already owes (open, from an earlier decision) is not owed twice.
func (s *Service) scheduledDuties(ctx context.Context, tx Store, d Decision, scheds []DutySchedule) ([]Duty, error) {
	if len(scheds) == 0 {
		return nil, nil
	}
	existing, err := tx.ListDuties(ctx, DutyFilter{CaseID: d.CaseID, Page: Page{Limit: MaxPageLimit}})
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	var out []Duty
	for _, sc := range scheds {
		if slices.ContainsFunc(existing, func(x Duty) bool {
			return x.Kind == DutyScheduled && x.Profile == sc.Profile && x.Class == sc.ID && x.State.Open()
		}) {
			continue
		}
		du, err := s.newScheduledDuty(d.CaseID, sc, sc.FirstDue(d.CreatedAt), now)
		if err != nil {
			return nil, err
		}
		if err := tx.CreateDuty(ctx, du); err != nil {
			return nil, err
		}
		out = append(out, du)
	}
	return out, nil
}

func (s *Service) newScheduledDuty(caseID string, sc DutySchedule, due, now time.Time) (Duty, error) {
	du := Duty{CaseID: caseID, Profile: sc.Profile, Kind: DutyScheduled, Class: sc.ID, Title: sc.Title, To: sc.To,
		Cite: sc.Cite, DueAt: AuditTime(due), State: DutyDue, CreatedAt: now}
	if !now.Before(du.DueAt) {
		du.State = DutyOverdue
	}
	var err error
	if du.ID, err = newID("duty", now); err != nil {
		return Duty{}, err
	}
	return du, nil
}

// nextScheduled returns the next occurrence a recurring scheduled duty
// owes once d is reported: one interval after d's deadline. ok is false
// for a one-off duty or one its profile no longer states.
func (s *Service) nextScheduled(d Duty, now time.Time) (Duty, bool, error) {
	scheds, err := s.dutySchedules([]string{d.Profile})
	if err != nil {
		return Duty{}, false, fmt.Errorf("next occurrence of duty %s: %w", d.ID, err)
	}
	for _, sc := range scheds {
		if sc.Profile != d.Profile || sc.ID != d.Class || sc.Every <= 0 {
			continue
		}
		n, err := s.newScheduledDuty(d.CaseID, sc, sc.add(d.DueAt, sc.Every), now)
		return n, err == nil, err
	}
	return Duty{}, false, nil
}
