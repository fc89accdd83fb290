package web

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// route is one authenticated /api/v1 operation: how it is served and how
// it is documented. The ServeMux and the OpenAPI document are both built
// from apiRoutes, so an operation cannot be served undocumented.
type route struct {
	method, path string
	op           string // OpenAPI operationId
	summary      string
	req          any // zero value of the request body type; nil for none
	resp         any // zero value of the success body type; nil for none
	status       int // success status
	query        []string
	handle       apiFunc
}

// Request bodies.

type createOrgRequest struct {
	Name string         `json:"name"`
	Kind review.OrgKind `json:"kind"`
}

type createUserRequest struct {
	OrgID string        `json:"org_id"`
	Name  string        `json:"name"`
	Email string        `json:"email,omitempty"`
	Roles []review.Role `json:"roles"`
}

type issueTokenRequest struct {
	Name string `json:"name"`
	// ExpiresAt is optional; absent means the token does not expire.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

type transitionRequest struct {
	To   review.State `json:"to"`
	Note string       `json:"note,omitempty"`
}

type assignRequest struct {
	UserIDs []string `json:"user_ids"`
}

type extendRequest struct {
	Units  int    `json:"units"`
	Reason string `json:"reason"`
}

type findingRequest struct {
	Severity    review.Severity `json:"severity"`
	Title       string          `json:"title"`
	Description string          `json:"description,omitempty"`
	SampleIDs   []string        `json:"sample_ids,omitempty"`
	Deadline    *time.Time      `json:"deadline,omitempty"`
}

type findingStatusRequest struct {
	Status review.FindingStatus `json:"status"`
	Note   string               `json:"note,omitempty"`
}

type respondRequest struct {
	Body string `json:"body"`
}

type decisionRequest struct {
	Outcomes       json.RawMessage `json:"outcomes"`
	Rationale      string          `json:"rationale"`
	OverrideReason string          `json:"override_reason,omitempty"`
}

type appealRequest struct {
	Grounds string `json:"grounds"`
}

type meJSON struct {
	User userJSON `json:"user"`
	Org  orgJSON  `json:"org"`
}

// namesJSON maps ids to display names: users as "Name (Organisation)".
type namesJSON struct {
	Users map[string]string `json:"users"`
	Orgs  map[string]string `json:"orgs"`
}

type credentialsJSON struct {
	Credentials string `json:"credentials"`
}

func apiRoutes() []route {
	var h handlers
	pq := []string{"limit", "after"}
	return []route{
		{"GET", "/api/v1/me", "getMe", "The authenticated user and organisation", nil, meJSON{}, 200, nil, h.me},
		{"GET", "/api/v1/names", "getNames", "Display names for user ids (?user=, repeated) and organisation ids (?org=, repeated), at most 200 ids; an unknown id maps to itself", nil, namesJSON{}, 200, []string{"user", "org"}, h.names},
		{"POST", "/api/v1/orgs", "createOrg", "Create an organisation (admin)", createOrgRequest{}, orgJSON{}, 201, nil, h.createOrg},
		{"POST", "/api/v1/users", "createUser", "Create a user (admin)", createUserRequest{}, userJSON{}, 201, nil, h.createUser},
		{"GET", "/api/v1/users", "listUsers", "List users, of one organisation with ?org= (admin)", nil, list[userJSON]{}, 200, append([]string{"org"}, pq...), h.listUsers},
		{"POST", "/api/v1/users/{id}/disable", "disableUser", "Disable a user: its tokens and sessions stop working at once (admin)", nil, userJSON{}, 200, nil, h.disableUser},
		{"POST", "/api/v1/users/{id}/enable", "enableUser", "Enable a disabled user again (admin)", nil, userJSON{}, 200, nil, h.enableUser},
		{"POST", "/api/v1/users/{id}/tokens", "issueToken", "Issue an API token, a child of the caller's token: it expires no later and is revoked with it; the secret is shown once", issueTokenRequest{}, tokenJSON{}, 201, nil, h.issueToken},
		{"GET", "/api/v1/users/{id}/tokens", "listTokens", "List a user's tokens, revoked and expired ones included (the user, or admin)", nil, list[tokenJSON]{}, 200, pq, h.listTokens},
		{"DELETE", "/api/v1/tokens/{id}", "revokeToken", "Revoke an API token and every token minted from it (its user, or admin)", nil, nil, 204, nil, h.revokeToken},
		{"POST", "/api/v1/cases", "submitCase", "Submit a model for review (developer); honours Idempotency-Key", review.Submission{}, caseJSON{}, 201, nil, h.submit},
		{"GET", "/api/v1/cases", "listCases", "List the cases the caller may see, without their dossiers (GET a case for its dossier)", nil, list[caseSummaryJSON]{}, 200, append([]string{"state"}, pq...), h.listCases},
		{"GET", "/api/v1/cases/{id}", "getCase", "Get a case", nil, caseJSON{}, 200, nil, h.getCase},
		{"POST", "/api/v1/cases/{id}/transitions", "transitionCase", "Move a case to another state", transitionRequest{}, caseJSON{}, 200, nil, h.transition},
		{"POST", "/api/v1/cases/{id}/assignees", "assignCase", "Set the staff assigned to a case (official, admin)", assignRequest{}, caseJSON{}, 200, nil, h.assign},
		{"POST", "/api/v1/cases/{id}/agencies", "addAgency", "Make a case a joint review led by the caller's agency, add an agency with its domains, or set its domains (official, admin of the lead)", addAgencyRequest{}, caseJSON{}, 200, nil, h.addAgency},
		{"POST", "/api/v1/cases/{id}/extensions", "extendClock", "Extend a case's clock (official)", extendRequest{}, caseJSON{}, 200, nil, h.extend},
		{"GET", "/api/v1/cases/{id}/credentials", "getCredentials", "Open the target credentials (assessor; audited)", nil, credentialsJSON{}, 200, nil, h.credentials},
		{"POST", "/api/v1/cases/{id}/findings", "recordFinding", "Record a finding (reviewer)", findingRequest{}, findingJSON{}, 201, nil, h.recordFinding},
		{"GET", "/api/v1/cases/{id}/findings", "listFindings", "List a case's findings", nil, list[findingJSON]{}, 200, pq, h.listFindings},
		{"POST", "/api/v1/findings/{id}/status", "setFindingStatus", "Reopen, resolve or accept the risk of a finding", findingStatusRequest{}, findingJSON{}, 200, nil, h.setFindingStatus},
		{"POST", "/api/v1/findings/{id}/share", "shareFinding", "Share a joint review's finding with the other agencies and the developer, or withdraw it (reviewer, official, admin of its agency; audited)", shareRequest{}, findingJSON{}, 200, nil, h.shareFinding},
		{"POST", "/api/v1/findings/{id}/responses", "respondToFinding", "Respond to a finding (developer)", respondRequest{}, responseJSON{}, 201, nil, h.respond},
		{"GET", "/api/v1/cases/{id}/responses", "listResponses", "List a case's responses, optionally to one finding", nil, list[responseJSON]{}, 200, append([]string{"finding"}, pq...), h.listResponses},
		{"POST", "/api/v1/cases/{id}/decisions", "decideCase", "Decide a case (official)", decisionRequest{}, decisionJSON{}, 201, nil, h.decide},
		{"POST", "/api/v1/cases/{id}/proposal", "proposeDecision", "Propose the decision of a joint review to its participating agencies and open the consultation; replaces an earlier proposal and its positions (official of the lead; audited)", decisionRequest{}, proposalJSON{}, 201, nil, h.proposeDecision},
		{"GET", "/api/v1/cases/{id}/positions", "listPositions", "The concurrence of a joint review: its rule, the proposal, every participating agency's position (given, deemed from silence after the deadline, or pending) and what keeps the lead from deciding", nil, concurrenceJSON{}, 200, nil, h.listPositions},
		{"POST", "/api/v1/cases/{id}/positions", "recordPosition", "Record the caller's agency's position on the proposal: concur, concur_with_conditions (with conditions) or object (with a reason); replaces its earlier one (official of a participating agency; audited)", positionRequest{}, positionJSON{}, 200, nil, h.recordPosition},
		{"POST", "/api/v1/cases/{id}/positions/{org}/answer", "answerObjection", "Answer an agency's objection, given or deemed (official of the lead; audited)", answerRequest{}, positionJSON{}, 200, nil, h.answerObjection},
		{"GET", "/api/v1/cases/{id}/decisions", "listDecisions", "List a case's decisions, with signed bundles", nil, list[decisionJSON]{}, 200, pq, h.listDecisions},
		{"POST", "/api/v1/cases/{id}/appeals", "appealCase", "Appeal the latest decision (developer)", appealRequest{}, appealJSON{}, 201, nil, h.appeal},
		{"GET", "/api/v1/cases/{id}/appeals", "listAppeals", "List a case's appeals", nil, list[appealJSON]{}, 200, pq, h.listAppeals},
		{"GET", "/api/v1/cases/{id}/oscal", "getCaseOSCAL", "Export a case as NIST OSCAL 1.1.3 JSON: ?kind=ap (assessment plan), ar (assessment results) or poam (plan of action and milestones)", nil, json.RawMessage{}, 200, []string{"kind"}, h.caseOSCAL},
		{"GET", "/api/v1/cases/{id}/audit", "listCaseAudit", "List a case's audit entries (after = sequence number)", nil, list[auditJSON]{}, 200, pq, h.caseAudit},
		{"POST", "/api/v1/cases/{id}/assessments", "scheduleAssessment", "Plan an assessment and queue its shards (assessor)", review.AssessmentInput{}, assessmentJSON{}, 201, nil, h.scheduleAssessment},
		{"GET", "/api/v1/cases/{id}/assessments", "listAssessments", "List a case's assessments", nil, list[assessmentJSON]{}, 200, pq, h.listAssessments},
		{"GET", "/api/v1/cases/{id}/budget-sweeps", "listBudgetSweeps", "The case's token-budget sweeps (assessments scheduled with budgets): per budget its assessment and, once done, the solve rate raw and excluding non-capability failures with 95% intervals; docs/cyber.md", nil, budgetSweepsJSON{}, 200, nil, h.listBudgetSweeps},
		{"POST", "/api/v1/cases/{id}/imports", "importAssessment", "Import a run made with clearance assess (assessor); with reference=NAME (and reference_digest=sha256:…) as a reference model's run (docs/cohorts.md)", importRequest{}, assessmentJSON{}, 201, []string{"reference", "reference_digest"}, h.importAssessment},
		{"POST", "/api/v1/cases/{id}/recognitions", "recogniseEvidence", "Recognise another authority's signed decision as evidence of the case: verified against the authority's keys and log in the service's trust file, about the case's model (assessor or reviewer assigned, official; audited)", recognitionRequest{}, recognitionJSON{}, 201, nil, h.recogniseEvidence},
		{"GET", "/api/v1/cases/{id}/cohort", "getCohort", "The case's reference-model cohort: the model beside each reference model (reference assessments) per metric, with the difference, its 95% interval and a within_error mark, and the capability aggregate (Rasch model); docs/cohorts.md", nil, cohortJSON{}, 200, nil, h.getCohort},
		{"GET", "/api/v1/cases/{id}/recognitions", "listRecognitions", "List the other authorities' evidence recognised in a case, with its provenance", nil, list[recognitionJSON]{}, 200, pq, h.listRecognitions},
		{"POST", "/api/v1/cases/{id}/campaign/exchanges", "campaignExchange", "Send one red-team turn to the case's current model and record it, sealed: a new attempt, or the next turn of attempt_id (red-teamer assigned; audited); docs/campaigns.md", exchangeRequest{}, transcriptJSON{}, 200, nil, h.exchange},
		{"GET", "/api/v1/cases/{id}/campaign", "getCampaign", "A case's red-team campaign: its attempts (no transcripts) and metrics: successes by category and technique, attempts and time to the first success and first universal attack, overall and per red-teamer (red-teamer, assessor, reviewer assigned; official)", nil, campaignJSON{}, 200, nil, h.getCampaign},
		{"GET", "/api/v1/attempts/{id}", "getAttempt", "Open a red-team attempt's sealed transcript (as getCampaign; audited)", nil, transcriptJSON{}, 200, nil, h.getAttempt},
		{"POST", "/api/v1/attempts/{id}/success", "tagAttemptSuccess", "Tag one's own attempt as a successful attack with its harm category, severity and technique; it becomes a regression item (red-teamer; audited)", successRequest{}, attemptJSON{}, 200, nil, h.tagSuccess},
		{"POST", "/api/v1/attempts/{id}/universal", "claimUniversalAttack", "Check one's own successful attack as universal: the template ({behaviour} placeholder) is run over the jailbreak suite's behaviour sample on the current model; universal when the transfer rate reaches the threshold (red-teamer; audited)", universalRequest{}, attemptJSON{}, 200, nil, h.claimUniversal},
		{"POST", "/api/v1/attempts/{id}/finding", "findingFromAttempt", "Open a finding from a successful attack, with its severity (reviewer assigned; once per attempt)", nil, findingJSON{}, 201, nil, h.findingFromAttempt},
		{"POST", "/api/v1/cases/{id}/model-versions", "submitModelVersion", "Submit a new version of the case's model (new digest, endpoint and credentials): it becomes the case's current target and the regression suite of successful attacks is re-run against it (developer)", modelVersionRequest{}, modelVersionJSON{}, 201, nil, h.submitModelVersion},
		{"GET", "/api/v1/cases/{id}/retests", "getRetests", "The case's model versions and how many regression items (successful attacks) still work on the current one; per-attack results only for those who see the campaign", nil, retestSummaryJSON{}, 200, nil, h.getRetests},
		{"POST", "/api/v1/cases/{id}/retests", "runRetests", "Re-run the regression suite against the case's current model version (assessor, red-teamer assigned; official; audited)", nil, retestSummaryJSON{}, 200, nil, h.runRetests},
		{"POST", "/api/v1/cases/{id}/fingerprint", "recordFingerprint", "Ask for the behavioural fingerprint of the case's current endpoint: probes suite prompts (default 250) plus 60 generic ones, each asked twice at temperature 0. Answers 202 with the fingerprint pending; a job records it (state recorded, or failed with error), stored sealed, and the next decision binds the digest of the latest recorded (assessor, reviewer, official who see the case; audited); docs/after-release.md", review.FingerprintInput{}, fingerprintJSON{}, 202, nil, h.recordFingerprint},
		{"GET", "/api/v1/cases/{id}/conformance", "listConformance", "List a case's endpoint fingerprints and conformance checks", nil, conformanceListJSON{}, 200, nil, h.listConformance},
		{"POST", "/api/v1/decisions/{id}/conformance", "checkConformance", "Check now that a cleared decision's endpoint (the case's current target, or target_url) still serves the fingerprinted model; the result is signed and logged, and a failed check opens a finding and fires case.conformance_failed (the case's developer; assessor, reviewer, official who see the case); 502 when the endpoint cannot be queried", review.ConformanceInput{}, conformanceJSON{}, 201, nil, h.checkConformance},
		{"POST", "/api/v1/incidents", "fileIncident", "File an incident against a cleared decision; each profile of the case that covers its class owes duties (reports) with deadlines from its constants (the case's developer, or an agency's official or reviewer; audited)", review.IncidentInput{}, fileIncidentJSON{}, 201, nil, h.fileIncident},
		{"GET", "/api/v1/incidents", "listIncidents", "List the incidents the caller may see, of one case with ?case=", nil, list[review.Incident]{}, 200, append([]string{"case"}, pq...), h.listIncidents},
		{"GET", "/api/v1/incidents/{id}", "getIncident", "Get an incident with its duties and reports", nil, review.IncidentView{}, 200, nil, h.getIncident},
		{"POST", "/api/v1/incidents/{id}/resolve", "resolveIncident", "Record an incident's resolution: open intermediate duties close and final reports fall due (filers as fileIncident; audited)", resolveIncidentRequest{}, review.IncidentView{}, 200, nil, h.resolveIncident},
		{"GET", "/api/v1/duties", "listDuties", "List the duties the caller may see: ?case=, ?incident=, ?state=due|overdue|done|closed", nil, list[review.Duty]{}, 200, append([]string{"case", "incident", "state"}, pq...), h.listDuties},
		{"POST", "/api/v1/duties/{id}/reports", "fileIncidentReport", "File the report a due or overdue duty asks for: generated from the incident (Markdown and JSON), recorded, and the duty done (filers as fileIncident; audited)", review.ReportInput{}, review.IncidentReport{}, 201, nil, h.fileReport},
		{"GET", "/api/v1/cases/{id}/prior", "getPriorReview", "For a modified model's case (new weights of a decided model's family: same developer, the prior's model name as prefix), the prior case it re-reviews and, per profile that says, whether the modification needs a full review; 404 when none", nil, priorJSON{}, 200, nil, h.getPriorReview},
		{"GET", "/api/v1/reports/{id}", "getIncidentReport", "Get an incident report; ?format=markdown returns its Markdown", nil, review.IncidentReport{}, 200, []string{"format"}, h.getIncidentReport},
		{"GET", "/api/v1/assessments/{id}", "getAssessment", "Get an assessment, with its metrics once done", nil, assessmentJSON{}, 200, nil, h.getAssessment},
		{"POST", "/api/v1/assessments/{id}/share", "shareAssessment", "Share a joint review's assessment (samples, transcripts, metrics) with the other agencies and the developer, or withdraw it (reviewer, official, admin of its agency; audited)", shareRequest{}, assessmentJSON{}, 200, nil, h.shareAssessment},
		{"GET", "/api/v1/assessments/{id}/samples", "listSamples", "List an assessment's samples; harmful transcripts are withheld (after = sequence number)", nil, list[sampleJSON]{}, 200, append([]string{"suite", "category", "transform", "outcome"}, pq...), h.listSamples},
		{"GET", "/api/v1/assessments/{id}/samples/{seq}", "getSample", "Get one sample with its transcript; a harmful one only for assessors, reviewers and officials (audited)", nil, sampleJSON{}, 200, nil, h.getSample},
		{"GET", "/api/v1/assessments/{id}/triage", "listTriage", "Triage of an assessment's agent episodes: each episode's automatic label (refused, scaffold_error, out_of_budget, wrong_answer; solved; error) with structural evidence, the reviewer's decision, and the solve rate raw and excluding non-capability failures with the counts", nil, triageJSON{}, 200, nil, h.listTriage},
		{"PUT", "/api/v1/assessments/{id}/triage/{seq}", "reviewTriage", "Confirm or correct the triage label of one failed agent episode; replaces an earlier decision (reviewer assigned; audited)", triageReviewRequest{}, triageReviewJSON{}, 200, nil, h.reviewTriage},
		{"GET", "/api/v1/decisions/{id}", "getDecision", "Get a decision with its signed bundle and log receipt", nil, decisionJSON{}, 200, nil, h.getDecision},
		{"GET", "/api/v1/decisions/{id}/bundle", "getDecisionBundle", "Download a decision's signed bundle (Sigstore bundle JSON) for clearance verify", nil, json.RawMessage{}, 200, nil, h.getDecisionBundle},
		{"POST", "/api/v1/webhooks", "createWebhook", "Subscribe the organisation to its cases' events; the signing secret is shown once", review.WebhookInput{}, webhookJSON{}, 201, nil, h.createWebhook},
		{"GET", "/api/v1/webhooks", "listWebhooks", "List the organisation's webhooks with their delivery state; an admin lists every organisation's, or one's with ?org=", nil, list[webhookJSON]{}, 200, append([]string{"org"}, pq...), h.listWebhooks},
		{"DELETE", "/api/v1/webhooks/{id}", "disableWebhook", "Stop deliveries to a webhook (a developer of its organisation, or admin); its pending events are dropped", nil, nil, 204, nil, h.disableWebhook},
		{"POST", "/api/v1/webhooks/{id}/enable", "enableWebhook", "Resume deliveries to a disabled or paused webhook of the organisation, clearing its circuit breaker", nil, nil, 204, nil, h.enableWebhook},
		{"GET", "/api/v1/audit", "listAudit", "List the whole audit trail (auditor, admin)", nil, list[auditJSON]{}, 200, pq, h.audit},
		{"GET", "/api/v1/audit/verify", "verifyAudit", "Re-walk the hash-chained audit trail against its last anchor and report the first broken entry (auditor, admin)", nil, review.AuditReport{}, 200, nil, h.verifyAudit},
	}
}

// handlers holds no state: each handler finds the Server in the request
// context, so that apiRoutes can be built (for the document) without one.
type handlers struct{}

type serverKey struct{}

func srv(r *http.Request) *Server { return r.Context().Value(serverKey{}).(*Server) }

// decode reads and strictly decodes the request body into v.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := readBody(w, r, srv(r).maxBody)
	if err != nil {
		return err
	}
	return decodeStrict(data, v)
}

