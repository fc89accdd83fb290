package web

import (
	"net/http"

	"github.com/clearance-dev/clearance/review"
)

// Expert red-team campaigns (review/campaign.go, docs/campaigns.md): the
// chat console's exchanges, tagging, universal claims, findings from
// attacks, model versions and retests.

type exchangeRequest struct {
	// AttemptID continues the caller's attempt; empty starts one.
	AttemptID   string              `json:"attempt_id,omitempty"`
	Title       string              `json:"title,omitempty"`
	System      string              `json:"system,omitempty"`
	User        string              `json:"user"`
	Attachments []review.Attachment `json:"attachments,omitempty"`
}

type attemptJSON struct {
	ID           string          `json:"id"`
	CaseID       string          `json:"case_id"`
	OrgID        string          `json:"org_id,omitempty"`
	RedTeamer    string          `json:"redteamer"`
	Title        string          `json:"title"`
	Turns        int             `json:"turns"`
	ModelDigest  string          `json:"model_digest"`
	Success      bool            `json:"success"`
	Category     string          `json:"category,omitempty"`
	Severity     review.Severity `json:"severity,omitempty"`
	Technique    string          `json:"technique,omitempty"`
	Universal    bool            `json:"universal"`
	Template     string          `json:"template,omitempty"`
	TransferHits int             `json:"transfer_hits"`
	TransferN    int             `json:"transfer_n"`
	FindingID    string          `json:"finding_id,omitempty"`
	CreatedAt    string          `json:"created_at"`
	UpdatedAt    string          `json:"updated_at"`
	SuccessAt    string          `json:"success_at,omitempty"`
	UniversalAt  string          `json:"universal_at,omitempty"`
}

func toAttempt(at review.Attempt) attemptJSON {
	return attemptJSON{ID: at.ID, CaseID: at.CaseID, OrgID: at.OrgID, RedTeamer: at.RedTeamer, Title: at.Title, Turns: at.Turns,
		ModelDigest: at.ModelDigest, Success: at.Success, Category: at.Category, Severity: at.Severity, Technique: at.Technique,
		Universal: at.Universal, Template: at.Template, TransferHits: at.TransferHits, TransferN: at.TransferN, FindingID: at.FindingID,
		CreatedAt: ts(at.CreatedAt), UpdatedAt: ts(at.UpdatedAt), SuccessAt: ts(at.SuccessAt), UniversalAt: ts(at.UniversalAt)}
}

type chatMessageJSON struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	At      string `json:"at"`
}

type transcriptJSON struct {
	Attempt  attemptJSON       `json:"attempt"`
	Messages []chatMessageJSON `json:"messages"`
}

func toTranscript(at review.Attempt, msgs []review.ChatMessage) transcriptJSON {
	out := transcriptJSON{Attempt: toAttempt(at), Messages: []chatMessageJSON{}}
	for _, m := range msgs {
		out.Messages = append(out.Messages, chatMessageJSON{Role: m.Role, Content: m.Content, At: ts(m.At)})
	}
	return out
}

type successRequest struct {
	Category  string          `json:"category"`
	Severity  review.Severity `json:"severity"`
	Technique string          `json:"technique"`
}

type universalRequest struct {
	// Template is the attack with {behaviour} where each behaviour goes.
	Template string `json:"template"`
}

type modelVersionRequest struct {
	Digest      string `json:"digest"`
	Name        string `json:"name,omitempty"`
	TargetURL   string `json:"target_url"`
	Credentials string `json:"credentials,omitempty"`
	Note        string `json:"note,omitempty"`
}

type modelVersionJSON struct {
	ID          string `json:"id"`
	CaseID      string `json:"case_id"`
	Seq         int    `json:"seq"`
	ModelDigest string `json:"model_digest"`
	ModelName   string `json:"model_name"`
	TargetURL   string `json:"target_url"`
	Note        string `json:"note,omitempty"`
	SubmittedBy string `json:"submitted_by,omitempty"`
	CreatedAt   string `json:"created_at"`
}

func toModelVersion(v review.ModelVersion) modelVersionJSON {
	return modelVersionJSON{ID: v.ID, CaseID: v.CaseID, Seq: v.Seq, ModelDigest: v.ModelDigest, ModelName: v.ModelName,
		TargetURL: v.TargetURL, Note: v.Note, SubmittedBy: v.SubmittedBy, CreatedAt: ts(v.CreatedAt)}
}

type retestJSON struct {
	AttemptID string `json:"attempt_id"`
	VersionID string `json:"version_id"`
	Works     bool   `json:"works"`
	Hits      int    `json:"hits"`
	N         int    `json:"n"`
	Error     string `json:"error,omitempty"`
	CreatedAt string `json:"created_at"`
}

func toRetest(r review.Retest) retestJSON {
	return retestJSON{AttemptID: r.AttemptID, VersionID: r.VersionID, Works: r.Works, Hits: r.Hits, N: r.N, Error: r.Error, CreatedAt: ts(r.CreatedAt)}
}

