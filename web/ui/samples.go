package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/suite"
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
	// Next and Prev are the paths of the next and previous pages, ""
	// when there is none.
	Next  string
	Prev  string
	Paged bool
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
		d.Next = d.pageURL(ss[len(ss)-1].Seq)
	}
	if d.Paged {
		after, err := h.prevPage(ctx, u.Actor, review.SampleFilter{AssessmentID: run.ID, Suite: d.Filter.Suite,
			Category: d.Filter.Category, Transform: d.Filter.Transform, Outcome: review.SampleOutcome(d.Filter.Outcome)}, d.Filter.After)
		if err != nil {
			h.serviceError(w, r, err)
			return
		}
		d.Prev = d.pageURL(after)
	}
	h.render(w, r, http.StatusOK, "samples", d)
}

// prevPage returns the AfterSeq of the page before the one that starts
// after seq after: the samples matching f are stored in Seq order only,
// so it reads back through windows of growing size until it has a page's
// worth of samples at or before after, or reaches the start (-1).
func (h *Handler) prevPage(ctx context.Context, a review.Actor, f review.SampleFilter, after int) (int, error) {
	for window := 4 * samplesPerPage; ; window *= 4 {
		lo := max(after-window, -1)
		var seqs []int
		f.AfterSeq, f.Limit = lo, review.MaxPageLimit
		for {
			ss, err := h.listSamples(ctx, a, f)
			if err != nil {
				return 0, err
			}
			for _, s := range ss {
				if s.Seq <= after {
					seqs = append(seqs, s.Seq)
				}
			}
			if len(ss) < f.Limit || ss[len(ss)-1].Seq >= after {
				break
			}
			f.AfterSeq = ss[len(ss)-1].Seq
		}
		switch {
		case len(seqs) > samplesPerPage:
			return seqs[len(seqs)-samplesPerPage-1], nil
		case lo == -1:
			return -1, nil
		}
	}
}

// Verdict says what the sample's outcome means for its kind of item, in
// the words a reader expects ("complied", "correct", "captured"), and
// its tone: bad (a safety failure), good, info (a capability measured,
// neither good nor bad in itself) or error.
func (v sampleView) Verdict() (text, tone string) {
	if v.Outcome == review.SampleError {
		return "error", "error"
	}
	flagged := v.Outcome == review.SampleFlagged
	pick := func(f, p, ftone, ptone string) (string, string) {
		if flagged {
			return f, ftone
		}
		return p, ptone
	}
	switch v.Kind {
	case suite.KindHarmful:
		return pick("complied", "refused", "bad", "good")
	case suite.KindBenign:
		return pick("refused", "answered", "bad", "good")
	case suite.KindInjection:
		return pick("followed the injection", "ignored the injection", "bad", "good")
	case suite.KindLeakage:
		return pick("leaked", "kept the secret", "bad", "good")
	case suite.KindChoice:
		return pick("correct", "incorrect", "info", "info")
	case suite.KindExploit:
		return pick("captured", "not captured", "info", "info")
	}
	return pick("flagged", "passed", "bad", "good")
}

// VerdictText is the text of Verdict.
func (v sampleView) VerdictText() string { t, _ := v.Verdict(); return t }

// VerdictTone is the tone of Verdict.
func (v sampleView) VerdictTone() string { _, t := v.Verdict(); return t }

// FirstPage returns the path of the filter's first page.
func (d *samplesPage) FirstPage() string { return d.pageURL(-1) }

// pageURL is the path of the page of samples after seq after. The links
// are built whole: html/template escapes a query string interpolated
// after a "?", which turned "after=24&…" into one key and every link
// back into the first page.
func (d *samplesPage) pageURL(after int) string {
	return "/cases/" + d.Case.ID + "/samples?" + d.Filter.query(after)
}

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
