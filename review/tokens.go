package review

// Tokens, sessions and users' access.
//
// A token minted by an authenticated actor is the child of the token the
// actor presented (Actor.Token, recorded as Token.ParentID):
//
//  1. its expiry is never after its parent's: a zero (no) expiry asked of
//     a bounded parent becomes the parent's expiry, a later one is
//     refused (ErrInvalidInput naming expires_at);
//  2. an expiry not in the future is refused (ErrInvalidInput naming
//     expires_at);
//  3. revoking a token revokes every token descending from it, in the
//     same transaction (Store.RevokeToken cascades), and a token cannot be
//     minted from a revoked parent (Store.CreateToken locks the parent).
//
// So no token outlives, or survives the revocation of, the token that
// minted it: a stolen short-lived token cannot be turned into a
// long-lived one, and revoking it ends everything made with it. The rule
// holds for admins too: a token an admin issues to another user is a child
// of the admin's token, so revoking the admin's token revokes it.
// Authenticate does not walk the chain: the cascade at revocation makes
// revocation take effect at once, and the expiry cap at minting makes
// expiry do so.
//
// A disabled user's tokens (and so its web sessions, which are child
// tokens, see StartSession) stop authenticating at once, because
// Authenticate reads the user on every call; enabling the user again
// restores the tokens that were neither revoked nor expired meanwhile.

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SessionTokenName is the name of the child tokens StartSession mints.
const SessionTokenName = "web session"

// issueToken stores a new token for t.UserID with t.Name, t.ExpiresAt and
// t.ParentID, and returns it with its secret.
func (s *Service) issueToken(ctx context.Context, st Store, t Token, now time.Time) (Token, string, error) {
	secret, hash, err := newToken()
	if err != nil {
		return Token{}, "", err
	}
	if t.ID, err = newID("tok", now); err != nil {
		return Token{}, "", err
	}
	t.Hash, t.CreatedAt = hash, now
	if err := st.CreateToken(ctx, t); err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}

// childExpiry returns the expiry of a token minted by parent at now when
// expires was asked (zero: none), or an ErrInvalidInput naming expires_at.
func childExpiry(parent Token, expires, now time.Time) (time.Time, error) {
	if !expires.IsZero() {
		expires = AuditTime(expires)
	}
	if !parent.ExpiresAt.IsZero() {
		switch {
		case expires.IsZero():
			expires = parent.ExpiresAt
		case expires.After(parent.ExpiresAt):
			return time.Time{}, invalid("expires_at", "%s is after %s, when the token making the request expires",
				expires.Format(time.RFC3339), parent.ExpiresAt.Format(time.RFC3339))
		}
	}
	if !expires.IsZero() && !expires.After(now) {
		return time.Time{}, invalid("expires_at", "%s is not in the future", expires.Format(time.RFC3339))
	}
	return expires, nil
}

// mint issues a child of a.Token (or a parentless token for an actor
// without one) inside tx.
func (s *Service) mint(ctx context.Context, tx Store, a Actor, t Token, now time.Time) (Token, string, error) {
	if a.Token.ID != "" {
		p, err := tx.GetToken(ctx, a.Token.ID)
		if err != nil {
			return Token{}, "", fmt.Errorf("parent token %s: %w", a.Token.ID, err)
		}
		if !p.RevokedAt.IsZero() {
			return Token{}, "", fmt.Errorf("parent token %s revoked: %w", p.ID, ErrUnauthenticated)
		}
		t.ParentID = p.ID
	}
	return s.issueToken(ctx, tx, t, now)
}

// IssueToken issues an API token for a user and returns it with its
// secret, which is not stored and cannot be shown again. Admins may issue
// tokens for anyone, other users for themselves. A zero expires means no
// expiry, or the expiry of the actor's token when that has one; see the
// package's rules on child tokens above.
func (s *Service) IssueToken(ctx context.Context, a Actor, userID, name string, expires time.Time) (Token, string, error) {
	if !a.has(RoleAdmin) && a.User.ID != userID {
		return Token{}, "", forbidden("issue token", RoleAdmin)
	}
	if err := checkName("name", name); err != nil {
		return Token{}, "", fmt.Errorf("issue token: %w", err)
	}
	now := s.stamp()
	expires, err := childExpiry(a.Token, expires, now)
	if err != nil {
		return Token{}, "", fmt.Errorf("issue token: %w", err)
	}
	var t Token
	var secret string
	err = s.store.Tx(ctx, func(tx Store) error {
		u, err := tx.GetUser(ctx, userID)
		if err != nil {
			return fmt.Errorf("user %s: %w", userID, err)
		}
		if t, secret, err = s.mint(ctx, tx, a, Token{UserID: u.ID, Name: name, ExpiresAt: expires}, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "token.issue", "", tokenDetails(t))
	})
	if err != nil {
		return Token{}, "", fmt.Errorf("issue token: %w", err)
	}
	return t, secret, nil
}

func tokenDetails(t Token) map[string]any {
	d := map[string]any{"token": t.ID, "user": t.UserID, "name": t.Name}
	if t.ParentID != "" {
		d["parent"] = t.ParentID
	}
	if !t.ExpiresAt.IsZero() {
		d["expires_at"] = t.ExpiresAt.Format(time.RFC3339)
	}
	return d
}

