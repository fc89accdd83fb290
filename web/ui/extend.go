package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/clearance-dev/clearance/review"
)

type extendPage struct {
	base
	Case  review.Case
	Clock clockView
	Form  *form
}

// extendForm shows an official the case's review clock, its extensions
// so far and a form to extend it.
func (h *Handler) extendForm(w http.ResponseWriter, r *http.Request, u user) {
	h.renderExtend(w, r, u, http.StatusOK, newForm(nil))
}

func (h *Handler) renderExtend(w http.ResponseWriter, r *http.Request, u user, status int, f *form) {
	c, err := h.svc.GetCase(r.Context(), u.Actor, r.PathValue("id"))
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if !u.User.Has(review.RoleOfficial) {
		h.serviceError(w, r, review.ErrForbidden)
		return
	}
	d := &extendPage{base: base{Title: "Extend the clock of " + c.ModelName, Nav: "cases"}, Case: c,
		Clock: viewClock(c, h.now()), Form: f}
	d.setUser(u)
	h.render(w, r, status, "extend", d)
}

// extend extends a case's review clock by a number of the clock's units,
// with a reason for the record; bad input re-shows the form, 422.
func (h *Handler) extend(w http.ResponseWriter, r *http.Request, u user) {
	f := newForm(r.PostForm)
	n, err := strconv.Atoi(strings.TrimSpace(f.V("units")))
	if err != nil || n <= 0 {
		f.fail("units", "want a whole number of at least 1")
	}
	reason := strings.TrimSpace(f.V("reason"))
	if reason == "" {
		f.fail("reason", "empty: say why the clock is extended")
	}
	if !f.Failed() {
		_, err = h.svc.Extend(r.Context(), u.Actor, r.PathValue("id"), n, reason)
		if err == nil {
			http.Redirect(w, r, "/cases/"+r.PathValue("id"), http.StatusSeeOther)
			return
		}
		if !f.serviceFail(err, "reason") {
			h.serviceError(w, r, err)
			return
		}
	}
	h.renderExtend(w, r, u, http.StatusUnprocessableEntity, f)
}
