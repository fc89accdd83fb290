package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// clockView is a review clock as the UI shows it: Text says it in words
// (so it is readable without colour), Class adds the colour.
type clockView struct {
	Text     string
	Class    string // "", "soon", "overdue", "paused"
	Deadline time.Time
}

// soonDays is when a deadline starts to be marked as near.
const soonDays = 7

func viewClock(c review.Case, now time.Time) clockView {
	if c.Clock == nil {
		return clockView{Text: "no clock"}
	}
	k := *c.Clock
	dl := k.Deadline(now)
	switch {
	case c.State == review.StateDecided || c.State == review.StateWithdrawn:
		return clockView{Text: "closed (" + label(c.State) + ")", Deadline: dl}
	case !k.Running():
		return clockView{Text: "paused: " + daysText(k.Remaining(now)) + " left when it resumes", Class: "paused", Deadline: dl}
	}
	rem := k.Remaining(now)
	if rem <= 0 {
		return clockView{Text: "OVERDUE since " + dl.UTC().Format("2006-01-02"), Class: "overdue", Deadline: dl}
	}
	v := clockView{Text: daysText(rem) + " left", Deadline: dl}
	if rem <= soonDays*24*time.Hour {
		v.Class = "soon"
	}
	return v
}

func daysText(d time.Duration) string {
	n := int(math.Ceil(d.Hours() / 24))
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

func label(s review.State) string { return strings.ReplaceAll(string(s), "_", " ") }

type caseRow struct {
	Case  review.Case
	Clock clockView
	// People are the names of the staff assigned to the case.
	People []string
	// Developer is the name of the developer organisation.
	Developer string
	// Outcomes are the latest decision's outcome per profile, sorted by
	// profile; nil while the case is undecided.
	Outcomes []outcomeRow
}

type casesPage struct {
	base
	States []review.State
	State  string
	Query  string
	Rows   []caseRow
	Next   string // path of the next page, "" when none
	Err    string
}

// caseList lists the cases the actor may see, newest first within a page,
// filtered by state and a search over id, model name, digest and profiles.
func (h *Handler) caseList(w http.ResponseWriter, r *http.Request, u user) {
	q := r.URL.Query()
	d := &casesPage{base: base{Title: "Cases", Nav: "cases"}, States: review.States(),
		State: q.Get("state"), Query: strings.TrimSpace(q.Get("q"))}
	d.setUser(u)
	f := review.CaseFilter{Page: review.Page{After: q.Get("after"), Limit: review.MaxPageLimit}}
	if d.State != "" {
		if !slices.Contains(review.States(), review.State(d.State)) {
			d.Err = "Unknown state " + quote(d.State) + "; choose one from the list."
			h.render(w, r, http.StatusUnprocessableEntity, "cases", d)
			return
		}
		f.State = review.State(d.State)
	}
	cs, err := h.svc.ListCases(r.Context(), u.Actor, f)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	now := h.now()
	needle := strings.ToLower(d.Query)
	for _, c := range cs {
		if needle != "" && !matches(c, needle) {
			continue
		}
		d.Rows = append(d.Rows, caseRow{Case: c, Clock: viewClock(c, now)})
	}
	var ids []string
	for _, row := range d.Rows {
		ids = append(ids, row.Case.Assignees...)
	}
	names, err := h.svc.UserNames(r.Context(), u.Actor, ids)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	var orgIDs []string
	for _, row := range d.Rows {
		orgIDs = append(orgIDs, row.Case.OrgID)
	}
	orgs, err := h.svc.OrgNames(r.Context(), u.Actor, orgIDs)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	for i := range d.Rows {
		row := &d.Rows[i]
		for _, id := range row.Case.Assignees {
			row.People = append(row.People, names[id])
		}
		row.Developer = orgs[row.Case.OrgID]
		if row.Outcomes, err = h.latestOutcomes(r, u, row.Case); err != nil {
			h.serviceError(w, r, err)
			return
		}
	}
	// Overdue and nearest deadlines first: the list is a work queue.
	sort.SliceStable(d.Rows, func(i, j int) bool {
		a, b := d.Rows[i].Clock, d.Rows[j].Clock
		if (a.Deadline.IsZero() || a.Class == "") != (b.Deadline.IsZero() || b.Class == "") {
			return a.Class != "" && !a.Deadline.IsZero()
		}
		return a.Deadline.Before(b.Deadline)
	})
	if len(cs) == f.Page.N() {
		v := q
		v.Set("after", cs[len(cs)-1].ID)
		// The whole path: html/template escapes a query string
		// interpolated after a "?" into one broken key.
		d.Next = "/cases?" + v.Encode()
	}
	h.render(w, r, http.StatusOK, "cases", d)
}

// latestOutcomes returns the outcomes of a case's latest decision, nil
// when it has none. Only cases that reached a decision are asked.
func (h *Handler) latestOutcomes(r *http.Request, u user, c review.Case) ([]outcomeRow, error) {
	switch c.State {
	case review.StateDecided, review.StateAppealed:
	default:
		return nil, nil
	}
	var last review.Decision
	p := review.Page{Limit: review.MaxPageLimit}
	for {
		ds, err := h.svc.Decisions(r.Context(), u.Actor, c.ID, p)
		if err != nil {
			return nil, err
		}
		if len(ds) > 0 {
			last = ds[len(ds)-1]
		}
		if len(ds) < p.N() {
			break
		}
		p.After = last.ID
	}
	if last.ID == "" {
		return nil, nil
	}
	return outcomeRows(last.Outcomes), nil
}

func matches(c review.Case, needle string) bool {
	hay := strings.ToLower(strings.Join(append([]string{c.ID, c.ModelName, c.ModelDigest}, c.Profiles...), " "))
	return strings.Contains(hay, needle)
}

// findingView is a finding with its responses and deadline state.
type findingView struct {
	review.Finding
	Responses []review.Response
	Overdue   bool
	DueText   string
}

// actions are what the actor's roles allow on the case in its state.
// They decide which forms are shown; the service checks again.
type actions struct {
	Schedule    bool
	Finding     bool
	Respond     bool
	Resolve     bool // reviewer or official: mark resolved
	Reopen      bool // reviewer
	AcceptRisk  bool // official
	Decide      bool
	Appeal      bool
	Assign      bool // official or admin: assign staff
	Transitions []review.State
}

func (a actions) Any() bool {
	return a.Schedule || a.Finding || a.Decide || a.Appeal || a.Assign || len(a.Transitions) > 0
}

type timelineEntry struct {
	review.AuditEntry
	Text string
}

type casePage struct {
	base
	Case    review.Case
	Clock   clockView
	Dossier []dossierField
	// Events are the dossier's events, oldest first (a timeline).
	Events []dossierEvent
	Matrix *matrixView
	Runs   []assessmentView
	// Cohort is the model beside its reference models (cohort.go).
	Cohort *cohortView
	// Sweeps are the case's token-budget sweeps, newest first (sweep.go).
	Sweeps   []sweepView
	Findings []findingView
	// Decisions and Appeals, oldest first.
	Decisions []review.Decision
	Appeals   []review.Appeal
	// Recognised is other authorities' evidence recognised in the case.
	Recognised []review.Recognition
	// Incidents filed against the case's decisions, with their duties.
	Incidents []incidentCard
	// Filing is the case's scheduled duties and the incident forms
	// (incident_forms.go).
	Filing incidentFiling
	// Conformance is the endpoint fingerprints and conformance checks;
	// nil when there are none (conformance.go).
	Conformance *conformanceCard
	// Prior is the case a modified model's case re-reviews; nil if none.
	Prior *priorView
	// Campaign is the red-team campaign's section (campaign.go).
	Campaign *campaignCard
	Timeline []timelineEntry
	Can      actions
	Forms    map[string]*form
	// Choices for the forms.
	Severities []review.Severity
	Outcomes   []string
	// Names maps the user ids on the page to display names.
	Names map[string]string
	// Staff are the people the case may be assigned to (for officials).
	Staff []review.User
	// Orgs maps the ids of a joint review's agencies to their names.
	Orgs map[string]string
	// Concurrence is a joint review's consultation; nil otherwise.
	Concurrence *review.Concurrence
}

type dossierField struct {
	Key   string
	Value string
}

// Display is the value as people read it (formatDossierValue).
func (f dossierField) Display() string { return formatDossierValue(f.Key, f.Value) }

// maxTimeline bounds the audit entries shown on a case page.
const maxTimeline = 200

// loadCase builds the case page for u, or returns the service's error.
func (h *Handler) loadCase(r *http.Request, u user, id string) (*casePage, error) {
	ctx := r.Context()
	c, err := h.svc.GetCase(ctx, u.Actor, id)
	if err != nil {
		return nil, err
	}
	now := h.now()
	d := &casePage{base: base{Title: c.ModelName + " — case", Nav: "cases"}, Case: c, Clock: viewClock(c, now),
		Forms: map[string]*form{}, Severities: []review.Severity{review.SeverityCritical, review.SeverityHigh,
			review.SeverityModerate, review.SeverityLow}}
	d.setUser(u)
	d.Events, d.Dossier = dossierEvents(dossierFields(c.Dossier))
	fs, err := h.svc.Findings(ctx, u.Actor, c.ID, review.Page{Limit: review.MaxPageLimit})
	if err != nil {
		return nil, err
	}
	rs, err := h.svc.Responses(ctx, u.Actor, c.ID, "", review.Page{Limit: review.MaxPageLimit})
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		v := findingView{Finding: f}
		for _, rsp := range rs {
			if rsp.FindingID == f.ID {
				v.Responses = append(v.Responses, rsp)
			}
		}
		live := f.Status == review.FindingOpen || f.Status == review.FindingResponded
		switch rem := f.Deadline.Sub(now); {
		case !live:
			v.DueText = "was due " + f.Deadline.UTC().Format("2006-01-02")
		case rem <= 0:
			v.Overdue = true
			v.DueText = "OVERDUE since " + f.Deadline.UTC().Format("2006-01-02")
		default:
			v.DueText = "due " + f.Deadline.UTC().Format("2006-01-02") + " (" + daysText(rem) + " left)"
		}
		d.Findings = append(d.Findings, v)
	}
	if d.Decisions, err = h.svc.Decisions(ctx, u.Actor, c.ID, review.Page{Limit: review.MaxPageLimit}); err != nil {
		return nil, err
	}
	if d.Appeals, err = h.svc.Appeals(ctx, u.Actor, c.ID, review.Page{Limit: review.MaxPageLimit}); err != nil {
		return nil, err
	}
	if d.Recognised, err = h.svc.ListRecognitions(ctx, u.Actor, c.ID, review.Page{Limit: review.MaxPageLimit}); err != nil {
		return nil, err
	}
	if d.Incidents, err = h.caseIncidents(ctx, u.Actor, c.ID); err != nil {
		return nil, err
	}
	if d.Filing, err = h.incidentFiling(ctx, u.Actor, c, d.Decisions); err != nil {
		return nil, err
	}
	if d.Conformance, err = h.conformanceCard(ctx, u.Actor, c.ID); err != nil {
		return nil, err
	}
	if d.Campaign, err = h.campaignCard(ctx, u, c); err != nil {
		return nil, err
	}
	audit, err := h.svc.CaseAudit(ctx, u.Actor, c.ID, 0, maxTimeline)
	if err != nil && !errors.Is(err, review.ErrForbidden) {
		return nil, err
	}
	for _, e := range audit {
		d.Timeline = append(d.Timeline, timelineEntry{AuditEntry: e, Text: auditText(e)})
	}
	if d.Runs, err = h.assessmentViews(r, u, c.ID); err != nil {
		return nil, err
	}
	if err = h.markReferences(ctx, u.Actor, c.ID, d.Runs); err != nil {
		return nil, err
	}
	runs := make([]review.Assessment, 0, len(d.Runs))
	for _, rv := range d.Runs {
		runs = append(runs, rv.Assessment)
	}
	if d.Prior, err = h.priorView(ctx, u.Actor, c, d.Decisions, runs); err != nil {
		return nil, err
	}
	if d.Cohort, err = h.cohort(ctx, u.Actor, c.ID); err != nil {
		return nil, err
	}
	if d.Sweeps, err = h.sweeps(ctx, u.Actor, c.ID); err != nil {
		return nil, err
	}
	var ids []string
	for _, f := range d.Findings {
		ids = append(ids, f.CreatedBy)
		for _, rsp := range f.Responses {
			ids = append(ids, rsp.AuthorID)
		}
	}
	for _, rc := range d.Recognised {
		ids = append(ids, rc.ImportedBy)
	}
	for _, e := range d.Timeline {
		ids = append(ids, e.Actor)
	}
	ids = append(ids, c.Assignees...)
	if d.Names, err = h.svc.UserNames(ctx, u.Actor, ids); err != nil {
		return nil, err
	}
	if len(c.Agencies) > 0 {
		var orgs []string
		for _, g := range c.Agencies {
			orgs = append(orgs, g.OrgID)
		}
		if d.Orgs, err = h.svc.OrgNames(ctx, u.Actor, orgs); err != nil {
			return nil, err
		}
		cc, err := h.svc.Positions(ctx, u.Actor, c.ID)
		if err != nil {
			return nil, err
		}
		d.Concurrence = &cc
	}
	d.Matrix = h.matrix(r, c, d.Decisions)
	redteamInMatrix(d.Matrix, d.Campaign)
	d.Outcomes = outcomeChoices()
	d.Can = allowed(u.Actor, c)
	if d.Can.Assign {
		if d.Staff, err = h.svc.Staff(ctx, u.Actor); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func allowed(a review.Actor, c review.Case) actions {
	has := a.User.Has
	open := c.State == review.StateInAssessment || c.State == review.StateUnderReview ||
		c.State == review.StateInformationRequested || c.State == review.StateAppealed
	closed := c.State == review.StateDecided || c.State == review.StateWithdrawn
	var can actions
	can.Schedule = has(review.RoleAssessor) && (c.State == review.StateSubmitted || c.State == review.StateInAssessment ||
		c.State == review.StateUnderReview)
	can.Finding = has(review.RoleReviewer) && open
	can.Respond = has(review.RoleDeveloper) && open
	can.Resolve = (has(review.RoleReviewer) || has(review.RoleOfficial)) && !closed
	can.Reopen = has(review.RoleReviewer) && !closed
	can.AcceptRisk = has(review.RoleOfficial) && !closed
	can.Decide = has(review.RoleOfficial) && review.CheckTransition(c.State, review.StateDecided, a.User.Roles...) == nil
	can.Appeal = has(review.RoleDeveloper) && review.CheckTransition(c.State, review.StateAppealed, a.User.Roles...) == nil
	can.Assign = (has(review.RoleOfficial) || has(review.RoleAdmin)) && !closed
	for _, t := range review.Transitions() {
		if t.From != c.State || t.To == review.StateDecided || t.To == review.StateAppealed {
			continue
		}
		if review.CheckTransition(t.From, t.To, a.User.Roles...) == nil {
			can.Transitions = append(can.Transitions, t.To)
		}
	}
	return can
}

// dossierFields lists the dossier's top-level members in order, each
// value as compact JSON (strings unquoted).
func dossierFields(raw json.RawMessage) []dossierField {
	out, ok := objectFields("", raw, 0)
	if !ok {
		return []dossierField{{Key: "(dossier)", Value: string(raw)}}
	}
	return out
}

// maxDossierDepth bounds how deep nested objects are spelled out as
// dotted keys; deeper values are shown as JSON.
const maxDossierDepth = 3

// objectFields lists an object's members in document order, nested
// objects as dotted keys ("model.training_compute_flop"), strings bare and
// everything else (numbers, booleans, arrays) as JSON. It reports false
// when raw is not an object.
func objectFields(prefix string, raw json.RawMessage, depth int) ([]dossierField, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var out []dossierField
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			break
		}
		if depth < maxDossierDepth {
			if sub, ok := objectFields(prefix+k+".", v, depth+1); ok && len(sub) > 0 {
				out = append(out, sub...)
				continue
			}
		}
		val := string(v)
		var s string
		if json.Unmarshal(v, &s) == nil {
			val = s
		}
		out = append(out, dossierField{Key: prefix + k, Value: val})
	}
	return out, true
}

