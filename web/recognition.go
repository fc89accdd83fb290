package web

import (
	"net/http"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// Recognition of other authorities' signed evidence
// (review.RecogniseEvidence): POST /api/v1/cases/{id}/recognitions with
// the bundle and receipt base64-encoded in JSON, GET to list them.

type recognitionRequest struct {
	// Authority is the other authority's name in the service's trust
	// file.
	Authority string `json:"authority"`
	// Bundle is the signed decision (a Sigstore bundle), base64.
	Bundle []byte `json:"bundle"`
	// Receipt is its log receipt (tlog receipt JSON), base64.
	Receipt []byte `json:"receipt,omitempty"`
	Note    string `json:"note,omitempty"`
}

type recognitionJSON struct {
	ID          string                  `json:"id"`
	CaseID      string                  `json:"case_id"`
	OrgID       string                  `json:"org_id,omitempty"`
	Authority   string                  `json:"authority"`
	Kind        string                  `json:"kind"`
	SignerKey   string                  `json:"signer_key"`
	LogOrigin   string                  `json:"log_origin,omitempty"`
	LogIndex    int64                   `json:"log_index"`
	DecisionID  string                  `json:"decision_id,omitempty"`
	Verifier    string                  `json:"verifier,omitempty"`
	ModelDigest string                  `json:"model_digest"`
	DecidedAt   time.Time               `json:"decided_at"`
	ExpiresAt   *time.Time              `json:"expires_at,omitempty"`
	Outcome     string                  `json:"outcome"`
	Profiles    []review.ForeignOutcome `json:"profiles"`
	Bundle      []byte                  `json:"bundle"`
	Receipt     []byte                  `json:"receipt,omitempty"`
	Note        string                  `json:"note,omitempty"`
	ImportedBy  string                  `json:"imported_by"`
	CreatedAt   time.Time               `json:"created_at"`
}

func toRecognition(r review.Recognition) recognitionJSON {
	out := recognitionJSON{ID: r.ID, CaseID: r.CaseID, OrgID: r.OrgID, Authority: r.Authority, Kind: r.Kind,
		SignerKey: r.SignerKey, LogOrigin: r.LogOrigin, LogIndex: r.LogIndex, DecisionID: r.DecisionID, Verifier: r.Verifier,
		ModelDigest: r.ModelDigest, DecidedAt: r.DecidedAt, Outcome: r.Outcome, Profiles: r.Profiles, Bundle: r.Bundle,
		Receipt: r.Receipt, Note: r.Note, ImportedBy: r.ImportedBy, CreatedAt: r.CreatedAt}
	if !r.ExpiresAt.IsZero() {
		t := r.ExpiresAt
		out.ExpiresAt = &t
	}
	if out.Profiles == nil {
		out.Profiles = []review.ForeignOutcome{}
	}
	return out
}

func (handlers) recogniseEvidence(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	s := srv(r)
	// A bundle may be larger than an ordinary request: allow what a
	// submission may be.
	data, err := readBody(w, r, s.maxSub)
	if err != nil {
		return err
	}
	var in recognitionRequest
	if err := decodeStrict(data, &in); err != nil {
		return err
	}
	rc, err := s.svc.RecogniseEvidence(r.Context(), a, r.PathValue("id"),
		review.RecognitionInput{Authority: in.Authority, Bundle: in.Bundle, Receipt: in.Receipt, Note: in.Note})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toRecognition(rc))
	return nil
}

func (handlers) listRecognitions(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	rs, err := srv(r).svc.ListRecognitions(r.Context(), a, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	return writeList(w, rs, p, func(x review.Recognition) string { return x.ID }, toRecognition)
}
