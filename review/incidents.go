package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Incidents on each regime's clock (issue 18 part 2): the developer or
// the agency files an incident against a cleared decision; each profile
// of the decision's case that covers the incident's class turns it into
// duties (reports) with deadlines from its constants. A duty is due, then
// overdue when its deadline passes (a scheduled job, CheckDuty), or done
// when a report is filed for it; an intermediate or final duty is closed
// unfiled when the incident's resolution makes it moot.

// IncidentClass is the class of a filed incident.
type IncidentClass string

// Incident classes (policy.IncidentKinds names the same).
const (
	ClassCriticalInfrastructure IncidentClass = "critical_infrastructure"
	ClassCyber                  IncidentClass = "cyber" // including weight exfiltration
	ClassDeathOrInjury          IncidentClass = "death_or_injury"
	ClassSeriousHarm            IncidentClass = "serious_harm"
	ClassImminentRisk           IncidentClass = "imminent_risk"
)

// IncidentClasses lists the classes in order.
var IncidentClasses = []IncidentClass{ClassCriticalInfrastructure, ClassCyber, ClassDeathOrInjury, ClassSeriousHarm, ClassImminentRisk}

// IncidentInput files an incident.
type IncidentInput struct {
	// DecisionID is the cleared decision the incident is filed against.
	DecisionID string        `json:"decision_id"`
	Class      IncidentClass `json:"class"`
	// Summary says what happened.
	Summary string `json:"summary"`
	// DiscoveredAt is when the filer became aware of it: the clocks start
	// here. It may not be in the future.
	DiscoveredAt time.Time `json:"discovered_at"`
	// Evidence is the filer's evidence, as text (optional).
	Evidence string `json:"evidence,omitempty"`
}

