package main

import _ "embed"

// demoDossier is a fixed-date dossier (as of 2026-06-01) of a
// 1.2×10^26 FLOP model placed on the EU and US markets, for tests that
// need dates that do not move; the demo itself renders its developers'
// dossiers for the day it runs (demoDossierOn).
//
//go:embed demo_dossier.yaml
var demoDossier []byte
