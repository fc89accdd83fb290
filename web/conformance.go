package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// Conformance of the deployed endpoint (review/conformance.go):
// POST /api/v1/cases/{id}/fingerprint records the fingerprint of the
// case's endpoint; POST /api/v1/decisions/{id}/conformance checks a
// cleared decision's endpoint now; GET /api/v1/cases/{id}/conformance
// lists the case's fingerprints and checks.

type fingerprintJSON struct {
	ID     string `json:"id"`
	CaseID string `json:"case_id"`
	// State is pending while a job records it, then recorded or failed.
	State      string     `json:"state"`
	Error      string     `json:"error,omitempty"`
	RecordedAt *time.Time `json:"recorded_at,omitempty"`
	// Digest is empty until recorded.
	Digest    string    `json:"digest"`
	Target    string    `json:"target"`
	Probes    int       `json:"probes"`
	Requests  int       `json:"requests"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

type conformanceJSON struct {
	ID            string          `json:"id"`
	DecisionID    string          `json:"decision_id"`
	CaseID        string          `json:"case_id"`
	FingerprintID string          `json:"fingerprint_id"`
	Target        string          `json:"target"`
	Same          bool            `json:"same"`
	Scheduled     bool            `json:"scheduled"`
	Result        json.RawMessage `json:"result"`
	// Bundle is the signed conformance statement (Sigstore bundle JSON).
	Bundle    json.RawMessage `json:"bundle,omitempty"`
	LogIndex  int64           `json:"log_index"`
	FindingID string          `json:"finding_id,omitempty"`
	CreatedBy string          `json:"created_by"`
	CreatedAt time.Time       `json:"created_at"`
}

type conformanceListJSON struct {
	Fingerprints []fingerprintJSON `json:"fingerprints"`
	Checks       []conformanceJSON `json:"checks"`
}

func toFingerprintJSON(f review.Fingerprint) fingerprintJSON {
	out := fingerprintJSON{ID: f.ID, CaseID: f.CaseID, State: string(f.State), Error: f.Error, Digest: f.Digest, Target: f.Target,
		Probes: f.Probes, Requests: f.Requests, CreatedBy: f.CreatedBy, CreatedAt: f.CreatedAt}
	if !f.RecordedAt.IsZero() {
		out.RecordedAt = &f.RecordedAt
	}
	return out
}

func toConformanceJSON(k review.ConformanceCheck) conformanceJSON {
	out := conformanceJSON{ID: k.ID, DecisionID: k.DecisionID, CaseID: k.CaseID, FingerprintID: k.FingerprintID, Target: k.Target,
		Same: k.Same, Scheduled: k.Scheduled, Result: k.Result, LogIndex: k.LogIndex, FindingID: k.FindingID,
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt}
	if json.Valid(k.Bundle) {
		out.Bundle = k.Bundle
	}
	return out
}

func (handlers) recordFingerprint(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in review.FingerprintInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	f, err := srv(r).svc.RecordFingerprint(r.Context(), a, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	// Accepted: a job records it (GET …/conformance shows it recorded);
	// a service without a job queue records it at once.
	code := http.StatusAccepted
	if f.State != review.FingerprintPending {
		code = http.StatusCreated
	}
	writeJSON(w, code, toFingerprintJSON(f))
	return nil
}

func (handlers) checkConformance(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in review.ConformanceInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	k, err := srv(r).svc.CheckConformance(r.Context(), a, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toConformanceJSON(k))
	return nil
}

func (handlers) listConformance(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	fs, ks, err := srv(r).svc.ListConformance(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := conformanceListJSON{Fingerprints: []fingerprintJSON{}, Checks: []conformanceJSON{}}
	for _, f := range fs {
		out.Fingerprints = append(out.Fingerprints, toFingerprintJSON(f))
	}
	for _, k := range ks {
		out.Checks = append(out.Checks, toConformanceJSON(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
