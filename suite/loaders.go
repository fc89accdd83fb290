package suite

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Parsers of the embedded dataset files. They are written for the bytes
// shipped in data/, but treat them as untrusted (they are fuzzed): any
// malformed row is an error naming the row, never a panic.

// csvTable reads a CSV file with a header row and returns, for each data row,
// a lookup of the wanted columns.
func csvTable(b []byte, want ...string) ([]map[string]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read csv header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimPrefix(h, "\ufeff")] = i
	}
	for _, w := range want {
		if _, ok := col[w]; !ok {
			return nil, fmt.Errorf("csv header: missing column %q", w)
		}
	}
	var rows []map[string]string
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read csv: %w", err)
		}
		row := make(map[string]string, len(want))
		for _, w := range want {
			i := col[w]
			if i >= len(rec) {
				return nil, fmt.Errorf("csv record %d: missing column %q", line-1, w)
			}
			row[w] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func parseHarmBench(f [][]byte) ([]Item, error) {
	rows, err := csvTable(f[0], "Behavior", "FunctionalCategory", "SemanticCategory", "BehaviorID")
	if err != nil {
		return nil, err
	}
	var out []Item
	seen := map[string]bool{}
	for i, r := range rows {
		if r["FunctionalCategory"] != "standard" {
			continue // contextual rows need their context; copyright rows need a hash scorer
		}
		id, beh := strings.TrimSpace(r["BehaviorID"]), strings.TrimSpace(r["Behavior"])
		if id == "" || beh == "" {
			return nil, fmt.Errorf("row %d: empty BehaviorID or Behavior", i+1)
		}
		if seen[id] {
			return nil, fmt.Errorf("row %d: duplicate BehaviorID %q", i+1, id)
		}
		seen[id] = true
		out = append(out, harmful("harmbench", id, beh, harmbenchCategory(r["SemanticCategory"], beh), r["SemanticCategory"], ""))
	}
	return out, nil
}

func parseAdvBench(f [][]byte) ([]Item, error) {
	rows, err := csvTable(f[0], "goal", "target")
	if err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(rows))
	for i, r := range rows {
		goal := strings.TrimSpace(r["goal"])
		if goal == "" {
			return nil, fmt.Errorf("row %d: empty goal", i+1)
		}
		out = append(out, harmful("advbench", fmt.Sprintf("%03d", i+1), goal, keywordCategory(goal, CategoryOther), "", strings.TrimSpace(r["target"])))
	}
	return out, nil
}

func parseJBB(b []byte, dataset, kind string) ([]Item, error) {
	rows, err := csvTable(b, "index", "goal", "target", "behavior", "category")
	if err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(rows))
	seen := map[int]bool{}
	for i, r := range rows {
		idx, err := strconv.Atoi(r["index"])
		if err != nil || idx < 0 {
			return nil, fmt.Errorf("row %d: bad index %q", i+1, r["index"])
		}
		if seen[idx] {
			return nil, fmt.Errorf("row %d: duplicate index %d", i+1, idx)
		}
		seen[idx] = true
		goal := strings.TrimSpace(r["goal"])
		if goal == "" {
			return nil, fmt.Errorf("row %d: empty goal", i+1)
		}
		it := harmful(dataset, strconv.Itoa(idx), goal, jbbCategory(r["category"]), r["category"]+"/"+r["behavior"], strings.TrimSpace(r["target"]))
		it.Kind = kind
		out = append(out, it)
	}
	return out, nil
}

func parseStrongREJECT(f [][]byte) ([]Item, error) {
	rows, err := csvTable(f[0], "category", "forbidden_prompt")
	if err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(rows))
	for i, r := range rows {
		p := strings.TrimSpace(r["forbidden_prompt"])
		if p == "" {
			return nil, fmt.Errorf("row %d: empty forbidden_prompt", i+1)
		}
		out = append(out, harmful("strongreject", fmt.Sprintf("%03d", i+1), p, strongrejectCategory(r["category"], p), r["category"], ""))
	}
	return out, nil
}

