package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/stats"
)

// Agent transcript triage (review.TriageEpisodes, review.ReviewTriage):
// GET /api/v1/assessments/{id}/triage lists an assessment's agent
// episodes with their automatic labels, reviewers' decisions and the
// solve rate raw and excluding non-capability failures; PUT
// /api/v1/assessments/{id}/triage/{seq} confirms or corrects one label.

type triageReviewRequest struct {
	// Label is refused, scaffold_error, out_of_budget or wrong_answer.
	Label string `json:"label"`
	Note  string `json:"note,omitempty"`
}

type triageReviewJSON struct {
	AssessmentID string    `json:"assessment_id"`
	Seq          int       `json:"seq"`
	CaseID       string    `json:"case_id"`
	Label        string    `json:"label"`
	Note         string    `json:"note,omitempty"`
	ReviewedBy   string    `json:"reviewed_by"`
	ReviewedAt   time.Time `json:"reviewed_at"`
}

type triageItemJSON struct {
	Seq      int    `json:"seq"`
	SampleID string `json:"sample_id"`
	Suite    string `json:"suite"`
	Category string `json:"category"`
	// Label is the reviewer's when reviewed, else the automatic one;
	// Status says which: automatic, confirmed or corrected.
	Label        string            `json:"label"`
	Status       string            `json:"status"`
	AutoLabel    string            `json:"auto_label"`
	AutoEvidence []string          `json:"auto_evidence"`
	Review       *triageReviewJSON `json:"review,omitempty"`
}

// triageRateJSON is a solve rate with its Wilson 95% interval.
type triageRateJSON struct {
	Solved int     `json:"solved"`
	N      int     `json:"n"`
	Rate   float64 `json:"rate"`
	Low    float64 `json:"ci_low"`
	High   float64 `json:"ci_high"`
}

type triageJSON struct {
	AssessmentID string `json:"assessment_id"`
	Episodes     int    `json:"episodes"`
	Errors       int    `json:"errors"`
	// Raw counts every episode that ran; Adjusted leaves out those
	// labelled refused or scaffold_error (Excluded), using reviewers'
	// labels where given.
	Raw       triageRateJSON   `json:"solve_rate"`
	Adjusted  triageRateJSON   `json:"solve_rate_excluding_noncapability"`
	Excluded  int              `json:"excluded"`
	ByLabel   map[string]int   `json:"failed_by_label"`
	Reviewed  int              `json:"reviewed"`
	Corrected int              `json:"corrected"`
	Items     []triageItemJSON `json:"items"`
}

// AutoTriage is the service's automatic first pass over a sample record.
func AutoTriage(record []byte) (review.TriageAuto, error) {
	r, err := assess.TriageRecord(record)
	return review.TriageAuto{Label: r.Label, Evidence: r.Evidence}, err
}

// TriageRates returns the raw and adjusted solve rates of a summary.
func TriageRates(s review.TriageSummary) (raw, adjusted stats.Interval, rawN, adjN int) {
	rawN = s.Solved + s.Failed
	adjN = rawN - s.Excluded
	return stats.Wilson(s.Solved, rawN, assess.Level), stats.Wilson(s.Solved, adjN, assess.Level), rawN, adjN
}

func triageRate(k, n int, ci stats.Interval) triageRateJSON {
	r := triageRateJSON{Solved: k, N: n, Low: ci.Low, High: ci.High}
	if n > 0 {
		r.Rate = float64(k) / float64(n)
	}
	return r
}

func toTriageReview(r review.TriageReview) *triageReviewJSON {
	return &triageReviewJSON{AssessmentID: r.AssessmentID, Seq: r.Seq, CaseID: r.CaseID, Label: r.Label, Note: r.Note,
		ReviewedBy: r.ReviewedBy, ReviewedAt: r.ReviewedAt}
}

func (handlers) listTriage(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	id := r.PathValue("id")
	items, err := srv(r).svc.TriageEpisodes(r.Context(), a, id, AutoTriage)
	if err != nil {
		return err
	}
	s := review.SummarizeTriage(items)
	raw, adj, rawN, adjN := TriageRates(s)
	out := triageJSON{AssessmentID: id, Episodes: s.Episodes, Errors: s.Errors, Raw: triageRate(s.Solved, rawN, raw),
		Adjusted: triageRate(s.Solved, adjN, adj), Excluded: s.Excluded, ByLabel: s.ByLabel, Reviewed: s.Reviewed,
		Corrected: s.Corrected, Items: []triageItemJSON{}}
	for _, it := range items {
		j := triageItemJSON{Seq: it.Seq, SampleID: it.SampleID, Suite: it.Suite, Category: it.Category, Label: it.Label(),
			Status: it.Status(), AutoLabel: it.Auto.Label, AutoEvidence: it.Auto.Evidence}
		if j.AutoEvidence == nil {
			j.AutoEvidence = []string{}
		}
		if it.Review != nil {
			j.Review = toTriageReview(*it.Review)
		}
		out.Items = append(out.Items, j)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (handlers) reviewTriage(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	seq, err := strconv.Atoi(r.PathValue("seq"))
	if err != nil || seq < 0 {
		return fmt.Errorf("episode %q: want a sequence number: %w", r.PathValue("seq"), errBadRequest)
	}
	var in triageReviewRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	rv, err := srv(r).svc.ReviewTriage(r.Context(), a, review.TriageReviewInput{AssessmentID: r.PathValue("id"), Seq: seq, Label: in.Label, Note: in.Note})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTriageReview(rv))
	return nil
}
