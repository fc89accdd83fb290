package main

import (
	"context"

	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
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
