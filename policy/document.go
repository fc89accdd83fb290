package policy

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

// Limits on untrusted YAML and JSON documents. They keep a hostile file
// from exhausting memory or time before the schema even sees it.
const (
	maxDepth = 64
	maxNodes = 500_000
)

//go:embed schema/*.json
var schemaFS embed.FS

// Problem is one thing wrong with a document, at a place.
type Problem struct {
	File string `json:"file,omitempty"` // set when not the file being loaded (an inherited item)
	Path string `json:"path,omitempty"` // JSON pointer into the document
	Line int    `json:"line,omitempty"` // 1-based; 0 when unknown
	Msg  string `json:"message"`
}

// Field renders Path in dotted form: "/evaluations/0/threshold" becomes
// "evaluations[0].threshold".
func (p Problem) Field() string { return pointerToField(p.Path) }

func pointerToField(ptr string) string {
	if ptr == "" || ptr == "/" {
		return ""
	}
	var b strings.Builder
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func formatProblems(op, file string, probs []Problem) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s:", op, file)
	if len(probs) > 1 {
		fmt.Fprintf(&b, " %d problems", len(probs))
	}
	for _, p := range probs {
		if len(probs) > 1 {
			b.WriteString("\n  ")
		} else {
			b.WriteByte(' ')
		}
		loc := file
		if p.File != "" {
			loc = p.File
		}
		if p.Line > 0 {
			loc += ":" + strconv.Itoa(p.Line)
		}
		b.WriteString(loc + ": ")
		if f := p.Field(); f != "" {
			b.WriteString(f + ": ")
		}
		b.WriteString(p.Msg)
	}
	return b.String()
}

// parseDocument parses YAML (or JSON, a subset) into plain Go values
// (map[string]any, []any, string, bool, nil, json.Number) and records the
// line of every value by JSON pointer. Aliases, duplicate keys, non-string
// keys, NaN/Inf, excessive depth and node counts are rejected.
func parseDocument(data []byte) (any, map[string]int, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, errors.New("document is empty")
		}
		return nil, nil, fmt.Errorf("parse: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, nil, fmt.Errorf("parse: more than one document (line %d)", extra.Line)
	}
	c := converter{lines: map[string]int{}}
	v, err := c.convert(&doc, "", 0)
	if err != nil {
		return nil, nil, err
	}
	return v, c.lines, nil
}

type converter struct {
	lines map[string]int
	nodes int
}

// nodeError carries the line of a structural problem.
type nodeError struct {
	line int
	path string
	msg  string
}

func (e *nodeError) Error() string {
	f := pointerToField(e.path)
	if f != "" {
		return fmt.Sprintf("line %d: %s: %s", e.line, f, e.msg)
	}
	return fmt.Sprintf("line %d: %s", e.line, e.msg)
}

