package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// maxSampleIDs bounds the samples linked to one finding.
const maxSampleIDs = 1000

// FindingInput is a finding as a reviewer records it.
type FindingInput struct {
	Severity    Severity
	Title       string
	Description string
	SampleIDs   []string
	// Deadline is when remediation is due; zero means now plus
	// RemediationDays for the severity.
	Deadline time.Time
}

// findingOpen reports whether findings may be recorded or answered in a
// case's state.
func findingOpen(st State) bool {
	return st == StateInAssessment || st == StateUnderReview || st == StateInformationRequested || st == StateAppealed
}

// RecordFinding records a finding on a case. Reviewers assigned to the
// case only; the case
// must be in assessment, under review, awaiting information or appealed.
func (s *Service) RecordFinding(ctx context.Context, a Actor, caseID string, in FindingInput) (Finding, error) {
	if RemediationDays(in.Severity) == 0 {
		return Finding{}, fmt.Errorf("record finding: %w", invalid("severity", "%q: want critical, high, moderate or low", in.Severity))
	}
	if err := checkName("title", in.Title); err != nil {
		return Finding{}, fmt.Errorf("record finding: %w", err)
	}
	if err := checkText("description", in.Description, true); err != nil {
		return Finding{}, fmt.Errorf("record finding: %w", err)
	}
	if len(in.SampleIDs) > maxSampleIDs {
		return Finding{}, fmt.Errorf("record finding: %w", invalid("sample_ids", "%d exceeds the limit of %d", len(in.SampleIDs), maxSampleIDs))
	}
	for i, id := range in.SampleIDs {
		if err := checkName(fmt.Sprintf("sample_ids[%d]", i), id); err != nil {
			return Finding{}, fmt.Errorf("record finding: %w", err)
		}
	}
	now := s.stamp()
	deadline := in.Deadline
	if deadline.IsZero() {
		deadline = now.AddDate(0, 0, RemediationDays(in.Severity))
	}
	if !deadline.After(now) {
		return Finding{}, fmt.Errorf("record finding: %w", invalid("deadline", "%s is not in the future", deadline.Format(time.RFC3339)))
	}
	var f Finding
	err := s.store.Tx(ctx, func(tx Store) error {
		c, err := getCase(ctx, tx, a, caseID)
		if err != nil {
			return err
		}
		if !a.has(RoleReviewer) {
			return forbidden("record finding", RoleReviewer)
		}
		if err := requireAssigned("record finding", a, c); err != nil {
			return err
		}
		if !findingOpen(c.State) {
			return fmt.Errorf("case is %s: %w", c.State, ErrConflict)
		}
		f = Finding{CaseID: c.ID, Severity: in.Severity, Title: in.Title, Description: in.Description,
			SampleIDs: slices.Clone(in.SampleIDs), Deadline: AuditTime(deadline), Status: FindingOpen,
			CreatedBy: a.User.ID, CreatedAt: now, UpdatedAt: now, OrgID: compartment(a, c)}
		if f.ID, err = newID("fnd", now); err != nil {
			return err
		}
		if err := tx.CreateFinding(ctx, f); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "finding.create", c.ID, map[string]any{
			"finding": f.ID, "severity": f.Severity, "deadline": f.Deadline.Format(time.RFC3339)})
	})
	if err != nil {
		return Finding{}, fmt.Errorf("record finding on case %s: %w", caseID, err)
	}
	return f, nil
}

// findingRoles says who may set a finding to each status: reviewers
// reopen and resolve, officials also resolve and alone accept a risk.
// Developers move a finding to responded only by responding.
func findingRoles(st FindingStatus) []Role {
	switch st {
	case FindingOpen:
		return []Role{RoleReviewer}
	case FindingResolved:
		return []Role{RoleReviewer, RoleOfficial}
	case FindingAcceptedRisk:
		return []Role{RoleOfficial}
	}
	return nil
}

