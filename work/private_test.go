package work

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/suite"
)

func TestPlanPrivateForms(t *testing.T) {
	ctx := context.Background()
	seed := suite.PrivateSeed{1, 2, 3}
	p := &Planner{PrivateSeed: &seed}
	in := review.AssessmentInput{Suites: []string{"misuse"}, Limit: 40, Seed: 5, Private: true}
	b, shards, err := p.PlanAssessment(ctx, review.Case{}, in)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ParseSpec(b)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Private != seed.Fingerprint() || strings.Contains(string(b), seed.Hex()) || spec.Samples != 80 || shards != 1 {
		t.Fatalf("spec %s: want the seed's fingerprint (not the seed), 80 samples", b)
	}
	r := &suites{seed: &seed}
	plan, n, _, err := spec.plan(r)
	if err != nil || n != 80 {
		t.Fatalf("plan = %d samples, %v", n, err)
	}
	var pub, priv []string
	for s := range plan {
		if s.Suite == "misuse-private" {
			priv = append(priv, s.Item+"/"+s.Transform)
		} else {
			pub = append(pub, s.Item+"/"+s.Transform)
		}
	}
	if strings.Join(pub, ",") != strings.Join(priv, ",") {
		t.Fatalf("private forms cover other items:\npublic  %v\nprivate %v", pub, priv)
	}

	// A runner with another seed, or none, refuses the plan.
	other := suite.PrivateSeed{9}
	if _, _, _, err := spec.plan(&suites{seed: &other}); err == nil || !strings.Contains(err.Error(), "planned with private seed") {
		t.Fatalf("plan with another seed: %v", err)
	}
	if _, _, _, err := spec.plan(&suites{}); !errors.Is(err, errNoPrivateSeed) {
		t.Fatalf("plan without a seed: %v", err)
	}
	// A planner without a seed refuses the input.
	if _, _, err := (&Planner{}).PlanAssessment(ctx, review.Case{}, in); !errors.Is(err, review.ErrInvalidInput) {
		t.Fatalf("PlanAssessment(private) without a seed = %v, want ErrInvalidInput", err)
	}
	// Without Private the plan is public only.
	in.Private = false
	b, _, err = p.PlanAssessment(ctx, review.Case{}, in)
	if err != nil || strings.Contains(string(b), `"private"`) {
		t.Fatalf("public spec %s, %v", b, err)
	}
}