func (c *converter) convert(n *yaml.Node, path string, depth int) (any, error) {
	c.nodes++
	if c.nodes > maxNodes {
		return nil, &nodeError{n.Line, path, fmt.Sprintf("document has more than %d nodes", maxNodes)}
	}
	if depth > maxDepth {
		return nil, &nodeError{n.Line, path, fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	if _, seen := c.lines[path]; !seen {
		c.lines[path] = n.Line
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, &nodeError{n.Line, path, "document is empty"}
		}
		return c.convert(n.Content[0], path, depth)
	case yaml.AliasNode:
		return nil, &nodeError{n.Line, path, "YAML aliases are not allowed"}
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || (k.Tag != "!!str" && k.Tag != "!!int" && k.Tag != "!!bool" && k.Tag != "!!float") {
				return nil, &nodeError{k.Line, path, "mapping keys must be strings"}
			}
			if k.Value == "<<" && k.Tag == "!!merge" {
				return nil, &nodeError{k.Line, path, "YAML merge keys are not allowed"}
			}
			if _, dup := m[k.Value]; dup {
				return nil, &nodeError{k.Line, path, fmt.Sprintf("duplicate key %q", k.Value)}
			}
			cp := path + "/" + escapePointer(k.Value)
			c.lines[cp] = k.Line
			cv, err := c.convert(v, cp, depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = cv
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			cv, err := c.convert(e, path+"/"+strconv.Itoa(i), depth+1)
			if err != nil {
				return nil, err
			}
			s = append(s, cv)
		}
		return s, nil
	case yaml.ScalarNode:
		return scalarValue(n, path)
	}
	return nil, &nodeError{n.Line, path, "unsupported YAML node"}
}

func scalarValue(n *yaml.Node, path string) (any, error) {
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, &nodeError{n.Line, path, err.Error()}
		}
		return b, nil
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, &nodeError{n.Line, path, "bad number " + strconv.Quote(n.Value)}
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, &nodeError{n.Line, path, "NaN and infinite numbers are not allowed"}
		}
		if n.Tag == "!!int" {
			var i int64
			if err := n.Decode(&i); err == nil {
				return json.Number(strconv.FormatInt(i, 10)), nil
			}
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	default:
		// Strings, timestamps and binary stay as written.
		return n.Value, nil
	}
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func lineOfYAMLError(err error) int {
	var ne *nodeError
	if errors.As(err, &ne) {
		return ne.line
	}
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func problemFromParse(err error) Problem {
	var ne *nodeError
	if errors.As(err, &ne) {
		return Problem{Path: ne.path, Line: ne.line, Msg: ne.msg}
	}
	return Problem{Line: lineOfYAMLError(err), Msg: err.Error()}
}

type schemas struct {
	profile, evidence, plan *jsonschema.Schema
}

// compiledSchemas compiles the embedded schemas once; the result is
// immutable and shared.
var compiledSchemas = sync.OnceValues(func() (*schemas, error) {
	c := jsonschema.NewCompiler()
	for _, name := range []string{"profile", "evidence", "plan"} {
		data, err := schemaFS.ReadFile("schema/" + name + ".schema.json")
		if err != nil {
			return nil, fmt.Errorf("read %s schema: %w", name, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("parse %s schema: %w", name, err)
		}
		if err := c.AddResource("https://clearance.dev/schema/"+name+".schema.json", doc); err != nil {
			return nil, fmt.Errorf("add %s schema: %w", name, err)
		}
	}
	var s schemas
	var err error
	if s.profile, err = c.Compile("https://clearance.dev/schema/profile.schema.json"); err != nil {
		return nil, fmt.Errorf("compile profile schema: %w", err)
	}
	if s.evidence, err = c.Compile("https://clearance.dev/schema/evidence.schema.json"); err != nil {
		return nil, fmt.Errorf("compile evidence schema: %w", err)
	}
	if s.plan, err = c.Compile("https://clearance.dev/schema/plan.schema.json"); err != nil {
		return nil, fmt.Errorf("compile plan schema: %w", err)
	}
	return &s, nil
})

func profileSchema() (*jsonschema.Schema, error) {
	s, err := compiledSchemas()
	if err != nil {
		return nil, err
	}
	return s.profile, nil
}

func evidenceSchema() (*jsonschema.Schema, error) {
	s, err := compiledSchemas()
	if err != nil {
		return nil, err
	}
	return s.evidence, nil
}

// Schema returns the published JSON Schema document for "profile",
// "evidence" or "plan".
func Schema(name string) ([]byte, error) {
	data, err := schemaFS.ReadFile("schema/" + name + ".schema.json")
	if err != nil {
		return nil, fmt.Errorf("read schema %q: no such schema", name)
	}
	return data, nil
}

// validateTree validates tree against sch and returns the leaf problems
// with their lines, sorted by line.
func validateTree(sch *jsonschema.Schema, tree any, lines map[string]int) []Problem {
	err := sch.Validate(tree)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Problem{{Msg: err.Error()}}
	}
	p := message.NewPrinter(language.English)
	seen := map[string]bool{}
	var probs []Problem
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if pn, ok := e.ErrorKind.(*kind.PropertyNames); ok {
			ptr := ""
			for _, t := range e.InstanceLocation {
				ptr += "/" + escapePointer(t)
			}
			cp := ptr + "/" + escapePointer(pn.Property)
			msg := "invalid name"
			for c := e; c != nil; {
				if len(c.Causes) == 0 {
					msg += ": " + c.ErrorKind.LocalizedString(p)
					break
				}
				c = c.Causes[0]
			}
			add(&probs, seen, Problem{Path: cp, Line: lines[cp], Msg: msg})
			return
		}
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		ptr := ""
		for _, t := range e.InstanceLocation {
			ptr += "/" + escapePointer(t)
		}
		msg := e.ErrorKind.LocalizedString(p)
		if ap, ok := e.ErrorKind.(*kind.AdditionalProperties); ok && len(ap.Properties) > 0 {
			for _, prop := range ap.Properties {
				cp := ptr + "/" + escapePointer(prop)
				add(&probs, seen, Problem{Path: cp, Line: lines[cp], Msg: "unknown field"})
			}
			return
		}
		if rq, ok := e.ErrorKind.(*kind.Required); ok && len(rq.Missing) > 0 {
			for _, m := range rq.Missing {
				add(&probs, seen, Problem{Path: ptr + "/" + escapePointer(m), Line: lines[ptr], Msg: "missing required field"})
			}
			return
		}
		add(&probs, seen, Problem{Path: ptr, Line: lines[ptr], Msg: msg})
	}
	walk(ve)
	sort.SliceStable(probs, func(i, j int) bool {
		if probs[i].Line != probs[j].Line {
			return probs[i].Line < probs[j].Line
		}
		return probs[i].Path < probs[j].Path
	})
	if len(probs) > 20 {
		probs = append(probs[:20], Problem{Msg: fmt.Sprintf("and %d more problems", len(probs)-20)})
	}
	return probs
}

func add(probs *[]Problem, seen map[string]bool, p Problem) {
	key := p.Path + "\x00" + p.Msg
	if seen[key] {
		return
	}
	seen[key] = true
	*probs = append(*probs, p)
}
