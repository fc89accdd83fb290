package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// maxImportBytes bounds an imported run (its samples travel inline).
const maxImportBytes = 256 << 20

type assessmentJSON struct {
	ID     string          `json:"id"`
	CaseID string          `json:"case_id"`
	State  string          `json:"state"`
	Spec   json.RawMessage `json:"spec"`
	// Variant is the variant of the model tested ("production",
	// "safeguards-reduced", "helpful-only", "checkpoint:NAME", or
	// "unrecorded"), Scaffold the scaffold's version; both are read from
	// the spec (or the imported run.json).
	Variant    string `json:"variant"`
	Scaffold   string `json:"scaffold,omitempty"`
	Shards     int    `json:"shards"`
	ShardsDone int    `json:"shards_done"`
	// Metrics is the run's metrics.json once the assessment is done.
	Metrics   json.RawMessage `json:"metrics,omitempty"`
	Error     string          `json:"error,omitempty"`
	Imported  bool            `json:"imported"`
	CreatedBy string          `json:"created_by"`
	// OrgID is the agency whose work it is in a joint review ("" in
	// another case); Shared whether it shares it.
	OrgID     string `json:"org_id"`
	Shared    bool   `json:"shared"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func toAssessment(a review.Assessment) assessmentJSON {
	out := assessmentJSON{ID: a.ID, CaseID: a.CaseID, State: string(a.State), Spec: a.Spec, Shards: a.Shards,
		ShardsDone: a.ShardsDone, Error: a.Error, Imported: a.Imported, CreatedBy: a.CreatedBy,
		OrgID: a.OrgID, Shared: a.Shared, CreatedAt: ts(a.CreatedAt), UpdatedAt: ts(a.UpdatedAt)}
	v := a.Variant()
	out.Variant, out.Scaffold = v.Label(), v.Scaffold
	if json.Valid(a.Metrics) {
		out.Metrics = a.Metrics
	}
	if !json.Valid(out.Spec) {
		out.Spec = json.RawMessage("{}")
	}
	return out
}

type sampleJSON struct {
	Seq       int    `json:"seq"`
	ID        string `json:"id"`
	Suite     string `json:"suite"`
	Category  string `json:"category"`
	Transform string `json:"transform"`
	Kind      string `json:"kind"`
	Outcome   string `json:"outcome"`
	// Harmful samples' records are withheld from lists; GET the sample
	// (assessor, reviewer, official) to read it.
	Harmful bool            `json:"harmful"`
	Record  json.RawMessage `json:"record,omitempty"`
}

func toSample(s review.Sample) sampleJSON {
	out := sampleJSON{Seq: s.Seq, ID: s.ID, Suite: s.Suite, Category: s.Category, Transform: s.Transform,
		Kind: s.Kind, Outcome: string(s.Outcome), Harmful: s.Harmful}
	if s.Record != nil && json.Valid(s.Record) {
		out.Record = s.Record
	}
	return out
}

type webhookJSON struct {
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	// Secret signs deliveries (see docs/webhooks.md); shown once, on
	// creation.
	Secret    string `json:"secret,omitempty"`
	Disabled  bool   `json:"disabled"`
	CreatedAt string `json:"created_at"`
	// State is "disabled", "paused" (the circuit breaker holds its
	// deliveries until PausedUntil, then sends one probe), "failing"
	// (the last deliveries failed) or "active".
	State string `json:"state"`
	// Failures counts consecutive failed deliveries; LastError is the
	// kind of the last failure ("timeout", "connection", "status 503")
	// and LastFailureAt its time.
	Failures      int    `json:"failures"`
	LastError     string `json:"last_error,omitempty"`
	LastFailureAt string `json:"last_failure_at,omitempty"`
	PausedUntil   string `json:"paused_until,omitempty"`
}

func toWebhook(w review.Webhook) webhookJSON {
	return toWebhookAt(w, time.Time{})
}

// toWebhookAt is toWebhook with the state as of now.
func toWebhookAt(w review.Webhook, now time.Time) webhookJSON {
	out := webhookJSON{ID: w.ID, URL: w.URL, Events: nonNil(w.Events), Disabled: w.Disabled, CreatedAt: ts(w.CreatedAt),
		Failures: w.Failures, LastError: w.LastError, LastFailureAt: ts(w.LastFailureAt), PausedUntil: ts(w.PausedUntil)}
	switch {
	case w.Disabled:
		out.State = "disabled"
	case !w.PausedUntil.IsZero() && now.Before(w.PausedUntil):
		out.State = "paused"
	case w.Failures > 0:
		out.State = "failing"
	default:
		out.State = "active"
	}
	return out
}

// importRequest is a run made with clearance assess: its run.json,
// metrics.json and the lines of samples.jsonl. It documents the body;
// the handler reads it as a stream (import.go).
type importRequest struct {
	Run     json.RawMessage   `json:"run"`
	Metrics json.RawMessage   `json:"metrics"`
	Samples []json.RawMessage `json:"samples"`
}

func (handlers) scheduleAssessment(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in review.AssessmentInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	as, err := srv(r).svc.ScheduleAssessment(r.Context(), a, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toAssessment(as))
	return nil
}

func (handlers) listAssessments(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	as, err := srv(r).svc.Assessments(r.Context(), a, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	return writeList(w, as, p, func(x review.Assessment) string { return x.ID }, toAssessment)
}

func (handlers) getAssessment(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	as, err := srv(r).svc.GetAssessment(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAssessment(as))
	return nil
}

func (handlers) listSamples(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := review.SampleFilter{AssessmentID: r.PathValue("id"), Suite: q.Get("suite"), Category: q.Get("category"),
		Transform: q.Get("transform"), Outcome: review.SampleOutcome(q.Get("outcome")), AfterSeq: -1, Limit: p.Limit}
	if p.After != "" {
		n, err := strconv.Atoi(p.After)
		if err != nil || n < 0 {
			return fmt.Errorf("query after %q: want a sample sequence number: %w", p.After, errBadRequest)
		}
		f.AfterSeq = n
	}
	ss, err := srv(r).svc.Samples(r.Context(), a, f)
	if err != nil {
		return err
	}
	return writeList(w, ss, p, func(s review.Sample) string { return strconv.Itoa(s.Seq) }, toSample)
}

func (handlers) getSample(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	seq, err := strconv.Atoi(r.PathValue("seq"))
	if err != nil || seq < 0 {
		return fmt.Errorf("sample %q: want a sequence number: %w", r.PathValue("seq"), errBadRequest)
	}
	s, err := srv(r).svc.RevealSample(r.Context(), a, r.PathValue("id"), seq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSample(s))
	return nil
}

func (handlers) getDecision(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	d, err := srv(r).svc.GetDecision(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDecision(d))
	return nil
}

func (handlers) getDecisionBundle(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	d, err := srv(r).svc.GetDecision(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	if len(d.Bundle) == 0 {
		return fmt.Errorf("decision %s has no signed bundle: %w", d.ID, review.ErrNotFound)
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", d.ID+".sigstore.json"))
	writeRaw(w, http.StatusOK, d.Bundle, false)
	return nil
}

func (handlers) createWebhook(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	var in review.WebhookInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	wh, secret, err := srv(r).svc.CreateWebhook(r.Context(), a, in)
	if err != nil {
		return err
	}
	out := toWebhook(wh)
	out.Secret = secret
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (handlers) listWebhooks(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	ws, err := srv(r).svc.Webhooks(r.Context(), a, r.URL.Query().Get("org"), p)
	if err != nil {
		return err
	}
	now := srv(r).now()
	return writeList(w, ws, p, func(x review.Webhook) string { return x.ID }, func(x review.Webhook) webhookJSON { return toWebhookAt(x, now) })
}

func (handlers) disableWebhook(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	if err := srv(r).svc.DisableWebhook(r.Context(), a, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (handlers) enableWebhook(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	if err := srv(r).svc.EnableWebhook(r.Context(), a, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