// StartSession mints the token of a web session for the actor: a child
// of the actor's token named SessionTokenName, expiring after ttl or when
// the actor's token does, whichever is first. Signing out revokes it
// (EndSession), so a copy of the session stops working; revoking the
// actor's token or disabling the user ends it too. The actor must hold a
// token (ErrUnauthenticated otherwise).
func (s *Service) StartSession(ctx context.Context, a Actor, ttl time.Duration) (Token, string, error) {
	if a.Token.ID == "" || a.User.ID == "" {
		return Token{}, "", fmt.Errorf("start session: no token: %w", ErrUnauthenticated)
	}
	if ttl <= 0 {
		return Token{}, "", fmt.Errorf("start session: %w", invalid("ttl", "%s is not positive", ttl))
	}
	now := s.stamp()
	exp := AuditTime(now.Add(ttl))
	if !a.Token.ExpiresAt.IsZero() && a.Token.ExpiresAt.Before(exp) {
		exp = a.Token.ExpiresAt
	}
	if !exp.After(now) {
		return Token{}, "", fmt.Errorf("start session: token %s expired: %w", a.Token.ID, ErrUnauthenticated)
	}
	var t Token
	var secret string
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if t, secret, err = s.mint(ctx, tx, a, Token{UserID: a.User.ID, Name: SessionTokenName, ExpiresAt: exp}, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "session.start", "", tokenDetails(t))
	})
	if err != nil {
		return Token{}, "", fmt.Errorf("start session: %w", err)
	}
	return t, secret, nil
}

// EndSession revokes the token with that secret (with its descendants):
// holding a secret is authority enough to revoke it, whatever the state of
// its user. Ending a revoked token's session is a no-op; an unknown secret
// is ErrUnauthenticated.
func (s *Service) EndSession(ctx context.Context, secret string) error {
	if secret == "" {
		return fmt.Errorf("end session: no token: %w", ErrUnauthenticated)
	}
	err := s.store.Tx(ctx, func(tx Store) error {
		t, err := tx.TokenByHash(ctx, HashToken(secret))
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("unknown token: %w", ErrUnauthenticated)
		}
		if err != nil {
			return err
		}
		if !t.RevokedAt.IsZero() {
			return nil
		}
		if err := tx.RevokeToken(ctx, t.ID, s.stamp()); err != nil {
			return err
		}
		return s.audit(ctx, tx, Actor{User: User{ID: t.UserID}}, "session.end", "", map[string]any{"token": t.ID, "user": t.UserID})
	})
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// RevokeToken revokes a token and every token minted from it, at once.
// Users may revoke their own tokens, admins anyone's; another user's token
// is ErrNotFound to a non-admin, as a missing one is.
func (s *Service) RevokeToken(ctx context.Context, a Actor, tokenID string) error {
	if a.User.ID == "" {
		return fmt.Errorf("revoke token: %w", ErrUnauthenticated)
	}
	err := s.store.Tx(ctx, func(tx Store) error {
		t, err := tx.GetToken(ctx, tokenID)
		if err != nil {
			return err
		}
		if !a.has(RoleAdmin) && t.UserID != a.User.ID {
			return fmt.Errorf("token of another user: %w", ErrNotFound)
		}
		if err := tx.RevokeToken(ctx, tokenID, s.stamp()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "token.revoke", "", map[string]any{"token": tokenID, "user": t.UserID})
	})
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", tokenID, err)
	}
	return nil
}

// ListTokens lists a user's tokens, revoked and expired ones included
// (their secrets are never stored, so never shown). Users list their own,
// admins anyone's; another user's is ErrForbidden to a non-admin.
func (s *Service) ListTokens(ctx context.Context, a Actor, userID string, p Page) ([]Token, error) {
	if !a.has(RoleAdmin) && (a.User.ID == "" || a.User.ID != userID) {
		return nil, forbidden("list tokens", RoleAdmin)
	}
	if _, err := s.store.GetUser(ctx, userID); err != nil {
		return nil, fmt.Errorf("list tokens: user %s: %w", userID, err)
	}
	ts, err := s.store.ListTokens(ctx, userID, p)
	if err != nil {
		return nil, fmt.Errorf("list tokens of user %s: %w", userID, err)
	}
	return ts, nil
}

// ListUsers lists the users of one organisation, or of all when orgID is
// empty. Admins only: the admin role administers every organisation (it
// creates them and their users).
func (s *Service) ListUsers(ctx context.Context, a Actor, orgID string, p Page) ([]User, error) {
	if !a.has(RoleAdmin) {
		return nil, forbidden("list users", RoleAdmin)
	}
	us, err := s.store.ListUsers(ctx, orgID, p)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// SetUserDisabled disables or enables a user and returns it. Admins
// only; an admin cannot disable themselves (ErrConflict), so the last
// admin cannot lock everyone out. A disabled user's tokens and web
// sessions stop authenticating at once.
func (s *Service) SetUserDisabled(ctx context.Context, a Actor, userID string, disabled bool) (User, error) {
	verb := "enable"
	if disabled {
		verb = "disable"
	}
	if !a.has(RoleAdmin) {
		return User{}, forbidden(verb+" user", RoleAdmin)
	}
	if disabled && userID == a.User.ID {
		return User{}, fmt.Errorf("%s user %s: an admin cannot disable themselves: %w", verb, userID, ErrConflict)
	}
	var u User
	err := s.store.Tx(ctx, func(tx Store) error {
		if err := tx.SetUserDisabled(ctx, userID, disabled); err != nil {
			return err
		}
		var err error
		if u, err = tx.GetUser(ctx, userID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "user."+verb, "", map[string]any{"user": userID, "org": u.OrgID})
	})
	if err != nil {
		return User{}, fmt.Errorf("%s user %s: %w", verb, userID, err)
	}
	return u, nil
}