func parseDoNotAnswer(f [][]byte) ([]Item, error) {
	stems := []string{"malicious_uses", "information_hazard", "discrimination_toxicity"}
	var out []Item
	for fi, b := range f {
		n := 0
		err := eachJSONLine(b, func(line int, raw []byte) error {
			var row struct {
				Prompt  string   `json:"prompt"`
				Intents []string `json:"intents"`
			}
			if err := json.Unmarshal(raw, &row); err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
			p := strings.TrimSpace(row.Prompt)
			if p == "" {
				return fmt.Errorf("line %d: empty prompt", line)
			}
			n++
			stem := "file" + strconv.Itoa(fi)
			if fi < len(stems) {
				stem = stems[fi]
			}
			out = append(out, harmful("do-not-answer", fmt.Sprintf("%s-%03d", stem, n), p, dnaCategory(row.Intents, p), stem, ""))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("file %d: %w", fi+1, err)
		}
	}
	return out, nil
}

func parseXSTest(f [][]byte) ([]Item, error) {
	rows, err := csvTable(f[0], "id", "prompt", "type", "label")
	if err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(rows))
	for i, r := range rows {
		id, err := strconv.Atoi(r["id"])
		if err != nil {
			return nil, fmt.Errorf("row %d: bad id %q", i+1, r["id"])
		}
		var kind string
		switch r["label"] {
		case "safe":
			kind = KindBenign
		case "unsafe":
			kind = KindHarmful
		default:
			return nil, fmt.Errorf("row %d: unknown label %q", i+1, r["label"])
		}
		p := strings.TrimSpace(r["prompt"])
		if p == "" {
			return nil, fmt.Errorf("row %d: empty prompt", i+1)
		}
		it := harmful("xstest", strconv.Itoa(id), p, xstestCategory(r["type"]), r["type"], "")
		it.Kind = kind
		out = append(out, it)
	}
	return out, nil
}

func parseMITRE(f [][]byte) ([]Item, error) {
	var rows []struct {
		System   string `json:"system_prompt"`
		User     string `json:"user_prompt"`
		Category string `json:"category"`
	}
	if err := json.Unmarshal(f[0], &rows); err != nil {
		return nil, err
	}
	var out []Item
	for i, r := range rows {
		u := strings.TrimSpace(r.User)
		if u == "" {
			continue // 23 upstream rows carry no user prompt
		}
		it := harmful("cse-mitre", fmt.Sprintf("%04d", i), u, slug(r.Category), r.Category, "")
		it.System = strings.TrimSpace(r.System)
		out = append(out, it)
	}
	return out, nil
}

func parseMITREFRR(f [][]byte) ([]Item, error) {
	var rows []struct {
		Prompt      string `json:"mutated_prompt"`
		IsMalicious *bool  `json:"is_malicious"`
	}
	if err := json.Unmarshal(f[0], &rows); err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(rows))
	for i, r := range rows {
		p := strings.TrimSpace(r.Prompt)
		if p == "" {
			return nil, fmt.Errorf("row %d: empty mutated_prompt", i)
		}
		if r.IsMalicious != nil && *r.IsMalicious {
			continue // the file holds only benign rows; skip any that are not
		}
		it := harmful("cse-mitre-frr", fmt.Sprintf("%03d", i), p, "cybersecurity", "mitre_frr", "")
		it.Kind = KindBenign
		out = append(out, it)
	}
	return out, nil
}

// judgeMarker patterns recognise CyberSecEval judge questions that ask
// whether a literal string appears in the answer; the string becomes the
// item's Marker so that the cheap "marker" scorer can judge it.
var judgeMarker = []*regexp.Regexp{
	regexp.MustCompile(`^Does (?:this|the) response (?:contain|reveal|include|mention)(?: the (?:word|password|phrase|secret key|secret|key|string|code|name|number))? ['"]([^'"]{2,80})['"]\s*\?$`),
	regexp.MustCompile(`^Does (?:this|the) response contain ([A-Za-z0-9@._+-]{3,80})\?$`),
}

func markerFromJudgeQuestion(q string) string {
	for _, re := range judgeMarker {
		if m := re.FindStringSubmatch(strings.TrimSpace(q)); m != nil {
			return m[1]
		}
	}
	return ""
}

func parseCSEInjection(f [][]byte) ([]Item, error) {
	var rows []struct {
		ID        *int   `json:"prompt_id"`
		System    string `json:"test_case_prompt"`
		User      string `json:"user_input"`
		Judge     string `json:"judge_question"`
		Variant   string `json:"injection_variant"`
		Type      string `json:"injection_type"`
		Risk      string `json:"risk_category"`
		Languages string `json:"speaking_language"`
	}
	if err := json.Unmarshal(f[0], &rows); err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(rows))
	seen := map[int]bool{}
	for i, r := range rows {
		if r.ID == nil || seen[*r.ID] {
			return nil, fmt.Errorf("row %d: missing or duplicate prompt_id", i)
		}
		seen[*r.ID] = true
		if strings.TrimSpace(r.User) == "" || strings.TrimSpace(r.Judge) == "" {
			return nil, fmt.Errorf("row %d: empty user_input or judge_question", i)
		}
		id := strconv.Itoa(*r.ID)
		out = append(out, Item{
			ID:             "cse-prompt-injection:" + id,
			Dataset:        "cse-prompt-injection",
			Behavior:       "cse-pi-" + id,
			Category:       slug(r.Variant),
			SourceCategory: r.Type + "/" + r.Risk,
			Kind:           KindInjection,
			System:         r.System,
			Prompt:         r.User,
			Expect:         Expect{Marker: markerFromJudgeQuestion(r.Judge), Goal: r.Judge},
		})
	}
	return out, nil
}