// auditText summarises an audit entry's details as "key: value" pairs.
func auditText(e review.AuditEntry) string {
	var m map[string]any
	if json.Unmarshal(e.Details, &m) != nil || len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case nil:
			s = "—"
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		if s == "" || s == "[]" {
			continue
		}
		parts = append(parts, strings.ReplaceAll(k, "_", " ")+": "+s)
	}
	return strings.Join(parts, "; ")
}

func (h *Handler) casePage(w http.ResponseWriter, r *http.Request, u user) {
	d, err := h.loadCase(r, u, r.PathValue("id"))
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "case", d)
}

// reshow renders the case page again with a rejected form, at 422 for bad
// input and 409 when the case's state refused the action.
func (h *Handler) reshow(w http.ResponseWriter, r *http.Request, u user, key string, f *form, err error) {
	d, lerr := h.loadCase(r, u, r.PathValue("id"))
	if lerr != nil {
		h.serviceError(w, r, lerr)
		return
	}
	d.Forms[key] = f
	status := http.StatusUnprocessableEntity
	if err != nil && (errors.Is(err, review.ErrInvalidTransition) || errors.Is(err, review.ErrConflict)) {
		status = http.StatusConflict
	}
	h.render(w, r, status, "case", d)
}

// done sends the browser back to the case page after a change (POST,
// redirect, GET), to the anchor of what changed.
func done(w http.ResponseWriter, r *http.Request, anchor string) {
	http.Redirect(w, r, "/cases/"+r.PathValue("id")+"#"+anchor, http.StatusSeeOther)
}

