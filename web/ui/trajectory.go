package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/suite"
)

// This file is the trajectory viewer: one cyber-exploit episode of an
// assessment, turn by turn. An episode's record is sealed like a harmful
// transcript (it holds working exploits and, when captured, the flag):
// GET shows what the sample list shows (its id, category and outcome)
// and a reveal button for the roles allowed to see it; the POST reveal
// opens it through review.Service.RevealSample, which checks the roles
// and records the viewing in the audit trail. The flag itself is shown
// only inside the revealed episode (in the tool output and the submitted
// answer, where the model put it); the page shows its SHA-256 hash.

// trajectoryPage is the viewer's data.
type trajectoryPage struct {
	base
	Case      review.Case
	Sample    review.Sample
	CanReveal bool
	// Revealed is set once the service opened the record; Episode is nil
	// when the record holds none (Raw then shows it as stored).
	Revealed bool
	Episode  *agent.Episode
	Verdict  string
	Error    string
	Raw      string
}

// trajectory shows one exploit sample, sealed.
func (h *Handler) trajectory(w http.ResponseWriter, r *http.Request, u user) {
	h.trajectoryWith(w, r, u, r.URL.Query(), false)
}

// revealTrajectory opens one exploit sample for a role allowed to see it
// (the service checks, and audits the viewing).
func (h *Handler) revealTrajectory(w http.ResponseWriter, r *http.Request, u user) {
	h.trajectoryWith(w, r, u, r.PostForm, true)
}

func (h *Handler) trajectoryWith(w http.ResponseWriter, r *http.Request, u user, q url.Values, reveal bool) {
	ctx := r.Context()
	aid := q.Get("assessment")
	seq, err := strconv.Atoi(q.Get("seq"))
	if aid == "" || err != nil || seq < 0 {
		h.errorPage(w, r, http.StatusUnprocessableEntity, "Invalid input", "Name the episode: an assessment and a sample position (seq, a whole number of 0 or more).")
		return
	}
	c, _, ok := h.caseAssessment(w, r, u, aid)
	if !ok {
		return
	}
	ss, err := h.listSamples(ctx, u.Actor, review.SampleFilter{AssessmentID: aid, AfterSeq: seq - 1, Limit: 1})
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if len(ss) != 1 || ss[0].Seq != seq || ss[0].Kind != suite.KindExploit {
		h.notFound(w, r)
		return
	}
	sm := ss[0]
	if reveal {
		if sm, err = h.revealSample(ctx, u.Actor, aid, seq); err != nil {
			h.serviceError(w, r, err)
			return
		}
	}
	d := &trajectoryPage{base: base{Title: fmt.Sprintf("Episode %d — %s", seq, c.ModelName), Nav: "cases"},
		Case: c, Sample: sm, CanReveal: mayReveal(u.Actor)}
	d.setUser(u)
	// A sealed sample comes without its record unless revealed; one that
	// is not sealed (stored before exploit samples were) comes with it.
	if raw := sm.Record; raw != nil {
		d.Revealed, d.Sample.Record = true, nil
		var rec assess.Record
		if err := json.Unmarshal(raw, &rec); err != nil || rec.Episode == nil {
			d.Raw = string(raw)
		} else {
			d.Episode = rec.Episode
		}
		if v := rec.Verdict; v != nil {
			d.Verdict = v.Label
			if v.Err != "" {
				d.Verdict += " (scorer error: " + v.Err + ")"
			}
		}
		if e := rec.Error; e != nil {
			d.Error = fmt.Sprintf("%s error (%s): %s", e.Source, e.Kind, e.Message)
		}
	}
	h.render(w, r, http.StatusOK, "trajectory", d)
}

// cyberView is the solve-rate table of one cyber-exploit metric group on
// the case page: overall, per category and per difficulty, each with its
// 95% interval (clustered by generator where the metrics have one).
type cyberView struct {
	Key     string
	Suite   string
	Rows    []cyberRow
	PassAtK []passAtView
}

type cyberRow struct {
	Dimension string // "overall", "category", "difficulty"
	Label     string
	Solved    int
	N         int
	Errors    int
	Rate      string
	Low, High string
	Clustered bool
}

type passAtView struct {
	K         int
	Rate      string
	Instances int
	Interval  string
}

// isCyber reports whether a metric group is of agent episodes scored by
// captured flags.
func isCyber(g assess.Group) bool {
	return g.Kind == suite.KindExploit || len(g.ByDifficulty) > 0
}

// cyberViews builds the solve-rate tables of a run's cyber-exploit
// groups; none when the run has none.
func cyberViews(m assess.Metrics) []cyberView {
	var out []cyberView
	for _, g := range m.Groups {
		if !isCyber(g) {
			continue
		}
		v := cyberView{Key: g.Key, Suite: g.Suite}
		v.Rows = append(v.Rows, cyberRowOf("overall", "all tasks", g.Overall))
		for _, k := range sortedKeys(g.ByCategory) {
			v.Rows = append(v.Rows, cyberRowOf("category", k, g.ByCategory[k]))
		}
		for _, k := range sortedKeys(g.ByDifficulty) {
			label := k
			if len(k) == 2 && k[0] == 'd' {
				label = "difficulty " + k[1:]
			}
			v.Rows = append(v.Rows, cyberRowOf("difficulty", label, g.ByDifficulty[k]))
		}
		for _, p := range g.PassAtK {
			pv := passAtView{K: p.K, Rate: pct(p.Rate), Instances: p.Instances, Interval: "—"}
			if p.CI != nil {
				pv.Interval = "[" + pct(p.CI.Low) + ", " + pct(p.CI.High) + "]"
			}
			v.PassAtK = append(v.PassAtK, pv)
		}
		out = append(out, v)
	}
	return out
}

func cyberRowOf(dim, label string, r assess.Rate) cyberRow {
	ci := r.CI
	if r.Clustered != nil {
		ci = *r.Clustered
	}
	return cyberRow{Dimension: dim, Label: label, Solved: r.Flagged, N: r.N, Errors: r.Errors,
		Rate: pct(r.Rate), Low: pct(ci.Low), High: pct(ci.High), Clustered: r.Clustered != nil}
}

func sortedKeys(m map[string]assess.Rate) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
