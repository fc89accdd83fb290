package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/target"
)

// samplesPerPage is the transcript browser's page size.
const samplesPerPage = 25

type sampleView struct {
	review.Sample
	// Hidden is true for a harmful sample whose transcript is not shown.
	Hidden bool
	Rec    *assess.Record
	// Raw is the record as stored, when it does not parse as a runner
	// record.
	Raw string
}

type sampleFilter struct {
	Assessment string
	Suite      string
	Category   string
	Transform  string
	Outcome    string
	After      int
}

// query returns the filter as a query string, with after set to after.
func (f sampleFilter) query(after int) string {
	v := url.Values{}
	for k, s := range map[string]string{"assessment": f.Assessment, "suite": f.Suite, "category": f.Category,
		"transform": f.Transform, "outcome": f.Outcome} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if after >= 0 {
		v.Set("after", strconv.Itoa(after))
	}
	return v.Encode()
}

type samplesPage struct {
	base
	Case      review.Case
	Runs      []review.Assessment
	Filter    sampleFilter
	Errs      map[string]string
	Samples   []sampleView
	Revealed  *sampleView
	CanReveal bool
	Next      string
	Paged     bool
	// Choices for the filter, from the selected assessment's metrics.
	Suites, Categories, Transforms []string
	Outcomes                       []string
}

// mayReveal mirrors the service's rule for harmful transcripts, to decide
// whether to show the button; the service decides.
func mayReveal(a review.Actor) bool {
	return a.User.Has(review.RoleAssessor) || a.User.Has(review.RoleReviewer) || a.User.Has(review.RoleOfficial)
}

func (h *Handler) samples(w http.ResponseWriter, r *http.Request, u user) {
	h.samplesWith(w, r, u, r.URL.Query(), nil)
}

// reveal opens one harmful transcript for a role allowed to see it (the
// service checks, and records the viewing in the audit trail) and shows
// it above the page of samples it came from.
func (h *Handler) reveal(w http.ResponseWriter, r *http.Request, u user) {
	aid := r.PostForm.Get("assessment")
	seq, err := strconv.Atoi(r.PostForm.Get("seq"))
	if err != nil || seq < 0 {
		h.errorPage(w, r, http.StatusUnprocessableEntity, "Invalid input", "The sample to reveal was not named.")
		return
	}
	a, err := h.assessment(r.Context(), u.Actor, aid)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if a.CaseID != r.PathValue("id") {
		h.notFound(w, r)
		return
	}
	s, err := h.revealSample(r.Context(), u.Actor, aid, seq)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	v := viewSample(s)
	h.samplesWith(w, r, u, r.PostForm, &v)
}

// Turns returns the messages sent, without a last assistant message that
// repeats the scored response (shown on its own).
func (v sampleView) Turns() []target.Message {
	if v.Rec == nil {
		return nil
	}
	ms := v.Rec.Messages
	if n := len(ms); n > 0 && ms[n-1].Role == "assistant" && ms[n-1].Content == v.Rec.Response {
		ms = ms[:n-1]
	}
	return ms
}

func viewSample(s review.Sample) sampleView {
	v := sampleView{Sample: s}
	if s.Record == nil {
		v.Hidden = s.Harmful
		return v
	}
	var rec assess.Record
	if err := json.Unmarshal(s.Record, &rec); err != nil {
		v.Raw = string(s.Record)
	} else {
		v.Rec = &rec
	}
	return v
}

func (h *Handler) samplesWith(w http.ResponseWriter, r *http.Request, u user, q url.Values, revealed *sampleView) {
	ctx := r.Context()
	c, err := h.svc.GetCase(ctx, u.Actor, r.PathValue("id"))
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	d := &samplesPage{base: base{Title: "Transcripts — " + c.ModelName, Nav: "cases"}, Case: c, Errs: map[string]string{},
		Revealed: revealed, CanReveal: mayReveal(u.Actor),
		Outcomes: []string{string(review.SampleFlagged), string(review.SamplePassed), string(review.SampleError)}}
	d.setUser(u)
	d.Filter = sampleFilter{Assessment: q.Get("assessment"), Suite: q.Get("suite"), Category: q.Get("category"),
		Transform: q.Get("transform"), Outcome: q.Get("outcome"), After: -1}
	if s := q.Get("after"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < -1 {
			d.Errs["after"] = "Not a sample position."
		}
		d.Filter.After = n
	}
	switch review.SampleOutcome(d.Filter.Outcome) {
	case "", review.SampleFlagged, review.SamplePassed, review.SampleError:
	default:
		d.Errs["outcome"] = "Choose flagged, passed or error."
	}
	if d.Runs, err = h.assessments(ctx, u.Actor, c.ID); err != nil {
		h.serviceError(w, r, err)
		return
	}
	var run *review.Assessment
	for i := range d.Runs {
		if d.Runs[i].ID == d.Filter.Assessment {
			run = &d.Runs[i]
		}
	}
	switch {
	case run == nil && d.Filter.Assessment != "":
		d.Errs["assessment"] = "No such assessment on this case."
	case run == nil && len(d.Runs) > 0:
		run = &d.Runs[len(d.Runs)-1] // the latest
		d.Filter.Assessment = run.ID
	}
	if len(d.Errs) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, "samples", d)
		return
	}
	if run == nil {
		h.render(w, r, http.StatusOK, "samples", d)
		return
	}
	if len(run.Metrics) > 0 {
		var m assess.Metrics
		if json.Unmarshal(run.Metrics, &m) == nil {
			d.Suites, d.Categories, d.Transforms = choices(m)
		}
	}
	ss, err := h.listSamples(ctx, u.Actor, review.SampleFilter{AssessmentID: run.ID, Suite: d.Filter.Suite,
		Category: d.Filter.Category, Transform: d.Filter.Transform, Outcome: review.SampleOutcome(d.Filter.Outcome),
		AfterSeq: d.Filter.After, Limit: samplesPerPage})
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	for _, s := range ss {
		d.Samples = append(d.Samples, viewSample(s))
	}
	d.Paged = d.Filter.After >= 0
	if len(ss) == samplesPerPage {
		d.Next = d.Filter.query(ss[len(ss)-1].Seq)
	}
	h.render(w, r, http.StatusOK, "samples", d)
}

// FirstPage returns the query string of the filter's first page.
func (d *samplesPage) FirstPage() string { return d.Filter.query(-1) }

func choices(m assess.Metrics) (suites, cats, transforms []string) {
	seen := map[string]map[string]bool{"s": {}, "c": {}, "t": {}}
	for _, g := range m.Groups {
		seen["s"][g.Suite] = true
		for k := range g.ByCategory {
			seen["c"][k] = true
		}
		for k := range g.ByTransform {
			seen["t"][k] = true
		}
	}
	keys := func(m map[string]bool) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	return keys(seen["s"]), keys(seen["c"]), keys(seen["t"])
}
