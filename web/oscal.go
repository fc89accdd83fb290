package web

import (
	"fmt"
	"net/http"

	"github.com/clearance-dev/clearance/oscal"
	"github.com/clearance-dev/clearance/review"
)

// caseOSCAL serves GET /api/v1/cases/{id}/oscal?kind=ap|ar|poam: the case
// as an OSCAL document, read with the caller's authorisation (a case the
// caller may not see is 404, as for GET /api/v1/cases/{id}). A bad kind is
// 400. The document is validated against NIST's schema before it is
// served; one that does not validate is an internal error (logged).
func (handlers) caseOSCAL(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	k, err := oscal.ParseKind(r.URL.Query().Get("kind"))
	if err != nil {
		return fmt.Errorf("query kind: %v: %w", err, errBadRequest)
	}
	s := srv(r)
	id := r.PathValue("id")
	c, evalErr, err := oscal.Load(r.Context(), s.svc, a, id, s.evaluate)
	if err != nil {
		return err
	}
	if evalErr != nil {
		s.log.WarnContext(r.Context(), "oscal export without evaluation", "case", id, "err", evalErr)
	}
	doc, err := oscal.Export(k, c)
	if err != nil {
		return err
	}
	if err := oscal.Validate(k, doc); err != nil {
		return fmt.Errorf("export oscal %s of case %s: %w", k, id, err)
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", oscal.FileName(id, k)))
	writeRaw(w, http.StatusOK, doc, false)
	return nil
}
