package review

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Recognition of other authorities' evidence (issue 16): an agency
// imports a decision another authority signed (a foreign AI safety
// institute's, a lab's), verified against that authority's keys and
// transparency log as the agency's admins pinned them in the service's
// trust file. The recognised decision enters the case's evidence with its
// provenance; profiles decide whether it counts (policy: recognised).

// Authorities verifies evidence signed by another authority. The service
// does not know keys or logs: cmd/clearance gives it one backed by the
// trust file (trust.Authorities).
type Authorities interface {
	// VerifyForeign verifies bundle (a signed decision) as the named
	// authority's, and receipt as its inclusion in the authority's log
	// (required when the authority has a log). An error says why the
	// evidence is not accepted; it is shown to the importer.
	VerifyForeign(ctx context.Context, authority string, bundle, receipt []byte) (ForeignEvidence, error)
}

// ForeignEvidence is what an Authorities implementation verified about a
// foreign bundle.
type ForeignEvidence struct {
	// Kind is what was signed: "decision".
	Kind string
	// SignerKey is the key hint (attest.KeyHint) of the authority key
	// whose signature verified.
	SignerKey string
	// LogOrigin and LogIndex say where the bundle is logged; LogOrigin is
	// "" (and LogIndex -1) when the authority has no log.
	LogOrigin string
	LogIndex  int64
	// DecisionID is the authority's id of the decision ("" if none);
	// Verifier the authority's identity as the decision names it.
	DecisionID string
	Verifier   string
	// ModelDigest is the digest of the weights decided on,
	// "sha256:<64 hex>".
	ModelDigest string
	// DecidedAt is when the authority decided; ExpiresAt when the decision
	// lapses (zero: never).
	DecidedAt time.Time
	ExpiresAt time.Time
	// Outcome is the overall outcome; Profiles each profile's.
	Outcome  string
	Profiles []ForeignOutcome
}

// ForeignOutcome is one profile's outcome in a foreign decision.
type ForeignOutcome struct {
	Profile string `json:"profile"`
	Outcome string `json:"outcome"`
}

// RecognitionInput asks to recognise another authority's signed evidence
// in a case.
type RecognitionInput struct {
	// Authority is the trust file entry's name.
	Authority string
	// Bundle is the signed decision (a Sigstore bundle); Receipt its log
	// receipt (tlog.Receipt JSON).
	Bundle  []byte
	Receipt []byte
	// Note is the importer's note (why it is recognised), at most
	// maxRecognitionNote bytes.
	Note string
}

// Recognition is another authority's evidence recognised in a case, with
// its provenance.
type Recognition struct {
	ID     string
	CaseID string
	// OrgID is the agency that recognised it (its compartment in a joint
	// review; "" otherwise). Recognitions are visible to everyone who sees
	// the case: they are signed, usually public, decisions.
	OrgID     string
	Authority string
	ForeignEvidence
	Bundle     []byte
	Receipt    []byte
	Note       string
	ImportedBy string
	CreatedAt  time.Time
}

// Limits on a recognition's input.
const (
	maxRecognitionBundle  = 4 << 20
	maxRecognitionReceipt = 64 << 10
	maxRecognitionNote    = 4000
)

// ErrNoAuthorities is returned (wrapped) by RecogniseEvidence on a
// service without Authorities: it trusts no other authority.
var ErrNoAuthorities = errors.New("this server trusts no other authority (no trust file)")

func (in RecognitionInput) validate() error {
	switch {
	case strings.TrimSpace(in.Authority) == "":
		return invalid("authority", "missing: name the trust file entry of the authority that signed the evidence")
	case len(in.Authority) > 64:
		return invalid("authority", "%d bytes exceeds the limit of 64", len(in.Authority))
	case len(in.Bundle) == 0:
		return invalid("bundle", "missing")
	case len(in.Bundle) > maxRecognitionBundle:
		return invalid("bundle", "%d bytes exceeds the limit of %d", len(in.Bundle), maxRecognitionBundle)
	case len(in.Receipt) > maxRecognitionReceipt:
		return invalid("receipt", "%d bytes exceeds the limit of %d", len(in.Receipt), maxRecognitionReceipt)
	case len(in.Note) > maxRecognitionNote:
		return invalid("note", "%d bytes exceeds the limit of %d", len(in.Note), maxRecognitionNote)
	case !utf8.ValidString(in.Note):
		return invalid("note", "not valid UTF-8")
	}
	return nil
}

