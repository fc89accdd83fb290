package web

import (
	"errors"
	"net/http"

	"github.com/clearance-dev/clearance/review"
)

// verifyAudit re-walks the audit trail. A broken trail is a successful
// verification with ok false (200), not an error: the request worked.
func (handlers) verifyAudit(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	chk, err := srv(r).svc.VerifyAudit(r.Context(), a)
	var broken *review.AuditError
	if err != nil && !errors.As(err, &broken) {
		return err
	}
	if broken != nil {
		srv(r).log.WarnContext(r.Context(), "audit trail does not verify", "seq", broken.Seq, "reason", broken.Reason, "actor", a.User.ID)
	}
	out := chk.Report(broken)
	writeJSON(w, http.StatusOK, out)
	return nil
}
