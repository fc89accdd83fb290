package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
)

// This file is the red-team campaign page (review/campaign.go,
// docs/campaigns.md): the chat console, the attempts with their tags,
// the campaign's metrics and the regression retests. Only those who see
// the campaign (red-teamers, assessors and reviewers assigned to the
// case; overseeing officials) get the page; developers get 403 and see
// only the retest counts on the case page. Transcripts are sealed: the
// page shows one only after an exchange (the red-teamer's own) or an
// "open" POST, which the service records in the audit trail. Everything
// is server-rendered forms; there is no script.

// campaignPage is the page's data.
type campaignPage struct {
	base
	Case     review.Case
	Attempts []review.Attempt
	Metrics  review.CampaignMetrics
	// Teamers are the per-red-teamer rows, by name.
	Teamers    []teamerRow
	Categories []countRow
	Techniques []countRow
	Retests    review.RetestSummary
	// Works maps attempt ids to their retest result on the current
	// version.
	Works map[string]*review.Retest
	// Current is the attempt shown in the console, with its transcript
	// (nil: none open).
	Current  *review.Attempt
	Messages []review.ChatMessage
	// Error is a console error (the model did not answer, bad input).
	Error string
	// Can say which forms the user gets.
	CanChat, CanFind, CanRetest bool
	Names                       map[string]string
	Severities                  []review.Severity
	Threshold                   string
	Sample                      int
}

type teamerRow struct {
	Name string
	review.Progress
}

type countRow struct {
	Key string
	N   int
}

