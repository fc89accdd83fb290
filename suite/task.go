package suite

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/clearance-dev/clearance/challenge"
)

// KindExploit is an agent task: the model acts through tools in a sandbox
// to capture a flag (suite cyber-exploit, scorer "flag").
const KindExploit = "exploit"

// InstancesPerGenerator is how many instances of each challenge generator
// the cyber-exploit dataset offers a plan to draw from. Each instance's
// seed mixes the plan seed, so another --seed draws fresh instances.
const InstancesPerGenerator = 12

// TaskRef names the challenge an exploit sample runs: a generator and the
// seed of its instance, or an external task loaded from a directory. The
// flag is drawn at run time and is not part of the plan.
type TaskRef struct {
	Generator  string `json:"generator"`          // challenge generator, or "external"
	Seed       int64  `json:"seed"`               // instance seed (generators)
	Instance   int    `json:"instance"`           // index of the instance in the dataset
	Difficulty int    `json:"difficulty"`         // 1 … 3
	Attempt    int    `json:"attempt,omitempty"`  // 1-based attempt at the same instance (pass@k)
	Attempts   int    `json:"attempts,omitempty"` // attempts planned per instance
	Path       string `json:"path,omitempty"`     // external: the task's directory
}

// DifficultyKey is the metrics key of a difficulty level: "d1", "d2", "d3".
func DifficultyKey(d int) string { return "d" + strconv.Itoa(d) }

// parseCyberGenerators lists InstancesPerGenerator instances of every
// built-in challenge generator. The prompt is the generator's summary
// until the plan instantiates the sample with its seed.
func parseCyberGenerators([][]byte) ([]Item, error) {
	var out []Item
	for _, g := range challenge.Generators() {
		for k := range InstancesPerGenerator {
			out = append(out, Item{
				ID: "cyber-generators:" + g.Name + "." + strconv.Itoa(k), Dataset: "cyber-generators",
				Behavior: g.Name, Category: g.Category, SourceCategory: DifficultyKey(g.Difficulty),
				Kind: KindExploit, Prompt: g.Summary + " [instance " + strconv.Itoa(k) + "]",
				task: &TaskRef{Generator: g.Name, Instance: k, Difficulty: g.Difficulty},
			})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no challenge generators")
	}
	return out, nil
}

// InstanceSeed is the seed of instance k of generator gen in a plan with
// seed planSeed.
func InstanceSeed(planSeed int64, gen string, k int) int64 {
	hi, _ := seed64("instance", strconv.FormatInt(planSeed, 10), gen, strconv.Itoa(k))
	return int64(hi >> 1)
}

// instantiate fixes an exploit sample's instance seed from the plan seed
// and renders its task statement: the prompt the agent is given (without
// the flag, which is drawn at run time).
func instantiate(s *Sample, planSeed int64, attempt, attempts int) {
	ref := *s.Task
	ref.Attempt, ref.Attempts = attempt, attempts
	s.Task = &ref
	if attempts > 1 {
		s.ID += "@" + strconv.Itoa(attempt)
	}
	if ref.Generator == "external" {
		return
	}
	ref.Seed = InstanceSeed(planSeed, ref.Generator, ref.Instance)
	g, ok := challenge.Lookup(ref.Generator)
	if !ok {
		s.Messages = []Message{{Role: "user", Content: "unknown challenge generator " + ref.Generator}}
		return
	}
	t, err := g.Generate(ref.Seed, "flag{plan}")
	if err != nil {
		s.Messages = []Message{{Role: "user", Content: err.Error()}}
		return
	}
	s.Messages = []Message{{Role: "user", Content: TaskPrompt(t.Prompt, attempt, attempts)}}
}

// TaskPrompt is the task statement an agent gets for one attempt: the
// generator's prompt, and "Attempt k of n" when the instance is attempted
// more than once (each attempt is an independent episode).
func TaskPrompt(prompt string, attempt, attempts int) string {
	if attempts <= 1 {
		return prompt
	}
	return strings.TrimRight(prompt, "\n") + fmt.Sprintf("\nAttempt: %d of %d\n", attempt, attempts)
}

// ExternalTask is a task loaded from a task directory (--tasks DIR): what a
// plan needs of it. The runner loads the task itself from Path.
type ExternalTask struct {
	ID         string // unique within the directory
	Category   string
	Difficulty int
	Prompt     string
	FlagSHA256 string
	Path       string
}

// TasksSuite is the suite of external tasks, named "cyber-tasks": one
// exploit item per task, scored by the flag, measured as solve_rate like
// cyber-exploit. Its digest covers every task's id, category,
// difficulty, prompt and flag hash.
func TasksSuite(tasks []ExternalTask) (*Suite, error) {
	if len(tasks) == 0 {
		return nil, fmt.Errorf("tasks suite: %w: no tasks", ErrEmptyPlan)
	}
	direct, _ := lookupTransform("direct")
	s := &Suite{
		Name: "cyber-tasks", Version: "1.0.0", Description: "external capture-the-flag tasks (--tasks)",
		Transforms: []string{"direct"}, Scorer: "flag", GroupBy: []string{"category", "transform"},
		Metrics: []Metric{{Kind: KindExploit, Name: "solve_rate", Flagged: "captured"}},
		tdefs:   []transformDef{direct}, res: &resources{}, file: "tasks",
	}
	h := sha256.New()
	writeField(h, []byte("clearance-tasks-v1"))
	seen := map[string]bool{}
	for _, t := range tasks {
		if t.ID == "" || strings.ContainsAny(t.ID, "/@") || seen[t.ID] {
			return nil, fmt.Errorf("tasks suite: task id %q is empty, repeated or holds / or @", t.ID)
		}
		if t.Difficulty < 1 || t.Difficulty > 3 {
			return nil, fmt.Errorf("tasks suite: task %s: difficulty %d: want 1 to 3", t.ID, t.Difficulty)
		}
		seen[t.ID] = true
		for _, f := range []string{t.ID, t.Category, strconv.Itoa(t.Difficulty), t.Prompt, t.FlagSHA256} {
			writeField(h, []byte(f))
		}
		s.items = append(s.items, Item{
			ID: "tasks:" + t.ID, Dataset: "tasks", Behavior: t.ID, Category: t.Category,
			SourceCategory: DifficultyKey(t.Difficulty), Kind: KindExploit, Prompt: t.Prompt, Scorer: "flag",
			task: &TaskRef{Generator: "external", Difficulty: t.Difficulty, Path: t.Path},
		})
	}
	s.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return s, nil
}

// cyberFingerprint identifies the generator set behind cyber-generators:
// its digest changes when a generator is added, renamed or re-levelled,
// or when challenge.Version changes (generators' output changed).
func cyberFingerprint() []byte {
	var b strings.Builder
	b.WriteString(challenge.Version)
	for _, g := range challenge.Generators() {
		fmt.Fprintf(&b, "\n%s %s %d", g.Name, g.Category, g.Difficulty)
	}
	return []byte(b.String())
}
