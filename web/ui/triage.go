package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/stats"
)

// This file is the triage page of an assessment's agent episodes
// (issue 17.3): each episode with its automatic label and evidence, the
// reviewer's decision, and the solve rate raw and excluding
// non-capability failures, using reviewers' labels where given.
// Reviewers assigned to the case confirm or correct a failed episode's
// label with the form beside it. Labels and evidence are structural: the
// page shows no transcript text, so it needs no reveal.

type triagePage struct {
	base
	Case       review.Case
	Assessment review.Assessment
	Items      []triageRow
	Summary    review.TriageSummary
	Raw, Adj   triageRate
	Labels     []string
	CanReview  bool
	Msg        string
}

type triageRow struct {
	review.TriageItem
	Label, Status string
}

type triageRate struct {
	Solved, N       int
	Rate, Low, High string
}

func autoTriage(record []byte) (review.TriageAuto, error) {
	r, err := assess.TriageRecord(record)
	return review.TriageAuto{Label: r.Label, Evidence: r.Evidence}, err
}

func rateOf(k, n int) triageRate {
	ci := stats.Wilson(k, n, assess.Level)
	r := triageRate{Solved: k, N: n, Rate: "—", Low: pct(ci.Low), High: pct(ci.High)}
	if n > 0 {
		r.Rate = pct(float64(k) / float64(n))
	}
	return r
}

// triage shows the triage page of ?assessment=.
func (h *Handler) triage(w http.ResponseWriter, r *http.Request, u user) {
	h.triageWith(w, r, u, r.URL.Query().Get("assessment"), http.StatusOK, "")
}

func (h *Handler) triageWith(w http.ResponseWriter, r *http.Request, u user, aid string, status int, msg string) {
	ctx := r.Context()
	if aid == "" {
		h.errorPage(w, r, http.StatusUnprocessableEntity, "Invalid input", "Name the assessment whose episodes to triage.")
		return
	}
	c, a, ok := h.caseAssessment(w, r, u, aid)
	if !ok {
		return
	}
	items, err := h.svc.TriageEpisodes(ctx, u.Actor, aid, autoTriage)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	d := &triagePage{base: base{Title: "Triage — " + c.ModelName, Nav: "cases"}, Case: c, Assessment: a,
		Summary: review.SummarizeTriage(items), Labels: review.TriageLabels, Msg: msg,
		CanReview: u.Actor.User.Has(review.RoleReviewer) && containsID(c.Assignees, u.Actor.User.ID)}
	d.setUser(u)
	for _, it := range items {
		d.Items = append(d.Items, triageRow{TriageItem: it, Label: it.Label(), Status: it.Status()})
	}
	s := d.Summary
	d.Raw, d.Adj = rateOf(s.Solved, s.Solved+s.Failed), rateOf(s.Solved, s.Solved+s.Failed-s.Excluded)
	h.render(w, r, status, "triage", d)
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id && id != "" {
			return true
		}
	}
	return false
}

// reviewTriage stores a reviewer's label for one episode and shows the
// page again (POST, redirect, GET); a refused decision re-renders the
// page with the reason.
func (h *Handler) reviewTriage(w http.ResponseWriter, r *http.Request, u user) {
	aid := r.PostForm.Get("assessment")
	seq, err := strconv.Atoi(r.PostForm.Get("seq"))
	if aid == "" || err != nil || seq < 0 {
		h.errorPage(w, r, http.StatusUnprocessableEntity, "Invalid input", "Name the episode: an assessment and a sample position (seq, a whole number of 0 or more).")
		return
	}
	_, err = h.svc.ReviewTriage(r.Context(), u.Actor, review.TriageReviewInput{AssessmentID: aid, Seq: seq,
		Label: r.PostForm.Get("label"), Note: strings.TrimSpace(r.PostForm.Get("note"))})
	if err != nil {
		if errors.Is(err, review.ErrInvalidInput) {
			h.triageWith(w, r, u, aid, http.StatusUnprocessableEntity, fmt.Sprintf("Episode %d not changed: %v", seq, err))
			return
		}
		h.serviceError(w, r, err)
		return
	}
	http.Redirect(w, r, "/cases/"+r.PathValue("id")+"/triage?"+url.Values{"assessment": {aid}}.Encode()+"#episode-"+strconv.Itoa(seq), http.StatusSeeOther)
}

// caseAssessment loads the case of the request's path and its assessment
// aid for u; it writes the error page and reports false when either is
// not u's to see, or the assessment is another case's.
func (h *Handler) caseAssessment(w http.ResponseWriter, r *http.Request, u user, aid string) (review.Case, review.Assessment, bool) {
	ctx := r.Context()
	c, err := h.svc.GetCase(ctx, u.Actor, r.PathValue("id"))
	if err != nil {
		h.serviceError(w, r, err)
		return review.Case{}, review.Assessment{}, false
	}
	a, err := h.assessment(ctx, u.Actor, aid)
	if err != nil {
		h.serviceError(w, r, err)
		return review.Case{}, review.Assessment{}, false
	}
	if a.CaseID != c.ID {
		h.notFound(w, r)
		return review.Case{}, review.Assessment{}, false
	}
	return c, a, true
}
