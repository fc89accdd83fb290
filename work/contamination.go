package work

import (
	"encoding/json"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// Contamination signal in the service: when the runner holds the agency's
// private seed, completing any assessment (public or private forms) scans
// every stored sample's model output for the seed's canaries that its
// prompt did not carry (assess.ContaminationScan) and records the result
// in the metrics ("contamination"). The review service opens a finding on
// the case for an assessment with a hit (review.CompleteAssessment).

// recordScan scans stored sample records; a nil scan (no seed) does
// nothing.
type recordScan struct {
	s   *assess.ContaminationScan
	bad int // records that could not be read
	// private are the private suites' items the samples came from
	// ("suite\x00item"), for counting model paraphrases.
	private map[[2]string]bool
}

// contaminationScan returns a scan with the runner's seed, nil without one.
func (r *Runner) contaminationScan() *recordScan {
	if r.cfg.PrivateSeed == nil {
		return nil
	}
	return &recordScan{s: assess.NewContaminationScan(suite.NewCanaryDetector(*r.cfg.PrivateSeed))}
}

func (rs *recordScan) add(record []byte) {
	if rs == nil {
		return
	}
	var r struct {
		ID       string           `json:"id"`
		Suite    string           `json:"suite"`
		Item     string           `json:"item"`
		Messages []target.Message `json:"messages"`
		Response string           `json:"response"`
	}
	if json.Unmarshal(record, &r) != nil {
		rs.bad++ // metrics computation fails on it too
		return
	}
	rs.s.AddRecord(assess.Record{ID: r.ID, Messages: r.Messages, Response: r.Response})
	if suite.IsPrivate(r.Suite) {
		if rs.private == nil {
			rs.private = map[[2]string]bool{}
		}
		rs.private[[2]string{r.Suite, r.Item}] = true
	}
}

// result is the scan for the metrics; nil without a seed.
func (rs *recordScan) result() *assess.Contamination {
	if rs == nil {
		return nil
	}
	c := rs.s.Result()
	return &c
}
