package review

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Agent transcript triage (issue 17.3). Many agent failures are not
// capability limits: the model refused, or its tools and the scaffold got
// in the way. An automatic first pass (agent.Triage, through an
// AutoTriage the caller passes in) labels each failed episode of an
// assessment; a reviewer assigned to the case confirms or corrects each
// label. Decisions are stored one per episode (a later one replaces it)
// and each is audited ("triage.reviewed"). Labels are never transcript
// text: listing them needs only sight of the assessment, while the
// episodes themselves stay sealed (RevealSample).

// Triage labels of a failed episode. They equal agent.Label*; review does
// not import agent (DESIGN.md §4), so the strings are repeated here and a
// test in web/ui checks they agree.
const (
	TriageRefused       = "refused"
	TriageScaffoldError = "scaffold_error"
	TriageOutOfBudget   = "out_of_budget"
	TriageWrongAnswer   = "wrong_answer"
	// TriageSolved and TriageError are the automatic labels of episodes
	// that need no triage: captured, or a harness error (no episode was
	// measured).
	TriageSolved = "solved"
	TriageError  = "error"
)

// TriageLabels are the labels a reviewer may give a failed episode.
var TriageLabels = []string{TriageRefused, TriageScaffoldError, TriageOutOfBudget, TriageWrongAnswer}

// NonCapability reports whether a failure label says nothing about
// capability (refused, scaffold_error).
func NonCapability(label string) bool { return label == TriageRefused || label == TriageScaffoldError }

const maxTriageNote = 2000

// TriageAuto is the automatic label of one episode and its structural
// evidence (never the model's text).
type TriageAuto struct {
	Label    string
	Evidence []string
}

// AutoTriage labels an episode from its opened sample record (a
// samples.jsonl line). It must not put transcript text in the result:
// the result is shown to everyone who sees the assessment.
type AutoTriage func(record []byte) (TriageAuto, error)

// TriageReview is a reviewer's decision on one episode's label.
type TriageReview struct {
	AssessmentID string
	Seq          int
	CaseID       string
	Label        string
	Note         string
	ReviewedBy   string
	ReviewedAt   time.Time
}

// TriageItem is one agent episode of an assessment with its automatic
// label and the reviewer's decision, nil when none.
type TriageItem struct {
	Seq      int
	SampleID string
	Suite    string
	Category string
	Auto     TriageAuto
	Review   *TriageReview
}

// Label is the episode's label: the reviewer's when there is one, else
// the automatic one.
func (i TriageItem) Label() string {
	if i.Review != nil {
		return i.Review.Label
	}
	return i.Auto.Label
}

// Status says where Label comes from: "automatic", "confirmed" (the
// reviewer gave the automatic label) or "corrected".
func (i TriageItem) Status() string {
	switch {
	case i.Review == nil:
		return "automatic"
	case i.Review.Label == i.Auto.Label:
		return "confirmed"
	}
	return "corrected"
}

// Reviewable reports whether a reviewer may label the episode: it ran
// and failed to capture its flag.
func (i TriageItem) Reviewable() bool {
	return i.Auto.Label != TriageSolved && i.Auto.Label != TriageError
}

// TriageSummary counts an assessment's episodes by their labels
// (reviewed where reviewed).
type TriageSummary struct {
	Episodes int // every agent episode, errors included
	Errors   int // harness errors: in no rate
	Solved   int
	Failed   int
	// Excluded is the failed episodes labelled refused or scaffold_error,
	// left out of the adjusted rate.
	Excluded  int
	ByLabel   map[string]int // failed episodes by label
	Reviewed  int
	Corrected int
}

// SummarizeTriage counts items.
func SummarizeTriage(items []TriageItem) TriageSummary {
	s := TriageSummary{ByLabel: map[string]int{}}
	for _, it := range items {
		s.Episodes++
		switch l := it.Label(); l {
		case TriageError:
			s.Errors++
		case TriageSolved:
			s.Solved++
		default:
			s.Failed++
			s.ByLabel[l]++
			if NonCapability(l) {
				s.Excluded++
			}
		}
		if it.Review != nil {
			s.Reviewed++
			if it.Status() == "corrected" {
				s.Corrected++
			}
		}
	}
	return s
}

// MaxTriageEpisodes bounds the episodes one triage lists.
const MaxTriageEpisodes = 20000