// RecogniseEvidence verifies another authority's signed decision and
// records it as evidence of a case. Assessors and reviewers assigned to
// the case, and officials who oversee it, only; the case must not be
// decided, withdrawn or appealed. The bundle must verify under the
// authority's keys, its receipt under the authority's log key (when the
// authority has a log), and the decision must be about the case's model.
// Anything unverifiable is ErrInvalidInput with the reason, and nothing
// is stored. The recognition is audited as "evidence.recognised".
func (s *Service) RecogniseEvidence(ctx context.Context, a Actor, caseID string, in RecognitionInput) (Recognition, error) {
	const action = "recognise evidence"
	if err := in.validate(); err != nil {
		return Recognition{}, fmt.Errorf("%s in case %s: %w", action, caseID, err)
	}
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return Recognition{}, fmt.Errorf("%s: %w", action, err)
	}
	switch {
	case a.has(RoleOfficial) && a.overseer():
	case a.has(RoleAssessor) || a.has(RoleReviewer):
		if err := requireAssigned(action, a, c); err != nil {
			return Recognition{}, err
		}
	default:
		return Recognition{}, forbidden(action, RoleAssessor, RoleReviewer, RoleOfficial)
	}
	switch c.State {
	case StateSubmitted, StateInAssessment, StateUnderReview, StateInformationRequested:
	default:
		return Recognition{}, fmt.Errorf("%s in case %s in state %s: %w", action, caseID, c.State, ErrInvalidTransition)
	}
	if s.authorities == nil {
		return Recognition{}, fmt.Errorf("%s in case %s: %w: %w", action, caseID, ErrNoAuthorities, ErrConflict)
	}
	fe, err := s.authorities.VerifyForeign(ctx, in.Authority, in.Bundle, in.Receipt)
	if err != nil {
		if ctx.Err() != nil {
			return Recognition{}, fmt.Errorf("%s in case %s: %w", action, caseID, ctx.Err())
		}
		return Recognition{}, fmt.Errorf("%s in case %s: %w", action, caseID, invalid("bundle", "not accepted as %s's: %v", in.Authority, err))
	}
	if fe.ModelDigest != c.ModelDigest {
		return Recognition{}, fmt.Errorf("%s in case %s: %w", action, caseID,
			invalid("bundle", "the decision is about model %s, not this case's model %s", fe.ModelDigest, c.ModelDigest))
	}
	now := s.stamp()
	rc := Recognition{CaseID: c.ID, OrgID: compartment(a, c), Authority: in.Authority, ForeignEvidence: fe,
		Bundle: in.Bundle, Receipt: in.Receipt, Note: in.Note, ImportedBy: a.User.ID, CreatedAt: now}
	if rc.Profiles == nil {
		rc.Profiles = []ForeignOutcome{}
	}
	if rc.ID, err = newID("rec", now); err != nil {
		return Recognition{}, err
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := tx.CreateRecognition(ctx, rc); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "evidence.recognised", c.ID, map[string]any{
			"recognition": rc.ID, "authority": rc.Authority, "signer_key": rc.SignerKey,
			"log_origin": rc.LogOrigin, "log_index": rc.LogIndex, "decision_id": rc.DecisionID,
			"outcome": rc.Outcome, "model_digest": rc.ModelDigest,
		})
	})
	if err != nil {
		return Recognition{}, fmt.Errorf("%s in case %s: %w", action, caseID, err)
	}
	return rc, nil
}

// ListRecognitions lists the evidence of other authorities recognised in
// a case, to everyone who sees the case.
func (s *Service) ListRecognitions(ctx context.Context, a Actor, caseID string, p Page) ([]Recognition, error) {
	if _, err := getCase(ctx, s.store, a, caseID); err != nil {
		return nil, fmt.Errorf("list recognitions: %w", err)
	}
	rs, err := s.store.ListRecognitions(ctx, caseID, p)
	if err != nil {
		return nil, fmt.Errorf("list recognitions of case %s: %w", caseID, err)
	}
	return rs, nil
}
