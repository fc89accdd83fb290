package review

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Reference-model cohorts (docs/cohorts.md). An assessment can be a
// reference assessment: the same plan and seed run against a reference
// model (an earlier frontier model, the developer's previous release, an
// open-weight baseline) instead of the case's target, or a run of one
// imported with its digest. The case's cohort compares the model under
// review with each reference per metric; reference assessments never
// count as evidence about the model itself.

// ReferenceInput makes an assessment a reference assessment
// (AssessmentInput.Reference, ImportedRun.Reference). Name is how the
// cohort and profiles refer to it (references['previous'] in CEL). For a
// scheduled assessment URL (an OpenAI-compatible "/v1" root, reached
// under the service's egress policy like a case's target) and Model are
// required; Credentials are sealed into their own table and never
// returned. Digest, optional, is the reference model's "sha256:…" digest.
type ReferenceInput struct {
	Name        string `json:"name"`
	URL         string `json:"url,omitempty"`
	Model       string `json:"model,omitempty"`
	Credentials string `json:"credentials,omitempty"`
	Digest      string `json:"digest,omitempty"`
}

// AssessmentReference is the stored reference of a reference assessment.
// Credentials are sealed by the service's Sealer (nil when none) and are
// cleared in everything the service returns except to the runner.
type AssessmentReference struct {
	AssessmentID string
	CaseID       string
	Name         string
	URL          string
	Model        string
	Digest       string
	Credentials  []byte
	CreatedAt    time.Time
}

var (
	referenceNameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)
	referenceDigestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// validate checks a reference; run says whether the service is to run
// it (URL and model required) or it comes with an imported run.
func (r *ReferenceInput) validate(run bool) error {
	if !referenceNameRE.MatchString(r.Name) || r.Name == "model" {
		return invalid("reference.name", "%q: want 1 to 63 lower-case letters, digits, '.', '_' or '-', not \"model\"", r.Name)
	}
	if run || r.URL != "" {
		if err := checkEndpointURL("reference.url", r.URL); err != nil {
			return err
		}
	}
	if run || r.Model != "" {
		if err := checkName("reference.model", r.Model); err != nil {
			return err
		}
	}
	if r.Digest != "" && !referenceDigestRE.MatchString(r.Digest) {
		return invalid("reference.digest", "%q: want sha256: and 64 lower-case hex digits", r.Digest)
	}
	if len(r.Credentials) > maxCredentials {
		return invalid("reference.credentials", "%d bytes exceeds the limit of %d", len(r.Credentials), maxCredentials)
	}
	if !run && r.Credentials != "" {
		return invalid("reference.credentials", "an imported run is not run again: it takes no credentials")
	}
	return nil
}

// newReference seals a reference input's credentials into the row of
// assessment as.
func (s *Service) newReference(as Assessment, in *ReferenceInput) (*AssessmentReference, error) {
	if in == nil {
		return nil, nil
	}
	ref := &AssessmentReference{AssessmentID: as.ID, CaseID: as.CaseID, Name: in.Name, URL: in.URL, Model: in.Model,
		Digest: in.Digest, CreatedAt: as.CreatedAt}
	if in.Credentials != "" {
		sealed, err := s.sealer.Seal([]byte(in.Credentials))
		if err != nil {
			return nil, fmt.Errorf("seal reference credentials: %w", err)
		}
		ref.Credentials = sealed
	}
	return ref, nil
}

// References returns the references of a case's reference assessments
// that the actor may see, by assessment id, without credentials.
func (s *Service) References(ctx context.Context, a Actor, caseID string) (map[string]AssessmentReference, error) {
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return nil, fmt.Errorf("list references: %w", err)
	}
	refs, err := s.store.ListAssessmentReferences(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("list references of case %s: %w", caseID, err)
	}
	out := map[string]AssessmentReference{}
	for _, r := range refs {
		as, err := s.store.GetAssessment(ctx, r.AssessmentID)
		if err != nil {
			return nil, fmt.Errorf("list references of case %s: %w", caseID, err)
		}
		if !a.seesAssessment(c, as) {
			continue
		}
		r.Credentials = nil
		out[r.AssessmentID] = r
	}
	return out, nil
}

// referenceTarget points the case returned to the runner at the
// reference model when assessment as is a reference assessment, and
// returns its opened credentials; ok is false for an ordinary one.
func (s *Service) referenceTarget(ctx context.Context, as Assessment, c *Case) (cred []byte, ok bool, err error) {
	r, err := s.store.GetAssessmentReference(ctx, as.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load reference of assessment %s: %w", as.ID, err)
	}
	if r.URL == "" {
		return nil, false, fmt.Errorf("assessment %s is an imported reference run: it has no endpoint to run: %w", as.ID, ErrConflict)
	}
	c.TargetURL, c.ModelName, c.ModelDigest = r.URL, r.Model, r.Digest
	if r.Credentials != nil {
		if cred, err = s.sealer.Open(r.Credentials); err != nil {
			return nil, false, fmt.Errorf("open reference credentials of assessment %s: %w", as.ID, err)
		}
	}
	return cred, true, nil
}