// page reads ?limit= and ?after=.
func page(r *http.Request) (review.Page, error) {
	q := r.URL.Query()
	p := review.Page{After: q.Get("after")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > review.MaxPageLimit {
			return p, fmt.Errorf("query limit %q: want 1..%d: %w", v, review.MaxPageLimit, errBadRequest)
		}
		p.Limit = n
	}
	if len(p.After) > 200 {
		return p, fmt.Errorf("query after: longer than 200 bytes: %w", errBadRequest)
	}
	return p, nil
}

// next returns the cursor of the page after items: the last id when the
// page is full.
func next[T any](items []T, p review.Page, id func(T) string) string {
	if len(items) == 0 || len(items) < p.N() {
		return ""
	}
	return id(items[len(items)-1])
}

func writeList[T, U any](w http.ResponseWriter, items []T, p review.Page, id func(T) string, conv func(T) U) error {
	writeJSON(w, http.StatusOK, list[U]{Items: mapSlice(items, conv), Next: next(items, p, id)})
	return nil
}

func (handlers) me(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	writeJSON(w, http.StatusOK, meJSON{User: toUser(a.User), Org: toOrg(a.Org)})
	return nil
}

// maxNames bounds the ids one names request resolves.
const maxNames = 200

func (handlers) names(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	q := r.URL.Query()
	users, orgs := q["user"], q["org"]
	if n := len(users) + len(orgs); n > maxNames {
		return fmt.Errorf("query: %d ids, at most %d: %w", n, maxNames, errBadRequest)
	}
	un, err := srv(r).svc.UserNames(r.Context(), a, users)
	if err != nil {
		return err
	}
	on, err := srv(r).svc.OrgNames(r.Context(), a, orgs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, namesJSON{Users: un, Orgs: on})
	return nil
}