// act handles the result of a form's service call: success redirects,
// an input or state error re-shows the form, anything else is a page.
func (h *Handler) act(w http.ResponseWriter, r *http.Request, u user, key string, f *form, err error, anchor string, fields ...string) {
	if err == nil {
		done(w, r, anchor)
		return
	}
	if f.serviceFail(err, fields...) {
		h.reshow(w, r, u, key, f, err)
		return
	}
	h.serviceError(w, r, err)
}

func (h *Handler) recordFinding(w http.ResponseWriter, r *http.Request, u user) {
	f := newForm(r.PostForm)
	in := review.FindingInput{Severity: review.Severity(f.V("severity")), Title: strings.TrimSpace(f.V("title")),
		Description: strings.TrimSpace(f.V("description"))}
	if review.RemediationDays(in.Severity) == 0 {
		f.fail("severity", "Choose a severity.")
	}
	if in.Title == "" {
		f.fail("title", "Give the finding a title.")
	}
	if s := strings.TrimSpace(f.V("deadline")); s != "" {
		t, err := time.Parse("2006-01-02", s)
		switch {
		case err != nil:
			f.fail("deadline", "Enter a date as YYYY-MM-DD, or leave it empty for the default.")
		case !t.After(h.now()):
			f.fail("deadline", "The deadline must be in the future.")
		default:
			in.Deadline = t.Add(23*time.Hour + 59*time.Minute)
		}
	}
	for _, id := range strings.FieldsFunc(f.V("sample_ids"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
		in.SampleIDs = append(in.SampleIDs, id)
	}
	if f.Failed() {
		h.reshow(w, r, u, "finding", f, nil)
		return
	}
	fd, err := h.svc.RecordFinding(r.Context(), u.Actor, r.PathValue("id"), in)
	h.act(w, r, u, "finding", f, err, "finding-"+fd.ID, "severity", "title", "description", "deadline", "sample_ids")
}

func (h *Handler) respond(w http.ResponseWriter, r *http.Request, u user) {
	fid := r.PathValue("fid")
	f := newForm(r.PostForm)
	body := strings.TrimSpace(f.V("body"))
	if body == "" {
		f.fail("body", "Write a response.")
		h.reshow(w, r, u, "respond:"+fid, f, nil)
		return
	}
	if err := h.findingOfCase(r, u, fid); err != nil {
		h.serviceError(w, r, err)
		return
	}
	_, err := h.svc.Respond(r.Context(), u.Actor, fid, body)
	h.act(w, r, u, "respond:"+fid, f, err, "finding-"+fid, "body")
}

// findingOfCase checks that a finding belongs to the case in the path,
// so that a form posted under one case cannot act on another's finding.
func (h *Handler) findingOfCase(r *http.Request, u user, fid string) error {
	fs, err := h.svc.Findings(r.Context(), u.Actor, r.PathValue("id"), review.Page{Limit: review.MaxPageLimit})
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.ID == fid {
			return nil
		}
	}
	return review.ErrNotFound
}

