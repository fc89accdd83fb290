package main

import (
	"errors"
	"time"

	"github.com/clearance-dev/clearance/assess"
)

// writeEvidence writes evidence.json (dossier + metrics) into the run
// directory for the policy engine.
func writeEvidence(dir, dossier string, res *assess.Result, now time.Time) (string, error) {
	return "", errors.New("--dossier: the policy engine is not wired in yet")
}
