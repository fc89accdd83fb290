package main

import (
	"database/sql"
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
			// sqlexec runs SQL statements on a SQLite file directly, as
			// someone holding the file could (to tamper in tests).
			"sqlexec": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: sqlexec FILE STATEMENT...")
				}
				db, err := sql.Open("sqlite", ts.MkAbs(args[0]))
				ts.Check(err)
				defer db.Close()
				for _, q := range args[1:] {
					if _, err := db.Exec(q); (err != nil) != neg {
						ts.Fatalf("%s: %v", q, err)
					}
				}
			},
			// fakejudge VAR serves a scripted judge model; see fakeJudgeCmd.
			"fakejudge": fakeJudgeCmd,
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