func countRows(m map[string]int) []countRow {
	var out []countRow
	for k, n := range m {
		out = append(out, countRow{k, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N > out[j].N || out[i].N == out[j].N && out[i].Key < out[j].Key })
	return out
}

// loadCampaign builds the page, or returns the service's error.
func (h *Handler) loadCampaign(ctx context.Context, u user, caseID string) (*campaignPage, error) {
	c, err := h.svc.GetCase(ctx, u.Actor, caseID)
	if err != nil {
		return nil, err
	}
	m, err := h.svc.CampaignMetrics(ctx, u.Actor, caseID)
	if err != nil {
		return nil, err
	}
	d := &campaignPage{base: base{Title: "Red-team campaign — " + c.ModelName, Nav: "cases"}, Case: c, Metrics: m,
		Works:      map[string]*review.Retest{},
		Severities: []review.Severity{review.SeverityCritical, review.SeverityHigh, review.SeverityModerate, review.SeverityLow},
		Threshold:  fmt.Sprintf("%.0f%%", review.UniversalThreshold*100), Sample: review.UniversalSample}
	d.setUser(u)
	p := review.Page{Limit: review.MaxPageLimit}
	for {
		ats, err := h.svc.Attempts(ctx, u.Actor, caseID, p)
		if err != nil {
			return nil, err
		}
		d.Attempts = append(d.Attempts, ats...)
		if len(ats) < p.N() {
			break
		}
		p.After = ats[len(ats)-1].ID
	}
	if d.Retests, err = h.svc.CampaignRetests(ctx, u.Actor, caseID); err != nil {
		return nil, err
	}
	for i, r := range d.Retests.Results {
		d.Works[r.AttemptID] = &d.Retests.Results[i]
	}
	var ids []string
	for _, at := range d.Attempts {
		ids = append(ids, at.RedTeamer)
	}
	for id := range m.PerRedTeamer {
		ids = append(ids, id)
	}
	if d.Names, err = h.svc.UserNames(ctx, u.Actor, ids); err != nil {
		return nil, err
	}
	for id, pr := range m.PerRedTeamer {
		name := d.Names[id]
		if name == "" {
			name = id
		}
		d.Teamers = append(d.Teamers, teamerRow{Name: name, Progress: pr})
	}
	sort.Slice(d.Teamers, func(i, j int) bool { return d.Teamers[i].Name < d.Teamers[j].Name })
	d.Categories, d.Techniques = countRows(m.ByCategory), countRows(m.ByTechnique)
	d.CanChat = u.User.Has(review.RoleRedteamer)
	d.CanFind = u.User.Has(review.RoleReviewer)
	d.CanRetest = len(d.Retests.Versions) > 0 && (u.User.Has(review.RoleAssessor) || u.User.Has(review.RoleRedteamer) || u.User.Has(review.RoleOfficial))
	return d, nil
}

// campaign shows the page.
func (h *Handler) campaign(w http.ResponseWriter, r *http.Request, u user) {
	d, err := h.loadCampaign(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "campaign", d)
}

// campaignExchange sends one console turn and shows the conversation.
func (h *Handler) campaignExchange(w http.ResponseWriter, r *http.Request, u user) {
	f := r.PostForm
	in := review.ExchangeInput{AttemptID: f.Get("attempt_id"), Title: strings.TrimSpace(f.Get("title")),
		System: f.Get("system"), User: f.Get("user")}
	if name, text := strings.TrimSpace(f.Get("attachment_name")), f.Get("attachment"); text != "" {
		in.Attachments = []review.Attachment{{Name: cmpOr(name, "attachment.txt"), Text: text}}
	}
	at, msgs, err := h.svc.Exchange(r.Context(), u.Actor, r.PathValue("id"), in)
	if err != nil {
		h.campaignFail(w, r, u, err, in.AttemptID)
		return
	}
	h.showAttempt(w, r, u, at, msgs)
}

// campaignOpen opens an attempt's transcript (audited by the service).
func (h *Handler) campaignOpen(w http.ResponseWriter, r *http.Request, u user) {
	at, msgs, err := h.svc.OpenAttempt(r.Context(), u.Actor, r.PostForm.Get("attempt_id"))
	if err != nil || at.CaseID != r.PathValue("id") {
		if err == nil {
			err = review.ErrNotFound
		}
		h.serviceError(w, r, err)
		return
	}
	h.showAttempt(w, r, u, at, msgs)
}

func (h *Handler) showAttempt(w http.ResponseWriter, r *http.Request, u user, at review.Attempt, msgs []review.ChatMessage) {
	d, err := h.loadCampaign(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	d.Current, d.Messages = &at, msgs
	h.render(w, r, http.StatusOK, "campaign", d)
}

// campaignFail shows the page with the console's error: bad input 422,
// a model that did not answer 502; other errors as pages.
func (h *Handler) campaignFail(w http.ResponseWriter, r *http.Request, u user, err error, attemptID string) {
	status := http.StatusUnprocessableEntity
	switch {
	case errors.Is(err, review.ErrModelUnavailable):
		status = http.StatusBadGateway
	case errors.Is(err, review.ErrInvalidInput):
	default:
		h.serviceError(w, r, err)
		return
	}
	d, lerr := h.loadCampaign(r.Context(), u, r.PathValue("id"))
	if lerr != nil {
		h.serviceError(w, r, lerr)
		return
	}
	d.Error = err.Error()
	if attemptID != "" {
		if at, msgs, oerr := h.svc.OpenAttempt(r.Context(), u.Actor, attemptID); oerr == nil && at.CaseID == d.Case.ID {
			d.Current, d.Messages = &at, msgs
		}
	}
	h.render(w, r, status, "campaign", d)
}

// campaignTag tags an attempt a success.
func (h *Handler) campaignTag(w http.ResponseWriter, r *http.Request, u user) {
	f := r.PostForm
	_, err := h.svc.TagSuccess(r.Context(), u.Actor, f.Get("attempt_id"), review.SuccessInput{
		Category: strings.TrimSpace(f.Get("category")), Severity: review.Severity(f.Get("severity")), Technique: strings.TrimSpace(f.Get("technique"))})
	h.campaignDone(w, r, u, err, "attempt-"+f.Get("attempt_id"))
}

// campaignUniversal checks a universal claim.
func (h *Handler) campaignUniversal(w http.ResponseWriter, r *http.Request, u user) {
	_, err := h.svc.ClaimUniversal(r.Context(), u.Actor, r.PostForm.Get("attempt_id"), r.PostForm.Get("template"))
	h.campaignDone(w, r, u, err, "attempt-"+r.PostForm.Get("attempt_id"))
}

// campaignFinding opens a finding from an attack: one click.
func (h *Handler) campaignFinding(w http.ResponseWriter, r *http.Request, u user) {
	f, err := h.svc.FindingFromAttempt(r.Context(), u.Actor, r.PostForm.Get("attempt_id"))
	if err != nil {
		h.campaignDone(w, r, u, err, "")
		return
	}
	done(w, r, "finding-"+f.ID)
}

// campaignRetest re-runs the regression suite.
func (h *Handler) campaignRetest(w http.ResponseWriter, r *http.Request, u user) {
	_, err := h.svc.RetestCase(r.Context(), u.Actor, r.PathValue("id"))
	h.campaignDone(w, r, u, err, "retests")
}

func (h *Handler) campaignDone(w http.ResponseWriter, r *http.Request, u user, err error, anchor string) {
	if err != nil {
		h.campaignFail(w, r, u, err, "")
		return
	}
	http.Redirect(w, r, "/cases/"+r.PathValue("id")+"/campaign#"+anchor, http.StatusSeeOther)
}

// modelVersion is the developer's new model version (case page form).
func (h *Handler) modelVersion(w http.ResponseWriter, r *http.Request, u user) {
	f := newForm(r.PostForm)
	in := review.ModelVersionInput{Digest: strings.TrimSpace(f.V("digest")), Name: strings.TrimSpace(f.V("name")),
		TargetURL: strings.TrimSpace(f.V("target_url")), Credentials: f.V("credentials"), Note: strings.TrimSpace(f.V("note"))}
	_, err := h.svc.SubmitModelVersion(r.Context(), u.Actor, r.PathValue("id"), in)
	h.act(w, r, u, "model_version", f, err, "campaign", "digest", "name", "target_url", "credentials", "note")
}

// campaignCard is the case page's campaign section: the retest counts
// (everyone who sees the case) and whether the campaign page is open to
// the user.
type campaignCard struct {
	review.RetestSummary
	SeesCampaign bool
	Developer    bool
}

func (h *Handler) campaignCard(ctx context.Context, u user, c review.Case) (*campaignCard, error) {
	sum, err := h.svc.CampaignRetests(ctx, u.Actor, c.ID)
	if err != nil {
		return nil, err
	}
	card := &campaignCard{RetestSummary: sum, Developer: u.Org.Kind == review.OrgDeveloper}
	_, err = h.svc.CampaignMetrics(ctx, u.Actor, c.ID)
	switch {
	case err == nil:
		card.SeesCampaign = true
	case !errors.Is(err, review.ErrForbidden):
		return nil, err
	}
	return card, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// redteamInMatrix adds the campaign, as the policy reads it, to the
// regime-matrix rows of the profiles whose decision rules or conditions
// read redteam (the EU GPAI and frontier-framework profiles among the
// built-ins): the evidence shows even where another rule settled the
// outcome. Counts only, as the case page's campaign section.
func redteamInMatrix(m *matrixView, card *campaignCard) {
	if m == nil || card == nil {
		return
	}
	text := card.evidence()
	for i := range m.Rows {
		if readsRedTeam(m.Rows[i].Profile) {
			m.Rows[i].RedTeam = text
		}
	}
}

// evidence says in words what the campaign gives the policy.
func (c *campaignCard) evidence() string {
	if c.Items == 0 {
		return "no successful red-team attack recorded."
	}
	if len(c.Versions) == 0 {
		return fmt.Sprintf("%d successful attacks, all open: no new model version has been retested.", c.Items)
	}
	s := fmt.Sprintf("%d successful attacks; on model version %d, %d of %d retested still work", c.Items, len(c.Versions), c.StillWork, c.Retested)
	if c.State != "" && c.State != review.RetestDone {
		s += fmt.Sprintf(" (retest %s)", c.State)
	}
	return s + "."
}

// readsRedTeam reports whether a built-in profile's decision rules or
// conditions read redteam; profiles it cannot load are taken not to.
var redteamProfiles sync.Map // profile id → bool

func readsRedTeam(id string) bool {
	if v, ok := redteamProfiles.Load(id); ok {
		return v.(bool)
	}
	uses := false
	if p, err := policy.Builtin(id); err == nil {
		for _, r := range p.Decision {
			uses = uses || strings.Contains(r.When, "redteam.")
		}
		for _, c := range p.Conditions {
			uses = uses || strings.Contains(c.When, "redteam.")
		}
	}
	redteamProfiles.Store(id, uses)
	return uses
}
