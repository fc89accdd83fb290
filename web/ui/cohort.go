package ui

import (
	"context"
	"fmt"
	"strings"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/work"
)

// cohortView is a case page's cohort section (docs/cohorts.md): the model
// under review beside each reference model, per metric with the
// difference and a plain "within error" mark, and the capability
// aggregate. Nil when the case has no finished reference assessment.
type cohortView struct {
	References []cohortRef
	Abilities  []cohortAbility
	Dropped    []string
	Note       string
}

type cohortRef struct {
	Name, Source, Identity string
	Rows                   []cohortRow
	// Ability is the ability difference on the aggregate, "" if none.
	Ability       string
	AbilityWithin bool
}

type cohortRow struct {
	Key, Model, Reference, Delta, Interval string
	WithinError                            bool
	// Categories compare the metric per category both runs have.
	Categories []cohortRow
}

type cohortAbility struct {
	Name, Value, Interval string
}

func pct1(x float64) string  { return fmt.Sprintf("%.1f%%", 100*x) }
func spct1(x float64) string { return fmt.Sprintf("%+.1f%%", 100*x) }

// cohort builds the cohort section from the assessments and references
// the actor may see.
func (h *Handler) cohort(ctx context.Context, a review.Actor, caseID string) (*cohortView, error) {
	refs, err := h.svc.References(ctx, a, caseID)
	if err != nil || len(refs) == 0 {
		return nil, err
	}
	as, err := h.svc.Assessments(ctx, a, caseID, review.Page{Limit: review.MaxPageLimit})
	if err != nil {
		return nil, err
	}
	c, err := work.CaseCohort(as, refs)
	if err != nil || c == nil {
		return nil, err
	}
	return toCohortView(c), nil
}

func toCohortView(c *assess.Cohort) *cohortView {
	v := &cohortView{}
	for _, r := range c.References {
		cr := cohortRef{Name: r.Reference.Name, Source: r.Reference.Source, Identity: r.Reference.Identity}
		for _, d := range r.Deltas {
			row := toCohortRow(d)
			for _, cd := range d.ByCategory {
				row.Categories = append(row.Categories, toCohortRow(cd))
			}
			cr.Rows = append(cr.Rows, row)
		}
		if a := r.Ability; a != nil {
			cr.Ability = fmt.Sprintf("%+.2f logits [%+.2f, %+.2f]", a.Delta, a.CI.Low, a.CI.High)
			cr.AbilityWithin = a.WithinError
		}
		v.References = append(v.References, cr)
	}
	if ag := c.Aggregate; ag != nil {
		for _, ab := range ag.Abilities {
			v.Abilities = append(v.Abilities, cohortAbility{Name: ab.Name, Value: fmt.Sprintf("%+.2f", ab.Ability.Value),
				Interval: fmt.Sprintf("[%+.2f, %+.2f]", ab.Ability.CI.Low, ab.Ability.CI.High)})
		}
		v.Dropped, v.Note = ag.Dropped, ag.Note
	}
	return v
}

func toCohortRow(d assess.Delta) cohortRow {
	return cohortRow{Key: d.Key, Model: pct1(d.Model.Rate), Reference: pct1(d.Reference.Rate),
		Delta: spct1(d.Delta), Interval: "[" + spct1(d.CI.Low) + ", " + spct1(d.CI.High) + "]", WithinError: d.WithinError}
}

// referenceFields are the schedule form's reference-model fields, named
// as the service names them in its errors.
var referenceFields = []string{"reference.name", "reference.url", "reference.model", "reference.credentials", "reference.digest"}

// parseReference makes the schedule form's assessment a reference
// assessment when any of its reference fields is filled in; the service
// checks them (a missing name, URL or model is refused naming it).
func parseReference(f *form, in *review.AssessmentInput) {
	ref := review.ReferenceInput{Name: strings.TrimSpace(f.V("reference.name")), URL: strings.TrimSpace(f.V("reference.url")),
		Model: strings.TrimSpace(f.V("reference.model")), Credentials: f.V("reference.credentials"),
		Digest: strings.TrimSpace(f.V("reference.digest"))}
	if ref != (review.ReferenceInput{}) {
		in.Reference = &ref
	}
}

// markReferences labels the case's reference assessments among runs
// with their reference's name and model.
func (h *Handler) markReferences(ctx context.Context, a review.Actor, caseID string, runs []assessmentView) error {
	refs, err := h.svc.References(ctx, a, caseID)
	if err != nil || len(refs) == 0 {
		return err
	}
	for i := range runs {
		if r, ok := refs[runs[i].ID]; ok {
			runs[i].RefName, runs[i].RefModel = r.Name, r.Model
		}
	}
	return nil
}
