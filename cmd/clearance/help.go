package main

import (
	"fmt"
	"io"
	"strings"
)

// subcommand is one subcommand of a command group, for help and for
// rejecting an unknown subcommand before the group's own code runs.
type subcommand struct {
	name    string
	args    string // what follows the name in the usage line
	summary string
}

// group is the help of a command made of subcommands. A group with
// ownFlags also runs without a subcommand (assess, verify): only its
// -h and its named subcommands are handled here; anything else goes to
// the command itself.
type group struct {
	subs     []subcommand
	ownFlags bool
}

// groups lists the subcommands of every command that has them.
func groups() map[string]group {
	return map[string]group{
		"admin": {subs: []subcommand{
			{"bootstrap", "--org NAME --user NAME [--data DIR|--database URL]", "create the first agency organisation and admin; prints its API token once"},
		}},
		"assess": {ownFlags: true, subs: []subcommand{
			{"compare", "RUN_A RUN_B [--format text|json]", "difference of every rate between two runs, with Newcombe intervals"},
		}},
		"audit": {subs: []subcommand{
			{"verify", "[--data DIR|--database URL]", "re-walk the hash-chained audit trail and report the first broken entry"},
		}},
		"case": {subs: []subcommand{
			{"list", "--server URL [--token T] [--state S] [--format text|json]", "the cases the token may see"},
			{"show", "ID --server URL [--token T] [--format text|json]", "one case: model, developer, profiles, state, assessments, findings, decisions"},
			{"assess", "ID [--suite S…] [--limit N] [--wait]", "schedule an assessment of a case and wait for its jobs"},
			{"import", "ID --run DIR", "import a run made with 'clearance assess' into a case"},
			{"recognise", "ID --authority NAME --bundle F [--receipt F]", "recognise another authority's signed decision as evidence (verified against the service's trust file)"},
			{"bundle", "DECISION --out FILE", "download a decision's signed bundle and log receipt"},
			{"oscal", "ID --kind ap|ar|poam [-o FILE]", "export a case as NIST OSCAL JSON: assessment plan, results or POA&M"},
		}},
		"conform": {ownFlags: true, subs: []subcommand{
			{"record", "--target KIND … --out FILE [--probes N] [--seed S]", "record an endpoint's behavioural fingerprint (probes asked twice at temperature 0)"},
		}},
		"incident": {subs: []subcommand{
			{"file", "--decision D --class C --summary TEXT [--discovered T]", "file an incident against a cleared decision; prints the duties each regime's clock owes"},
			{"list", "[--case ID] [--duties [--state S]]", "the incidents (or duties: due, overdue, done) the token may see"},
			{"report", "DUTY [--note TEXT] [--format markdown|json]", "file the report a duty asks for, generated from the incident"},
			{"resolve", "ID --resolution TEXT", "record an incident's resolution: the final reports fall due"},
		}},
		"keys": {subs: []subcommand{
			{"generate", "--out PREFIX [--passphrase-env VAR]", "generate an ECDSA P-256 key pair (PKCS#8 PEM)"},
		}},
		"log": {subs: []subcommand{
			{"init", "--dir DIR --origin NAME", "create a transparency log and its signing key"},
			{"append", "--dir DIR FILE", "append an entry and write its receipt"},
			{"proof", "--dir DIR|--url URL --index N", "print an inclusion proof against the current checkpoint"},
			{"serve", "--dir DIR [--addr ADDR]", "serve the log read-only over HTTP (tlog-tiles)"},
			{"verify", "--dir DIR|--url URL --log-key PUB", "monitor: check signatures, consistency and every entry"},
			{"watch", "--url URL --state FILE [--trust-name N] [--interval 30s] [--once] [--webhook URL]", "follow a log: checkpoints, witnesses, consistency and every new entry"},
		}},
		"policy": {subs: []subcommand{
			{"lint", "FILE…", "check profiles: schema, CEL types, unused constants, unreachable rules"},
			{"eval", "--evidence FILE --profile ID|FILE…", "judge evidence under profiles (exit 3 when one holds or refuses)"},
			{"compare", "--evidence FILE [--format table|json|html]", "judge evidence under every built-in profile, side by side"},
			{"plan", "--dossier FILE [--profile ID|FILE…]", "the sampling plan for the profiles that apply (for assess --plan)"},
			{"list", "", "the built-in profiles"},
			{"show", "ID", "print a built-in profile's YAML"},
			{"schema", "profile|evidence|plan", "print a published JSON Schema"},
		}},
		"reference": {subs: []subcommand{
			{"serve", "--addr 127.0.0.1:PORT [--profile NAME|FILE]", "serve the reference model (a simulator) as an OpenAI-compatible API"},
		}},
		"sign": {subs: []subcommand{
			{"model", "DIR --key KEY", "sign a model directory (OMS signature bundle)"},
			{"decision", "--decision FILE --model DIR --key KEY [--key KEY2 …] --out BUNDLE", "sign a decision predicate (several keys: co-signed)"},
			{"add", "--bundle B --key KEY --out B2 [--lead-key PUB]", "add an agency's co-signature to a decision bundle"},
			{"split", "--bundle B --out-dir DIR", "one single-signature bundle per co-signature (for cosign)"},
		}},
		"tasks": {subs: []subcommand{
			{"generators", "[--format text|json]", "list the built-in challenge generators of suite cyber-exploit"},
			{"list", "DIR", "load an external task directory and list its tasks"},
			{"import", "intercode|cybench --from SRC --out DIR", "convert an InterCode-CTF or Cybench checkout into a task directory"},
		}},
		"trust": {subs: []subcommand{
			{"add", "NAME --key DECIDER.pub --log-key LOG.pub [--log-url URL] [--witness NAME=VKEY|FILE …] [--witness-threshold K]", "pin an agency's keys"},
			{"list", "", "the pinned agencies"},
			{"show", "NAME", "one entry's keys and witness policy"},
			{"remove", "NAME", "forget an agency"},
		}},
		"token": {subs: []subcommand{
			{"list", "[--user ID] --server URL [--token T]", "list API tokens (your own, or a user's as admin)"},
			{"revoke", "ID --server URL [--token T]", "revoke a token and every token it minted"},
		}},
		"user": {subs: []subcommand{
			{"list", "[--org ID] --server URL [--token T]", "list users (admin)"},
			{"disable", "ID --server URL [--token T]", "disable a user and revoke their tokens (admin)"},
			{"enable", "ID --server URL [--token T]", "enable a disabled user (admin)"},
		}},
		"witness": {subs: []subcommand{
			{"init", "DIR --name NAME", "create a witness and its Ed25519 cosigning key; prints the verifier key"},
			{"add-log", "DIR --origin ORIGIN --key LOGKEY|FILE", "follow a log: cosign its checkpoints signed by this key"},
			{"serve", "DIR [--listen ADDR]", "serve POST /add-checkpoint (C2SP tlog-witness)"},
		}},
		"verify": {ownFlags: true, subs: []subcommand{
			{"model", "DIR --signature FILE --key PUB", "verify an OMS model signature bundle"},
		}},
	}
}

