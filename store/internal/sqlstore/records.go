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

// SetUserDisabled implements review.Store.
func (d *Records) SetUserDisabled(ctx context.Context, id string, disabled bool) error {
	op := "set disabled of user " + id
	r, err := d.exec(ctx, op, `UPDATE users SET disabled = $1 WHERE id = $2`, disabled, id)
	if err != nil {
		return err
	}
	return one(r, op)
}

// CreateToken implements review.Store. A child token first takes the row
// lock of its parent with a no-op UPDATE that matches only an unrevoked
// parent: under PostgreSQL's READ COMMITTED it waits for a concurrent
// revocation of the parent and then matches nothing, and a revocation
// waits for it (and its cascade then sees the child). SQLite serialises
// the two anyway.
func (d *Records) CreateToken(ctx context.Context, t review.Token) error {
	op := "create token " + t.ID
	var parent any
	if t.ParentID != "" {
		parent = t.ParentID
		r, err := d.exec(ctx, op, `UPDATE tokens SET parent_id = parent_id WHERE id = $1 AND revoked_at IS NULL`, t.ParentID)
		if err != nil {
			return err
		}
		if r.RowsAffected() == 0 {
			if _, err := d.GetToken(ctx, t.ParentID); err != nil {
				return fmt.Errorf("%s: parent: %w", op, err)
			}
			return fmt.Errorf("%s: parent token %s is revoked: %w", op, t.ParentID, review.ErrConflict)
		}
	}
	_, err := d.exec(ctx, op, `INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.ID, t.UserID, t.Name, t.Hash[:], fmtTime(t.CreatedAt), nullTime(t.ExpiresAt), nullTime(t.RevokedAt), parent)
	return err
}

const tokenCols = `id, user_id, name, hash, created_at, expires_at, revoked_at, parent_id`

func scanToken(s scanner) (review.Token, error) {
	var t review.Token
	var h []byte
	var at string
	var exp, rev, parent sql.NullString
	if err := s.Scan(&t.ID, &t.UserID, &t.Name, &h, &at, &exp, &rev, &parent); err != nil {
		return t, err
	}
	copy(t.Hash[:], h)
	t.ParentID = parent.String
	var err error
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

// TokenByHash implements review.Store.
func (d *Records) TokenByHash(ctx context.Context, hash [32]byte) (review.Token, error) {
	t, err := scanToken(d.q.QueryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = $1`, hash[:]))
	if err != nil {
		return t, fmt.Errorf("get token: %w", err)
	}
	return t, nil
}

// GetToken implements review.Store.
func (d *Records) GetToken(ctx context.Context, id string) (review.Token, error) {
	t, err := scanToken(d.q.QueryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE id = $1`, id))
	if err != nil {
		return t, fmt.Errorf("get token %s: %w", id, err)
	}
	return t, nil
}

// ListTokens implements review.Store.
func (d *Records) ListTokens(ctx context.Context, userID string, p review.Page) ([]review.Token, error) {
	ts, err := list(ctx, d.q, scanToken, `SELECT `+tokenCols+` FROM tokens WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		userID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list tokens of user %s: %w", userID, err)
	}
	return ts, nil
}

// revokeDescendantsSQL revokes the unrevoked descendants of token $2.
// Revoked tokens are walked too: a child minted before its parent's
// revocation is caught however deep it sits.
const revokeDescendantsSQL = `WITH RECURSIVE d(id) AS (
		SELECT id FROM tokens WHERE parent_id = $2
		UNION
		SELECT t.id FROM tokens t JOIN d ON t.parent_id = d.id)
	UPDATE tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND id IN (SELECT id FROM d)`

// RevokeToken implements review.Store. Revoking a revoked token keeps
// the first revocation time (and revokes any descendant left unrevoked).
// The token's own row is updated first, taking its lock; the cascade then
// runs as separate statements until one revokes nothing, so that (under
// PostgreSQL's READ COMMITTED, where each statement sees what committed
// before it) a child committed while the cascade waited on a lock is
// caught by the next round.
func (d *Records) RevokeToken(ctx context.Context, id string, at time.Time) error {
	op := "revoke token " + id
	r, err := d.exec(ctx, op, `UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, fmtTime(at), id)
	if err != nil {
		return err
	}
	if err := one(r, op); err != nil {
		return err
	}
	for {
		r, err := d.exec(ctx, op, revokeDescendantsSQL, fmtTime(at), id)
		if err != nil {
			return err
		}
		if r.RowsAffected() == 0 {
			return nil
		}
	}
}
