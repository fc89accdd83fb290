package review

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Publisher appends entries to the transparency log. Publish must not
// append bytes the log already holds (a retry after a crash between the
// append and the recording of its index): it then returns the first
// copy's index and a fresh receipt.
type Publisher interface {
	Publish(ctx context.Context, entry []byte) (index int64, receipt []byte, err error)
}

// PublishPending appends every signed decision not yet logged to the
// transparency log and records its index and receipt, oldest first. It
// returns how many it logged. Decisions are logged after they are
// committed, so a crash leaves them pending for the next call, never
// lost; the Publisher's duplicate check keeps a retry from logging one
// twice. Call it after decisions and periodically.
//
// When it logged any decision it then anchors the audit trail's head
// (AnchorAudit), so that the entries recording the decision are covered
// by the log as soon as the decision is; an anchoring error is returned
// with the count of decisions logged.
func (s *Service) PublishPending(ctx context.Context) (int, error) {
	if s.publisher == nil {
		return 0, nil
	}
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	n := 0
	for {
		ds, err := s.store.ListUnloggedDecisions(ctx, 100)
		if err != nil {
			return n, fmt.Errorf("publish decisions: %w", err)
		}
		if len(ds) == 0 {
			m, err := s.publishConformanceLocked(ctx)
			if err != nil {
				return n, err
			}
			if n+m > 0 {
				if _, _, err := s.anchorLocked(ctx); err != nil {
					return n, err
				}
			}
			return n, nil
		}
		for _, d := range ds {
			idx, receipt, err := s.publisher.Publish(ctx, d.Bundle)
			if err != nil {
				return n, fmt.Errorf("publish decision %s: %w", d.ID, err)
			}
			err = s.store.Tx(ctx, func(tx Store) error {
				if err := tx.SetDecisionLog(ctx, d.ID, idx, receipt); err != nil {
					return err
				}
				return s.audit(ctx, tx, SystemActor(), "decision.logged", d.CaseID, map[string]any{"decision": d.ID, "log_index": idx})
			})
			if err != nil {
				return n, fmt.Errorf("publish decision %s: %w", d.ID, err)
			}
			n++
		}
	}
}