// TriageEpisodes lists the agent episodes (exploit samples) of an
// assessment the actor may see, in Seq order, each with its automatic
// label from auto and the stored review. The records are opened for auto
// only, never returned, so no viewing is audited. An auto error is
// returned wrapped.
func (s *Service) TriageEpisodes(ctx context.Context, a Actor, assessmentID string, auto AutoTriage) ([]TriageItem, error) {
	if _, err := s.GetAssessment(ctx, a, assessmentID); err != nil {
		return nil, fmt.Errorf("triage episodes: %w", err)
	}
	reviews, err := s.store.ListTriageReviews(ctx, assessmentID)
	if err != nil {
		return nil, fmt.Errorf("triage episodes of %s: %w", assessmentID, err)
	}
	bySeq := map[int]*TriageReview{}
	for i := range reviews {
		bySeq[reviews[i].Seq] = &reviews[i]
	}
	var items []TriageItem
	f := SampleFilter{AssessmentID: assessmentID, AfterSeq: -1, Limit: MaxPageLimit}
	for {
		ss, err := s.store.ListSamples(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("triage episodes of %s: %w", assessmentID, err)
		}
		for _, sm := range ss {
			if sm.Kind != "exploit" {
				continue
			}
			if len(items) == MaxTriageEpisodes {
				return nil, fmt.Errorf("triage episodes of %s: more than %d episodes", assessmentID, MaxTriageEpisodes)
			}
			rec := sm.Record
			if sm.Harmful {
				if rec, err = s.sealer.Open(sm.Record); err != nil {
					return nil, fmt.Errorf("triage episode %d of %s: %w", sm.Seq, assessmentID, err)
				}
			}
			au, err := auto(rec)
			if err != nil {
				return nil, fmt.Errorf("triage episode %d of %s: %w", sm.Seq, assessmentID, err)
			}
			it := TriageItem{Seq: sm.Seq, SampleID: sm.ID, Suite: sm.Suite, Category: sm.Category, Auto: au, Review: bySeq[sm.Seq]}
			if !it.Reviewable() {
				it.Review = nil // a decision stored before a rerun replaced the sample
			}
			items = append(items, it)
		}
		if len(ss) < f.Limit {
			return items, nil
		}
		f.AfterSeq = ss[len(ss)-1].Seq
	}
}

// TriageReviewInput is a reviewer's decision on one episode.
type TriageReviewInput struct {
	AssessmentID string
	Seq          int
	Label        string // one of TriageLabels
	Note         string // optional, at most 2000 bytes of UTF-8
}

func (in TriageReviewInput) validate() error {
	switch {
	case in.Seq < 0:
		return invalid("seq", "%d: want a sample position of 0 or more", in.Seq)
	case !slices.Contains(TriageLabels, in.Label):
		return invalid("label", "%q: want one of %s", in.Label, strings.Join(TriageLabels, ", "))
	case len(in.Note) > maxTriageNote:
		return invalid("note", "%d bytes exceeds the limit of %d", len(in.Note), maxTriageNote)
	case !utf8.ValidString(in.Note):
		return invalid("note", "not valid UTF-8")
	}
	return nil
}

// ReviewTriage stores a reviewer's label for one failed agent episode
// (confirming the automatic label or correcting it), replacing an earlier
// decision, with its audit entry in the same transaction. Reviewers
// assigned to the case only; the episode must be an exploit sample that
// ran and did not capture its flag (else ErrInvalid on "seq").
func (s *Service) ReviewTriage(ctx context.Context, a Actor, in TriageReviewInput) (TriageReview, error) {
	const action = "review triage"
	if err := in.validate(); err != nil {
		return TriageReview{}, fmt.Errorf("%s: %w", action, err)
	}
	var out TriageReview
	err := s.store.Tx(ctx, func(tx Store) error {
		as, c, err := visibleAssessment(ctx, tx, a, in.AssessmentID)
		if err != nil {
			return err
		}
		if !a.has(RoleReviewer) {
			return forbidden(action, RoleReviewer)
		}
		if err := requireAssigned(action, a, c); err != nil {
			return err
		}
		sm, err := tx.GetSample(ctx, as.ID, in.Seq)
		if err != nil {
			return err
		}
		if sm.Kind != "exploit" {
			return invalid("seq", "sample %d is not an agent episode", in.Seq)
		}
		if sm.Outcome != SamplePassed {
			return invalid("seq", "episode %d did not fail (it is %s): only failed episodes are triaged", in.Seq, sm.Outcome)
		}
		out = TriageReview{AssessmentID: as.ID, Seq: in.Seq, CaseID: c.ID, Label: in.Label, Note: in.Note,
			ReviewedBy: a.User.ID, ReviewedAt: s.stamp()}
		if err := tx.PutTriageReview(ctx, out); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "triage.reviewed", c.ID, map[string]any{"assessment": as.ID, "seq": in.Seq, "sample": sm.ID, "label": in.Label})
	})
	if err != nil {
		return TriageReview{}, fmt.Errorf("%s %d of %s: %w", action, in.Seq, in.AssessmentID, err)
	}
	return out, nil
}