func (h *Handler) findingStatus(w http.ResponseWriter, r *http.Request, u user) {
	fid := r.PathValue("fid")
	f := newForm(r.PostForm)
	st := review.FindingStatus(f.V("status"))
	note := strings.TrimSpace(f.V("note"))
	switch st {
	case review.FindingOpen, review.FindingResolved:
	case review.FindingAcceptedRisk:
		if note == "" {
			f.fail("note", "Accepting a risk needs a note saying why.")
		}
	default:
		f.fail("status", "Choose a status.")
	}
	if f.Failed() {
		h.reshow(w, r, u, "status:"+fid, f, nil)
		return
	}
	if err := h.findingOfCase(r, u, fid); err != nil {
		h.serviceError(w, r, err)
		return
	}
	_, err := h.svc.SetFindingStatus(r.Context(), u.Actor, fid, st, note)
	h.act(w, r, u, "status:"+fid, f, err, "finding-"+fid, "status", "note")
}

func (h *Handler) transition(w http.ResponseWriter, r *http.Request, u user) {
	f := newForm(r.PostForm)
	to := review.State(f.V("to"))
	if !slices.Contains(review.States(), to) || to == review.StateDecided || to == review.StateAppealed {
		f.fail("to", "Choose one of the listed steps.")
		h.reshow(w, r, u, "transition", f, nil)
		return
	}
	_, err := h.svc.Transition(r.Context(), u.Actor, r.PathValue("id"), to, strings.TrimSpace(f.V("note")))
	h.act(w, r, u, "transition", f, err, "actions", "note", "to")
}

