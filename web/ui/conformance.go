package ui

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/clearance-dev/clearance/conform"
	"github.com/clearance-dev/clearance/review"
)

// conformanceCard is the case page's conformance section: the endpoint
// fingerprints and the checks of the case's decisions.
type conformanceCard struct {
	Fingerprints []review.Fingerprint
	Checks       []conformanceRow
}

type conformanceRow struct {
	review.ConformanceCheck
	Rejected string // the tests that rejected, comma-separated
	Requests int
}

func (h *Handler) conformanceCard(ctx context.Context, a review.Actor, caseID string) (*conformanceCard, error) {
	fs, ks, err := h.svc.ListConformance(ctx, a, caseID)
	if err != nil || (len(fs) == 0 && len(ks) == 0) {
		return nil, err
	}
	out := &conformanceCard{Fingerprints: fs}
	for _, k := range ks {
		row := conformanceRow{ConformanceCheck: k}
		var res conform.Result
		if json.Unmarshal(k.Result, &res) == nil {
			row.Rejected, row.Requests = strings.Join(res.Failed(), ", "), res.Requests
		}
		out.Checks = append(out.Checks, row)
	}
	return out, nil
}