// Incident is a filed incident.
type Incident struct {
	ID           string        `json:"id"`
	CaseID       string        `json:"case_id"`
	DecisionID   string        `json:"decision_id"`
	OrgID        string        `json:"org_id"` // the case's developer
	Class        IncidentClass `json:"class"`
	Summary      string        `json:"summary"`
	Evidence     string        `json:"evidence,omitempty"`
	DiscoveredAt time.Time     `json:"discovered_at"`
	FiledBy      string        `json:"filed_by"`
	// ResolvedAt is zero while the incident is open.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	Resolution string    `json:"resolution,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// DutyKind is what a duty asks for.
type DutyKind string

// Duty kinds.
const (
	DutyInitial      DutyKind = "initial"
	DutyIntermediate DutyKind = "intermediate"
	DutyFinal        DutyKind = "final"
	// DutyCondition is a scheduled duty: a condition of a decision
	// with a due date (such as a transparency report due at deployment).
	DutyCondition DutyKind = "condition"
)

// DutyState is where a duty stands.
type DutyState string

// Duty states.
const (
	DutyDue     DutyState = "due"
	DutyOverdue DutyState = "overdue"
	DutyDone    DutyState = "done"
	// DutyClosed: no longer owed (an intermediate report after the
	// incident was resolved).
	DutyClosed DutyState = "closed"
)

// Open reports whether the duty is still owed.
func (s DutyState) Open() bool { return s == DutyDue || s == DutyOverdue }

// Duty is a report owed to a regime by a deadline.
type Duty struct {
	ID         string   `json:"id"`
	CaseID     string   `json:"case_id"`
	IncidentID string   `json:"incident_id,omitempty"`
	Profile    string   `json:"profile"`
	Kind       DutyKind `json:"kind"`
	// Class is the profile's incident class id.
	Class string    `json:"class"`
	Title string    `json:"title"`
	To    string    `json:"to"`
	Cite  string    `json:"cite,omitempty"`
	DueAt time.Time `json:"due_at"`
	State DutyState `json:"state"`
	// ReportID is the report that did the duty (State done).
	ReportID  string    `json:"report_id,omitempty"`
	DoneAt    time.Time `json:"done_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
}

// IncidentReport is a report filed for a duty: a document generated from
// the incident, in Markdown and JSON.
type IncidentReport struct {
	ID         string          `json:"id"`
	IncidentID string          `json:"incident_id"`
	DutyID     string          `json:"duty_id"`
	CaseID     string          `json:"case_id"`
	Markdown   string          `json:"markdown"`
	Document   json.RawMessage `json:"document"`
	FiledBy    string          `json:"filed_by"`
	CreatedAt  time.Time       `json:"created_at"`
}

// IncidentFilter selects incidents; empty fields match everything.
type IncidentFilter struct {
	CaseID string
	OrgID  string
	Page
}

// DutyFilter selects duties; empty fields match everything. DueBefore,
// when set, selects duties due at or before it.
type DutyFilter struct {
	CaseID     string
	IncidentID string
	OrgID      string // the case's developer
	State      DutyState
	DueBefore  time.Time
	Page
}

// IncidentRule is one profile's incident class as the service applies
// it: which filed classes it covers, the initial report's clock, and the
// intermediate and final reports' intervals in calendar days (0: none).
type IncidentRule struct {
	Profile string
	Class   string
	Title   string
	To      string
	Cite    string
	Covers  []IncidentClass
	// Initial is the initial report's clock from discovery.
	Initial          ClockSpec
	IntermediateDays int
	FinalDays        int
	// From is when the profile is in force: an incident discovered
	// before it owes nothing (zero: always).
	From time.Time
}

// IncidentRules gives the incident rules of a case's profiles. The
// service's EvidenceChecker may implement it (cmd/clearance does, from
// the profiles); without it incidents are recorded with no duties.
type IncidentRules interface {
	IncidentRules(profiles []string) ([]IncidentRule, error)
}

// DutyScheduler may be implemented by the Scheduler: it schedules the
// check of a duty at its deadline (CheckDuty), as review clocks are.
type DutyScheduler interface {
	ScheduleDuty(ctx context.Context, dutyID string, due time.Time) error
}

// Limits on an incident's text.
const (
	maxIncidentSummary  = 8000
	maxIncidentEvidence = 64 << 10
	maxReportNote       = 8000
)

// ErrNotCleared is returned (wrapped with ErrInvalidInput) when an
// incident names a decision that cleared nothing.
var ErrNotCleared = errors.New("the decision cleared no profile")

func (in IncidentInput) validate(now time.Time) error {
	switch {
	case strings.TrimSpace(in.DecisionID) == "":
		return invalid("decision_id", "missing: name the cleared decision the incident is about")
	case !slices.Contains(IncidentClasses, in.Class):
		return invalid("class", "%q: want one of %v", in.Class, IncidentClasses)
	case strings.TrimSpace(in.Summary) == "":
		return invalid("summary", "missing: say what happened")
	case len(in.Summary) > maxIncidentSummary:
		return invalid("summary", "%d bytes exceeds the limit of %d", len(in.Summary), maxIncidentSummary)
	case !utf8.ValidString(in.Summary):
		return invalid("summary", "not valid UTF-8")
	case len(in.Evidence) > maxIncidentEvidence:
		return invalid("evidence", "%d bytes exceeds the limit of %d", len(in.Evidence), maxIncidentEvidence)
	case !utf8.ValidString(in.Evidence):
		return invalid("evidence", "not valid UTF-8")
	case in.DiscoveredAt.IsZero():
		return invalid("discovered_at", "missing: when the incident became known (RFC 3339)")
	case in.DiscoveredAt.After(now.Add(time.Minute)):
		return invalid("discovered_at", "%s is in the future", in.DiscoveredAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// mayFile reports whether a may file incidents and reports on case c it
// sees: the case's developer, or an official or reviewer of an agency.
func mayFile(a Actor, c Case) bool {
	switch {
	case a.Org.Kind == OrgDeveloper:
		return a.has(RoleDeveloper) && a.Org.ID == c.OrgID
	case a.Org.Kind == OrgAgency:
		return a.has(RoleOfficial) || a.has(RoleReviewer)
	}
	return false
}

// MayFileIncident reports whether a may file incidents and reports on
// case c (and resolve its incidents): the case's developer, or an
// official or reviewer of an agency. The service checks again.
func MayFileIncident(a Actor, c Case) bool { return mayFile(a, c) }

// DecisionCleared reports whether a decision cleared at least one
// profile, so that an incident may be filed against it.
func DecisionCleared(d Decision) bool {
	cleared, _ := incidentProfiles(d)
	return cleared
}

// incidentProfiles returns whether a decision cleared any profile (with
// or without conditions) and the profiles whose clocks an incident runs
// on: every profile of the decision but those it found not applicable. A
// profile not yet in force at the decision still counts: its rules' From
// decides per incident (New York's from 2027-01-01).
func incidentProfiles(d Decision) (cleared bool, profiles []string) {
	var m map[string]json.RawMessage
	if json.Unmarshal(d.Outcomes, &m) != nil {
		return false, nil
	}
	for p, v := range m {
		e, ok := ParseOutcomeEntry(v)
		if !ok || e.Outcome == "not_applicable" {
			continue
		}
		cleared = cleared || e.Outcome == "cleared" || e.Outcome == "cleared_with_conditions"
		profiles = append(profiles, p)
	}
	slices.Sort(profiles)
	return cleared, profiles
}

func (s *Service) incidentRules(profiles []string) ([]IncidentRule, error) {
	r, ok := s.evidence.(IncidentRules)
	if !ok || len(profiles) == 0 {
		return nil, nil
	}
	return r.IncidentRules(profiles)
}

// IncidentDuties returns the initial (and first intermediate) duties
// the rules owe for an incident of class discovered at: one per rule that
// covers the class and is in force at discovery. It is the deadline
// computation, without ids or storage.
func IncidentDuties(rules []IncidentRule, class IncidentClass, discovered time.Time) ([]Duty, error) {
	var out []Duty
	for _, r := range rules {
		if !slices.Contains(r.Covers, class) || (!r.From.IsZero() && discovered.Before(r.From)) {
			continue
		}
		spec := r.Initial
		spec.OnExpiry = "overdue"
		clk, err := NewClock(spec, discovered)
		if err != nil {
			return nil, fmt.Errorf("profile %s incident class %s: %w", r.Profile, r.Class, err)
		}
		base := Duty{Profile: r.Profile, Class: r.Class, Title: r.Title, To: r.To, Cite: r.Cite, State: DutyDue}
		d := base
		d.Kind, d.DueAt = DutyInitial, clk.Deadline(discovered)
		out = append(out, d)
		if r.IntermediateDays > 0 {
			d := base
			d.Kind, d.DueAt = DutyIntermediate, discovered.UTC().AddDate(0, 0, r.IntermediateDays)
			d.Title = "intermediate report: " + r.Title
			out = append(out, d)
		}
	}
	return out, nil
}

// FileIncident records an incident against a cleared decision and the
// duties the case's profiles (those the decision cleared) derive from it.
// The case's developer, or an agency's officials and reviewers who see
// the case, only; anyone else gets ErrNotFound (a case they do not see)
// or ErrForbidden. Audited as "incident.filed".
func (s *Service) FileIncident(ctx context.Context, a Actor, in IncidentInput) (Incident, []Duty, error) {
	const action = "file incident"
	now := s.stamp()
	if err := in.validate(now); err != nil {
		return Incident{}, nil, fmt.Errorf("%s: %w", action, err)
	}
	d, err := s.store.GetDecision(ctx, in.DecisionID)
	if err != nil {
		return Incident{}, nil, fmt.Errorf("%s: decision %s: %w", action, in.DecisionID, err)
	}
	c, err := getCase(ctx, s.store, a, d.CaseID)
	if err != nil {
		// A decision of a case the actor does not see does not exist for it.
		return Incident{}, nil, fmt.Errorf("%s: decision %s: %w", action, in.DecisionID, ErrNotFound)
	}
	if !mayFile(a, c) {
		return Incident{}, nil, forbidden(action, RoleDeveloper, RoleOfficial, RoleReviewer)
	}
	cleared, profiles := incidentProfiles(d)
	if !cleared {
		return Incident{}, nil, fmt.Errorf("%s: decision %s: %w: %w", action, d.ID, ErrNotCleared, ErrInvalidInput)
	}
	rules, err := s.incidentRules(profiles)
	if err != nil {
		return Incident{}, nil, fmt.Errorf("%s: %w", action, err)
	}
	inc := Incident{CaseID: c.ID, DecisionID: d.ID, OrgID: c.OrgID, Class: in.Class, Summary: in.Summary,
		Evidence: in.Evidence, DiscoveredAt: AuditTime(in.DiscoveredAt), FiledBy: a.User.ID, CreatedAt: now}
	if inc.ID, err = newID("inc", now); err != nil {
		return Incident{}, nil, err
	}
	duties, err := IncidentDuties(rules, inc.Class, inc.DiscoveredAt)
	if err != nil {
		return Incident{}, nil, fmt.Errorf("%s: %w", action, err)
	}
	for i := range duties {
		if err := s.newDuty(&duties[i], inc, now); err != nil {
			return Incident{}, nil, err
		}
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := tx.CreateIncident(ctx, inc); err != nil {
			return err
		}
		for _, du := range duties {
			if err := tx.CreateDuty(ctx, du); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "incident.filed", c.ID, map[string]any{
			"incident": inc.ID, "decision": d.ID, "class": inc.Class, "discovered_at": inc.DiscoveredAt, "duties": len(duties)})
	})
	if err != nil {
		return Incident{}, nil, fmt.Errorf("%s in case %s: %w", action, c.ID, err)
	}
	s.scheduleDuties(ctx, duties)
	return inc, duties, nil
}

// newDuty completes a duty of incident inc: its id, case and state (a
// duty already past its deadline at now starts overdue).
func (s *Service) newDuty(d *Duty, inc Incident, now time.Time) error {
	var err error
	if d.ID, err = newID("duty", now); err != nil {
		return err
	}
	d.CaseID, d.IncidentID, d.CreatedAt, d.DueAt = inc.CaseID, inc.ID, now, AuditTime(d.DueAt)
	d.State = DutyDue
	if !now.Before(d.DueAt) {
		d.State = DutyOverdue
	}
	return nil
}

func (s *Service) scheduleDuties(ctx context.Context, duties []Duty) {
	ds, ok := s.scheduler.(DutyScheduler)
	if !ok {
		return
	}
	for _, d := range duties {
		if d.State != DutyDue {
			continue
		}
		if err := ds.ScheduleDuty(ctx, d.ID, d.DueAt); err != nil {
			s.log.WarnContext(ctx, "schedule duty check", "duty", d.ID, "err", err)
		}
	}
}

// visibleCase loads the case of an incident or duty for a, as getCase.
func (s *Service) visibleCase(ctx context.Context, a Actor, caseID string, cache map[string]bool) bool {
	if ok, seen := cache[caseID]; seen {
		return ok
	}
	_, err := getCase(ctx, s.store, a, caseID)
	cache[caseID] = err == nil
	return err == nil
}

// ListIncidents lists the incidents a sees: of one case (f.CaseID), or
// of every case a sees. A developer sees its own organisation's only.
func (s *Service) ListIncidents(ctx context.Context, a Actor, f IncidentFilter) ([]Incident, error) {
	if f.CaseID != "" {
		if _, err := getCase(ctx, s.store, a, f.CaseID); err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
	}
	if a.Org.Kind == OrgDeveloper {
		f.OrgID = a.Org.ID
	}
	is, err := s.store.ListIncidents(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	cache := map[string]bool{}
	return slices.DeleteFunc(is, func(i Incident) bool { return !s.visibleCase(ctx, a, i.CaseID, cache) }), nil
}

// IncidentView is an incident with its duties and reports.
type IncidentView struct {
	Incident
	Duties  []Duty           `json:"duties"`
	Reports []IncidentReport `json:"reports"`
}

// GetIncident returns an incident a sees, with its duties and reports.
func (s *Service) GetIncident(ctx context.Context, a Actor, id string) (IncidentView, error) {
	inc, err := s.store.GetIncident(ctx, id)
	if err != nil {
		return IncidentView{}, fmt.Errorf("get incident %s: %w", id, err)
	}
	if _, err := getCase(ctx, s.store, a, inc.CaseID); err != nil {
		return IncidentView{}, fmt.Errorf("get incident %s: %w", id, ErrNotFound)
	}
	v := IncidentView{Incident: inc}
	if v.Duties, err = s.store.ListDuties(ctx, DutyFilter{IncidentID: id, Page: Page{Limit: MaxPageLimit}}); err != nil {
		return IncidentView{}, fmt.Errorf("get incident %s: %w", id, err)
	}
	if v.Reports, err = s.store.ListIncidentReports(ctx, id, Page{Limit: MaxPageLimit}); err != nil {
		return IncidentView{}, fmt.Errorf("get incident %s: %w", id, err)
	}
	v.Duties, v.Reports = nonNilSlice(v.Duties), nonNilSlice(v.Reports)
	return v, nil
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ListDuties lists the duties a sees, by id, as ListIncidents.
func (s *Service) ListDuties(ctx context.Context, a Actor, f DutyFilter) ([]Duty, error) {
	if f.CaseID != "" {
		if _, err := getCase(ctx, s.store, a, f.CaseID); err != nil {
			return nil, fmt.Errorf("list duties: %w", err)
		}
	}
	switch f.State {
	case "", DutyDue, DutyOverdue, DutyDone, DutyClosed:
	default:
		return nil, fmt.Errorf("list duties: %w", invalid("state", "%q: want due, overdue, done or closed", f.State))
	}
	if a.Org.Kind == OrgDeveloper {
		f.OrgID = a.Org.ID
	}
	ds, err := s.store.ListDuties(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list duties: %w", err)
	}
	cache := map[string]bool{}
	return slices.DeleteFunc(ds, func(d Duty) bool { return !s.visibleCase(ctx, a, d.CaseID, cache) }), nil
}

// CheckDuty marks a duty overdue once its deadline has passed and it is
// still due, auditing "duty.overdue"; it reports whether it changed the
// duty. It is the service's own action, called by the duty's scheduled
// job (and SweepDuties).
func (s *Service) CheckDuty(ctx context.Context, dutyID string) (Duty, bool, error) {
	var out Duty
	var changed bool
	err := s.store.Tx(ctx, func(tx Store) error {
		d, err := tx.GetDuty(ctx, dutyID)
		if err != nil {
			return err
		}
		out = d
		if d.State != DutyDue || s.now().Before(d.DueAt) {
			return nil
		}
		d.State = DutyOverdue
		if err := tx.UpdateDuty(ctx, d, DutyDue); err != nil {
			return err
		}
		out, changed = d, true
		return s.audit(ctx, tx, SystemActor(), "duty.overdue", d.CaseID, map[string]any{
			"duty": d.ID, "incident": d.IncidentID, "profile": d.Profile, "kind": d.Kind, "due_at": d.DueAt})
	})
	if err != nil {
		return Duty{}, false, fmt.Errorf("check duty %s: %w", dutyID, err)
	}
	return out, changed, nil
}

// SweepDuties checks every due duty whose deadline has passed (a
// backstop for lost jobs) and returns how many it marked overdue.
func (s *Service) SweepDuties(ctx context.Context) (int, error) {
	ds, err := s.store.ListDuties(ctx, DutyFilter{State: DutyDue, DueBefore: s.now(), Page: Page{Limit: MaxPageLimit}})
	if err != nil {
		return 0, fmt.Errorf("sweep duties: %w", err)
	}
	n := 0
	for _, d := range ds {
		_, changed, err := s.CheckDuty(ctx, d.ID)
		if err != nil && !errors.Is(err, ErrConflict) {
			return n, err
		}
		if changed {
			n++
		}
	}
	return n, nil
}

// ReportInput files a report for a duty.
type ReportInput struct {
	// Note is the filer's text added to the generated report (optional).
	Note string `json:"note,omitempty"`
}

// FileReport generates the report a duty asks for from its incident
// (Markdown and JSON), records it and marks the duty done with the
// report's id. An intermediate report on an unresolved incident owes the
// next one, due the profile's interval later. Filers as FileIncident; the
// duty must be due or overdue. Audited as "incident.reported".
func (s *Service) FileReport(ctx context.Context, a Actor, dutyID string, in ReportInput) (IncidentReport, error) {
	const action = "file incident report"
	if len(in.Note) > maxReportNote {
		return IncidentReport{}, fmt.Errorf("%s: %w", action, invalid("note", "%d bytes exceeds the limit of %d", len(in.Note), maxReportNote))
	}
	if !utf8.ValidString(in.Note) {
		return IncidentReport{}, fmt.Errorf("%s: %w", action, invalid("note", "not valid UTF-8"))
	}
	d, err := s.store.GetDuty(ctx, dutyID)
	if err != nil {
		return IncidentReport{}, fmt.Errorf("%s: duty %s: %w", action, dutyID, err)
	}
	c, err := getCase(ctx, s.store, a, d.CaseID)
	if err != nil {
		return IncidentReport{}, fmt.Errorf("%s: duty %s: %w", action, dutyID, ErrNotFound)
	}
	if !mayFile(a, c) {
		return IncidentReport{}, forbidden(action, RoleDeveloper, RoleOfficial, RoleReviewer)
	}
	if !d.State.Open() {
		return IncidentReport{}, fmt.Errorf("%s: duty %s is %s: %w", action, d.ID, d.State, ErrInvalidTransition)
	}
	var inc Incident // none for a scheduled duty
	if d.IncidentID != "" {
		if inc, err = s.store.GetIncident(ctx, d.IncidentID); err != nil {
			return IncidentReport{}, fmt.Errorf("%s: incident %s: %w", action, d.IncidentID, err)
		}
	}
	now := s.stamp()
	r := IncidentReport{IncidentID: inc.ID, DutyID: d.ID, CaseID: c.ID, FiledBy: a.User.ID, CreatedAt: now}
	if r.ID, err = newID("rpt", now); err != nil {
		return IncidentReport{}, err
	}
	if r.Markdown, r.Document, err = renderReport(r, inc, d, in.Note); err != nil {
		return IncidentReport{}, fmt.Errorf("%s: %w", action, err)
	}
	var next []Duty
	if d.Kind == DutyIntermediate && inc.ID != "" && inc.ResolvedAt.IsZero() {
		if days := s.intermediateDays(c, d); days > 0 {
			n := Duty{Profile: d.Profile, Kind: DutyIntermediate, Class: d.Class, Title: d.Title, To: d.To, Cite: d.Cite,
				DueAt: now.AddDate(0, 0, days)}
			if err := s.newDuty(&n, inc, now); err != nil {
				return IncidentReport{}, err
			}
			next = append(next, n)
		}
	}
	if d.Kind == DutyScheduled {
		n, ok, err := s.nextScheduled(d, now)
		if err != nil {
			return IncidentReport{}, fmt.Errorf("%s: %w", action, err)
		}
		if ok {
			next = append(next, n)
		}
	}
	from := d.State
	d.State, d.ReportID, d.DoneAt = DutyDone, r.ID, now
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := tx.UpdateDuty(ctx, d, from); err != nil {
			return err
		}
		if err := tx.CreateIncidentReport(ctx, r); err != nil {
			return err
		}
		for _, n := range next {
			if err := tx.CreateDuty(ctx, n); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "incident.reported", c.ID, map[string]any{
			"incident": inc.ID, "duty": d.ID, "report": r.ID, "profile": d.Profile, "kind": d.Kind, "late": now.After(d.DueAt)})
	})
	if err != nil {
		return IncidentReport{}, fmt.Errorf("%s for duty %s: %w", action, d.ID, err)
	}
	s.scheduleDuties(ctx, next)
	return r, nil
}

// intermediateDays is the interval of a duty's profile class, 0 when the
// profile no longer states one.
func (s *Service) intermediateDays(c Case, d Duty) int {
	rules, err := s.incidentRules([]string{d.Profile})
	if err != nil {
		return 0
	}
	for _, r := range rules {
		if r.Profile == d.Profile && r.Class == d.Class {
			return r.IntermediateDays
		}
	}
	return 0
}

// ResolveIncident records that an incident is resolved: the open
// intermediate duties are closed and, for each profile class that asks
// for one, a final report is due its interval after resolution. Filers
// as FileIncident. Audited as "incident.resolved".
func (s *Service) ResolveIncident(ctx context.Context, a Actor, id, resolution string) (IncidentView, error) {
	const action = "resolve incident"
	switch {
	case strings.TrimSpace(resolution) == "":
		return IncidentView{}, fmt.Errorf("%s: %w", action, invalid("resolution", "missing: say how it was resolved"))
	case len(resolution) > maxIncidentSummary:
		return IncidentView{}, fmt.Errorf("%s: %w", action, invalid("resolution", "%d bytes exceeds the limit of %d", len(resolution), maxIncidentSummary))
	case !utf8.ValidString(resolution):
		return IncidentView{}, fmt.Errorf("%s: %w", action, invalid("resolution", "not valid UTF-8"))
	}
	inc, err := s.store.GetIncident(ctx, id)
	if err != nil {
		return IncidentView{}, fmt.Errorf("%s %s: %w", action, id, err)
	}
	c, err := getCase(ctx, s.store, a, inc.CaseID)
	if err != nil {
		return IncidentView{}, fmt.Errorf("%s %s: %w", action, id, ErrNotFound)
	}
	if !mayFile(a, c) {
		return IncidentView{}, forbidden(action, RoleDeveloper, RoleOfficial, RoleReviewer)
	}
	if !inc.ResolvedAt.IsZero() {
		return IncidentView{}, fmt.Errorf("%s %s: already resolved at %s: %w", action, id, inc.ResolvedAt.Format(time.RFC3339), ErrInvalidTransition)
	}
	existing, err := s.store.ListDuties(ctx, DutyFilter{IncidentID: id, Page: Page{Limit: MaxPageLimit}})
	if err != nil {
		return IncidentView{}, fmt.Errorf("%s %s: %w", action, id, err)
	}
	now := s.stamp()
	inc.ResolvedAt, inc.Resolution = now, resolution
	// One final report per profile class that had duties for this incident.
	var finals []Duty
	seen := map[string]bool{}
	for _, d := range existing {
		key := d.Profile + "\x00" + d.Class
		if seen[key] {
			continue
		}
		seen[key] = true
		rules, err := s.incidentRules([]string{d.Profile})
		if err != nil {
			return IncidentView{}, fmt.Errorf("%s %s: %w", action, id, err)
		}
		for _, r := range rules {
			if r.Class != d.Class || r.FinalDays <= 0 {
				continue
			}
			f := Duty{Profile: d.Profile, Kind: DutyFinal, Class: d.Class, Title: "final report: " + r.Title, To: r.To, Cite: r.Cite,
				DueAt: now.AddDate(0, 0, r.FinalDays)}
			if err := s.newDuty(&f, inc, now); err != nil {
				return IncidentView{}, err
			}
			finals = append(finals, f)
		}
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := tx.UpdateIncident(ctx, inc); err != nil {
			return err
		}
		for _, d := range existing {
			if d.Kind != DutyIntermediate || !d.State.Open() {
				continue
			}
			from := d.State
			d.State, d.DoneAt = DutyClosed, now
			if err := tx.UpdateDuty(ctx, d, from); err != nil {
				return err
			}
		}
		for _, f := range finals {
			if err := tx.CreateDuty(ctx, f); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "incident.resolved", c.ID, map[string]any{"incident": id, "final_duties": len(finals)})
	})
	if err != nil {
		return IncidentView{}, fmt.Errorf("%s %s: %w", action, id, err)
	}
	s.scheduleDuties(ctx, finals)
	return s.GetIncident(ctx, a, id)
}

// GetIncidentReport returns a report a sees.
func (s *Service) GetIncidentReport(ctx context.Context, a Actor, id string) (IncidentReport, error) {
	r, err := s.store.GetIncidentReport(ctx, id)
	if err != nil {
		return IncidentReport{}, fmt.Errorf("get incident report %s: %w", id, err)
	}
	if _, err := getCase(ctx, s.store, a, r.CaseID); err != nil {
		return IncidentReport{}, fmt.Errorf("get incident report %s: %w", id, ErrNotFound)
	}
	return r, nil
}

// reportDoc is a report's JSON document.
type reportDoc struct {
	Type     string    `json:"type"`
	ID       string    `json:"id"`
	Kind     DutyKind  `json:"kind"`
	Profile  string    `json:"profile"`
	Class    string    `json:"class"`
	To       string    `json:"to"`
	Cite     string    `json:"cite,omitempty"`
	DueAt    time.Time `json:"due_at"`
	FiledAt  time.Time `json:"filed_at"`
	Late     bool      `json:"late"`
	Incident *Incident `json:"incident,omitempty"`
	Note     string    `json:"note,omitempty"`
}

// renderReport generates a report's Markdown and JSON from its incident
// and duty.
func renderReport(r IncidentReport, inc Incident, d Duty, note string) (string, json.RawMessage, error) {
	doc := reportDoc{Type: "incident_report", ID: r.ID, Kind: d.Kind, Profile: d.Profile, Class: d.Class, To: d.To, Cite: d.Cite,
		DueAt: d.DueAt, FiledAt: r.CreatedAt, Late: r.CreatedAt.After(d.DueAt), Note: note}
	if inc.ID != "" {
		doc.Incident = &inc
	}
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", nil, fmt.Errorf("render report: %w", err)
	}
	var b strings.Builder
	what := "incident report"
	if inc.ID == "" {
		what = "report" // a scheduled or condition duty's
	}
	fmt.Fprintf(&b, "# %s %s %s\n\n", strings.ToUpper(string(d.Kind[:1]))+string(d.Kind[1:]), what, r.ID)
	fmt.Fprintf(&b, "- Regime: %s (%s)\n- To: %s\n", d.Profile, d.Title, d.To)
	if d.Cite != "" {
		fmt.Fprintf(&b, "- Basis: %s\n", d.Cite)
	}
	fmt.Fprintf(&b, "- Due: %s\n- Filed: %s", d.DueAt.Format(time.RFC3339), r.CreatedAt.Format(time.RFC3339))
	if doc.Late {
		b.WriteString(" (late)")
	}
	if inc.ID == "" {
		fmt.Fprintf(&b, "\n\n## Duty\n\n- Case: %s\n- %s\n", d.CaseID, d.Title)
		if note != "" {
			fmt.Fprintf(&b, "\n### Note\n\n%s\n", note)
		}
		return b.String(), js, nil
	}
	fmt.Fprintf(&b, "\n\n## Incident %s\n\n- Case: %s\n- Decision: %s\n- Class: %s\n- Discovered: %s\n",
		inc.ID, inc.CaseID, inc.DecisionID, inc.Class, inc.DiscoveredAt.Format(time.RFC3339))
	if !inc.ResolvedAt.IsZero() {
		fmt.Fprintf(&b, "- Resolved: %s\n", inc.ResolvedAt.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "\n### What happened\n\n%s\n", inc.Summary)
	if inc.Evidence != "" {
		fmt.Fprintf(&b, "\n### Evidence\n\n%s\n", inc.Evidence)
	}
	if inc.Resolution != "" {
		fmt.Fprintf(&b, "\n### Resolution\n\n%s\n", inc.Resolution)
	}
	if note != "" {
		fmt.Fprintf(&b, "\n### Note\n\n%s\n", note)
	}
	return b.String(), js, nil
}

// conditionDuties records, inside the decision's transaction, a scheduled
// duty for each condition of d that has a due date ({"text", "due"} with
// due RFC 3339 or YYYY-MM-DD), per profile. A condition without a date,
// or with one that does not parse, owes no clock and is left as text.
func (s *Service) conditionDuties(ctx context.Context, tx Store, d Decision) ([]Duty, error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(d.Outcomes, &m) != nil {
		return nil, nil
	}
	profiles := make([]string, 0, len(m))
	for p := range m {
		profiles = append(profiles, p)
	}
	slices.Sort(profiles)
	now := s.stamp()
	var out []Duty
	for _, p := range profiles {
		var o struct {
			Conditions []json.RawMessage `json:"conditions"`
		}
		if json.Unmarshal(m[p], &o) != nil {
			continue
		}
		for _, raw := range o.Conditions {
			var c struct{ Text, Due string }
			if json.Unmarshal(raw, &c) != nil || strings.TrimSpace(c.Text) == "" || c.Due == "" {
				continue
			}
			due, err := time.Parse(time.RFC3339, c.Due)
			if err != nil {
				if due, err = time.Parse(time.DateOnly, c.Due); err != nil {
					continue
				}
			}
			du := Duty{CaseID: d.CaseID, Profile: p, Kind: DutyCondition, Class: "condition", Title: c.Text,
				To: "the reviewing agency", Cite: "decision " + d.ID, DueAt: AuditTime(due), State: DutyDue, CreatedAt: now}
			if !now.Before(du.DueAt) {
				du.State = DutyOverdue
			}
			if du.ID, err = newID("duty", now); err != nil {
				return nil, err
			}
			if err := tx.CreateDuty(ctx, du); err != nil {
				return nil, err
			}
			out = append(out, du)
		}
	}
	return out, nil
}
