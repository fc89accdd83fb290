package main

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript scripts run the clearance command in-process.
// With CLEARANCE_TEST_EXEC=1 the test binary is the clearance command
// itself, so tests can run (and kill) real server and worker processes.
func TestMain(m *testing.M) {
	quietTessera()
	if os.Getenv("CLEARANCE_TEST_EXEC") == "1" {
		main()
		return
	}
	testscript.Main(m, map[string]func(){
		"clearance": main,
	})
}

// TestScripts runs the CLI contract scripts in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("XDG_CACHE_HOME", e.WorkDir+"/.cache")
			e.Setenv("HOME", e.WorkDir)
			if os.Getenv("CLEARANCE_SLOW") != "" {
				e.Setenv("CLEARANCE_SLOW", "1")
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// cmpmetrics compares two metrics.json files as JSON values.
			"cmpmetrics": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: cmpmetrics A B")
				}
				var a, b any
				ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &a))
				ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[1])), &b))
				if eq := reflect.DeepEqual(a, b); eq == neg {
					ts.Fatalf("metrics equal = %v", eq)
				}
			},
		},
	})
}