func isHelpArg(s string) bool {
	return s == "-h" || s == "-help" || s == "--help" || s == "help"
}

// printGroupUsage writes a group's usage: one line per subcommand.
func printGroupUsage(w io.Writer, name, summary string, g group) {
	var b strings.Builder
	fmt.Fprintf(&b, "clearance %s: %s\n\nUsage:\n", name, summary)
	if g.ownFlags {
		fmt.Fprintf(&b, "  clearance %s [flags]\n", name)
	}
	fmt.Fprintf(&b, "  clearance %s <subcommand> [flags]\n\nSubcommands:\n", name)
	width := 0
	for _, s := range g.subs {
		width = max(width, len(s.name))
	}
	for _, s := range g.subs {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, s.name, s.summary)
		if s.args != "" {
			fmt.Fprintf(&b, "  %-*s    clearance %s %s %s\n", width, "", name, s.name, s.args)
		}
	}
	if g.ownFlags {
		fmt.Fprintf(&b, "\nRun 'clearance %s --help' for its flags, 'clearance %s SUB --help' for a subcommand's.\n", name, name)
	} else {
		fmt.Fprintf(&b, "\nRun 'clearance %s SUB --help' for a subcommand's flags.\n", name)
	}
	io.WriteString(w, b.String())
}

// dispatchGroup handles what is common to every command group before the
// command runs: help (exit 0, on stdout), a missing or unknown subcommand
// (a short usage, then the error, exit 2). It returns handled=false when
// the command should run.
func dispatchGroup(e *env, name, summary string, g group, args []string) (code int, handled bool) {
	if g.ownFlags {
		if len(args) > 0 && args[0] == "help" {
			// "clearance verify help": the group's usage.
			printGroupUsage(e.stdout, name, summary, g)
			return 0, true
		}
		return 0, false
	}
	if len(args) == 0 {
		printGroupUsage(e.stderr, name, summary, g)
		fmt.Fprintf(e.stderr, "clearance %s: want a subcommand\n", name)
		return 2, true
	}
	if isHelpArg(args[0]) {
		printGroupUsage(e.stdout, name, summary, g)
		return 0, true
	}
	for _, s := range g.subs {
		if s.name == args[0] {
			return 0, false
		}
	}
	printGroupUsage(e.stderr, name, summary, g)
	fmt.Fprintf(e.stderr, "clearance %s: unknown subcommand %q\n", name, args[0])
	return 2, true
}
