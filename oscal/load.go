package oscal

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
)

// Evaluator judges a case under its profiles (the regime comparison the
// case page shows); nil means the evaluation is not available.
type Evaluator func(ctx context.Context, c review.Case) (*policy.Decision, error)

// Load reads what the documents of case id are made from, as actor a may
// see it: the same reads, and so the same authorisation, as the case page
// (a case of another organisation is review.ErrNotFound). An evaluation
// that fails is left out (the documents then select each profile's
// controls with include-all) and its error returned as evalErr for the
// caller to log.
func Load(ctx context.Context, svc *review.Service, a review.Actor, id string, eval Evaluator) (c Case, evalErr error, err error) {
	if c.Case, err = svc.GetCase(ctx, a, id); err != nil {
		return Case{}, nil, err
	}
	if c.Assessments, err = all(func(p review.Page) ([]review.Assessment, error) { return svc.Assessments(ctx, a, id, p) },
		func(x review.Assessment) string { return x.ID }); err != nil {
		return Case{}, nil, err
	}
	if c.Findings, err = all(func(p review.Page) ([]review.Finding, error) { return svc.Findings(ctx, a, id, p) },
		func(x review.Finding) string { return x.ID }); err != nil {
		return Case{}, nil, err
	}
	if c.Responses, err = all(func(p review.Page) ([]review.Response, error) { return svc.Responses(ctx, a, id, "", p) },
		func(x review.Response) string { return x.ID }); err != nil {
		return Case{}, nil, err
	}
	if c.Decisions, err = all(func(p review.Page) ([]review.Decision, error) { return svc.Decisions(ctx, a, id, p) },
		func(x review.Decision) string { return x.ID }); err != nil {
		return Case{}, nil, err
	}
	var ids []string
	for _, x := range c.Assessments {
		ids = append(ids, x.CreatedBy)
	}
	for _, x := range c.Findings {
		ids = append(ids, x.CreatedBy)
	}
	for _, x := range c.Responses {
		ids = append(ids, x.AuthorID)
	}
	for _, x := range c.Decisions {
		ids = append(ids, x.OfficialID)
	}
	if c.Names, err = svc.UserNames(ctx, a, ids); err != nil {
		return Case{}, nil, err
	}
	var d struct {
		Developer struct {
			Name string `json:"name"`
		} `json:"developer"`
	}
	if json.Unmarshal(c.Case.Dossier, &d) == nil && d.Developer.Name != "" {
		c.DeveloperName = d.Developer.Name
	} else if orgs, err := svc.OrgNames(ctx, a, []string{c.Case.OrgID}); err == nil {
		c.DeveloperName = orgs[c.Case.OrgID]
	}
	if eval != nil {
		ev, err := eval(ctx, c.Case)
		if err != nil {
			evalErr = fmt.Errorf("evaluate case %s: %w", id, err)
		} else {
			c.Evaluation = ev
		}
	}
	return c, evalErr, nil
}

// all reads every page of a list, oldest first.
func all[T any](list func(review.Page) ([]T, error), id func(T) string) ([]T, error) {
	var out []T
	p := review.Page{Limit: review.MaxPageLimit}
	for {
		items, err := list(p)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if len(items) < p.N() {
			return out, nil
		}
		p.After = id(items[len(items)-1])
	}
}
