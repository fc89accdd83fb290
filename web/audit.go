package web

import (
	"errors"
	"net/http"

	"github.com/clearance-dev/clearance/review"
)

// auditVerifyJSON is the result of GET /api/v1/audit/verify (and of
// clearance audit verify --format json): ok with the trail's head and the
// last anchor it was checked against, or the first broken entry.
type auditVerifyJSON struct {
	OK bool `json:"ok"`
	// Entries is the number of entries verified (the head's seq); 0 when
	// the trail is broken.
	Entries int64 `json:"entries"`
	// Head is absent for an empty or broken trail.
	Head *auditHeadJSON `json:"head,omitempty"`
	// Anchor is the last anchoring of the head in the transparency log;
	// absent when the head was never anchored or the trail is broken.
	Anchor *anchorJSON `json:"anchor,omitempty"`
	// Broken names the first entry at fault; absent when ok.
	Broken *auditBrokenJSON `json:"broken,omitempty"`
}

type auditHeadJSON struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

type anchorJSON struct {
	Seq      int64  `json:"seq"`
	Hash     string `json:"hash"`
	LogIndex int64  `json:"log_index"`
}

type auditBrokenJSON struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

// verifyAudit re-walks the audit trail. A broken trail is a successful
// verification with ok false (200), not an error: the request worked.
func (handlers) verifyAudit(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	chk, err := srv(r).svc.VerifyAudit(r.Context(), a)
	var broken *review.AuditError
	if err != nil && !errors.As(err, &broken) {
		return err
	}
	out := auditVerifyJSON{OK: broken == nil}
	switch {
	case broken != nil:
		out.Broken = &auditBrokenJSON{Seq: broken.Seq, Reason: broken.Reason}
		srv(r).log.WarnContext(r.Context(), "audit trail does not verify", "seq", broken.Seq, "reason", broken.Reason, "actor", a.User.ID)
	default:
		out.Entries = chk.Head.Seq
		if chk.Head.Seq > 0 {
			out.Head = &auditHeadJSON{Seq: chk.Head.Seq, Hash: chk.Head.Hash}
		}
		if chk.Anchor != nil {
			out.Anchor = &anchorJSON{Seq: chk.Anchor.Seq, Hash: chk.Anchor.Hash, LogIndex: chk.Anchor.LogIndex}
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
