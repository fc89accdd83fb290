package challenge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Adapters from public CTF benchmarks to our task format, for users who
// have those datasets. Both write one task directory per task into outDir
// (which may exist, but not the task directories), with the flag stored
// only as its SHA-256, and list every task they skip with its reason in
// outDir/skipped.txt. A task is skipped when it needs a remote server or
// the internet, when its files are missing, or when a file it would copy
// holds the flag in clear (solutions, server-side sources): nothing
// imported ever contains the flag.

// SkippedFile lists, one a line, "<task>: <reason>" for every task an
// importer left out.
const SkippedFile = "skipped.txt"

// interCodeRemote are InterCode-CTF task ids whose query needs a picoCTF
// server or URL (snapshot c3e46d8); the query check below catches them too.
var interCodeRemote = []int{9, 16, 20, 28, 29, 35, 39, 41, 42, 43, 54, 57, 62, 66, 73, 87, 88, 89, 95}

// remoteQuery matches a task statement that points outside the box.
var remoteQuery = regexp.MustCompile(`(?i)\bnc\s|https?://|\b[a-z0-9-]+\.(?:net|org|com|io)\b|\bport\s+\d+|:\d{4,5}\b`)

// downloadSetup matches a setup command that fetches from the internet.
var downloadSetup = regexp.MustCompile(`\b(?:wget|curl|git\s+clone|pip\s+install|apt(?:-get)?\s+install)\b`)

var interCodeCategories = map[string]string{
	"General Skills": Misc, "Reverse Engineering": Reversing, "Cryptography": Crypto,
	"Forensics": Forensics, "Binary Exploitation": Pwn, "Web Exploitation": Web,
}

type interCodeTask struct {
	TaskID int      `json:"task_id"`
	Query  string   `json:"query"`
	Gold   string   `json:"gold"`
	Source string   `json:"source"`
	Tags   []string `json:"tags"`
	Setup  string   `json:"setup"`
}

// ImportInterCode converts InterCode-CTF (github.com/princeton-nlp/intercode)
// into task directories: srcDir is the repository root (with
// data/ctf/ic_ctf.json) or its data/ctf directory; each task's assets are
// task_assets/<task_id>/ next to ic_ctf.json (its solution/ subdirectory
// and .placeholder files are never copied). Tasks are named
// intercode-<task_id>, difficulty 1 (picoCTF practice tasks carry none),
// category from the first tag. It returns how many tasks it wrote.
func ImportInterCode(srcDir, outDir string) (n int, err error) {
	jsonPath := filepath.Join(srcDir, "data", "ctf", "ic_ctf.json")
	if _, err := os.Stat(jsonPath); err != nil {
		jsonPath = filepath.Join(srcDir, "ic_ctf.json")
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		return 0, fmt.Errorf("import intercode: %w (want data/ctf/ic_ctf.json under %s)", err, srcDir)
	}
	var tasks []interCodeTask
	if err := json.Unmarshal(data, &tasks); err != nil {
		return 0, fmt.Errorf("import intercode: parse %s: %w", jsonPath, err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return 0, fmt.Errorf("import intercode: %w", err)
	}
	assets := filepath.Join(filepath.Dir(jsonPath), "task_assets")
	var skipped []string
	for i, it := range tasks {
		id := fmt.Sprintf("intercode-%d", it.TaskID)
		skip := func(format string, args ...any) { skipped = append(skipped, id+": "+fmt.Sprintf(format, args...)) }
		gold := strings.TrimSpace(it.Gold)
		switch {
		case gold == "":
			skip("no flag (gold) in %s entry %d", filepath.Base(jsonPath), i)
			continue
		case strings.TrimSpace(it.Query) == "":
			skip("no query")
			continue
		case slices.Contains(interCodeRemote, it.TaskID) || remoteQuery.MatchString(it.Query):
			skip("needs a remote picoCTF server or URL (the box has no network)")
			continue
		case downloadSetup.MatchString(it.Setup):
			skip("its setup downloads from the internet")
			continue
		case strings.Contains(it.Query, gold):
			skip("the query holds the flag")
			continue
		}
		cat := Misc
		if len(it.Tags) > 0 {
			c, ok := interCodeCategories[it.Tags[0]]
			if !ok {
				skip("unknown category tag %q", it.Tags[0])
				continue
			}
			cat = c
		}
		adir := filepath.Join(assets, strconv.Itoa(it.TaskID))
		if fi, err := os.Stat(adir); err != nil || !fi.IsDir() {
			skip("no task_assets/%d/ directory", it.TaskID)
			continue
		}
		files, modes, why, err := collectAssets(adir, []string{"solution", "solutions"}, gold)
		if err != nil {
			return n, fmt.Errorf("import intercode task %d: %w", it.TaskID, err)
		}
		if why != "" {
			skip("%s", why)
			continue
		}
		s := &taskSpec{ID: id, Category: cat, Difficulty: 1, FlagSHA256: HashFlag(gold), Source: it.Source,
			Prompt: strings.TrimSpace(it.Query) + flagFormatLine(gold)}
		if err := writeTaskDir(outDir, s, files, modes); err != nil {
			return n, fmt.Errorf("import intercode: %w", err)
		}
		n++
	}
	return n, writeSkipped(outDir, skipped)
}

// flagFormatLine tells the agent the flag's prefix (e.g. picoCTF{...}).
func flagFormatLine(flag string) string {
	if m := regexp.MustCompile(`^([A-Za-z0-9_-]{1,30})\{.*\}$`).FindStringSubmatch(flag); m != nil {
		return fmt.Sprintf("\n\nThe flag has the form %s{...}.", m[1])
	}
	return ""
}

// collectAssets reads every regular file under dir, except subdirectories
// named in exclude and .placeholder files, as workspace files. It returns
// a reason to skip the task (the flag in clear, too large) instead of the
// files when needed; a missing dir means no files.
func collectAssets(dir string, exclude []string, flag string) (files map[string][]byte, modes map[string]fs.FileMode, why string, err error) {
	files, modes = map[string][]byte{}, map[string]fs.FileMode{}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return files, modes, "", nil
	}
	var total int64
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && slices.Contains(exclude, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == ".placeholder" || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if checkRelPath(rel) != nil {
			why = fmt.Sprintf("asset %q has an unusable path", rel)
			return filepath.SkipAll
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if total += fi.Size(); total > maxTaskBytes {
			why = fmt.Sprintf("assets exceed %d MiB", maxTaskBytes>>20)
			return filepath.SkipAll
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(flag)) {
			why = fmt.Sprintf("asset %q holds the flag in clear", rel)
			return filepath.SkipAll
		}
		files[rel] = b
		modes[rel] = 0o644
		if fi.Mode().Perm()&0o111 != 0 {
			modes[rel] = 0o755
		}
		return nil
	})
	if err != nil {
		return nil, nil, "", fmt.Errorf("read assets: %w", err)
	}
	if why != "" {
		return nil, nil, why, nil
	}
	return files, modes, "", nil
}

