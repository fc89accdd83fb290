package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"fmt"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// CreateOrg implements review.Store.
func (d *Records) CreateOrg(ctx context.Context, o review.Org) error {
	_, err := d.exec(ctx, "create org "+o.ID, `INSERT INTO orgs (id, name, kind, created_at) VALUES ($1, $2, $3, $4)`,
		o.ID, o.Name, string(o.Kind), fmtTime(o.CreatedAt))
	return err
}

const orgCols = `id, name, kind, created_at`

func scanOrg(s scanner) (review.Org, error) {
	var o review.Org
	var kind, at string
	if err := s.Scan(&o.ID, &o.Name, &kind, &at); err != nil {
		return o, err
	}
	o.Kind = review.OrgKind(kind)
	var err error
	o.CreatedAt, err = parseTime(at)
	return o, err
}

// GetOrg implements review.Store.
func (d *Records) GetOrg(ctx context.Context, id string) (review.Org, error) {
	o, err := scanOrg(d.q.QueryRow(ctx, `SELECT `+orgCols+` FROM orgs WHERE id = $1`, id))
	if err != nil {
		return o, fmt.Errorf("get org %s: %w", id, err)
	}
	return o, nil
}

// ListOrgs implements review.Store.
func (d *Records) ListOrgs(ctx context.Context, p review.Page) ([]review.Org, error) {
	os, err := list(ctx, d.q, scanOrg, `SELECT `+orgCols+` FROM orgs WHERE id > $1 ORDER BY id LIMIT $2`, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	return os, nil
}

// CreateUser implements review.Store.
func (d *Records) CreateUser(ctx context.Context, u review.User) error {
	roles, err := jsonText(nonNil(u.Roles))
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	_, err = d.exec(ctx, "create user "+u.ID, `INSERT INTO users (id, org_id, name, email, roles, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.OrgID, u.Name, u.Email, roles, u.Disabled, fmtTime(u.CreatedAt))
	return err
}

const userCols = `id, org_id, name, email, roles, disabled, created_at`

func scanUser(s scanner) (review.User, error) {
	var u review.User
	var roles, at string
	if err := s.Scan(&u.ID, &u.OrgID, &u.Name, &u.Email, &roles, &u.Disabled, &at); err != nil {
		return u, err
	}
	if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
		return u, fmt.Errorf("decode roles of user %s: %w", u.ID, err)
	}
	var err error
	u.CreatedAt, err = parseTime(at)
	return u, err
}

// GetUser implements review.Store.
func (d *Records) GetUser(ctx context.Context, id string) (review.User, error) {
	u, err := scanUser(d.q.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return u, fmt.Errorf("get user %s: %w", id, err)
	}
	return u, nil
}

// ListUsers implements review.Store.
func (d *Records) ListUsers(ctx context.Context, orgID string, p review.Page) ([]review.User, error) {
	us, err := list(ctx, d.q, scanUser, `SELECT `+userCols+` FROM users WHERE ($1 = '' OR org_id = $2) AND id > $3 ORDER BY id LIMIT $4`,
		orgID, orgID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// CountAdmins implements review.Store. Roles are stored as a JSON array
// of quoted role names (a fixed set, none with LIKE wildcards), so the
// quoted name matches exactly.
func (d *Records) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := d.q.QueryRow(ctx, `SELECT count(*) FROM users WHERE roles LIKE $1`, `%"`+string(review.RoleAdmin)+`"%`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

// CreateToken implements review.Store.
func (d *Records) CreateToken(ctx context.Context, t review.Token) error {
	_, err := d.exec(ctx, "create token "+t.ID, `INSERT INTO tokens (id, user_id, name, hash, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.UserID, t.Name, t.Hash[:], fmtTime(t.CreatedAt), nullTime(t.ExpiresAt), nullTime(t.RevokedAt))
	return err
}

// TokenByHash implements review.Store.
func (d *Records) TokenByHash(ctx context.Context, hash [32]byte) (review.Token, error) {
	var t review.Token
	var h []byte
	var at string
	var exp, rev sql.NullString
	err := d.q.QueryRow(ctx, `SELECT id, user_id, name, hash, created_at, expires_at, revoked_at FROM tokens WHERE hash = $1`, hash[:]).
		Scan(&t.ID, &t.UserID, &t.Name, &h, &at, &exp, &rev)
	if err != nil {
		return t, fmt.Errorf("get token: %w", err)
	}
	copy(t.Hash[:], h)
	if t.CreatedAt, err = parseTime(at); err != nil {
		return t, err
	}
	if t.ExpiresAt, err = parseNullTime(exp); err != nil {
		return t, err
	}
	if t.RevokedAt, err = parseNullTime(rev); err != nil {
		return t, err
	}
	return t, nil
}

// RevokeToken implements review.Store. Revoking a revoked token keeps
// the first revocation time.
func (d *Records) RevokeToken(ctx context.Context, id string, at time.Time) error {
	op := "revoke token " + id
	r, err := d.exec(ctx, op, `UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, fmtTime(at), id)
	if err != nil {
		return err
	}
	return one(r, op)
}
