//go:build !race

package score

// raceEnabled: see race_on_test.go.
const raceEnabled = false