func writeSkipped(outDir string, skipped []string) error {
	sort.Strings(skipped)
	var b strings.Builder
	for _, s := range skipped {
		b.WriteString(s + "\n")
	}
	if err := os.WriteFile(filepath.Join(outDir, SkippedFile), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", SkippedFile, err)
	}
	return nil
}

var cybenchCategories = map[string]string{
	"crypto": Crypto, "web": Web, "reverse": Reversing, "rev": Reversing, "reversing": Reversing,
	"pwn": Pwn, "forensics": Forensics, "misc": Misc,
}

type cybenchMeta struct {
	Categories []string `json:"categories"`
	Difficulty any      `json:"difficulty"` // "0"…"5" (a string upstream) or a number
	EasyPrompt string   `json:"easy_prompt"`
	HardPrompt string   `json:"hard_prompt"`
	TargetHost string   `json:"target_host"`
	Internet   struct {
		Necessary bool `json:"necessary"`
	} `json:"internet"`
	Subtasks []struct {
		Answer       string `json:"answer"`
		AnswerFormat string `json:"answer_format"`
	} `json:"subtasks"`
}

// cybenchFileDirs are, in order of preference, the subdirectories of a
// Cybench task whose files are handed to the agent.
var cybenchFileDirs = []string{"release", "dist", "challenge"}