type retestSummaryJSON struct {
	Versions  []modelVersionJSON `json:"versions"`
	Items     int                `json:"items"`
	Retested  int                `json:"retested"`
	StillWork int                `json:"still_work"`
	// State is the current version's retest: queued, running, done,
	// failed, "not run" ("" without a new version).
	State string `json:"state,omitempty"`
	// Judge names the scorer that judges retests.
	Judge string `json:"judge,omitempty"`
	// Results are per attack, only for those who see the campaign.
	Results []retestJSON `json:"results,omitempty"`
}

func toRetestSummary(s review.RetestSummary) retestSummaryJSON {
	return retestSummaryJSON{Versions: mapSlice(s.Versions, toModelVersion), Items: s.Items, Retested: s.Retested,
		StillWork: s.StillWork, State: string(s.State), Judge: s.Judge, Results: mapSlice(s.Results, toRetest)}
}

type milestoneJSON struct {
	AttemptID string  `json:"attempt_id"`
	Attempts  int     `json:"attempts"`
	Seconds   float64 `json:"seconds"`
}

type progressJSON struct {
	Attempts       int            `json:"attempts"`
	Successes      int            `json:"successes"`
	Universal      int            `json:"universal"`
	Start          string         `json:"start,omitempty"`
	FirstSuccess   *milestoneJSON `json:"first_success,omitempty"`
	FirstUniversal *milestoneJSON `json:"first_universal,omitempty"`
}

func toProgress(p review.Progress) progressJSON {
	ms := func(m *review.Milestone) *milestoneJSON {
		if m == nil {
			return nil
		}
		return &milestoneJSON{AttemptID: m.AttemptID, Attempts: m.Attempts, Seconds: m.Time.Seconds()}
	}
	return progressJSON{Attempts: p.Attempts, Successes: p.Successes, Universal: p.Universal, Start: ts(p.Start),
		FirstSuccess: ms(p.FirstSuccess), FirstUniversal: ms(p.FirstUniversal)}
}

type campaignJSON struct {
	Attempts     []attemptJSON           `json:"attempts"`
	Overall      progressJSON            `json:"overall"`
	PerRedTeamer map[string]progressJSON `json:"per_redteamer"`
	ByCategory   map[string]int          `json:"by_category"`
	ByTechnique  map[string]int          `json:"by_technique"`
	// UniversalThreshold is the transfer rate a universal claim needs,
	// over UniversalSample behaviours.
	UniversalThreshold float64 `json:"universal_threshold"`
	UniversalSample    int     `json:"universal_sample"`
}

func (handlers) exchange(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in exchangeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	at, msgs, err := srv(r).svc.Exchange(r.Context(), a, r.PathValue("id"), review.ExchangeInput{AttemptID: in.AttemptID,
		Title: in.Title, System: in.System, User: in.User, Attachments: in.Attachments})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTranscript(at, msgs))
	return nil
}

func (handlers) getCampaign(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	s, id := srv(r).svc, r.PathValue("id")
	m, err := s.CampaignMetrics(r.Context(), a, id)
	if err != nil {
		return err
	}
	out := campaignJSON{Attempts: []attemptJSON{}, Overall: toProgress(m.Overall), PerRedTeamer: map[string]progressJSON{},
		ByCategory: m.ByCategory, ByTechnique: m.ByTechnique, UniversalThreshold: review.UniversalThreshold, UniversalSample: review.UniversalSample}
	for k, p := range m.PerRedTeamer {
		out.PerRedTeamer[k] = toProgress(p)
	}
	p := review.Page{Limit: review.MaxPageLimit}
	for {
		ats, err := s.Attempts(r.Context(), a, id, p)
		if err != nil {
			return err
		}
		out.Attempts = append(out.Attempts, mapSlice(ats, toAttempt)...)
		if len(ats) < p.N() {
			break
		}
		p.After = ats[len(ats)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (handlers) getAttempt(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	at, msgs, err := srv(r).svc.OpenAttempt(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTranscript(at, msgs))
	return nil
}

func (handlers) tagSuccess(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in successRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	at, err := srv(r).svc.TagSuccess(r.Context(), a, r.PathValue("id"), review.SuccessInput{Category: in.Category, Severity: in.Severity, Technique: in.Technique})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAttempt(at))
	return nil
}

func (handlers) claimUniversal(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in universalRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	at, err := srv(r).svc.ClaimUniversal(r.Context(), a, r.PathValue("id"), in.Template)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAttempt(at))
	return nil
}

func (handlers) findingFromAttempt(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	f, err := srv(r).svc.FindingFromAttempt(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toFinding(f))
	return nil
}

func (handlers) submitModelVersion(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in modelVersionRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := srv(r).svc.SubmitModelVersion(r.Context(), a, r.PathValue("id"), review.ModelVersionInput{Digest: in.Digest,
		Name: in.Name, TargetURL: in.TargetURL, Credentials: in.Credentials, Note: in.Note})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toModelVersion(v))
	return nil
}

func (handlers) getRetests(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	sum, err := srv(r).svc.CampaignRetests(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRetestSummary(sum))
	return nil
}

func (handlers) runRetests(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	if _, err := srv(r).svc.RetestCase(r.Context(), a, r.PathValue("id")); err != nil {
		return err
	}
	sum, err := srv(r).svc.CampaignRetests(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRetestSummary(sum))
	return nil
}
