package review

import (
	"context"
	"fmt"
)

// Quota bounds what one developer organisation keeps in the service, so
// that one tenant cannot fill the database (or, through the case lists,
// the server's memory). A zero field is unlimited.
type Quota struct {
	// OpenCases bounds the organisation's cases that are neither decided
	// nor withdrawn.
	OpenCases int
	// Bytes bounds the bytes of the dossiers of all the organisation's
	// cases, closed ones included (they are still stored). Assessment
	// samples are not counted: assessors, not developers, put them
	// there, and an import is bounded by its own size limit.
	Bytes int64
}

func (q Quota) validate() error {
	if q.OpenCases < 0 || q.Bytes < 0 {
		return fmt.Errorf("review config: Quota %+v: negative limit", q)
	}
	return nil
}

// Usage is what an organisation's cases hold (see Store.OrgUsage).
type Usage struct {
	// OpenCases counts the cases neither decided nor withdrawn.
	OpenCases int
	// Bytes sums the bytes of every case's dossier.
	Bytes int64
}

// QuotaError says which limit a submission would exceed, the limit and
// the organisation's use of it.
type QuotaError struct {
	// What is "open cases" or "stored bytes".
	What string
	// Limit is the quota; Used what the organisation holds now; Adding
	// what the refused request would have added.
	Limit, Used, Adding int64
}

func (e *QuotaError) Error() string {
	if e.What == "open cases" {
		return fmt.Sprintf("quota exceeded: the organisation has %d open cases, the limit is %d; withdraw or finish one first",
			e.Used, e.Limit)
	}
	return fmt.Sprintf("quota exceeded: the organisation stores %d bytes of dossiers and this one adds %d, over the limit of %d bytes",
		e.Used, e.Adding, e.Limit)
}

func (e *QuotaError) Unwrap() error { return ErrQuotaExceeded }

// checkQuota refuses a new case of dossierBytes for org when it would
// exceed s.quota. Called inside the Tx that creates the case, whose
// OrgUsage holds the organisation against concurrent submissions.
func (s *Service) checkQuota(ctx context.Context, tx Store, orgID string, dossierBytes int) error {
	q := s.quota
	if q.OpenCases == 0 && q.Bytes == 0 {
		return nil
	}
	u, err := tx.OrgUsage(ctx, orgID)
	if err != nil {
		return err
	}
	if q.OpenCases > 0 && u.OpenCases >= q.OpenCases {
		return &QuotaError{What: "open cases", Limit: int64(q.OpenCases), Used: int64(u.OpenCases), Adding: 1}
	}
	if q.Bytes > 0 && u.Bytes+int64(dossierBytes) > q.Bytes {
		return &QuotaError{What: "stored bytes", Limit: q.Bytes, Used: u.Bytes, Adding: int64(dossierBytes)}
	}
	return nil
}