// ImportCybench converts Cybench (github.com/andyzorigin/cybench) into task
// directories: srcDir is the repository root, with task_list.txt naming
// each task directory (benchmark/<…>/<task>), which holds
// metadata/metadata.json and the files given to the agent in release/
// (else dist/, else challenge/). The flag is the last subtask's answer.
// Tasks with a target_host (they need the upstream service containers) or
// that need the internet are skipped. Difficulty 0–1 → 1, 2–3 → 2,
// 4–5 → 3; the prompt is hard_prompt (else easy_prompt) plus the answer
// format. It returns how many tasks it wrote.
func ImportCybench(srcDir, outDir string) (n int, err error) {
	list, err := os.Open(filepath.Join(srcDir, "task_list.txt"))
	if err != nil {
		return 0, fmt.Errorf("import cybench: %w (want task_list.txt at the repository root)", err)
	}
	defer list.Close()
	var dirs []string
	sc := bufio.NewScanner(list)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			dirs = append(dirs, l)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("import cybench: read task_list.txt: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return 0, fmt.Errorf("import cybench: %w", err)
	}
	var skipped []string
	seen := map[string]bool{}
	for _, rel := range dirs {
		id := cybenchID(rel)
		skip := func(format string, args ...any) { skipped = append(skipped, id+": "+fmt.Sprintf(format, args...)) }
		if seen[id] {
			skip("listed twice in task_list.txt")
			continue
		}
		seen[id] = true
		if checkRelPath(filepath.ToSlash(rel)) != nil {
			skip("task path %q leaves the repository", rel)
			continue
		}
		dir := filepath.Join(srcDir, filepath.FromSlash(rel))
		data, err := os.ReadFile(filepath.Join(dir, "metadata", "metadata.json"))
		if err != nil {
			skip("no metadata/metadata.json (is the task directory present?)")
			continue
		}
		var m cybenchMeta
		if err := json.Unmarshal(data, &m); err != nil {
			skip("metadata/metadata.json: %v", err)
			continue
		}
		if len(m.Subtasks) == 0 || strings.TrimSpace(m.Subtasks[len(m.Subtasks)-1].Answer) == "" {
			skip("no flag: the last subtask has no answer")
			continue
		}
		flag := strings.TrimSpace(m.Subtasks[len(m.Subtasks)-1].Answer)
		if strings.TrimSpace(m.TargetHost) != "" {
			skip("needs the upstream service container (target_host %s)", m.TargetHost)
			continue
		}
		if m.Internet.Necessary {
			skip("needs the internet")
			continue
		}
		cat, ok := cybenchCategory(m.Categories)
		if !ok {
			skip("unknown categories %q", m.Categories)
			continue
		}
		diff, ok := cybenchDifficulty(m.Difficulty)
		if !ok {
			skip("difficulty %v: want 0–5", m.Difficulty)
			continue
		}
		prompt := strings.TrimSpace(m.HardPrompt)
		if prompt == "" {
			prompt = strings.TrimSpace(m.EasyPrompt)
		}
		if prompt == "" {
			skip("no prompt")
			continue
		}
		if f := strings.TrimSpace(m.Subtasks[len(m.Subtasks)-1].AnswerFormat); f != "" && !strings.Contains(f, flag) {
			prompt += "\n\nThe flag has the form " + f + "."
		}
		if strings.Contains(prompt, flag) {
			skip("the prompt holds the flag")
			continue
		}
		var files map[string][]byte
		var modes map[string]fs.FileMode
		var why string
		found := false
		for _, sub := range cybenchFileDirs {
			p := filepath.Join(dir, sub)
			if fi, err := os.Stat(p); err == nil && fi.IsDir() {
				found = true
				files, modes, why, err = collectAssets(p, []string{"solution", "solutions", "metadata"}, flag)
				if err != nil {
					return n, fmt.Errorf("import cybench %s: %w", rel, err)
				}
				break
			}
		}
		switch {
		case !found:
			skip("no %s directory with the task's files", strings.Join(cybenchFileDirs, "/, ")+"/")
			continue
		case why != "":
			skip("%s", why)
			continue
		}
		s := &taskSpec{ID: id, Category: cat, Difficulty: diff, FlagSHA256: HashFlag(flag), Prompt: prompt,
			Source: "cybench:" + filepath.ToSlash(rel)}
		if err := writeTaskDir(outDir, s, files, modes); err != nil {
			return n, fmt.Errorf("import cybench: %w", err)
		}
		n++
	}
	return n, writeSkipped(outDir, skipped)
}

// cybenchID names a task from its path: "cybench-" + the path after
// benchmark/, lower-cased, runs of other characters turned into "-".
func cybenchID(rel string) string {
	rel = strings.TrimPrefix(filepath.ToSlash(rel), "benchmark/")
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(rel) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	id := "cybench-" + strings.Trim(b.String(), "-.")
	if len(id) > 100 {
		id = strings.TrimRight(id[:100], "-.")
	}
	return id
}

func cybenchCategory(cats []string) (string, bool) {
	best, ok := "", false
	for _, c := range cats {
		m, known := cybenchCategories[strings.ToLower(strings.TrimSpace(c))]
		if !known {
			continue
		}
		if !ok || best == Misc {
			best, ok = m, true
		}
	}
	return best, ok
}

func cybenchDifficulty(v any) (int, bool) {
	var d int
	switch x := v.(type) {
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, false
		}
		d = n
	case float64:
		if x != float64(int(x)) {
			return 0, false
		}
		d = int(x)
	default:
		return 0, false
	}
	switch {
	case d < 0 || d > 5:
		return 0, false
	case d <= 1:
		return 1, true
	case d <= 3:
		return 2, true
	}
	return 3, true
}
