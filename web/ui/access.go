package ui

import (
	"net/http"
	"net/url"

	"github.com/clearance-dev/clearance/review"
)

// tokenRow is one token on the tokens page.
type tokenRow struct {
	review.Token
	// Status is "active", "expired" or "revoked".
	Status string
	// Current marks the token of the session viewing the page.
	Current bool
}

type tokensPage struct {
	base
	// Owner is whose tokens these are; Own when the viewer's.
	Owner review.User
	Own   bool
	Rows  []tokenRow
	Next  string
}

// tokens lists a user's tokens: the signed-in user's own, or (for an
// admin, ?user=ID) another user's. Each active token has a revoke button;
// revoking one revokes the tokens and sessions made with it.
func (h *Handler) tokens(w http.ResponseWriter, r *http.Request, u user) {
	q := r.URL.Query()
	owner := u.User
	if id := q.Get("user"); id != "" && id != u.User.ID {
		if !u.User.Has(review.RoleAdmin) {
			h.serviceError(w, r, review.ErrForbidden)
			return
		}
		us, err := h.svc.UserNames(r.Context(), u.Actor, []string{id})
		if err != nil {
			h.serviceError(w, r, err)
			return
		}
		owner = review.User{ID: id, Name: us[id]}
	}
	p := review.Page{After: q.Get("after"), Limit: 100}
	ts, err := h.svc.ListTokens(r.Context(), u.Actor, owner.ID, p)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	d := &tokensPage{base: base{Title: "Tokens", Nav: "tokens"}, Owner: owner, Own: owner.ID == u.User.ID}
	d.setUser(u)
	now := h.now()
	for _, t := range ts {
		row := tokenRow{Token: t, Status: "active", Current: t.ID == u.Token.ID}
		switch {
		case !t.RevokedAt.IsZero():
			row.Status = "revoked"
		case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
			row.Status = "expired"
		}
		d.Rows = append(d.Rows, row)
	}
	if len(ts) == p.N() {
		v := url.Values{"after": {ts[len(ts)-1].ID}}
		if !d.Own {
			v.Set("user", owner.ID)
		}
		d.Next = "/tokens?" + v.Encode()
	}
	h.render(w, r, http.StatusOK, "tokens", d)
}

// revokeToken revokes one token (the service allows a user's own, or an
// admin any) and goes back to the list it came from.
func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request, u user) {
	id := r.PathValue("id")
	if err := h.svc.RevokeToken(r.Context(), u.Actor, id); err != nil {
		h.serviceError(w, r, err)
		return
	}
	back := "/tokens"
	if owner := r.PostForm.Get("user"); owner != "" && owner != u.User.ID {
		back += "?" + url.Values{"user": {owner}}.Encode()
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

type personRow struct {
	review.User
	// Display is "name (organisation)".
	Display string
	Self    bool
}

type peoplePage struct {
	base
	Rows []personRow
	Next string
}

// people lists every user for an admin, with a button to disable or
// enable each (but their own, which the service refuses to disable).
func (h *Handler) people(w http.ResponseWriter, r *http.Request, u user) {
	p := review.Page{After: r.URL.Query().Get("after"), Limit: 100}
	us, err := h.svc.ListUsers(r.Context(), u.Actor, r.URL.Query().Get("org"), p)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	d := &peoplePage{base: base{Title: "People", Nav: "people"}}
	d.setUser(u)
	ids := make([]string, len(us))
	for i, x := range us {
		ids[i] = x.ID
	}
	names, err := h.svc.UserNames(r.Context(), u.Actor, ids)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	for _, x := range us {
		d.Rows = append(d.Rows, personRow{User: x, Display: names[x.ID], Self: x.ID == u.User.ID})
	}
	if len(us) == p.N() {
		v := url.Values{"after": {us[len(us)-1].ID}}
		if org := r.URL.Query().Get("org"); org != "" {
			v.Set("org", org)
		}
		d.Next = "/people?" + v.Encode()
	}
	h.render(w, r, http.StatusOK, "people", d)
}

// setDisabled disables or enables a user and goes back to the list.
func (h *Handler) setDisabled(disabled bool) func(http.ResponseWriter, *http.Request, user) {
	return func(w http.ResponseWriter, r *http.Request, u user) {
		if _, err := h.svc.SetUserDisabled(r.Context(), u.Actor, r.PathValue("id"), disabled); err != nil {
			h.serviceError(w, r, err)
			return
		}
		http.Redirect(w, r, "/people", http.StatusSeeOther)
	}
}
