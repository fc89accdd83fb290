package assess

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// Contamination signal. The agency's private items carry canaries
// (suite.Canary) that only its seed can make. A model that writes one of
// them in an answer to a prompt that did not carry it has seen a private
// item before: the private variants leaked into its training data or its
// context. Every run made with a private seed (clearance assess
// --private-seed, the service's runner, a conformance check) scans each
// model output for such canaries and reports the hits here.

// ContaminationSignal is the words a contamination hit is shown with.
const ContaminationSignal = "contamination signal: a private canary appeared in model output"

// MaxContaminationSamples bounds the sample ids a Contamination lists.
const MaxContaminationSamples = 1000

// Contamination is the result of scanning model outputs for the agency's
// canaries (metrics.json "contamination", when the run was scanned).
type Contamination struct {
	// Scanned is the number of outputs (samples, probes) scanned.
	Scanned int `json:"scanned"`
	// Canaries counts the hits: distinct canaries per output that its
	// prompt did not carry.
	Canaries int `json:"canaries"`
	// Samples are the ids of the outputs with a hit, in scan order, at
	// most MaxContaminationSamples (Truncated set when there were more).
	Samples   []string `json:"samples"`
	Truncated bool     `json:"truncated,omitempty"`
	// Items name the private items whose canaries appeared
	// ("jailbreak-private/jb-001"), when the detector knew the suites;
	// sorted, at most MaxContaminationSamples.
	Items []string `json:"items,omitempty"`
}

// Signal reports whether any output carried a canary it was not shown.
func (c *Contamination) Signal() bool { return c != nil && c.Canaries > 0 }

// Output is one model answer to scan: every text the model was shown
// before it (system and user turns, tool results) and what it answered.
type Output struct {
	ID     string
	Prompt string
	Output string
}

// ScanContamination scans outputs for canaries of d that their prompts did
// not carry. This is the entry point for checks outside a run (a
// conformance check's probe answers): each probe's prompt and response
// as an Output. A nil detector scans nothing.
func ScanContamination(d *suite.CanaryDetector, outputs []Output) Contamination {
	s := NewContaminationScan(d)
	for _, o := range outputs {
		s.AddOutput(o.ID, o.Prompt, []string{o.Output})
	}
	return s.Result()
}

// ScanRecords scans the samples of a run (samples.jsonl) with d.
func ScanRecords(d *suite.CanaryDetector, r io.Reader) (Contamination, error) {
	s := NewContaminationScan(d)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxRecordLine)
	for n := 1; sc.Scan(); n++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		if err := s.AddJSON(sc.Bytes()); err != nil {
			return Contamination{}, fmt.Errorf("scan samples for canaries: line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return Contamination{}, fmt.Errorf("scan samples for canaries: %w", err)
	}
	return s.Result(), nil
}

// maxRecordLine bounds one line of samples.jsonl read by ScanRecords.
const maxRecordLine = 64 << 20

// ContaminationScan accumulates a scan one output at a time. Not safe for
// concurrent use.
type ContaminationScan struct {
	d     *suite.CanaryDetector
	c     Contamination
	items map[string]bool
}

// NewContaminationScan starts a scan with d (nil: a scan that finds
// nothing).
func NewContaminationScan(d *suite.CanaryDetector) *ContaminationScan {
	return &ContaminationScan{d: d, c: Contamination{Samples: []string{}}, items: map[string]bool{}}
}

// AddRecord scans one sample of a run: each answer of the model (earlier
// turns of a conversation, then the scored response) against every text
// it had been shown before it, its own earlier answers included (a model
// repeating a canary already in its context is no signal).
func (s *ContaminationScan) AddRecord(r Record) {
	var shown strings.Builder
	s.c.Scanned++
	found := map[string]bool{}
	check := func(out string) {
		if s.d == nil || out == "" {
			return
		}
		for _, h := range s.d.Contamination(shown.String(), out) {
			if found[h.Canary] {
				continue
			}
			found[h.Canary] = true
			if h.Item != "" {
				s.items[h.Suite+"/"+h.Item] = true
			}
		}
	}
	for _, m := range r.Messages {
		if m.Role == "assistant" {
			check(m.Content)
		}
		shown.WriteString(m.Content)
		shown.WriteByte('\n')
	}
	check(r.Response)
	s.hit(r.ID, len(found))
}

// AddJSON scans one line of samples.jsonl.
func (s *ContaminationScan) AddJSON(line []byte) error {
	var r struct {
		ID       string `json:"id"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
		Response string `json:"response"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return fmt.Errorf("read sample: %w", err)
	}
	rec := Record{ID: r.ID, Response: r.Response}
	for _, m := range r.Messages {
		rec.Messages = append(rec.Messages, target.Message{Role: m.Role, Content: m.Content})
	}
	s.AddRecord(rec)
	return nil
}

// AddOutput scans the answers of one output with the prompt they
// answered.
func (s *ContaminationScan) AddOutput(id, prompt string, outputs []string) {
	s.c.Scanned++
	found := map[string]bool{}
	for _, out := range outputs {
		if s.d == nil {
			break
		}
		for _, h := range s.d.Contamination(prompt, out) {
			if !found[h.Canary] {
				found[h.Canary] = true
				if h.Item != "" {
					s.items[h.Suite+"/"+h.Item] = true
				}
			}
		}
	}
	s.hit(id, len(found))
}

func (s *ContaminationScan) hit(id string, n int) {
	if n == 0 {
		return
	}
	s.c.Canaries += n
	if len(s.c.Samples) < MaxContaminationSamples {
		s.c.Samples = append(s.c.Samples, id)
	} else {
		s.c.Truncated = true
	}
}

// Result returns the scan so far.
func (s *ContaminationScan) Result() Contamination {
	out := s.c
	out.Samples = slices.Clone(s.c.Samples)
	out.Items = nil
	for it := range s.items {
		out.Items = append(out.Items, it)
	}
	slices.Sort(out.Items)
	if len(out.Items) > MaxContaminationSamples {
		out.Items = out.Items[:MaxContaminationSamples]
		out.Truncated = true
	}
	return out
}
