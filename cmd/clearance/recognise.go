package main

import (
	"context"
	"errors"
	"fmt"

	"os"
	"path/filepath"
	"strings"

	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/trust"
)

// Recognition of other authorities' signed decisions (issue 16 item 4):
// the service verifies them against the trust file (serve --trust), and
// the case's policy evidence lists them (policy.Evidence.Recognised).

// trustPath is the service's trust file: --trust, else DATA/trust.json.
func (sf *serviceFlags) trustPath() string {
	if sf.trust != "" {
		return sf.trust
	}
	return filepath.Join(sf.data, "trust.json")
}

// authorities verifies other authorities' evidence against the service's
// trust file, read at each import (so an entry an admin adds applies at
// once, and a missing file trusts nobody).
func (sf *serviceFlags) authorities(e *env) review.Authorities {
	return &trust.Authorities{Path: sf.trustPath(), Now: e.now}
}

// recognisedEvidence lists a case's recognitions as policy evidence: one
// item per profile outcome of each recognised decision, and one for the
// overall outcome (profile ""). It always replaces what a dossier may
// have declared: only the service's verified records count.
func recognisedEvidence(ctx context.Context, st review.Store, caseID string) ([]policy.Recognised, error) {
	out := []policy.Recognised{}
	p := review.Page{Limit: review.MaxPageLimit}
	for {
		rs, err := st.ListRecognitions(ctx, caseID, p)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out = append(out, policy.Recognised{Authority: r.Authority, Outcome: r.Outcome, DecidedAt: r.DecidedAt})
			for _, po := range r.Profiles {
				out = append(out, policy.Recognised{Authority: r.Authority, Profile: po.Profile, Outcome: po.Outcome, DecidedAt: r.DecidedAt})
			}
		}
		if len(rs) < p.N() {
			return out, nil
		}
		p.After = rs[len(rs)-1].ID
	}
}

// runCaseRecognise posts another authority's signed decision to a case.
func runCaseRecognise(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "case recognise", "case recognise ID --authority NAME --bundle F [--receipt F] [--note TEXT] --server URL [--token T]")
	cf := registerClient(fs)
	authority := fs.String("authority", "", "the other authority's name in the service's trust file")
	bundlePath := fs.String("bundle", "", "the authority's signed decision (Sigstore bundle)")
	receiptPath := fs.String("receipt", "", "its log receipt (default: BUNDLE.receipt.json when present)")
	note := fs.String("note", "", "why it is recognised (kept with it)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *authority == "" || *bundlePath == "" {
		return usageError("case recognise wants one case id, --authority NAME and --bundle FILE")
	}
	bundle, err := os.ReadFile(*bundlePath)
	if err != nil {
		return fmt.Errorf("read --bundle: %w", err)
	}
	var receipt []byte
	switch {
	case *receiptPath != "":
		if receipt, err = os.ReadFile(*receiptPath); err != nil {
			return fmt.Errorf("read --receipt: %w", err)
		}
	default:
		receipt, err = os.ReadFile(tlog.ReceiptPath(*bundlePath))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("read receipt: %w", err)
		}
	}
	c, err := newAPIClient(e, *cf.server, *cf.token)
	if err != nil {
		return err
	}
	body := map[string]any{"authority": *authority, "bundle": bundle, "receipt": receipt, "note": *note}
	var out struct {
		ID        string `json:"id"`
		Authority string `json:"authority"`
		Outcome   string `json:"outcome"`
		LogOrigin string `json:"log_origin"`
		LogIndex  int64  `json:"log_index"`
		Profiles  []struct {
			Profile string `json:"profile"`
			Outcome string `json:"outcome"`
		} `json:"profiles"`
	}
	if err := c.do(ctx, "POST", "/api/v1/cases/"+pos[0]+"/recognitions", body, nil, &out); err != nil {
		return err
	}
	var ps []string
	for _, p := range out.Profiles {
		ps = append(ps, p.Profile+" "+p.Outcome)
	}
	fmt.Fprintf(e.stdout, "recognised %s: %s's decision (%s; %s), logged in %s at index %d\n",
		out.ID, out.Authority, out.Outcome, strings.Join(ps, ", "), out.LogOrigin, out.LogIndex)
	return nil
}
