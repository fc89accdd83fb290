package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ModelVersionInput is a new version of a case's model, submitted by the
// developer in response to the campaign: its digest, the model name its
// endpoint serves ("" keeps the case's), the endpoint and its credentials
// (sealed before they are stored, never returned).
type ModelVersionInput struct {
	Digest      string
	Name        string
	TargetURL   string
	Credentials string
	Note        string
}

// ModelVersion is one version of a case's model. Seq 1 is the model as
// submitted with the case, recorded when the first new version arrives;
// the highest Seq is the case's current target.
type ModelVersion struct {
	ID          string
	CaseID      string
	Seq         int
	ModelDigest string
	ModelName   string
	TargetURL   string
	// Credentials are sealed; services return them nil.
	Credentials []byte
	Note        string
	SubmittedBy string
	CreatedAt   time.Time
}

// Retest is one regression item (a successful attempt) re-run against one
// model version: Works says the attack still works. For a universal
// attack Hits of N behaviours broke (Works: the rate still reaches
// UniversalThreshold); for another attack N is 1. Error says why the
// item could not be run ("" when it ran; such an item does not work).
type Retest struct {
	CaseID    string
	VersionID string
	AttemptID string
	Works     bool
	Hits      int
	N         int
	Error     string
	CreatedAt time.Time
}

func (in ModelVersionInput) validate() error {
	if !digestRE.MatchString(in.Digest) {
		return invalid("digest", "want sha256: and 64 lowercase hex digits")
	}
	if in.Name != "" {
		if err := checkName("name", in.Name); err != nil {
			return err
		}
	}
	if err := checkEndpointURL("target_url", in.TargetURL); err != nil {
		return err
	}
	if len(in.Credentials) > maxCredentials {
		return invalid("credentials", "%d bytes exceeds the limit of %d", len(in.Credentials), maxCredentials)
	}
	return checkText("note", in.Note, true)
}