// SetFindingStatus changes a finding's status with a note for the record.
func (s *Service) SetFindingStatus(ctx context.Context, a Actor, findingID string, st FindingStatus, note string) (Finding, error) {
	roles := findingRoles(st)
	if roles == nil {
		return Finding{}, fmt.Errorf("set finding %s status: %w", findingID, invalid("status", "%q: want open, resolved or accepted-risk", st))
	}
	if err := checkText("note", note, st != FindingAcceptedRisk); err != nil {
		return Finding{}, fmt.Errorf("set finding %s status: %w", findingID, err)
	}
	var f Finding
	err := s.store.Tx(ctx, func(tx Store) error {
		var c Case
		var err error
		if f, c, err = visibleFinding(ctx, tx, a, findingID); err != nil {
			return err
		}
		if !slices.ContainsFunc(roles, a.has) {
			return forbidden("set finding status to "+string(st), roles...)
		}
		if !a.seesItem(c, f.OrgID, false) {
			// A finding another agency shares is read, not worked on.
			return fmt.Errorf("set finding status: finding of agency %s: %w", f.OrgID, ErrForbidden)
		}
		if closed(c.State) {
			return fmt.Errorf("case is %s: %w", c.State, ErrConflict)
		}
		from := f.Status
		f.Status, f.UpdatedAt = st, s.stamp()
		if err := tx.UpdateFinding(ctx, f); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "finding.status", c.ID, map[string]any{
			"finding": f.ID, "from": from, "to": st, "note": note})
	})
	if err != nil {
		return Finding{}, fmt.Errorf("set finding %s status: %w", findingID, err)
	}
	return f, nil
}

// Respond records a developer's response to a finding and marks the
// finding responded. Developers of the case's organisation only.
func (s *Service) Respond(ctx context.Context, a Actor, findingID, body string) (Response, error) {
	if err := checkText("body", body, false); err != nil {
		return Response{}, fmt.Errorf("respond to finding %s: %w", findingID, err)
	}
	var r Response
	err := s.store.Tx(ctx, func(tx Store) error {
		f, c, err := visibleFinding(ctx, tx, a, findingID)
		if err != nil {
			return err
		}
		if !a.has(RoleDeveloper) {
			return forbidden("respond to finding", RoleDeveloper)
		}
		if !findingOpen(c.State) {
			return fmt.Errorf("case is %s: %w", c.State, ErrConflict)
		}
		now := s.stamp()
		r = Response{CaseID: c.ID, FindingID: f.ID, AuthorID: a.User.ID, Body: body, CreatedAt: now}
		if r.ID, err = newID("rsp", now); err != nil {
			return err
		}
		if err := tx.CreateResponse(ctx, r); err != nil {
			return err
		}
		if f.Status == FindingOpen {
			f.Status, f.UpdatedAt = FindingResponded, now
			if err := tx.UpdateFinding(ctx, f); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "finding.respond", c.ID, map[string]any{"finding": f.ID, "response": r.ID})
	})
	if err != nil {
		return Response{}, fmt.Errorf("respond to finding %s: %w", findingID, err)
	}
	return r, nil
}

// Findings lists the findings of a case the actor may see; in a joint
// review, those in the actor's compartments (see Service.ShareFinding).
func (s *Service) Findings(ctx context.Context, a Actor, caseID string, p Page) ([]Finding, error) {
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	out, err := visibleRecords(ctx, p, func(p Page) ([]Finding, error) { return s.store.ListFindings(ctx, caseID, p) },
		func(f Finding) string { return f.ID }, func(f Finding) bool { return a.seesFinding(c, f) })
	if err != nil {
		return nil, fmt.Errorf("list findings of case %s: %w", caseID, err)
	}
	return out, nil
}

// hiddenWork returns, for a joint review, the ids of the findings and
// assessments of c that a may not see; nil maps for any other case.
func (s *Service) hiddenWork(ctx context.Context, a Actor, c Case) (findings, assessments map[string]bool, err error) {
	if !c.joint() || a.system() {
		return nil, nil, nil
	}
	findings, assessments = map[string]bool{}, map[string]bool{}
	for p := (Page{Limit: MaxPageLimit}); ; {
		fs, err := s.store.ListFindings(ctx, c.ID, p)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range fs {
			if !a.seesFinding(c, f) {
				findings[f.ID] = true
			}
		}
		if len(fs) < p.N() {
			break
		}
		p.After = fs[len(fs)-1].ID
	}
	for p := (Page{Limit: MaxPageLimit}); ; {
		as, err := s.store.ListAssessments(ctx, c.ID, p)
		if err != nil {
			return nil, nil, err
		}
		for _, x := range as {
			if !a.seesAssessment(c, x) {
				assessments[x.ID] = true
			}
		}
		if len(as) < p.N() {
			break
		}
		p.After = as[len(as)-1].ID
	}
	return findings, assessments, nil
}

