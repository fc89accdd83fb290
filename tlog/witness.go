package tlog

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/transparency-dev/tessera"
)

// WitnessConfig is one witness the log asks to cosign its checkpoints,
// over the C2SP tlog-witness protocol.
type WitnessConfig struct {
	// Name is for messages only; the key carries the witness's name.
	Name string
	// Key is the witness's cosignature/v1 verifier key (a signed-note
	// vkey, Ed25519 type 0x04; a plain Ed25519 vkey, 0x01, is accepted).
	Key string
	// URL is the witness's base URL: the log POSTs to URL/add-checkpoint
	// (a URL already ending in /add-checkpoint is taken as is).
	URL string
}

// witnessGroup builds Tessera's witness policy: threshold of ws (all of
// them when threshold is 0).
func witnessGroup(ws []WitnessConfig, threshold int) (tessera.WitnessGroup, error) {
	if len(ws) == 0 {
		if threshold != 0 {
			return tessera.WitnessGroup{}, fmt.Errorf("witness threshold %d without witnesses", threshold)
		}
		return tessera.NewWitnessGroup(0), nil
	}
	if threshold == 0 {
		threshold = len(ws)
	}
	if threshold < 0 || threshold > len(ws) {
		return tessera.WitnessGroup{}, fmt.Errorf("witness threshold %d of %d witnesses", threshold, len(ws))
	}
	seen := map[string]bool{}
	var cs []tessera.Witness
	for i, c := range ws {
		name := c.Name
		if name == "" {
			name = fmt.Sprintf("witness %d", i+1)
		}
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return tessera.WitnessGroup{}, fmt.Errorf("%s: URL %q must be an absolute http(s) URL", name, c.URL)
		}
		u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/add-checkpoint")
		w, err := tessera.NewWitness(strings.TrimSpace(c.Key), u)
		if err != nil {
			return tessera.WitnessGroup{}, fmt.Errorf("%s: key: %w", name, err)
		}
		if seen[w.URL] || seen[w.Key.Name()] {
			return tessera.WitnessGroup{}, fmt.Errorf("%s: witness listed twice", name)
		}
		seen[w.URL], seen[w.Key.Name()] = true, true
		cs = append(cs, w)
	}
	// NewWitnessGroup's children are of Tessera's unexported
	// policyComponent type: build the group empty, then fill it.
	g := tessera.NewWitnessGroup(0)
	for _, w := range cs {
		g.Components = append(g.Components, w)
	}
	g.N = threshold
	return g, nil
}