func (h *Handler) assign(w http.ResponseWriter, r *http.Request, u user) {
	f := newForm(r.PostForm)
	_, err := h.svc.AssignCase(r.Context(), u.Actor, r.PathValue("id"), r.PostForm["user"])
	h.act(w, r, u, "assign", f, err, "workflow", "user")
}

func (h *Handler) appeal(w http.ResponseWriter, r *http.Request, u user) {
	f := newForm(r.PostForm)
	grounds := strings.TrimSpace(f.V("grounds"))
	if grounds == "" {
		f.fail("grounds", "State the grounds of the appeal.")
		h.reshow(w, r, u, "appeal", f, nil)
		return
	}
	_, err := h.svc.Appeal(r.Context(), u.Actor, r.PathValue("id"), grounds)
	h.act(w, r, u, "appeal", f, err, "decisions", "grounds")
}

// decisionOutcome is one profile's outcome as the decision form records it.
type decisionOutcome struct {
	Outcome    string   `json:"outcome"`
	Conditions []string `json:"conditions,omitempty"`
}

func (h *Handler) decide(w http.ResponseWriter, r *http.Request, u user) {
	f := newForm(r.PostForm)
	c, err := h.svc.GetCase(r.Context(), u.Actor, r.PathValue("id"))
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	outs := make(map[string]decisionOutcome, len(c.Profiles))
	for _, p := range c.Profiles {
		o := f.V("outcome." + p)
		if !slices.Contains(outcomeChoices(), o) {
			f.fail("outcome."+p, "Choose an outcome for "+p+".")
			continue
		}
		var conds []string
		for _, line := range strings.Split(f.V("conditions."+p), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				conds = append(conds, line)
			}
		}
		if o == "cleared_with_conditions" && len(conds) == 0 {
			f.fail("conditions."+p, "Cleared with conditions needs at least one condition, one per line.")
		}
		outs[p] = decisionOutcome{Outcome: o, Conditions: conds}
	}
	rationale := strings.TrimSpace(f.V("rationale"))
	if rationale == "" {
		f.fail("rationale", "Give the rationale for the decision.")
	}
	if f.Failed() {
		h.reshow(w, r, u, "decide", f, nil)
		return
	}
	raw, err := json.Marshal(outs)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	d, err := h.svc.Decide(r.Context(), u.Actor, c.ID, review.DecisionInput{Outcomes: raw, Rationale: rationale,
		OverrideReason: strings.TrimSpace(f.V("override_reason"))})
	if err == nil {
		http.Redirect(w, r, "/decisions/"+d.ID, http.StatusSeeOther)
		return
	}
	h.act(w, r, u, "decide", f, err, "decisions", "override_reason", "rationale", "outcomes")
}

func quote(s string) string { return "“" + s + "”" }