func (handlers) createOrg(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in createOrgRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	o, err := srv(r).svc.CreateOrg(r.Context(), a, in.Name, in.Kind)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toOrg(o))
	return nil
}

func (handlers) createUser(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in createUserRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, err := srv(r).svc.CreateUser(r.Context(), a, review.UserInput{OrgID: in.OrgID, Name: in.Name, Email: in.Email, Roles: in.Roles})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toUser(u))
	return nil
}

func (handlers) issueToken(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in issueTokenRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var exp time.Time
	if in.ExpiresAt != nil {
		exp = *in.ExpiresAt
	}
	t, secret, err := srv(r).svc.IssueToken(r.Context(), a, r.PathValue("id"), in.Name, exp)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toToken(t, secret))
	return nil
}

func (handlers) listTokens(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	ts, err := srv(r).svc.ListTokens(r.Context(), a, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	return writeList(w, ts, p, func(t review.Token) string { return t.ID }, func(t review.Token) tokenJSON { return toToken(t, "") })
}

func (handlers) listUsers(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	us, err := srv(r).svc.ListUsers(r.Context(), a, r.URL.Query().Get("org"), p)
	if err != nil {
		return err
	}
	return writeList(w, us, p, func(u review.User) string { return u.ID }, toUser)
}

func (h handlers) disableUser(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	return h.setDisabled(w, r, a, true)
}

func (h handlers) enableUser(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	return h.setDisabled(w, r, a, false)
}

func (handlers) setDisabled(w http.ResponseWriter, r *http.Request, a review.Actor, disabled bool) error {
	u, err := srv(r).svc.SetUserDisabled(r.Context(), a, r.PathValue("id"), disabled)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUser(u))
	return nil
}

