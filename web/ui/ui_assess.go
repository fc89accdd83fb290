package ui

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/clearance-dev/clearance/review"
)

// This file holds the UI's calls to the review service's assessment,
// sample and published-decision methods.

// maxAssessments bounds the assessments shown on a case page.
const maxAssessments = 50

func (h *Handler) assessments(ctx context.Context, a review.Actor, caseID string) ([]review.Assessment, error) {
	return h.svc.Assessments(ctx, a, caseID, review.Page{Limit: maxAssessments})
}

func (h *Handler) assessment(ctx context.Context, a review.Actor, id string) (review.Assessment, error) {
	return h.svc.GetAssessment(ctx, a, id)
}

func (h *Handler) listSamples(ctx context.Context, a review.Actor, f review.SampleFilter) ([]review.Sample, error) {
	return h.svc.Samples(ctx, a, f)
}

func (h *Handler) revealSample(ctx context.Context, a review.Actor, assessmentID string, seq int) (review.Sample, error) {
	return h.svc.RevealSample(ctx, a, assessmentID, seq)
}

func (h *Handler) getDecision(ctx context.Context, a review.Actor, id string) (review.Decision, error) {
	return h.svc.GetDecision(ctx, a, id)
}

func (h *Handler) publicDecisions(ctx context.Context, p review.Page) ([]review.PublicDecision, error) {
	return h.svc.PublicDecisions(ctx, p)
}

func (h *Handler) publicDecisionByID(ctx context.Context, id string) (review.PublicDecision, error) {
	return h.svc.PublicDecision(ctx, id)
}

var suiteNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// maxSampleLimit bounds the per-suite sample limit the form accepts.
const maxSampleLimit = 1_000_000

func (h *Handler) scheduleAssessment(w http.ResponseWriter, r *http.Request, u user) {
	f := newForm(r.PostForm)
	var in review.AssessmentInput
	for _, s := range strings.FieldsFunc(f.V("suites"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		if !suiteNameRE.MatchString(s) {
			f.fail("suites", quote(s)+" is not a suite name (lowercase letters, digits, '.', '_', '-').")
			break
		}
		in.Suites = append(in.Suites, s)
	}
	if s := strings.TrimSpace(f.V("limit")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxSampleLimit {
			f.fail("limit", "Enter a whole number from 0 to "+strconv.Itoa(maxSampleLimit)+", or leave it empty.")
		}
		in.Limit = n
	}
	if s := strings.TrimSpace(f.V("seed")); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			f.fail("seed", "Enter a whole number of 0 or more, or leave it empty.")
		}
		in.Seed = n
	}
	parseVariantAndSweep(f, &in)
	parseReference(f, &in)
	if f.Failed() {
		h.reshow(w, r, u, "schedule", f, nil)
		return
	}
	a, err := h.svc.ScheduleAssessment(r.Context(), u.Actor, r.PathValue("id"), in)
	h.act(w, r, u, "schedule", f, err, "assessment-"+a.ID, append(referenceFields, scheduleFields...)...)
}
