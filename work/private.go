package work

import (
	"errors"
	"fmt"
	"iter"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/suite"
)

// Private variants in the service: an assessment planned with
// review.AssessmentInput.Private runs, after the plan of its public suites,
// the same plan of each suite's private form under the agency's private
// seed (Planner.PrivateSeed, RunnerConfig.PrivateSeed: the same seed,
// from the service data directory). The spec records the seed's
// fingerprint, never the seed; a runner holding another seed refuses the
// shard. The metrics then carry the private-variant gap (assess.PrivateGap).

// errNoPrivateSeed is returned when an assessment wants private forms and
// this planner or runner holds no seed.
var errNoPrivateSeed = errors.New("this server holds no private seed")

// privateSpec sets spec.Private from the input, or fails when the planner
// has no seed.
func (p *Planner) privateSpec(spec *Spec, in review.AssessmentInput) error {
	p.suites.seed = p.PrivateSeed
	if !in.Private {
		return nil
	}
	if p.PrivateSeed == nil {
		return fmt.Errorf("plan assessment: private: %w: %w", errNoPrivateSeed, review.ErrInvalidInput)
	}
	spec.Private = p.PrivateSeed.Fingerprint()
	return nil
}

// privatePlan returns the plans of the private forms of the spec's suites,
// built as planOne builds a public suite's plan.
func (s Spec) privatePlan(load *suites, planOne func(st *suite.Suite, ss SpecSuite) ([]iter.Seq[suite.Sample], error)) ([]iter.Seq[suite.Sample], error) {
	if s.Private == "" {
		return nil, nil
	}
	if load.seed == nil {
		return nil, fmt.Errorf("private forms: %w", errNoPrivateSeed)
	}
	if fp := load.seed.Fingerprint(); fp != s.Private {
		return nil, fmt.Errorf("private forms: the assessment was planned with private seed %s, this server holds %s", s.Private, fp)
	}
	var out []iter.Seq[suite.Sample]
	for _, ss := range s.Suites {
		pub, err := load.get(ss.Name)
		if err != nil {
			return nil, err
		}
		pv, err := load.private(pub)
		if errors.Is(err, suite.ErrNoPrivateForm) {
			continue
		}
		if err != nil {
			return nil, err
		}
		seqs, err := planOne(pv, ss)
		if err != nil {
			return nil, err
		}
		out = append(out, seqs...)
	}
	return out, nil
}

// private returns the private form of a loaded suite, made once.
func (c *suites) private(pub *suite.Suite) (*suite.Suite, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.privates[pub.Name]; ok {
		return p, nil
	}
	p, err := suite.PrivateWith(pub, *c.seed, c.para)
	if err != nil {
		return nil, err
	}
	if c.privates == nil {
		c.privates = map[string]*suite.Suite{}
	}
	c.privates[pub.Name] = p
	return p, nil
}