// Responses lists the responses on a case the actor may see, all or to
// one finding; in a joint review, only those to findings the actor sees
// (none, as for a missing finding, when findingID is hidden).
func (s *Service) Responses(ctx context.Context, a Actor, caseID, findingID string, p Page) ([]Response, error) {
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return nil, fmt.Errorf("list responses: %w", err)
	}
	hidden, _, err := s.hiddenWork(ctx, a, c)
	if err != nil {
		return nil, fmt.Errorf("list responses of case %s: %w", caseID, err)
	}
	rs, err := visibleRecords(ctx, p, func(p Page) ([]Response, error) { return s.store.ListResponses(ctx, caseID, findingID, p) },
		func(r Response) string { return r.ID }, func(r Response) bool { return !hidden[r.FindingID] })
	if err != nil {
		return nil, fmt.Errorf("list responses of case %s: %w", caseID, err)
	}
	return rs, nil
}

// CaseAudit lists the audit entries of a case the actor may see; in a
// joint review, less the entries about findings and assessments outside
// the actor's compartments.
func (s *Service) CaseAudit(ctx context.Context, a Actor, caseID string, afterSeq int64, limit int) ([]AuditEntry, error) {
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	hf, ha, err := s.hiddenWork(ctx, a, c)
	if err != nil {
		return nil, fmt.Errorf("list audit of case %s: %w", caseID, err)
	}
	f := AuditFilter{CaseID: caseID, AfterSeq: afterSeq, Limit: limit}
	if hf == nil {
		es, err := s.store.ListAudit(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("list audit of case %s: %w", caseID, err)
		}
		return es, nil
	}
	n := Page{Limit: limit}.N()
	var out []AuditEntry
	for {
		es, err := s.store.ListAudit(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("list audit of case %s: %w", caseID, err)
		}
		for _, e := range es {
			var d struct {
				Finding    string `json:"finding"`
				Assessment string `json:"assessment"`
			}
			_ = json.Unmarshal(e.Details, &d) // details of another shape name no finding or assessment
			if hf[d.Finding] || ha[d.Assessment] {
				continue
			}
			out = append(out, e)
			if len(out) == n {
				return out, nil
			}
		}
		if len(es) < n {
			return out, nil
		}
		f.AfterSeq = es[len(es)-1].Seq
	}
}

