package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// The wire types. Domain types carry no JSON tags; these fix the API's
// field names (snake_case) and time format (UTC RFC 3339) independently.

type orgJSON struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Kind      review.OrgKind `json:"kind"`
	CreatedAt string         `json:"created_at"`
}

type userJSON struct {
	ID        string        `json:"id"`
	OrgID     string        `json:"org_id"`
	Name      string        `json:"name"`
	Email     string        `json:"email,omitempty"`
	Roles     []review.Role `json:"roles"`
	Disabled  bool          `json:"disabled"`
	CreatedAt string        `json:"created_at"`
}

type tokenJSON struct {
	ID        string `json:"id"`
	UserID    string `json:"user_id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
	ExpiresAt string `json:"expires_at,omitempty"`
	RevokedAt string `json:"revoked_at,omitempty"`
	// ParentID is the token that minted this one: it never expires
	// after its parent and is revoked with it.
	ParentID string `json:"parent_id,omitempty"`
	// Secret is shown once, when the token is issued.
	Secret string `json:"secret,omitempty"`
}

type clockJSON struct {
	Unit     review.Unit `json:"unit"`
	Length   int         `json:"length"`
	Start    string      `json:"start"`
	Deadline string      `json:"deadline"`
	Running  bool        `json:"running"`
	Expired  bool        `json:"expired"`
}

type caseJSON struct {
	ID          string          `json:"id"`
	OrgID       string          `json:"org_id"`
	ModelDigest string          `json:"model_digest"`
	ModelName   string          `json:"model_name"`
	Dossier     json.RawMessage `json:"dossier"`
	TargetURL   string          `json:"target_url"`
	Profiles    []string        `json:"profiles"`
	State       review.State    `json:"state"`
	Clock       *clockJSON      `json:"clock,omitempty"`
	// Assignees are the ids of the staff assigned to the case.
	Assignees []string `json:"assignees"`
	// Agencies are the agencies of a joint review, the lead first;
	// empty for a case one agency reviews.
	Agencies  []caseAgencyJSON `json:"agencies"`
	Version   int64            `json:"version"`
	CreatedAt string           `json:"created_at"`
	UpdatedAt string           `json:"updated_at"`
}

// caseAgencyJSON is one agency of a joint review.
type caseAgencyJSON struct {
	OrgID   string   `json:"org_id"`
	Lead    bool     `json:"lead"`
	Domains []string `json:"domains"`
	AddedBy string   `json:"added_by"`
	AddedAt string   `json:"added_at"`
}

// caseSummaryJSON is a case as lists show it: every field of caseJSON
// but the dossier (up to review.MaxDossierBytes each, so a page of 500
// would be up to 500 MiB); GET the case to read it.
type caseSummaryJSON struct {
	ID          string       `json:"id"`
	OrgID       string       `json:"org_id"`
	ModelDigest string       `json:"model_digest"`
	ModelName   string       `json:"model_name"`
	TargetURL   string       `json:"target_url"`
	Profiles    []string     `json:"profiles"`
	State       review.State `json:"state"`
	Clock       *clockJSON   `json:"clock,omitempty"`
	Assignees   []string     `json:"assignees"`
	Version     int64        `json:"version"`
	CreatedAt   string       `json:"created_at"`
	UpdatedAt   string       `json:"updated_at"`
}

func toCaseSummary(c review.Case, now time.Time) caseSummaryJSON {
	j := toCase(c, now)
	return caseSummaryJSON{ID: j.ID, OrgID: j.OrgID, ModelDigest: j.ModelDigest, ModelName: j.ModelName,
		TargetURL: j.TargetURL, Profiles: j.Profiles, State: j.State, Clock: j.Clock, Assignees: j.Assignees,
		Version: j.Version, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
}

type findingJSON struct {
	ID          string               `json:"id"`
	CaseID      string               `json:"case_id"`
	Severity    review.Severity      `json:"severity"`
	Title       string               `json:"title"`
	Description string               `json:"description"`
	SampleIDs   []string             `json:"sample_ids"`
	Deadline    string               `json:"deadline"`
	Status      review.FindingStatus `json:"status"`
	CreatedBy   string               `json:"created_by"`
	// OrgID is the agency whose finding it is in a joint review ("" in
	// another case); Shared whether it shares it.
	OrgID     string `json:"org_id"`
	Shared    bool   `json:"shared"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

type responseJSON struct {
	ID        string `json:"id"`
	CaseID    string `json:"case_id"`
	FindingID string `json:"finding_id"`
	AuthorID  string `json:"author_id"`
	Body      string `json:"body"`
	CreatedAt string `json:"created_at"`
}

type decisionJSON struct {
	ID             string          `json:"id"`
	CaseID         string          `json:"case_id"`
	OfficialID     string          `json:"official_id"`
	Outcomes       json.RawMessage `json:"outcomes"`
	Rationale      string          `json:"rationale"`
	Missing        []string        `json:"missing"`
	OverrideReason string          `json:"override_reason,omitempty"`
	Deemed         bool            `json:"deemed"`
	// Concurring lists the participating agencies of a joint review that
	// concurred (given or deemed); absent for a case one agency reviews.
	Concurring []string `json:"concurring,omitempty"`
	// Variants are the variants of the model the case's finished
	// assessments tested when the decision was made: what it covers.
	Variants []string `json:"variants"`
	// Bundle is the signed attestation, base64; absent without a signer.
	Bundle []byte `json:"bundle,omitempty"`
	// LogIndex is the bundle's index in the transparency log, absent
	// until it is logged; Receipt is its inclusion receipt (JSON).
	LogIndex  *int64          `json:"log_index,omitempty"`
	Receipt   json.RawMessage `json:"receipt,omitempty"`
	CreatedAt string          `json:"created_at"`
}

type appealJSON struct {
	ID         string `json:"id"`
	CaseID     string `json:"case_id"`
	DecisionID string `json:"decision_id"`
	FiledBy    string `json:"filed_by"`
	Grounds    string `json:"grounds"`
	CreatedAt  string `json:"created_at"`
}

type auditJSON struct {
	Seq      int64           `json:"seq"`
	Time     string          `json:"time"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	CaseID   string          `json:"case_id,omitempty"`
	Details  json.RawMessage `json:"details"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// list is a page of items; Next, when not empty, is the after= value of
// the next page.
type list[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toOrg(o review.Org) orgJSON {
	return orgJSON{ID: o.ID, Name: o.Name, Kind: o.Kind, CreatedAt: ts(o.CreatedAt)}
}

func toUser(u review.User) userJSON {
	return userJSON{ID: u.ID, OrgID: u.OrgID, Name: u.Name, Email: u.Email, Roles: nonNil(u.Roles),
		Disabled: u.Disabled, CreatedAt: ts(u.CreatedAt)}
}

func toToken(t review.Token, secret string) tokenJSON {
	return tokenJSON{ID: t.ID, UserID: t.UserID, Name: t.Name, CreatedAt: ts(t.CreatedAt),
		ExpiresAt: ts(t.ExpiresAt), RevokedAt: ts(t.RevokedAt), ParentID: t.ParentID, Secret: secret}
}

func toCase(c review.Case, now time.Time) caseJSON {
	j := caseJSON{ID: c.ID, OrgID: c.OrgID, ModelDigest: c.ModelDigest, ModelName: c.ModelName,
		Dossier: c.Dossier, TargetURL: c.TargetURL, Profiles: nonNil(c.Profiles), State: c.State,
		Assignees: nonNil(c.Assignees), Version: c.Version, CreatedAt: ts(c.CreatedAt), UpdatedAt: ts(c.UpdatedAt),
		Agencies: []caseAgencyJSON{}}
	for _, g := range c.Agencies {
		j.Agencies = append(j.Agencies, caseAgencyJSON{OrgID: g.OrgID, Lead: g.Lead, Domains: nonNil(g.Domains),
			AddedBy: g.AddedBy, AddedAt: ts(g.AddedAt)})
	}
	if len(j.Dossier) == 0 {
		j.Dossier = json.RawMessage("{}")
	}
	if k := c.Clock; k != nil {
		j.Clock = &clockJSON{Unit: k.Unit, Length: k.TotalLength(), Start: ts(k.Start),
			Deadline: ts(k.Deadline(now)), Running: k.Running(), Expired: k.Expired(now)}
	}
	return j
}

func toFinding(f review.Finding) findingJSON {
	return findingJSON{ID: f.ID, CaseID: f.CaseID, Severity: f.Severity, Title: f.Title,
		Description: f.Description, SampleIDs: nonNil(f.SampleIDs), Deadline: ts(f.Deadline),
		Status: f.Status, CreatedBy: f.CreatedBy, OrgID: f.OrgID, Shared: f.Shared, CreatedAt: ts(f.CreatedAt), UpdatedAt: ts(f.UpdatedAt)}
}

func toResponse(r review.Response) responseJSON {
	return responseJSON{ID: r.ID, CaseID: r.CaseID, FindingID: r.FindingID, AuthorID: r.AuthorID,
		Body: r.Body, CreatedAt: ts(r.CreatedAt)}
}

func toDecision(d review.Decision) decisionJSON {
	out := decisionJSON{ID: d.ID, CaseID: d.CaseID, OfficialID: d.OfficialID, Outcomes: d.Outcomes,
		Rationale: d.Rationale, Missing: nonNil(d.Missing), OverrideReason: d.OverrideReason,
		Deemed: d.Deemed, Concurring: d.Concurring, Variants: nonNil(d.Variants), Bundle: d.Bundle, CreatedAt: ts(d.CreatedAt)}
	if d.LogIndex >= 0 {
		i := d.LogIndex
		out.LogIndex = &i
		if json.Valid(d.Receipt) {
			out.Receipt = d.Receipt
		}
	}
	if len(out.Outcomes) == 0 {
		out.Outcomes = json.RawMessage("{}")
	}
	return out
}

func toAppeal(a review.Appeal) appealJSON {
	return appealJSON{ID: a.ID, CaseID: a.CaseID, DecisionID: a.DecisionID, FiledBy: a.FiledBy,
		Grounds: a.Grounds, CreatedAt: ts(a.CreatedAt)}
}

func toAudit(e review.AuditEntry) auditJSON {
	d := e.Details
	if len(d) == 0 {
		d = json.RawMessage("{}")
	}
	return auditJSON{Seq: e.Seq, Time: ts(e.Time), Actor: e.Actor, Action: e.Action, CaseID: e.CaseID,
		Details: d, PrevHash: e.PrevHash, Hash: e.Hash}
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// writeJSON writes v as the JSON response with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the wire types above are written; they always marshal.
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
