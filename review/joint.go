package review

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Domains maps each domain an agency may be given in a joint review to
// the evaluation suites its assessors may schedule. The lead agency has
// every domain. Domains overlap where one suite serves several (misuse
// covers the chemical and biological categories; the agentic cyber tasks
// are the autonomy domain's), and are kept at the suite level.
var Domains = map[string][]string{
	"cyber":      {"cyber-exploit", "cyber-compliance"},
	"safeguards": {"misuse", "jailbreak", "over-refusal", "prompt-injection", "leakage"},
	"chem-bio":   {"misuse"},
	"autonomy":   {"cyber-exploit"},
}

// domainNames returns the known domains, sorted.
func domainNames() []string { return slices.Sorted(maps.Keys(Domains)) }

// maxAgencies bounds the agencies of one joint review.
const maxAgencies = 16

// joint reports whether c is a joint review.
func (c Case) joint() bool { return len(c.Agencies) > 0 }

// LeadAgency returns the org id of the lead agency of a joint review, or
// "" for a case that is not one.
func (c Case) LeadAgency() string {
	for _, g := range c.Agencies {
		if g.Lead {
			return g.OrgID
		}
	}
	return ""
}

// Agency returns the entry of orgID among c's agencies.
func (c Case) Agency(orgID string) (CaseAgency, bool) {
	if orgID == "" {
		return CaseAgency{}, false
	}
	for _, g := range c.Agencies {
		if g.OrgID == orgID {
			return g, true
		}
	}
	return CaseAgency{}, false
}

// compartment returns the OrgID of an assessment or finding a creates in
// c: "" in a case that is not joint; the actor's own organisation when it
// is one of the case's agencies; otherwise (assessor organisations and
// other assigned staff, who work for the lead) the lead's.
func compartment(a Actor, c Case) string {
	if !c.joint() {
		return ""
	}
	if _, ok := c.Agency(a.Org.ID); ok {
		return a.Org.ID
	}
	return c.LeadAgency()
}

// seesItem reports whether a, who sees case c, sees an assessment or
// finding of c owned by orgID and shared or not. In a case that is not
// joint every item is visible with the case. In a joint review: the
// system and shared items always; the owning agency's people; the lead's
// people the items owned by no agency (made before the case became
// joint); staff assigned to the case from an organisation that is not
// one of its agencies (who work for the lead) the lead's items. A
// developer sees only shared items.
func (a Actor) seesItem(c Case, orgID string, shared bool) bool {
	if !c.joint() || a.system() || shared {
		return true
	}
	lead := c.LeadAgency()
	switch {
	case a.Org.Kind == OrgDeveloper || a.Org.ID == "":
		return false
	case a.Org.ID == orgID:
		return true
	case orgID == "" && a.Org.ID == lead:
		return true
	}
	_, member := c.Agency(a.Org.ID)
	return !member && a.assignedTo(c) && (orgID == lead || orgID == "")
}

func (a Actor) seesAssessment(c Case, as Assessment) bool {
	return a.seesItem(c, as.OrgID, as.Shared)
}

func (a Actor) seesFinding(c Case, f Finding) bool { return a.seesItem(c, f.OrgID, f.Shared) }

