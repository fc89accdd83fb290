package review

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// CampaignMetrics summarises a red-team campaign.
type CampaignMetrics struct {
	// Overall covers every attempt; PerRedTeamer each red-teamer's own
	// (by user id), measured from that red-teamer's first attempt.
	Overall      Progress
	PerRedTeamer map[string]Progress
	// ByCategory and ByTechnique count successful attempts.
	ByCategory  map[string]int
	ByTechnique map[string]int
}

// Progress is how far a set of attempts got, from its first attempt
// (Start). FirstSuccess and FirstUniversal are nil until reached.
type Progress struct {
	Attempts       int
	Successes      int
	Universal      int
	Start          time.Time
	FirstSuccess   *Milestone
	FirstUniversal *Milestone
}

// Milestone is the first attempt to reach something: its id, how many
// attempts had been started by then (it included), and the time from
// Start until it was reached (SuccessAt or UniversalAt).
type Milestone struct {
	AttemptID string
	Attempts  int
	Time      time.Duration
}

// Metrics computes a campaign's metrics from its attempts (in any
// order). The first success is the attempt tagged a success earliest
// (by SuccessAt), the first universal attack the one whose transfer
// check passed earliest (UniversalAt); attempts to reach it count the
// attempts created no later than it. Ties go to the earlier-created one.
// It is a pure function.
func Metrics(ats []Attempt) CampaignMetrics {
	sorted := slices.Clone(ats)
	slices.SortStableFunc(sorted, func(x, y Attempt) int {
		if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
			return c
		}
		if x.ID < y.ID {
			return -1
		}
		if x.ID > y.ID {
			return 1
		}
		return 0
	})
	m := CampaignMetrics{PerRedTeamer: map[string]Progress{}, ByCategory: map[string]int{}, ByTechnique: map[string]int{}}
	m.Overall = progress(sorted)
	byTeamer := map[string][]Attempt{}
	for _, at := range sorted {
		byTeamer[at.RedTeamer] = append(byTeamer[at.RedTeamer], at)
		if at.Success {
			m.ByCategory[at.Category]++
			m.ByTechnique[at.Technique]++
		}
	}
	for id, as := range byTeamer {
		m.PerRedTeamer[id] = progress(as)
	}
	return m
}

// progress measures attempts sorted by creation.
func progress(sorted []Attempt) Progress {
	var p Progress
	if len(sorted) == 0 {
		return p
	}
	p.Attempts, p.Start = len(sorted), sorted[0].CreatedAt
	first := func(reached func(Attempt) (time.Time, bool)) *Milestone {
		var best *Milestone
		var bestAt time.Time
		for i, at := range sorted {
			t, ok := reached(at)
			if !ok || (best != nil && !t.Before(bestAt)) {
				continue
			}
			bestAt = t
			best = &Milestone{AttemptID: at.ID, Attempts: i + 1, Time: max(t.Sub(p.Start), 0)}
		}
		return best
	}
	for _, at := range sorted {
		if at.Success {
			p.Successes++
		}
		if at.Universal {
			p.Universal++
		}
	}
	p.FirstSuccess = first(func(at Attempt) (time.Time, bool) { return at.SuccessAt, at.Success && !at.SuccessAt.IsZero() })
	p.FirstUniversal = first(func(at Attempt) (time.Time, bool) {
		return at.UniversalAt, at.Universal && !at.UniversalAt.IsZero()
	})
	return p
}

// CampaignMetrics returns the metrics of a case's campaign to those who see it.
func (s *Service) CampaignMetrics(ctx context.Context, a Actor, caseID string) (CampaignMetrics, error) {
	c, err := campaignCase(ctx, s.store, a, caseID, "campaign metrics")
	if err != nil {
		return CampaignMetrics{}, err
	}
	var all []Attempt
	p := Page{Limit: MaxPageLimit}
	for {
		ats, err := s.store.ListAttempts(ctx, c.ID, p)
		if err != nil {
			return CampaignMetrics{}, fmt.Errorf("campaign metrics of case %s: %w", caseID, err)
		}
		for _, at := range ats {
			if a.seesItem(c, at.OrgID, false) {
				all = append(all, at)
			}
		}
		if len(ats) < p.N() {
			return Metrics(all), nil
		}
		p.After = ats[len(ats)-1].ID
	}
}
