package review

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Private variants (issue 18 part 3). An assessment may run each suite's
// private form beside its public form: reworded items with agency-only
// canaries, drawn from a secret seed the agency keeps in its data
// directory (package suite, Private). The private texts and per-item
// results must never reach the developer, or the next model could be
// trained on them too. So, for an actor who may not reveal samples (a
// developer; see Actor.mayReveal):
//
//   - samples of a private suite are left out of Samples and refused by
//     RevealSample (ErrForbidden), whatever their harm;
//   - an assessment's metrics lose the private suites' groups, and the
//     private-variant gap is cut down to its flag.
//
// Agency staff (assessors, reviewers, officials) see everything.

// privateSuffix ends the name of a private suite form; it is
// suite.PrivateSuffix, repeated here so that this package stays free of
// the evaluation packages.
const privateSuffix = "-private"

// isPrivateSuite reports whether a suite name is a private form's.
func isPrivateSuite(name string) bool { return strings.HasSuffix(name, privateSuffix) }

// seesPrivate reports whether a may see private variants' texts and rates.
func (a Actor) seesPrivate() bool { return a.mayReveal() }

// redactPrivate returns as with the private forms' results removed from
// its metrics, unless a may see them.
func (a Actor) redactPrivate(as Assessment) Assessment {
	if a.seesPrivate() || len(as.Metrics) == 0 {
		return as
	}
	as.Metrics = redactPrivateMetrics(as.Metrics)
	return as
}

// redactPrivateMetrics drops the groups of private suites from a
// metrics.json document and keeps only the flag of its private_gap.
// A document it cannot read is returned as it is: it then has no private
// groups this function could recognise.
func redactPrivateMetrics(raw json.RawMessage) json.RawMessage {
	var doc map[string]json.RawMessage
	if json.Unmarshal(raw, &doc) != nil {
		return raw
	}
	changed := false
	if g, ok := doc["groups"]; ok {
		var groups []json.RawMessage
		if json.Unmarshal(g, &groups) == nil {
			kept := groups[:0]
			for _, gr := range groups {
				var head struct {
					Suite string `json:"suite"`
				}
				if json.Unmarshal(gr, &head) == nil && isPrivateSuite(head.Suite) {
					changed = true
					continue
				}
				kept = append(kept, gr)
			}
			if changed {
				doc["groups"], _ = json.Marshal(kept)
			}
		}
	}
	if _, ok := doc["contamination"]; ok {
		// The canary scan (contamination.go) names private canaries and
		// samples: agency staff only.
		delete(doc, "contamination")
		changed = true
	}
	if pg, ok := doc["private_gap"]; ok {
		var flag struct {
			Flagged bool `json:"flagged"`
		}
		_ = json.Unmarshal(pg, &flag)
		doc["private_gap"], _ = json.Marshal(map[string]any{"flagged": flag.Flagged, "redacted": true})
		changed = true
	}
	if !changed {
		return raw
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return raw
	}
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return raw
	}
	return out.Bytes()
}
