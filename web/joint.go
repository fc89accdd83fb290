package web

import (
	"net/http"

	"github.com/clearance-dev/clearance/review"
)

// Joint reviews: agencies, domains and compartments (review.AddAgency,
// review.ShareAssessment, review.ShareFinding).

type addAgencyRequest struct {
	OrgID string `json:"org_id"`
	// Domains are keys of review.Domains: cyber, safeguards, chem-bio,
	// autonomy.
	Domains []string `json:"domains"`
}

type shareRequest struct {
	Shared bool `json:"shared"`
}

func (handlers) addAgency(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in addAgencyRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	s := srv(r)
	c, err := s.svc.AddAgency(r.Context(), a, r.PathValue("id"), in.OrgID, in.Domains)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCase(c, s.now()))
	return nil
}

func (handlers) shareAssessment(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in shareRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	as, err := srv(r).svc.ShareAssessment(r.Context(), a, r.PathValue("id"), in.Shared)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAssessment(as))
	return nil
}

func (handlers) shareFinding(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in shareRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	f, err := srv(r).svc.ShareFinding(r.Context(), a, r.PathValue("id"), in.Shared)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toFinding(f))
	return nil
}
