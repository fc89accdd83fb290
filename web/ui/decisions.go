package ui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/review"
)

// outcomeRow is one profile's outcome in a decision.
type outcomeRow struct {
	Profile    string
	Outcome    string
	Conditions []string
	Deemed     bool
	// Raw is the member as recorded, when it is not in the usual shape.
	Raw string
	// Computed and Explanation are the outcome the policy computes for
	// the profile and its plain-language reason; empty when the regime
	// comparison is unavailable.
	Computed    string
	Explanation string
}

// outcomeRows reads a decision's outcomes object, sorted by profile. An
// outcome may be {"outcome": …, "conditions": […], "deemed": …} or a bare
// string, each condition a text or {"text": …, "due": …}; anything else
// is shown as recorded.
func outcomeRows(raw json.RawMessage) []outcomeRow {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return []outcomeRow{{Profile: "(outcomes)", Raw: string(raw)}}
	}
	out := make([]outcomeRow, 0, len(m))
	for p, v := range m {
		row := outcomeRow{Profile: p}
		if e, ok := review.ParseOutcomeEntry(v); ok && e.Outcome != "" {
			row.Outcome, row.Deemed, row.Conditions = e.Outcome, e.Deemed, e.Conditions
		} else {
			row.Raw = string(v)
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Profile < out[j].Profile })
	return out
}

type decisionPage struct {
	base
	Decision    review.Decision
	Case        review.Case
	Outcomes    []outcomeRow
	BundleFile  string
	ReceiptFile string
	VerifyCmd   string
	CosignCmd   string
	TrustedRoot string
}

func (h *Handler) decisionPage(w http.ResponseWriter, r *http.Request, u user) {
	d, err := h.getDecision(r.Context(), u.Actor, r.PathValue("id"))
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	c, err := h.svc.GetCase(r.Context(), u.Actor, d.CaseID)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	p := &decisionPage{base: base{Title: "Decision on " + c.ModelName, Nav: "cases"}, Decision: d, Case: c,
		Outcomes: outcomeRows(d.Outcomes), BundleFile: bundleFile(d.ID), ReceiptFile: bundleFile(d.ID) + ".receipt.json",
		TrustedRoot: strings.TrimSpace(attest.CosignTrustedRoot)}
	ex := h.explanations(r, c)
	for i := range p.Outcomes {
		if res, ok := ex[p.Outcomes[i].Profile]; ok {
			p.Outcomes[i].Computed, p.Outcomes[i].Explanation = string(res.Outcome), res.Explanation
		}
	}
	p.setUser(u)
	p.VerifyCmd = "clearance verify --bundle " + p.BundleFile + " --key decider.pub --receipt " + p.ReceiptFile +
		" --log-key log.pub --model MODEL_DIR"
	p.CosignCmd = attest.CosignCommand("decider.pub", p.BundleFile, "trusted_root.json", "",
		strings.TrimPrefix(c.ModelDigest, "sha256:"))
	h.render(w, r, http.StatusOK, "decision", p)
}

// bundleFile is the file name a decision's bundle is downloaded as; the
// receipt's is this plus ".receipt.json", where clearance verify looks
// for it by default.
func bundleFile(id string) string { return id + ".bundle" }

func (h *Handler) decisionBundle(w http.ResponseWriter, r *http.Request, u user) {
	d, err := h.getDecision(r.Context(), u.Actor, r.PathValue("id"))
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if len(d.Bundle) == 0 {
		h.errorPage(w, r, http.StatusNotFound, "No bundle", "This decision was not signed, so there is no bundle to download.")
		return
	}
	download(w, bundleFile(d.ID), d.Bundle)
}

func (h *Handler) decisionReceipt(w http.ResponseWriter, r *http.Request, u user) {
	d, err := h.getDecision(r.Context(), u.Actor, r.PathValue("id"))
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if d.LogIndex < 0 || len(d.Receipt) == 0 {
		h.errorPage(w, r, http.StatusNotFound, "Not logged yet",
			"This decision has not been appended to the transparency log yet, so it has no receipt. Try again shortly.")
		return
	}
	download(w, bundleFile(d.ID)+".receipt.json", d.Receipt)
}

// download sends b as an attachment; JSON content is labelled as such.
func download(w http.ResponseWriter, name string, b []byte) {
	ct := "application/octet-stream"
	if json.Valid(b) {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(b)
}

// compactJSON returns b compacted when it is JSON, else nil.
func compactJSON(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return nil
	}
	return buf.Bytes()
}
