package work

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
)

// CaseCohort compares a case's model with its reference models from the
// case's finished assessments (as, any order) and the references among
// them (refs, by assessment id; review.Service.References): the model's
// metrics are those of its own assessments, each reference's those of
// the assessments made of it, a later assessment's metric group
// replacing an earlier one's. It returns nil when no reference assessment
// is finished.
func CaseCohort(as []review.Assessment, refs map[string]review.AssessmentReference) (*assess.Cohort, error) {
	as = append([]review.Assessment(nil), as...)
	sort.SliceStable(as, func(i, j int) bool { return as[i].CreatedAt.Before(as[j].CreatedAt) })
	type acc struct {
		member assess.Member
		groups map[string]assess.Group
		order  []string
	}
	model := &acc{member: assess.Member{Name: "model"}, groups: map[string]assess.Group{}}
	byName := map[string]*acc{}
	var names []string
	for _, a := range as {
		if a.State != review.AssessmentDone || len(a.Metrics) == 0 {
			continue
		}
		var m assess.Metrics
		if err := json.Unmarshal(a.Metrics, &m); err != nil {
			return nil, fmt.Errorf("cohort: metrics of assessment %s: %w", a.ID, err)
		}
		sum := sha256.Sum256(a.Metrics)
		target := model
		if r, ok := refs[a.ID]; ok {
			if byName[r.Name] == nil {
				byName[r.Name] = &acc{groups: map[string]assess.Group{}}
				names = append(names, r.Name)
			}
			target = byName[r.Name]
			target.member = assess.Member{Name: r.Name, Source: "assessment:" + a.ID, Identity: r.Model}
			if r.Digest != "" {
				target.member.Identity = r.Model + "@" + r.Digest
			}
		} else {
			target.member.Source = "assessment:" + a.ID
		}
		target.member.Digest = "sha256:" + hex.EncodeToString(sum[:])
		for _, g := range m.Groups {
			if _, seen := target.groups[g.Key]; !seen {
				target.order = append(target.order, g.Key)
			}
			target.groups[g.Key] = g
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	run := func(a *acc) assess.CohortRun {
		var m assess.Metrics
		for _, k := range a.order {
			m.Groups = append(m.Groups, a.groups[k])
		}
		return assess.CohortRun{Member: a.member, Metrics: m}
	}
	sort.Strings(names)
	var rs []assess.CohortRun
	for _, n := range names {
		rs = append(rs, run(byName[n]))
	}
	c := assess.CompareCohort(run(model), rs)
	return &c, nil
}
