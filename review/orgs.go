package review

import (
	"context"
	"fmt"
)

// ListOrgs lists organisations, oldest first, a page at a time. Admins
// only.
func (s *Service) ListOrgs(ctx context.Context, a Actor, p Page) ([]Org, error) {
	if !a.has(RoleAdmin) {
		return nil, forbidden("list orgs", RoleAdmin)
	}
	os, err := s.store.ListOrgs(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	return os, nil
}
