package ui

import (
	"net/http"

	"github.com/clearance-dev/clearance/oscal"
)

// caseOSCAL serves GET /cases/{id}/oscal/{kind}: the case as an OSCAL
// document (ap, ar or poam) for download, read with the signed-in user's
// authorisation (a case the user may not see is the same 404 as its
// page) and validated against NIST's schema before it is served.
func (h *Handler) caseOSCAL(w http.ResponseWriter, r *http.Request, u user) {
	k, err := oscal.ParseKind(r.PathValue("kind"))
	if err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "Unknown OSCAL document",
			"Choose ap (assessment plan), ar (assessment results) or poam (plan of action and milestones).")
		return
	}
	id := r.PathValue("id")
	c, evalErr, err := oscal.Load(r.Context(), h.svc, u.Actor, id, h.evaluate)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if evalErr != nil {
		h.log.WarnContext(r.Context(), "oscal export without evaluation", "case", id, "err", evalErr)
	}
	doc, err := oscal.Export(k, c)
	if err == nil {
		err = oscal.Validate(k, doc)
	}
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	download(w, oscal.FileName(id, k), doc)
}
