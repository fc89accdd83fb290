package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/review"
)

type orgsPage struct {
	base
	Orgs  []review.Org
	Kinds []review.OrgKind
	Roles []review.Role
	Forms map[string]*form
}

// orgs shows an admin every organisation with forms to create an
// organisation and a user.
func (h *Handler) orgs(w http.ResponseWriter, r *http.Request, u user) {
	h.renderOrgs(w, r, u, http.StatusOK, map[string]*form{})
}

func (h *Handler) renderOrgs(w http.ResponseWriter, r *http.Request, u user, status int, forms map[string]*form) {
	var all []review.Org
	p := review.Page{Limit: review.MaxPageLimit}
	for {
		os, err := h.svc.ListOrgs(r.Context(), u.Actor, p)
		if err != nil {
			h.serviceError(w, r, err)
			return
		}
		all = append(all, os...)
		if len(os) < p.N() || len(all) >= 1000 {
			break
		}
		p.After = os[len(os)-1].ID
	}
	d := &orgsPage{base: base{Title: "Organisations", Nav: "orgs"}, Orgs: all,
		Kinds: []review.OrgKind{review.OrgDeveloper, review.OrgAssessor, review.OrgAgency},
		Roles: review.Roles(), Forms: forms}
	d.setUser(u)
	h.render(w, r, status, "orgs", d)
}

// createOrg creates an organisation; a rejected name or kind re-shows the
// form with the message, 422.
func (h *Handler) createOrg(w http.ResponseWriter, r *http.Request, u user) {
	f := newForm(r.PostForm)
	_, err := h.svc.CreateOrg(r.Context(), u.Actor, strings.TrimSpace(f.V("name")), review.OrgKind(f.V("kind")))
	if err != nil {
		if f.serviceFail(err, "name", "kind") {
			h.renderOrgs(w, r, u, http.StatusUnprocessableEntity, map[string]*form{"org": f})
			return
		}
		h.serviceError(w, r, err)
		return
	}
	http.Redirect(w, r, "/orgs", http.StatusSeeOther)
}

// createUser creates a user and goes to their tokens, where the admin can
// mint their first token.
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, u user) {
	f := newForm(r.PostForm)
	in := review.UserInput{OrgID: f.V("org"), Name: strings.TrimSpace(f.V("name")), Email: strings.TrimSpace(f.V("email"))}
	for _, s := range r.PostForm["role"] {
		in.Roles = append(in.Roles, review.Role(s))
	}
	if in.OrgID == "" {
		f.fail("org", "choose an organisation")
		h.renderOrgs(w, r, u, http.StatusUnprocessableEntity, map[string]*form{"user": f})
		return
	}
	nu, err := h.svc.CreateUser(r.Context(), u.Actor, in)
	if err != nil {
		if f.serviceFail(err, "name", "email", "roles") {
			h.renderOrgs(w, r, u, http.StatusUnprocessableEntity, map[string]*form{"user": f})
			return
		}
		if errors.Is(err, review.ErrNotFound) {
			f.fail("org", "no such organisation")
			h.renderOrgs(w, r, u, http.StatusUnprocessableEntity, map[string]*form{"user": f})
			return
		}
		h.serviceError(w, r, err)
		return
	}
	http.Redirect(w, r, "/tokens?"+url.Values{"user": {nu.ID}}.Encode(), http.StatusSeeOther)
}

type mintedPage struct {
	base
	Token  review.Token
	Owner  string
	Secret string
}

// mintToken issues an API token for a user (an admin's for anyone, others
// their own) and shows its secret once. The token is made with the token
// the session was signed in with, not with the session's own token, so it
// outlives the session and is revoked with the sign-in token.
func (h *Handler) mintToken(w http.ResponseWriter, r *http.Request, u user) {
	owner := r.PostForm.Get("user")
	if owner == "" {
		owner = u.User.ID
	}
	var exp time.Time
	if s := strings.TrimSpace(r.PostForm.Get("expires")); s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			h.errorPage(w, r, http.StatusUnprocessableEntity, "Invalid input", "expires: want a date YYYY-MM-DD")
			return
		}
		exp = t.UTC()
	}
	a, err := h.signInActor(r, u)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	t, secret, err := h.svc.IssueToken(r.Context(), a, owner, strings.TrimSpace(r.PostForm.Get("name")), exp)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	names, err := h.svc.UserNames(r.Context(), u.Actor, []string{owner})
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	d := &mintedPage{base: base{Title: "New token", Nav: "tokens"}, Token: t, Owner: names[owner], Secret: secret}
	d.setUser(u)
	h.render(w, r, http.StatusCreated, "minted", d)
}

// signInActor returns the actor acting with the token the session was
// signed in with (the session token's parent), found among the user's own
// tokens; the session's actor when there is none.
func (h *Handler) signInActor(r *http.Request, u user) (review.Actor, error) {
	if u.Token.Name != review.SessionTokenName || u.Token.ParentID == "" {
		return u.Actor, nil
	}
	p := review.Page{Limit: review.MaxPageLimit}
	for {
		ts, err := h.svc.ListTokens(r.Context(), u.Actor, u.User.ID, p)
		if err != nil {
			return review.Actor{}, err
		}
		for _, t := range ts {
			if t.ID == u.Token.ParentID {
				a := u.Actor
				a.Token = t
				return a, nil
			}
		}
		if len(ts) < p.N() {
			return u.Actor, nil
		}
		p.After = ts[len(ts)-1].ID
	}
}