func (handlers) revokeToken(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	if err := srv(r).svc.RevokeToken(r.Context(), a, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (handlers) submit(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	s := srv(r)
	data, err := readBody(w, r, s.maxSub)
	if err != nil {
		return err
	}
	var sub review.Submission
	if err := decodeStrict(data, &sub); err != nil {
		return err
	}
	var c review.Case
	replayed := false
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if len(key) > 200 {
			return fmt.Errorf("idempotency key: longer than 200 bytes: %w", errBadRequest)
		}
		c, replayed, err = s.svc.SubmitOnce(r.Context(), a, key, sha256.Sum256(data), sub)
	} else {
		c, err = s.svc.Submit(r.Context(), a, sub)
	}
	if err != nil {
		return err
	}
	b, err := json.Marshal(toCase(c, s.now()))
	if err != nil {
		return err
	}
	// A replay answers as the first request did.
	writeRaw(w, http.StatusCreated, append(b, '\n'), replayed)
	return nil
}

func writeRaw(w http.ResponseWriter, code int, body []byte, replayed bool) {
	w.Header().Set("Content-Type", "application/json")
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func (handlers) listCases(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	s := srv(r)
	cs, err := s.svc.ListCases(r.Context(), a, review.CaseFilter{State: review.State(r.URL.Query().Get("state")), Page: p})
	if err != nil {
		return err
	}
	now := s.now()
	return writeList(w, cs, p, func(c review.Case) string { return c.ID }, func(c review.Case) caseSummaryJSON { return toCaseSummary(c, now) })
}

func (handlers) getCase(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	s := srv(r)
	c, err := s.svc.GetCase(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCase(c, s.now()))
	return nil
}

func (handlers) transition(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in transitionRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	s := srv(r)
	c, err := s.svc.Transition(r.Context(), a, r.PathValue("id"), in.To, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCase(c, s.now()))
	return nil
}

func (handlers) assign(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in assignRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	s := srv(r)
	c, err := s.svc.AssignCase(r.Context(), a, r.PathValue("id"), in.UserIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCase(c, s.now()))
	return nil
}

func (handlers) extend(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in extendRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	s := srv(r)
	c, err := s.svc.Extend(r.Context(), a, r.PathValue("id"), in.Units, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCase(c, s.now()))
	return nil
}

func (handlers) credentials(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	b, err := srv(r).svc.TargetCredentials(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, credentialsJSON{Credentials: string(b)})
	return nil
}

func (handlers) recordFinding(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in findingRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	fi := review.FindingInput{Severity: in.Severity, Title: in.Title, Description: in.Description, SampleIDs: in.SampleIDs}
	if in.Deadline != nil {
		fi.Deadline = *in.Deadline
	}
	f, err := srv(r).svc.RecordFinding(r.Context(), a, r.PathValue("id"), fi)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toFinding(f))
	return nil
}

func (handlers) listFindings(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	fs, err := srv(r).svc.Findings(r.Context(), a, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	return writeList(w, fs, p, func(f review.Finding) string { return f.ID }, toFinding)
}

func (handlers) setFindingStatus(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in findingStatusRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	f, err := srv(r).svc.SetFindingStatus(r.Context(), a, r.PathValue("id"), in.Status, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toFinding(f))
	return nil
}

func (handlers) respond(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in respondRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	rsp, err := srv(r).svc.Respond(r.Context(), a, r.PathValue("id"), in.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toResponse(rsp))
	return nil
}

func (handlers) listResponses(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	rs, err := srv(r).svc.Responses(r.Context(), a, r.PathValue("id"), r.URL.Query().Get("finding"), p)
	if err != nil {
		return err
	}
	return writeList(w, rs, p, func(x review.Response) string { return x.ID }, toResponse)
}

func (handlers) decide(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in decisionRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	d, err := srv(r).svc.Decide(r.Context(), a, r.PathValue("id"), review.DecisionInput{
		Outcomes: in.Outcomes, Rationale: in.Rationale, OverrideReason: in.OverrideReason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toDecision(d))
	return nil
}

func (handlers) listDecisions(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	ds, err := srv(r).svc.Decisions(r.Context(), a, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	return writeList(w, ds, p, func(d review.Decision) string { return d.ID }, toDecision)
}

func (handlers) appeal(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in appealRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	ap, err := srv(r).svc.Appeal(r.Context(), a, r.PathValue("id"), in.Grounds)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toAppeal(ap))
	return nil
}

func (handlers) listAppeals(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	as, err := srv(r).svc.Appeals(r.Context(), a, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	return writeList(w, as, p, func(x review.Appeal) string { return x.ID }, toAppeal)
}

// auditPage reads ?limit= and ?after= (a sequence number) for audit lists.
func auditPage(r *http.Request) (int64, review.Page, error) {
	p, err := page(r)
	if err != nil {
		return 0, p, err
	}
	var after int64
	if p.After != "" {
		if after, err = strconv.ParseInt(p.After, 10, 64); err != nil || after < 0 {
			return 0, p, fmt.Errorf("query after %q: want a sequence number: %w", p.After, errBadRequest)
		}
	}
	return after, p, nil
}

func seqOf(e review.AuditEntry) string { return strconv.FormatInt(e.Seq, 10) }

func (handlers) caseAudit(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	after, p, err := auditPage(r)
	if err != nil {
		return err
	}
	es, err := srv(r).svc.CaseAudit(r.Context(), a, r.PathValue("id"), after, p.N())
	if err != nil {
		return err
	}
	return writeList(w, es, p, seqOf, toAudit)
}

func (handlers) audit(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	after, p, err := auditPage(r)
	if err != nil {
		return err
	}
	es, err := srv(r).svc.Audit(r.Context(), a, after, p.N())
	if err != nil {
		return err
	}
	return writeList(w, es, p, seqOf, toAudit)
}