// Audit lists the whole audit trail. Auditors and admins only.
func (s *Service) Audit(ctx context.Context, a Actor, afterSeq int64, limit int) ([]AuditEntry, error) {
	if !a.has(RoleAuditor) && !a.has(RoleAdmin) {
		return nil, forbidden("list audit", RoleAuditor, RoleAdmin)
	}
	es, err := s.store.ListAudit(ctx, AuditFilter{AfterSeq: afterSeq, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return es, nil
}

// AuditCheck is the result of verifying the audit trail: its head (zero
// for an empty trail) and the last anchor of the head in the
// transparency log that the trail was checked against (nil when the
// head was never anchored).
type AuditCheck struct {
	Head   AuditEntry
	Anchor *Anchor
}

// AuditReport is what a verification of the audit trail reports, in the
// JSON shape of GET /api/v1/audit/verify and `clearance audit verify
// --format json`: ok with the number of entries, the head and the last
// anchor it was checked against, or the first broken entry.
type AuditReport struct {
	OK bool `json:"ok"`
	// Entries is the number of entries verified (the head's seq); 0 when
	// the trail is broken.
	Entries int64 `json:"entries"`
	// Head is absent for an empty or broken trail.
	Head *AuditPoint `json:"head,omitempty"`
	// Anchor is the last anchoring of the head in the transparency log;
	// absent when the head was never anchored or the trail is broken.
	Anchor *AuditAnchorPoint `json:"anchor,omitempty"`
	// Broken names the first entry at fault; absent when ok.
	Broken *AuditBreak `json:"broken,omitempty"`
}

// AuditPoint is one entry of the trail by sequence number and hash.
type AuditPoint struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// AuditAnchorPoint is an anchored head and where the log holds it.
type AuditAnchorPoint struct {
	Seq      int64  `json:"seq"`
	Hash     string `json:"hash"`
	LogIndex int64  `json:"log_index"`
}

// AuditBreak is the first entry at fault and why.
type AuditBreak struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

// Report turns a verification's result into an AuditReport: broken, when
// not nil, is the AuditError the verification returned.
func (chk AuditCheck) Report(broken *AuditError) AuditReport {
	r := AuditReport{OK: broken == nil}
	if broken != nil {
		r.Broken = &AuditBreak{Seq: broken.Seq, Reason: broken.Reason}
		return r
	}
	r.Entries = chk.Head.Seq
	if chk.Head.Seq > 0 {
		r.Head = &AuditPoint{Seq: chk.Head.Seq, Hash: chk.Head.Hash}
	}
	if chk.Anchor != nil {
		r.Anchor = &AuditAnchorPoint{Seq: chk.Anchor.Seq, Hash: chk.Anchor.Hash, LogIndex: chk.Anchor.LogIndex}
	}
	return r
}

// VerifyAudit reads and verifies the whole audit trail (VerifyTrail).
// Auditors and admins only.
func (s *Service) VerifyAudit(ctx context.Context, a Actor) (AuditCheck, error) {
	if !a.has(RoleAuditor) && !a.has(RoleAdmin) {
		return AuditCheck{}, forbidden("verify audit", RoleAuditor, RoleAdmin)
	}
	return VerifyTrail(ctx, s.store)
}

// VerifyStore is VerifyTrail returning only the head.
func VerifyStore(ctx context.Context, st Store) (AuditEntry, error) {
	c, err := VerifyTrail(ctx, st)
	return c.Head, err
}

// VerifyTrail reads and verifies the whole audit trail of st page by
// page (Verify), and checks it against the last recorded anchor: the
// anchored entry must still be there with the anchored hash, so a
// truncated tail up to the anchor is detected too. It returns the check,
// an *AuditError naming the first bad entry, or another error when the
// store cannot be read. It does not consult the transparency log itself:
// an anchor record deleted from the store along with the tail goes
// unnoticed here, and is found by comparing with the log's anchors.
func VerifyTrail(ctx context.Context, st Store) (AuditCheck, error) {
	var anchor *Anchor
	switch an, err := st.LastAnchor(ctx); {
	case err == nil:
		anchor = &an
	case !errors.Is(err, ErrNotFound):
		return AuditCheck{}, fmt.Errorf("verify audit: %w", err)
	}
	var head AuditEntry
	for {
		es, err := st.ListAudit(ctx, AuditFilter{AfterSeq: head.Seq, Limit: MaxPageLimit})
		if err != nil {
			return AuditCheck{}, fmt.Errorf("verify audit: %w", err)
		}
		if len(es) == 0 {
			break
		}
		if head.Seq > 0 && es[0].Seq != head.Seq+1 {
			return AuditCheck{}, &AuditError{Seq: head.Seq + 1, Reason: fmt.Sprintf("missing; next entry has seq %d", es[0].Seq)}
		}
		if err := Verify(head.Hash, es); err != nil {
			return AuditCheck{}, err
		}
		if anchor != nil {
			for _, e := range es {
				if e.Seq == anchor.Seq && e.Hash != anchor.Hash {
					return AuditCheck{}, &AuditError{Seq: e.Seq, Reason: fmt.Sprintf("hash differs from the one anchored in the log at index %d", anchor.LogIndex)}
				}
			}
		}
		head = es[len(es)-1]
	}
	if anchor != nil && anchor.Seq > head.Seq {
		return AuditCheck{}, &AuditError{Seq: head.Seq + 1, Reason: fmt.Sprintf("missing; the trail ends at seq %d but seq %d was anchored in the log at index %d", head.Seq, anchor.Seq, anchor.LogIndex)}
	}
	return AuditCheck{Head: head, Anchor: anchor}, nil
}