// AnchorStatement is the log entry that anchors the audit trail: the
// sequence number and hash of its head. It holds no time, so anchoring
// the same head twice yields the same bytes and the Publisher logs it
// once.
type AnchorStatement struct {
	Type string `json:"type"` // AnchorType
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// AnchorType is the type of an AnchorStatement.
const AnchorType = "https://clearance.dev/audit-anchor/v1"

// AnchorAudit appends the audit trail's head to the transparency log if
// it moved since the last anchor, and records the anchor. Anyone holding
// a later copy of the trail can then show that no entry up to the anchor
// was changed or dropped. It returns the anchor and whether a new one was
// made.
//
// The service anchors after every decision it logs (PublishPending) and
// after every decision it records (Decide, Expire), besides the periodic
// call the server makes, so that a crash cannot silently drop decision
// entries that were never anchored.
func (s *Service) AnchorAudit(ctx context.Context) (Anchor, bool, error) {
	if s.publisher == nil {
		return Anchor{}, false, nil
	}
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	return s.anchorLocked(ctx)
}

// anchorLocked is AnchorAudit with publishMu held.
func (s *Service) anchorLocked(ctx context.Context) (Anchor, bool, error) {
	head, err := s.store.AuditHead(ctx)
	if errors.Is(err, ErrNotFound) {
		return Anchor{}, false, nil
	}
	if err != nil {
		return Anchor{}, false, fmt.Errorf("anchor audit: %w", err)
	}
	last, err := s.store.LastAnchor(ctx)
	switch {
	case err == nil && last.Seq >= head.Seq:
		return last, false, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return Anchor{}, false, fmt.Errorf("anchor audit: %w", err)
	}
	st, err := json.Marshal(AnchorStatement{Type: AnchorType, Seq: head.Seq, Hash: head.Hash})
	if err != nil {
		return Anchor{}, false, fmt.Errorf("anchor audit: %w", err)
	}
	idx, _, err := s.publisher.Publish(ctx, st)
	if err != nil {
		return Anchor{}, false, fmt.Errorf("anchor audit at %d: %w", head.Seq, err)
	}
	an := Anchor{Seq: head.Seq, Hash: head.Hash, LogIndex: idx, CreatedAt: s.stamp()}
	if err := s.store.CreateAnchor(ctx, an); err != nil {
		return Anchor{}, false, fmt.Errorf("anchor audit at %d: %w", head.Seq, err)
	}
	return an, true, nil
}

// GetDecision returns a decision on a case the actor may see.
func (s *Service) GetDecision(ctx context.Context, a Actor, id string) (Decision, error) {
	d, err := s.store.GetDecision(ctx, id)
	if err != nil {
		return Decision{}, fmt.Errorf("get decision %s: %w", id, err)
	}
	if _, err := getCase(ctx, s.store, a, d.CaseID); err != nil {
		return Decision{}, fmt.Errorf("get decision %s: %w", id, err)
	}
	return d, nil
}

// PublicDecision is what anyone may see of a logged decision: the model,
// the outcomes, the signed bundle and where it is in the log. No dossier,
// finding, rationale or transcript.
type PublicDecision struct {
	ID          string
	ModelDigest string
	ModelName   string
	Outcomes    json.RawMessage
	Deemed      bool
	LogIndex    int64
	Bundle      []byte
	// Receipt is the log's inclusion receipt of Bundle as recorded when
	// it was logged (tlog.Receipt JSON); empty if none was recorded.
	Receipt   []byte
	CreatedAt time.Time
}

// PublicDecisions lists logged decisions for the public transparency
// page; it needs no actor. Unlogged decisions are left out.
func (s *Service) PublicDecisions(ctx context.Context, p Page) ([]PublicDecision, error) {
	var out []PublicDecision
	for len(out) < p.N() {
		ds, err := s.store.ListDecisions(ctx, "", p)
		if err != nil {
			return nil, fmt.Errorf("list public decisions: %w", err)
		}
		for _, d := range ds {
			if d.LogIndex < 0 || len(out) == p.N() {
				continue
			}
			c, err := s.store.GetCase(ctx, d.CaseID)
			if err != nil {
				return nil, fmt.Errorf("list public decisions: %w", err)
			}
			out = append(out, PublicDecision{ID: d.ID, ModelDigest: c.ModelDigest, ModelName: c.ModelName,
				Outcomes: d.Outcomes, Deemed: d.Deemed, LogIndex: d.LogIndex, Bundle: d.Bundle, Receipt: d.Receipt, CreatedAt: d.CreatedAt})
		}
		if len(ds) < p.N() {
			break
		}
		p.After = ds[len(ds)-1].ID
	}
	return out, nil
}

// maxModelCases bounds the cases PublicDecisionsForModel reads.
const maxModelCases = 100

// PublicDecisionsForModel lists the logged decisions about the weights
// with digest ("sha256:<64 hex>"), newest first, at most limit of them
// (from the first maxModelCases cases about them); it needs no actor.
func (s *Service) PublicDecisionsForModel(ctx context.Context, digest string, limit int) ([]PublicDecision, error) {
	if !digestRE.MatchString(digest) {
		return nil, fmt.Errorf("public decisions for model: %w", invalid("model", "digest %q: want sha256:<64 lowercase hex>", digest))
	}
	cs, err := s.store.ListCases(ctx, CaseFilter{ModelDigest: digest, Page: Page{Limit: maxModelCases}})
	if err != nil {
		return nil, fmt.Errorf("public decisions for model: %w", err)
	}
	var out []PublicDecision
	for _, c := range cs {
		if c.ModelDigest != digest {
			continue
		}
		ds, err := s.store.ListDecisions(ctx, c.ID, Page{Limit: 100})
		if err != nil {
			return nil, fmt.Errorf("public decisions for model: %w", err)
		}
		for _, d := range ds {
			if d.LogIndex < 0 {
				continue
			}
			out = append(out, PublicDecision{ID: d.ID, ModelDigest: c.ModelDigest, ModelName: c.ModelName,
				Outcomes: d.Outcomes, Deemed: d.Deemed, LogIndex: d.LogIndex, Bundle: d.Bundle, Receipt: d.Receipt, CreatedAt: d.CreatedAt})
		}
	}
	slices.SortFunc(out, func(a, b PublicDecision) int { return cmp.Compare(b.ID, a.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// PublicDecision returns one logged decision for the public, or
// ErrNotFound (also for a decision not yet logged).
func (s *Service) PublicDecision(ctx context.Context, id string) (PublicDecision, error) {
	d, err := s.store.GetDecision(ctx, id)
	if err != nil {
		return PublicDecision{}, fmt.Errorf("get public decision %s: %w", id, err)
	}
	if d.LogIndex < 0 {
		return PublicDecision{}, fmt.Errorf("get public decision %s: not logged: %w", id, ErrNotFound)
	}
	c, err := s.store.GetCase(ctx, d.CaseID)
	if err != nil {
		return PublicDecision{}, fmt.Errorf("get public decision %s: %w", id, err)
	}
	return PublicDecision{ID: d.ID, ModelDigest: c.ModelDigest, ModelName: c.ModelName,
		Outcomes: d.Outcomes, Deemed: d.Deemed, LogIndex: d.LogIndex, Bundle: d.Bundle, Receipt: d.Receipt, CreatedAt: d.CreatedAt}, nil
}