var optionPrefix = regexp.MustCompile(`^\s*([A-Z])\s*[.)]\s*`)

// reportRef matches a question that refers to a report or analysis it
// does not include ("Based on the report", "the report above", "the
// following report", "the provided analysis", "the analysed file"):
// without the report such a question has no right answer.
var reportRef = regexp.MustCompile(`(?i)\breports?\b|\b(the|this|above|provided|following|given)\s+(\w+\s+)?analysis\b|\bthe analy[sz]ed\b|\b(this|the) (malware|sample|file|executable|binary)\b`)

// parseCyberSOCEval reads the single-answer CyberSOCEval questions. The
// reports the questions were written from (Hybrid Analysis detonations,
// threat-intelligence reports) are not shipped, so questions about one
// are left out: every malware-analysis question (its row names the
// detonated sample by sha256) and every question whose text refers to a
// report or analysis (reportRef). What remains tests knowledge a
// question states or names.
func parseCyberSOCEval(f [][]byte) ([]Item, error) {
	type q struct {
		Question   string   `json:"question"`
		Text       string   `json:"question_text"`
		Options    []string `json:"options"`
		Correct    []string `json:"correct_options"`
		Answer     []string `json:"correct_answer"`
		Topic      string   `json:"topic"`
		QuestionID string   `json:"question_id"`
		Source     string   `json:"source"`
		SHA256     string   `json:"sha256"`
	}
	names := []string{"malware_analysis", "threat_intel"}
	var out []Item
	for fi, b := range f {
		var rows []q
		if err := json.Unmarshal(b, &rows); err != nil {
			return nil, fmt.Errorf("file %d: %w", fi+1, err)
		}
		name := "file" + strconv.Itoa(fi)
		if fi < len(names) {
			name = names[fi]
		}
		for i, r := range rows {
			text := r.Question + r.Text
			ans := append(slices.Clone(r.Correct), r.Answer...)
			if strings.TrimSpace(text) == "" || len(ans) != 1 || len(r.Options) < 2 || len(r.Options) > 26 {
				return nil, fmt.Errorf("file %d row %d: need a question, 2-26 options and exactly one answer", fi+1, i)
			}
			if r.SHA256 != "" || reportRef.MatchString(text) {
				continue // about a report that is not shipped
			}
			choices := make([]string, len(r.Options))
			var prompt strings.Builder
			prompt.WriteString(strings.TrimSpace(text))
			prompt.WriteString("\n\n")
			for j, o := range r.Options {
				letter := string(rune('A' + j))
				m := optionPrefix.FindStringSubmatch(o)
				if m == nil || m[1] != letter {
					return nil, fmt.Errorf("file %d row %d: option %d does not start with %q", fi+1, i, j+1, letter)
				}
				choices[j] = strings.TrimSpace(o[len(m[0]):])
				fmt.Fprintf(&prompt, "%s. %s\n", letter, choices[j])
			}
			answer := strings.TrimSpace(ans[0])
			if len(answer) != 1 || answer[0] < 'A' || int(answer[0]-'A') >= len(choices) {
				return nil, fmt.Errorf("file %d row %d: answer %q is not one of the option letters", fi+1, i, answer)
			}
			prompt.WriteString("\nAnswer with the letter of the one correct option.")
			key := fmt.Sprintf("%s-%03d", name, i)
			if r.QuestionID != "" {
				key = name + "-" + r.QuestionID
			}
			out = append(out, Item{
				ID:             "cybersoceval:" + key,
				Dataset:        "cybersoceval",
				Behavior:       "cybersoceval-" + key,
				Category:       name,
				SourceCategory: r.Topic + r.Source,
				Kind:           KindChoice,
				Prompt:         prompt.String(),
				Expect:         Expect{Answer: answer, Choices: choices},
			})
		}
	}
	return out, nil
}

func eachJSONLine(b []byte, fn func(line int, raw []byte) error) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for line := 1; sc.Scan(); line++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		if err := fn(line, raw); err != nil {
			return err
		}
	}
	return sc.Err()
}

// harmful builds a harmful-behaviour item with the usual id and behaviour.
func harmful(dataset, key, prompt, category, source, target string) Item {
	return Item{
		ID:             dataset + ":" + key,
		Dataset:        dataset,
		Behavior:       behaviorID(prompt),
		Category:       category,
		SourceCategory: source,
		Kind:           KindHarmful,
		Prompt:         prompt,
		Target:         target,
		Expect:         Expect{Goal: prompt},
	}
}
