package main

import (
	"context"
	"errors"

	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/work"
)

// redteamEvidence is a case's campaign as policy evidence (redteam in
// CEL).
func redteamEvidence(ctx context.Context, st review.Store, caseID string) (policy.RedTeam, error) {
	ev, err := review.ReadCampaignEvidence(ctx, st, caseID)
	if err != nil {
		return policy.RedTeam{}, err
	}
	return policy.RedTeam{Campaign: ev.Attempts > 0, Attempts: int64(ev.Attempts), Successes: int64(ev.Successes),
		Universal: int64(ev.Universal), Versions: int64(ev.Versions), Retested: int64(ev.Retested),
		StillWork: int64(ev.StillWork), UniversalStillWork: int64(ev.UniversalStillWork), Open: int64(ev.Open)}, nil
}

// EnqueueRetest implements review.RetestQueue: the regression retest of
// a new model version is a job.
func (l *lateScheduler) EnqueueRetest(ctx context.Context, caseID, versionID string) error {
	if l.q == nil {
		return errors.New("job queue not open")
	}
	return work.Scheduler{Q: l.q}.EnqueueRetest(ctx, caseID, versionID)
}

// RetestJob implements review.RetestQueue.
func (l *lateScheduler) RetestJob(ctx context.Context, caseID, versionID string) (review.RetestState, bool, error) {
	if l.q == nil {
		return review.RetestNone, false, nil
	}
	return work.Scheduler{Q: l.q}.RetestJob(ctx, caseID, versionID)
}
