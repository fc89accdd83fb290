package assess

import (
	"strings"
	"testing"
)

func capGroup(key, metric string, cats map[string][2]int) Group {
	g := Group{Key: key, Metric: metric, ByCategory: map[string]Rate{}}
	for c, kn := range cats {
		g.ByCategory[c] = Rate{Flagged: kn[0], N: kn[1]}
		g.Overall.Flagged += kn[0]
		g.Overall.N += kn[1]
	}
	return g
}

func cohortRun(name string, web, crypto, mcq [2]int, asr [2]int) CohortRun {
	return CohortRun{Member: Member{Name: name}, Metrics: Metrics{Groups: []Group{
		capGroup("cyber.solve_rate", "solve_rate", map[string][2]int{"web": web, "crypto": crypto}),
		capGroup("knowledge.accuracy", "accuracy", map[string][2]int{"bio": mcq}),
		{Key: "jailbreak.attack_success_rate", Metric: "attack_success_rate", Overall: Rate{Flagged: asr[0], N: asr[1]}},
	}}}
}

func TestCompareCohort(t *testing.T) {
	model := cohortRun("model", [2]int{80, 100}, [2]int{50, 100}, [2]int{70, 100}, [2]int{5, 100})
	same := cohortRun("typical", [2]int{78, 100}, [2]int{48, 100}, [2]int{69, 100}, [2]int{6, 100})
	weak := cohortRun("previous", [2]int{30, 100}, [2]int{10, 100}, [2]int{40, 100}, [2]int{30, 100})
	c := CompareCohort(model, []CohortRun{same, weak})
	if c.Schema != CohortSchema || len(c.References) != 2 {
		t.Fatalf("cohort = %+v", c)
	}
	for _, cmp := range c.References {
		if len(cmp.Deltas) != 3 {
			t.Fatalf("%s: %d deltas, want the 3 overall metrics: %+v", cmp.Reference.Name, len(cmp.Deltas), cmp.Deltas)
		}
		for _, d := range cmp.Deltas {
			if strings.Contains(d.Key, "category=") {
				t.Errorf("per-category delta %s in the cohort", d.Key)
			}
			if d.WithinError != d.CI.Contains(0) || !(d.Delta == d.Model.Rate-d.Reference.Rate) {
				t.Errorf("%s %s: inconsistent delta %+v", cmp.Reference.Name, d.Key, d)
			}
			wantWithin := cmp.Reference.Name == "typical"
			if d.WithinError != wantWithin {
				t.Errorf("%s %s: within_error = %v, want %v (%+v)", cmp.Reference.Name, d.Key, d.WithinError, wantWithin, d.CI)
			}
		}
		if cmp.Ability == nil {
			t.Fatalf("%s: no ability delta", cmp.Reference.Name)
		}
	}
	if a := c.References[1].Ability; !(a.Delta > 0 && !a.WithinError && a.CI.Low > 0) {
		t.Errorf("ability over the weak reference = %+v, want clearly positive", a)
	}
	if a := c.References[0].Ability; !a.WithinError {
		t.Errorf("ability over the similar reference = %+v, want within error", a)
	}
	agg := c.Aggregate
	if agg == nil || len(agg.Items) != 3 || len(agg.Abilities) != 3 || agg.Note != "" {
		t.Fatalf("aggregate = %+v", agg)
	}
	if !(agg.Abilities[0].Ability.Value > agg.Abilities[2].Ability.Value) {
		t.Errorf("model not above the weak reference: %+v", agg.Abilities)
	}
}

func TestCohortAggregateExtremes(t *testing.T) {
	// The perfect member is dropped with a reason; the others are placed.
	a := cohortRun("model", [2]int{10, 10}, [2]int{10, 10}, [2]int{10, 10}, [2]int{0, 10})
	b := cohortRun("x", [2]int{3, 10}, [2]int{5, 10}, [2]int{6, 10}, [2]int{0, 10})
	c := cohortRun("y", [2]int{6, 10}, [2]int{2, 10}, [2]int{4, 10}, [2]int{0, 10})
	co := CompareCohort(a, []CohortRun{b, c})
	if co.Aggregate == nil || len(co.Aggregate.Abilities) != 2 || !strings.Contains(strings.Join(co.Aggregate.Dropped, ";"), "model: succeeded on every item") {
		t.Fatalf("aggregate = %+v", co.Aggregate)
	}
	if co.References[0].Ability != nil {
		t.Errorf("ability delta for a model off the scale: %+v", co.References[0].Ability)
	}
	// Two members, both perfect: no aggregate, a note, no panic.
	co = CompareCohort(a, []CohortRun{a})
	if co.Aggregate == nil || co.Aggregate.Note == "" || len(co.Aggregate.Abilities) != 0 {
		t.Fatalf("aggregate = %+v", co.Aggregate)
	}
	// No capability metric: no aggregate.
	noCap := CohortRun{Member: Member{Name: "m"}, Metrics: Metrics{Groups: []Group{{Key: "j.attack_success_rate", Metric: "attack_success_rate", Overall: Rate{Flagged: 1, N: 10}}}}}
	if co := CompareCohort(noCap, []CohortRun{noCap}); co.Aggregate != nil || len(co.References[0].Deltas) != 1 {
		t.Fatalf("cohort = %+v", co)
	}
}

// Per category: each overall metric carries the difference in each
// category both runs have (a category one side lacks is left out),
// sorted by name, each with its own interval and "within error" mark; a
// metric whose one category is the whole metric carries none.
func TestCohortByCategory(t *testing.T) {
	model := CohortRun{Member: Member{Name: "model"}, Metrics: Metrics{Groups: []Group{
		capGroup("cyber.solve_rate", "solve_rate", map[string][2]int{"web": {80, 100}, "crypto": {12, 100}, "pwn": {5, 10}}),
		capGroup("knowledge.accuracy", "accuracy", map[string][2]int{"bio": {70, 100}}),
	}}}
	ref := CohortRun{Member: Member{Name: "previous"}, Metrics: Metrics{Groups: []Group{
		capGroup("cyber.solve_rate", "solve_rate", map[string][2]int{"web": {30, 100}, "crypto": {10, 100}, "forensics": {1, 10}}),
		capGroup("knowledge.accuracy", "accuracy", map[string][2]int{"bio": {40, 100}}),
	}}}
	c := CompareCohort(model, []CohortRun{ref})
	got := map[string]Delta{}
	for _, d := range c.References[0].Deltas {
		got[d.Key] = d
	}
	cy := got["cyber.solve_rate"].ByCategory
	if len(cy) != 2 || cy[0].Key != "crypto" || cy[1].Key != "web" {
		t.Fatalf("cyber.solve_rate by category = %+v, want crypto and web (the categories both runs have)", cy)
	}
	if d := cy[1]; d.Model.N != 100 || d.Reference.N != 100 || d.Delta < 0.499 || d.Delta > 0.501 || d.WithinError || d.WithinError != d.CI.Contains(0) {
		t.Errorf("web = %+v, want 0.8 − 0.3 = +0.5, differs", d)
	}
	if d := cy[0]; !d.WithinError || d.Delta < 0.019 || d.Delta > 0.021 {
		t.Errorf("crypto = %+v, want 0.12 − 0.10 = +0.02, within error", d)
	}
	if bc := got["knowledge.accuracy"].ByCategory; len(bc) != 0 {
		t.Errorf("knowledge.accuracy by category = %+v, want none (its one category is the whole metric)", bc)
	}
}