// checkDomains returns the domains, sorted and without repeats, or an
// invalid-input error naming an unknown one.
func checkDomains(field string, domains []string) ([]string, error) {
	if len(domains) == 0 {
		return nil, invalid(field, "empty: want one or more of %v", domainNames())
	}
	out := slices.Clone(domains)
	for i, d := range out {
		if _, ok := Domains[d]; !ok {
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "unknown domain %q (want one of %v)", d, domainNames())
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// AddAgency makes a case a joint review, or adds an agency to one, or
// (for an agency already taking part) replaces its domains. Officials and
// admins of an agency organisation that sees the case: the first call
// makes the actor's own organisation the lead, with every domain, and
// adds orgID, which must be another agency organisation, with its
// domains; later calls only by the lead's officials and admins. The
// lead's domains cannot be changed. Audited as case.agency_added (or
// case.agency_domains when the agency was already there).
func (s *Service) AddAgency(ctx context.Context, a Actor, caseID, orgID string, domains []string) (Case, error) {
	if a.Org.Kind != OrgAgency || (!a.has(RoleOfficial) && !a.has(RoleAdmin)) {
		return Case{}, forbidden("add agency to case", RoleOfficial, RoleAdmin)
	}
	ds, err := checkDomains("domains", domains)
	if err != nil {
		return Case{}, fmt.Errorf("add agency to case %s: %w", caseID, err)
	}
	if err := checkName("org_id", orgID); err != nil {
		return Case{}, fmt.Errorf("add agency to case %s: %w", caseID, err)
	}
	var out Case
	err = s.store.Tx(ctx, func(tx Store) error {
		c, err := getCase(ctx, tx, a, caseID)
		if err != nil {
			return err
		}
		if closed(c.State) {
			return fmt.Errorf("case is %s: %w", c.State, ErrConflict)
		}
		if c.joint() && a.Org.ID != c.LeadAgency() {
			return fmt.Errorf("add agency: only the lead agency adds agencies: %w", ErrForbidden)
		}
		o, err := tx.GetOrg(ctx, orgID)
		if errors.Is(err, ErrNotFound) {
			return invalid("org_id", "no organisation %q", orgID)
		}
		if err != nil {
			return err
		}
		if o.Kind != OrgAgency {
			return invalid("org_id", "%q is a %s organisation, not an agency", orgID, o.Kind)
		}
		if o.ID == a.Org.ID {
			return invalid("org_id", "%q is the lead agency, which has every domain", orgID)
		}
		now := s.stamp()
		agencies := slices.Clone(c.Agencies)
		if len(agencies) == 0 {
			agencies = append(agencies, CaseAgency{OrgID: a.Org.ID, Lead: true, Domains: domainNames(), AddedBy: a.User.ID, AddedAt: now})
		}
		action := "case.agency_added"
		if i := slices.IndexFunc(agencies, func(g CaseAgency) bool { return g.OrgID == o.ID }); i >= 0 {
			agencies[i].Domains = ds
			action = "case.agency_domains"
		} else {
			if len(agencies) >= maxAgencies {
				return invalid("org_id", "case already has %d agencies, the limit", len(agencies))
			}
			agencies = append(agencies, CaseAgency{OrgID: o.ID, Domains: ds, AddedBy: a.User.ID, AddedAt: now})
		}
		c.Agencies, c.UpdatedAt = agencies, now
		if out, err = tx.UpdateCase(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, action, c.ID, map[string]any{"org": o.ID, "domains": ds, "lead": c.LeadAgency()})
	})
	if err != nil {
		return Case{}, fmt.Errorf("add agency to case %s: %w", caseID, err)
	}
	return redact(out), nil
}

// checkSuites refuses, in a joint review, suites outside the domains of
// the actor's agency. The lead, assigned staff of organisations that are
// not agencies of the case (who work for the lead), and cases that are
// not joint are not limited. A participating agency must name its suites:
// the profiles' whole plan may stray outside its domains.
func checkSuites(a Actor, c Case, suites []string) error {
	g, ok := c.Agency(a.Org.ID)
	if !c.joint() || !ok || g.Lead {
		return nil
	}
	var allowed []string
	for _, d := range g.Domains {
		allowed = append(allowed, Domains[d]...)
	}
	slices.Sort(allowed)
	allowed = slices.Compact(allowed)
	if len(suites) == 0 {
		return invalid("suites", "required: agency %s works in domains %s (suites %s) of this joint review",
			g.OrgID, strings.Join(g.Domains, ", "), strings.Join(allowed, ", "))
	}
	for i, su := range suites {
		if !slices.Contains(allowed, su) {
			return invalid(fmt.Sprintf("suites[%d]", i), "suite %q is outside the domains of agency %s (%s: suites %s)",
				su, g.OrgID, strings.Join(g.Domains, ", "), strings.Join(allowed, ", "))
		}
	}
	return nil
}

// sharers are the roles that may share their agency's work.
var sharers = []Role{RoleReviewer, RoleOfficial, RoleAdmin}

// checkSharer refuses to share or unshare an item of c owned by orgID
// unless a is a reviewer, official or admin of the owning agency (of the
// lead, for items owned by no agency). In a case that is not joint,
// sharing is refused as invalid: everyone who sees the case sees its
// items.
func checkSharer(action string, a Actor, c Case, orgID string) error {
	if !c.joint() {
		return invalid("shared", "case %s is not a joint review: its work is visible to everyone who sees the case", c.ID)
	}
	owner := orgID
	if owner == "" {
		owner = c.LeadAgency()
	}
	if a.Org.ID != owner || a.Org.Kind != OrgAgency {
		return fmt.Errorf("%s: only the owning agency %s shares its work: %w", action, owner, ErrForbidden)
	}
	if !slices.ContainsFunc(sharers, a.has) {
		return forbidden(action, sharers...)
	}
	return nil
}

// ShareAssessment shares an assessment of a joint review (with its
// samples, transcripts and metrics) with the case's other agencies and
// its developer, or withdraws it (shared false). Reviewers, officials and
// admins of the owning agency. Audited as assessment.shared.
func (s *Service) ShareAssessment(ctx context.Context, a Actor, id string, shared bool) (Assessment, error) {
	var out Assessment
	err := retryConflict(func() error {
		return s.store.Tx(ctx, func(tx Store) error {
			as, c, err := visibleAssessment(ctx, tx, a, id)
			if err != nil {
				return err
			}
			if err := checkSharer("share assessment", a, c, as.OrgID); err != nil {
				return err
			}
			as.Shared, as.UpdatedAt = shared, s.stamp()
			if out, err = tx.UpdateAssessment(ctx, as); err != nil {
				return err
			}
			return s.audit(ctx, tx, a, "assessment.shared", c.ID, map[string]any{"assessment": as.ID, "org": as.OrgID, "shared": shared})
		})
	})
	if err != nil {
		return Assessment{}, fmt.Errorf("share assessment %s: %w", id, err)
	}
	return out, nil
}

// ShareFinding shares a finding of a joint review (with its responses)
// with the case's other agencies and its developer, who may then respond
// to it, or withdraws it (shared false). Reviewers, officials and admins
// of the owning agency. Audited as finding.shared.
func (s *Service) ShareFinding(ctx context.Context, a Actor, id string, shared bool) (Finding, error) {
	var out Finding
	err := s.store.Tx(ctx, func(tx Store) error {
		f, c, err := visibleFinding(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := checkSharer("share finding", a, c, f.OrgID); err != nil {
			return err
		}
		f.Shared, f.UpdatedAt = shared, s.stamp()
		if err := tx.UpdateFinding(ctx, f); err != nil {
			return err
		}
		out = f
		return s.audit(ctx, tx, a, "finding.shared", c.ID, map[string]any{"finding": f.ID, "org": f.OrgID, "shared": shared})
	})
	if err != nil {
		return Finding{}, fmt.Errorf("share finding %s: %w", id, err)
	}
	return out, nil
}

// visibleAssessment loads an assessment and its case, both visible to a;
// one a may not see is ErrNotFound with the message of a missing one.
func visibleAssessment(ctx context.Context, st Store, a Actor, id string) (Assessment, Case, error) {
	as, err := st.GetAssessment(ctx, id)
	if err != nil {
		return Assessment{}, Case{}, err
	}
	c, err := getCase(ctx, st, a, as.CaseID)
	if err != nil {
		return Assessment{}, Case{}, err
	}
	if !a.seesAssessment(c, as) {
		return Assessment{}, Case{}, fmt.Errorf("get assessment %s: %w", id, ErrNotFound)
	}
	return as, c, nil
}

// visibleFinding loads a finding and its case, both visible to a; one a
// may not see is ErrNotFound with the message of a missing one.
func visibleFinding(ctx context.Context, st Store, a Actor, id string) (Finding, Case, error) {
	f, err := st.GetFinding(ctx, id)
	if err != nil {
		return Finding{}, Case{}, err
	}
	c, err := getCase(ctx, st, a, f.CaseID)
	if err != nil {
		return Finding{}, Case{}, err
	}
	if !a.seesFinding(c, f) {
		return Finding{}, Case{}, fmt.Errorf("get finding %s: %w", id, ErrNotFound)
	}
	return f, c, nil
}

// visibleRecords lists one page of a case's records that a may see,
// reading further pages of the store when some are hidden so that a
// short page still means the end.
func visibleRecords[T any](ctx context.Context, p Page, list func(Page) ([]T, error), id func(T) string, keep func(T) bool) ([]T, error) {
	var out []T
	for {
		xs, err := list(p)
		if err != nil {
			return nil, err
		}
		for _, x := range xs {
			if keep(x) {
				out = append(out, x)
				if len(out) == p.N() {
					return out, nil
				}
			}
		}
		if len(xs) < p.N() {
			return out, nil
		}
		p.After = id(xs[len(xs)-1])
	}
}