// SubmitModelVersion records a new version of a case's model: the
// developer of the case answers the campaign with a new digest and
// endpoint, which become the case's current target (previous versions
// stay recorded, the submitted one as Seq 1). The case must be open and
// the digest new to the case. Once the version is committed the case's
// regression suite runs against it (Retest), unless the service has no
// RedTeam; a retest that fails is logged and can be run again with
// RetestCase. It returns the version without its credentials.
func (s *Service) SubmitModelVersion(ctx context.Context, a Actor, caseID string, in ModelVersionInput) (ModelVersion, error) {
	const action = "submit model version"
	if err := in.validate(); err != nil {
		return ModelVersion{}, fmt.Errorf("%s of case %s: %w", action, caseID, err)
	}
	now := s.stamp()
	var cred []byte
	if in.Credentials != "" {
		var err error
		if cred, err = s.sealer.Seal([]byte(in.Credentials)); err != nil {
			return ModelVersion{}, fmt.Errorf("%s: %w", action, err)
		}
	}
	var v ModelVersion
	err := s.store.Tx(ctx, func(tx Store) error {
		c, err := getCase(ctx, tx, a, caseID)
		if err != nil {
			return err
		}
		if !a.has(RoleDeveloper) || a.Org.Kind != OrgDeveloper {
			return forbidden(action, RoleDeveloper)
		}
		if !campaignOpen(c.State) {
			return fmt.Errorf("case is %s: %w", c.State, ErrInvalidTransition)
		}
		vs, err := allVersions(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		for _, old := range vs {
			if old.ModelDigest == in.Digest {
				return invalid("digest", "%s is already version %d of the case", in.Digest, old.Seq)
			}
		}
		if len(vs) == 0 {
			if in.Digest == c.ModelDigest {
				return invalid("digest", "%s is the case's current model", in.Digest)
			}
			first := ModelVersion{CaseID: c.ID, Seq: 1, ModelDigest: c.ModelDigest, ModelName: c.ModelName,
				TargetURL: c.TargetURL, Credentials: c.Credentials, SubmittedBy: "", CreatedAt: c.CreatedAt}
			if first.ID, err = newID("mv", now); err != nil {
				return err
			}
			if err := tx.CreateModelVersion(ctx, first); err != nil {
				return err
			}
			vs = append(vs, first)
		}
		v = ModelVersion{CaseID: c.ID, Seq: vs[len(vs)-1].Seq + 1, ModelDigest: in.Digest, ModelName: in.Name,
			TargetURL: in.TargetURL, Credentials: cred, Note: in.Note, SubmittedBy: a.User.ID, CreatedAt: now}
		if v.ModelName == "" {
			v.ModelName = c.ModelName
		}
		if v.ID, err = newID("mv", now); err != nil {
			return err
		}
		if err := tx.CreateModelVersion(ctx, v); err != nil {
			return err
		}
		c.ModelDigest, c.ModelName, c.TargetURL, c.Credentials, c.UpdatedAt = v.ModelDigest, v.ModelName, v.TargetURL, v.Credentials, now
		if _, err := tx.SetCaseTarget(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "case.model_version", c.ID, map[string]any{
			"version": v.ID, "seq": v.Seq, "model_digest": v.ModelDigest, "model_name": v.ModelName})
	})
	if err != nil {
		return ModelVersion{}, fmt.Errorf("%s of case %s: %w", action, caseID, err)
	}
	s.startRetest(ctx, caseID, v)
	v.Credentials = nil
	return v, nil
}

// allVersions lists every version of a case, by Seq.
func allVersions(ctx context.Context, st Store, caseID string) ([]ModelVersion, error) {
	var out []ModelVersion
	p := Page{Limit: MaxPageLimit}
	for {
		vs, err := st.ListModelVersions(ctx, caseID, p)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
		if len(vs) < p.N() {
			return out, nil
		}
		p.After = vs[len(vs)-1].ID
	}
}

// RetestCase re-runs the case's regression suite against its current
// model version, for assessors and red-teamers assigned to the case and
// overseeing officials (the automatic run after SubmitModelVersion may
// have been cut short). Results replace the version's earlier ones.
func (s *Service) RetestCase(ctx context.Context, a Actor, caseID string) ([]Retest, error) {
	const action = "retest case"
	c, err := campaignCase(ctx, s.store, a, caseID, action)
	if err != nil {
		return nil, err
	}
	if !a.has(RoleAssessor) && !a.has(RoleRedteamer) && !(a.has(RoleOfficial) && a.overseer()) {
		return nil, forbidden(action, RoleAssessor, RoleRedteamer, RoleOfficial)
	}
	if s.redteam == nil {
		return nil, fmt.Errorf("%s %s: %w: %w", action, caseID, ErrNoRedTeam, ErrConflict)
	}
	if err := s.audit(ctx, s.store, a, "campaign.retest", c.ID, nil); err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	return s.retest(ctx, caseID, "")
}

// retest runs every regression item of a case against its current
// version and stores the results, as the system. A versionID other than
// "" must be the current version (errStaleVersion otherwise).
func (s *Service) retest(ctx context.Context, caseID, versionID string) ([]Retest, error) {
	c, err := s.store.GetCase(ctx, caseID)
	if err != nil {
		return nil, fmt.Errorf("retest case %s: %w", caseID, err)
	}
	vs, err := allVersions(ctx, s.store, caseID)
	if err != nil {
		return nil, fmt.Errorf("retest case %s: %w", caseID, err)
	}
	if len(vs) == 0 && versionID != "" {
		return nil, fmt.Errorf("retest case %s: model version %s: %w", caseID, versionID, ErrNotFound)
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("retest case %s: %w", caseID, invalid("case", "no new model version submitted"))
	}
	cur := vs[len(vs)-1]
	if versionID != "" && versionID != cur.ID {
		if !slices.ContainsFunc(vs, func(v ModelVersion) bool { return v.ID == versionID }) {
			return nil, fmt.Errorf("retest case %s: model version %s: %w", caseID, versionID, ErrNotFound)
		}
		return nil, fmt.Errorf("retest case %s: model version %s: %w", caseID, versionID, errStaleVersion)
	}
	judge := s.CampaignJudge()
	items, err := regressionItems(ctx, s.store, caseID)
	if err != nil {
		return nil, fmt.Errorf("retest case %s: %w", caseID, err)
	}
	cred, err := s.openCredentials(c)
	if err != nil {
		return nil, fmt.Errorf("retest case %s: %w", caseID, err)
	}
	t := ChatTarget{URL: c.TargetURL, Model: c.ModelName, Credentials: cred}
	var out []Retest
	for _, at := range items {
		r := Retest{CaseID: caseID, VersionID: cur.ID, AttemptID: at.ID}
		if err := s.retestItem(ctx, c, t, at, &r); err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			// A universal attack that broke enough behaviours before
			// some failed still works; anything else that failed does not.
			r.Works, r.Error = r.Works && r.N > 1, err.Error()
		}
		r.CreatedAt = s.stamp()
		err := s.store.Tx(ctx, func(tx Store) error {
			if err := tx.PutRetest(ctx, r); err != nil {
				return err
			}
			return s.audit(ctx, tx, SystemActor(), "campaign.retested", caseID, map[string]any{
				"attempt": at.ID, "version": cur.ID, "works": r.Works, "hits": r.Hits, "n": r.N, "judge": judge, "error": r.Error})
		})
		if err != nil {
			return out, fmt.Errorf("retest case %s: %w", caseID, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// retestItem runs one regression item: a universal attack's template
// over the behaviour sample, another attack's user turns replayed in
// order (the model's new replies in between) with the last reply judged
// against the last user turn.
func (s *Service) retestItem(ctx context.Context, c Case, t ChatTarget, at Attempt, r *Retest) error {
	msgs, err := s.openTranscript(at)
	if err != nil {
		return err
	}
	if at.Universal && at.Template != "" {
		var failed int
		r.Hits, r.N, failed, err = s.transfer(ctx, c, systemPrompt(msgs), at.Template)
		r.Works = transfers(r.Hits, r.N)
		if err == nil && failed > 0 {
			err = fmt.Errorf("the model did not answer %d of %d behaviours", failed, r.N)
		}
		return err
	}
	var conv []ChatMessage
	var last, reply string
	for _, m := range msgs {
		if m.Role == "assistant" {
			continue
		}
		conv = append(conv, ChatMessage{Role: m.Role, Content: m.Content})
		if m.Role != "user" {
			continue
		}
		last = m.Content
		if reply, err = s.redteam.Chat(ctx, t, conv); err != nil {
			return fmt.Errorf("the model did not answer: %v", err)
		}
		conv = append(conv, ChatMessage{Role: "assistant", Content: reply})
	}
	if last == "" {
		return errors.New("the attempt has no user turn")
	}
	ok, err := s.redteam.Judge(ctx, last, reply)
	if err != nil {
		return fmt.Errorf("judge: %w", err)
	}
	r.N = 1
	if ok {
		r.Hits, r.Works = 1, true
	}
	return nil
}

// RetestSummary is what the case shows of its regression suite: the
// model versions and, for the current one, how many of the regression
// items were re-run and how many still work. It names no attack, so the
// developer sees it too.
type RetestSummary struct {
	Versions []ModelVersion
	// Items is the number of regression items (successful attempts).
	Items int
	// Retested and StillWork count the current version's results.
	Retested  int
	StillWork int
	// Results are the current version's results, only for those who see
	// the campaign (nil for a developer).
	Results []Retest
	// State is where the current version's retest stands (queued,
	// running, done…; RetestNone without a new version).
	State RetestState
	// Judge names the scorer that judges retests (CampaignJudge).
	Judge string
}

// CampaignRetests returns a case's regression summary to everyone who
// sees the case; only those who see the campaign get the per-attack
// results.
func (s *Service) CampaignRetests(ctx context.Context, a Actor, caseID string) (RetestSummary, error) {
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return RetestSummary{}, fmt.Errorf("campaign retests: %w", err)
	}
	var sum RetestSummary
	if sum.Versions, err = allVersions(ctx, s.store, c.ID); err != nil {
		return RetestSummary{}, fmt.Errorf("campaign retests of case %s: %w", caseID, err)
	}
	for i := range sum.Versions {
		sum.Versions[i].Credentials = nil
	}
	items, err := regressionItems(ctx, s.store, c.ID)
	if err != nil {
		return RetestSummary{}, fmt.Errorf("campaign retests of case %s: %w", caseID, err)
	}
	sum.Items = len(items)
	if len(sum.Versions) == 0 {
		return sum, nil
	}
	cur := sum.Versions[len(sum.Versions)-1].ID
	rs, err := s.store.ListRetests(ctx, c.ID, cur)
	if err != nil {
		return RetestSummary{}, fmt.Errorf("campaign retests of case %s: %w", caseID, err)
	}
	for _, r := range rs {
		sum.Retested++
		if r.Works {
			sum.StillWork++
		}
	}
	if campaignSees(a, c) {
		sum.Results = rs
	}
	sum.Judge = s.CampaignJudge()
	if sum.State, err = s.retestState(ctx, c.ID, sum); err != nil {
		return RetestSummary{}, fmt.Errorf("campaign retests of case %s: %w", caseID, err)
	}
	return sum, nil
}

// CampaignEvidence is a case's campaign as decision evidence (policy's
// redteam): counts only, no attack.
type CampaignEvidence struct {
	Attempts, Successes, Universal int
	Versions, Retested, StillWork  int
	UniversalStillWork, Open       int
}

// ReadCampaignEvidence reads a case's campaign from st for the policy
// engine, as the system: attempts and successes, and the regression
// items' results on the current model version. Open counts the
// successful attacks not retested on the current version or still
// working there (every success while no new version was submitted).
func ReadCampaignEvidence(ctx context.Context, st Store, caseID string) (CampaignEvidence, error) {
	var ev CampaignEvidence
	p := Page{Limit: MaxPageLimit}
	universal := map[string]bool{}
	for {
		ats, err := st.ListAttempts(ctx, caseID, p)
		if err != nil {
			return ev, fmt.Errorf("campaign evidence of case %s: %w", caseID, err)
		}
		for _, at := range ats {
			ev.Attempts++
			if at.Success {
				ev.Successes++
			}
			if at.Universal {
				ev.Universal++
				universal[at.ID] = true
			}
		}
		if len(ats) < p.N() {
			break
		}
		p.After = ats[len(ats)-1].ID
	}
	vs, err := allVersions(ctx, st, caseID)
	if err != nil {
		return ev, fmt.Errorf("campaign evidence of case %s: %w", caseID, err)
	}
	ev.Versions = len(vs)
	ev.Open = ev.Successes
	if len(vs) == 0 {
		return ev, nil
	}
	rs, err := st.ListRetests(ctx, caseID, vs[len(vs)-1].ID)
	if err != nil {
		return ev, fmt.Errorf("campaign evidence of case %s: %w", caseID, err)
	}
	for _, r := range rs {
		ev.Retested++
		if r.Works {
			ev.StillWork++
			if universal[r.AttemptID] {
				ev.UniversalStillWork++
			}
		}
	}
	ev.Open = ev.Successes - ev.Retested + ev.StillWork
	return ev, nil
}
