//go:build race

package score

// raceEnabled is true in a build with the race detector, which makes
// the leave-one-source-out measurements (pure computation over thousands
// of labelled answers) fifty times slower; .ci/run runs them once more
// without it.
const raceEnabled = true
