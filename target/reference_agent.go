package target

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// The reference model as an agent. When a request offers the tools "bash"
// and "submit" and the oracle says the task is an exploit (a capture-the-
// flag challenge), the reference model plays a scripted agent. Whether it
// solves is drawn once per task, exactly as the chat decisions are, from
// the conversation's opening messages (the system and user messages before
// the first assistant turn), so tool results never change it; which turn
// it is comes from the number of assistant messages so far.
//
// Solving (probability Profile.SolveRate(category, difficulty)):
//
//	turn 1: bash  ls -la
//	turn 2: bash  writes Truth.Solution to solve.sh (a quoted heredoc)
//	turn 3: bash  bash solve.sh
//	turn 4: submit the last flag{…} in the latest tool result
//	        ("flag{not_found}" when there is none)
//
// Failing: two or three plausible looks around (ls -la, file *, strings),
// then a submit of a made-up flag.

// Tool names the reference agent calls; they are the agent harness's.
const (
	refToolBash   = "bash"
	refToolSubmit = "submit"
)

// refNotFound is what the solving reference agent submits when its
// solution printed no flag (a broken task, a sandbox fault).
const refNotFound = "flag{not_found}"

// noToolsReply answers an exploit task asked without the tools.
const noToolsReply = "To work on this challenge I need a shell: please give me the bash and submit tools."

// flagRE matches a flag as the challenge package does.
var flagRE = regexp.MustCompile(`flag\{[!-z|~]{1,100}\}`)

var failCommands = []string{"ls -la", "file *", "strings -n 8 * | head -20"}

// agentDecision is the outcome of an exploit task plus the draw's hash.
type agentDecision struct {
	out Outcome
	sum [32]byte
}

// decideAgent decides an exploit task offered with the bash and submit
// tools; ok is false when the request is not one (other tools, a prompt
// the oracle does not know or knows as another kind).
func (r *Reference) decideAgent(msgs []Message, tools []Tool) (agentDecision, bool) {
	if (r.oracle == nil && r.taskOracle == nil) || !hasTool(tools, refToolBash) || !hasTool(tools, refToolSubmit) {
		return agentDecision{}, false
	}
	opening := openingMessages(msgs)
	key := PromptKey(opening)
	var t Truth
	ok := false
	if r.oracle != nil {
		t, ok = r.oracle(key)
	}
	if (!ok || t.Kind != TruthExploit) && r.taskOracle != nil && len(opening) > 0 {
		t, ok = r.taskOracle(opening[len(opening)-1].Content)
	}
	if !ok || t.Kind != TruthExploit {
		return agentDecision{}, false
	}
	sum := r.draw(key)
	out := Outcome{Known: true, Truth: t, U: unitFloat(sum[:8])}
	out.P = r.p.SolveRate(t.Category, t.Difficulty)
	out.Flagged = out.U < out.P
	out.Family = FamilyAgentFail
	if out.Flagged {
		out.Family = FamilyAgentSolve
	}
	return agentDecision{out: out, sum: sum}, true
}

// openingMessages returns the system and user messages before the first
// assistant message: the task as the harness posed it.
func openingMessages(msgs []Message) []Message {
	var out []Message
	for _, m := range msgs {
		if m.Role == "assistant" {
			break
		}
		if m.Role == "system" || m.Role == "user" || m.Role == "developer" {
			out = append(out, m)
		}
	}
	return out
}

func hasTool(tools []Tool, name string) bool {
	for _, t := range tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// agentTurn returns the reference agent's next message: a short remark and
// one tool call.
func (r *Reference) agentTurn(msgs []Message, d agentDecision) (string, []ToolCall) {
	turn := 0
	for _, m := range msgs {
		if m.Role == "assistant" {
			turn++
		}
	}
	pk := &picker{state: d.sum}
	id := func() string {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(turn))
		h := sha256.Sum256(append(d.sum[:], n[:]...))
		return "call_" + hex.EncodeToString(h[:12])
	}
	bash := func(text, cmd string) (string, []ToolCall) {
		return text, []ToolCall{{ID: id(), Name: refToolBash, Arguments: jsonArgs("command", cmd)}}
	}
	submit := func(text, answer string) (string, []ToolCall) {
		return text, []ToolCall{{ID: id(), Name: refToolSubmit, Arguments: jsonArgs("answer", answer)}}
	}
	if d.out.Flagged {
		switch turn {
		case 0:
			return bash("Let me start by looking at the files I was given.", "ls -la")
		case 1:
			return bash("I think I see how to get the flag. Let me write a script for it.", heredoc("solve.sh", d.out.Truth.Solution))
		case 2:
			return bash("Now let me run it.", "bash solve.sh")
		}
		flag := refNotFound
		if fs := flagRE.FindAllString(lastToolContent(msgs), -1); len(fs) > 0 {
			flag = fs[len(fs)-1]
		}
		return submit("The script printed the flag.", flag)
	}
	n := 2 + pk.intn(2)
	if turn < n {
		return bash([]string{
			"Let me start by looking at the files I was given.",
			"Let me check what kind of files these are.",
			"Maybe there are readable strings in the files.",
		}[turn], failCommands[turn])
	}
	// A made-up flag, drawn from the decision hash: never the real one.
	h := sha256.Sum256(append([]byte("clearance/target/reference/wrong-flag\n"), d.sum[:]...))
	return submit("I believe this is the flag.", "flag{"+hex.EncodeToString(h[:16])+"}")
}

// heredoc returns a command writing body to name through a quoted
// heredoc (no expansion), with a delimiter that is no line of body.
func heredoc(name, body string) string {
	delim := "CLEARANCE_EOF"
	lines := strings.Split(body, "\n")
	for i := 0; containsLine(lines, delim); i++ {
		delim = fmt.Sprintf("CLEARANCE_EOF_%d", i)
	}
	return fmt.Sprintf("cat > %s <<'%s'\n%s\n%s", name, delim, strings.TrimRight(body, "\n"), delim)
}

func containsLine(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// lastToolContent is the content of the last "tool" message.
func lastToolContent(msgs []Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "tool" {
			return msgs[i].Content
		}
	}
	return ""
}

// jsonArgs encodes {key: value} without HTML escaping.
func jsonArgs(key, value string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{key: value})
	return strings.TrimRight(b.String(), "\n")
}
