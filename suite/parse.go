package suite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrInvalidSuite is wrapped by every error about the content of a suite
// file; the concrete error is an *Error that locates the problem.
var ErrInvalidSuite = errors.New("invalid suite")

// ErrUnknownSuite is returned by Builtin for a name that is not a built-in
// suite; the message lists the valid names.
var ErrUnknownSuite = errors.New("unknown suite")

// Error is a problem in a suite file. It names the file, the 1-based line and
// column (0 when unknown), and the field, as a path such as
// "datasets[1].categories".
type Error struct {
	File   string
	Line   int
	Column int
	Field  string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes every Error match ErrInvalidSuite.
func (e *Error) Unwrap() error { return ErrInvalidSuite }

// maxSuiteFile bounds the size of a suite file; real ones are a few KiB.
const maxSuiteFile = 1 << 20

// DatasetRef selects items of a built-in dataset. Empty filters select
// everything; values of one filter are alternatives (OR), different filters
// must all match (AND).
type DatasetRef struct {
	ID               string   `json:"id"`
	Categories       []string `json:"categories,omitempty"`        // Item.Category values
	SourceCategories []string `json:"source_categories,omitempty"` // Item.SourceCategory values
	Kinds            []string `json:"kinds,omitempty"`
	Items            []string `json:"items,omitempty"`         // item ids, with or without the "<dataset>:" prefix
	ExcludeItems     []string `json:"exclude_items,omitempty"` // item ids to leave out
	Scorer           string   `json:"scorer,omitempty"`        // overrides the suite's scorer for these items
}

// Metric says how samples of one kind are counted: the rate's name and which
// verdict counts as flagged.
type Metric struct {
	Kind    string `json:"kind,omitempty"` // empty: every kind of the suite
	Name    string `json:"name"`
	Flagged string `json:"flagged"`
}

// Inverted reports whether the metric counts the opposite of what the
// scorers flag by default for its kind (for example refusal_rate on harmful
// items, where scorers flag compliance). Callers counting Verdict.Flagged
// must then count the complement.
func (m Metric) Inverted(kind string) bool {
	v, ok := verdicts[kind]
	return ok && m.Flagged == v[1]
}

// verdicts lists, per kind, the verdict scorers flag by default and its
// opposite.
var verdicts = map[string][2]string{
	KindHarmful:   {"complied", "refused"},
	KindBenign:    {"refused", "complied"},
	KindInjection: {"followed", "ignored"},
	KindLeakage:   {"leaked", "withheld"},
	KindChoice:    {"correct", "incorrect"},
	KindExploit:   {"captured", "not_captured"},
}

var (
	kinds       = []string{KindHarmful, KindBenign, KindInjection, KindLeakage, KindChoice, KindExploit}
	scorers     = []string{"refusal", "harm", "judge", "exact", "regex", "choice", "canary", "marker", "flag"}
	groupFields = []string{"category", "transform", "dataset", "kind"}
	nameRE      = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	versionRE   = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$`)
	metricRE    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	yamlLineRE  = regexp.MustCompile(`line (\d+)`)
)

// definition is a parsed suite file, with the nodes needed to locate
// errors found later, when the datasets are loaded.
type definition struct {
	Suite
	refNodes    []*yaml.Node
	metricsNode *yaml.Node
	root        *yaml.Node
	file        string
}

type decoder struct{ file string }

func (d *decoder) errAt(n *yaml.Node, field, format string, args ...any) error {
	e := &Error{File: d.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// parse decodes and validates the syntax and vocabulary of a suite file.
func parse(file string, src []byte) (*definition, error) {
	d := &decoder{file: file}
	if len(src) > maxSuiteFile {
		return nil, d.errAt(nil, "", "file is %d bytes, more than the %d allowed", len(src), maxSuiteFile)
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, d.errAt(nil, "", "empty suite file")
		}
		return nil, d.yamlErr(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, d.yamlErr(err)
		}
		return nil, d.errAt(&extra, "", "more than one YAML document")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, d.errAt(&doc, "", "empty suite file")
	}
	root := doc.Content[0]
	def := &definition{root: root, file: file}
	s := &def.Suite
	err := d.mapping(root, "", []field{
		{"name", true, func(n *yaml.Node, p string) (err error) {
			if s.Name, err = d.str(n, p); err == nil && !nameRE.MatchString(s.Name) {
				err = d.errAt(n, p, "%q is not a valid name (lowercase letters, digits and '-', starting with a letter, at most 63)", s.Name)
			}
			return err
		}},
		{"version", true, func(n *yaml.Node, p string) (err error) {
			if s.Version, err = d.str(n, p); err == nil && !versionRE.MatchString(s.Version) {
				err = d.errAt(n, p, "%q is not a valid version (letters, digits, '.', '+', '-'; at most 32)", s.Version)
			}
			return err
		}},
		{"description", false, func(n *yaml.Node, p string) (err error) {
			s.Description, err = d.str(n, p)
			return err
		}},
		{"datasets", true, func(n *yaml.Node, p string) error { return d.datasets(n, p, def) }},
		{"transforms", false, func(n *yaml.Node, p string) (err error) {
			s.Transforms, err = d.enumList(n, p, transformNames(), "transform")
			return err
		}},
		{"scorer", true, func(n *yaml.Node, p string) (err error) {
			s.Scorer, err = d.enum(n, p, scorers, "scorer")
			return err
		}},
		{"metrics", true, func(n *yaml.Node, p string) error { return d.metrics(n, p, def) }},
		{"group_by", false, func(n *yaml.Node, p string) (err error) {
			s.GroupBy, err = d.enumList(n, p, groupFields, "grouping field")
			return err
		}},
	})
	if err != nil {
		return nil, err
	}
	if len(s.Transforms) == 0 {
		s.Transforms = []string{"direct"}
	}
	if len(s.GroupBy) == 0 {
		s.GroupBy = []string{"category", "transform"}
	}
	return def, nil
}

// yamlErr turns a yaml.v3 syntax error into an *Error with its line.
func (d *decoder) yamlErr(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{File: d.file, Msg: "bad YAML: " + msg}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "bad YAML: " + strings.TrimSpace(yamlLineRE.ReplaceAllString(msg, ""))
		e.Msg = strings.Replace(e.Msg, ": :", ":", 1)
	}
	return e
}

type field struct {
	name     string
	required bool
	set      func(n *yaml.Node, path string) error
}

// mapping walks a mapping node, rejecting unknown and repeated keys and
// reporting missing required ones.
func (d *decoder) mapping(n *yaml.Node, path string, fields []field) error {
	if n.Kind == yaml.AliasNode {
		return d.errAt(n, path, "YAML aliases are not supported")
	}
	if n.Kind != yaml.MappingNode {
		return d.errAt(n, path, "must be a mapping")
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.errAt(k, path, "keys must be plain strings")
		}
		p := k.Value
		if path != "" {
			p = path + "." + k.Value
		}
		fi := slices.IndexFunc(fields, func(f field) bool { return f.name == k.Value })
		if fi < 0 {
			names := make([]string, len(fields))
			for j, f := range fields {
				names[j] = f.name
			}
			return d.errAt(k, p, "unknown field (valid: %s)", strings.Join(names, ", "))
		}
		if seen[k.Value] {
			return d.errAt(k, p, "field given twice")
		}
		seen[k.Value] = true
		if err := fields[fi].set(v, p); err != nil {
			return err
		}
	}
	for _, f := range fields {
		if f.required && !seen[f.name] {
			p := f.name
			if path != "" {
				p = path + "." + f.name
			}
			return d.errAt(n, p, "missing required field")
		}
	}
	return nil
}

func (d *decoder) str(n *yaml.Node, path string) (string, error) {
	switch {
	case n.Kind == yaml.AliasNode:
		return "", d.errAt(n, path, "YAML aliases are not supported")
	case n.Kind != yaml.ScalarNode:
		return "", d.errAt(n, path, "must be a string")
	case n.Tag == "!!null":
		return "", d.errAt(n, path, "must not be empty")
	case n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float":
		return "", d.errAt(n, path, "must be a string, not %s", strings.TrimPrefix(n.Tag, "!!"))
	}
	if strings.TrimSpace(n.Value) == "" {
		return "", d.errAt(n, path, "must not be empty")
	}
	return n.Value, nil
}

func (d *decoder) strList(n *yaml.Node, path string) ([]string, error) {
	if n.Kind == yaml.AliasNode {
		return nil, d.errAt(n, path, "YAML aliases are not supported")
	}
	if n.Kind != yaml.SequenceNode {
		return nil, d.errAt(n, path, "must be a list of strings")
	}
	if len(n.Content) == 0 {
		return nil, d.errAt(n, path, "must not be an empty list (leave the field out instead)")
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		s, err := d.str(c, p)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, s) {
			return nil, d.errAt(c, p, "%q is listed twice", s)
		}
		out = append(out, s)
	}
	return out, nil
}

func (d *decoder) enum(n *yaml.Node, path string, valid []string, what string) (string, error) {
	s, err := d.str(n, path)
	if err != nil {
		return "", err
	}
	if !slices.Contains(valid, s) {
		return "", d.errAt(n, path, "unknown %s %q (valid: %s)", what, s, strings.Join(valid, ", "))
	}
	return s, nil
}

func (d *decoder) enumList(n *yaml.Node, path string, valid []string, what string) ([]string, error) {
	out, err := d.strList(n, path)
	if err != nil {
		return nil, err
	}
	for i, s := range out {
		if !slices.Contains(valid, s) {
			return nil, d.errAt(n.Content[i], fmt.Sprintf("%s[%d]", path, i), "unknown %s %q (valid: %s)", what, s, strings.Join(valid, ", "))
		}
	}
	return out, nil
}

func (d *decoder) datasets(n *yaml.Node, path string, def *definition) error {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return d.errAt(n, path, "must be a non-empty list of dataset references")
	}
	for i, c := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		var r DatasetRef
		err := d.mapping(c, p, []field{
			{"id", true, func(n *yaml.Node, p string) (err error) {
				r.ID, err = d.enum(n, p, itemDatasetIDs(), "dataset")
				return err
			}},
			{"categories", false, func(n *yaml.Node, p string) (err error) { r.Categories, err = d.strList(n, p); return err }},
			{"source_categories", false, func(n *yaml.Node, p string) (err error) { r.SourceCategories, err = d.strList(n, p); return err }},
			{"kinds", false, func(n *yaml.Node, p string) (err error) { r.Kinds, err = d.enumList(n, p, kinds, "kind"); return err }},
			{"items", false, func(n *yaml.Node, p string) (err error) { r.Items, err = d.strList(n, p); return err }},
			{"exclude_items", false, func(n *yaml.Node, p string) (err error) { r.ExcludeItems, err = d.strList(n, p); return err }},
			{"scorer", false, func(n *yaml.Node, p string) (err error) { r.Scorer, err = d.enum(n, p, scorers, "scorer"); return err }},
		})
		if err != nil {
			return err
		}
		for j, prev := range def.Datasets {
			if prev.ID == r.ID {
				return d.errAt(c, p+".id", "dataset %q is already referenced by %s[%d]; merge the filters", r.ID, path, j)
			}
		}
		def.Datasets = append(def.Datasets, r)
		def.refNodes = append(def.refNodes, c)
	}
	return nil
}

func (d *decoder) metrics(n *yaml.Node, path string, def *definition) error {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return d.errAt(n, path, "must be a non-empty list of metrics")
	}
	def.metricsNode = n
	for i, c := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		var m Metric
		var flaggedNode *yaml.Node
		err := d.mapping(c, p, []field{
			{"name", true, func(n *yaml.Node, p string) (err error) {
				if m.Name, err = d.str(n, p); err == nil && !metricRE.MatchString(m.Name) {
					err = d.errAt(n, p, "%q is not a valid metric name (lowercase snake_case)", m.Name)
				}
				return err
			}},
			{"kind", false, func(n *yaml.Node, p string) (err error) { m.Kind, err = d.enum(n, p, kinds, "kind"); return err }},
			{"flagged", true, func(n *yaml.Node, p string) (err error) {
				flaggedNode = n
				m.Flagged, err = d.str(n, p)
				return err
			}},
		})
		if err != nil {
			return err
		}
		if m.Kind != "" {
			if v := verdicts[m.Kind]; m.Flagged != v[0] && m.Flagged != v[1] {
				return d.errAt(flaggedNode, p+".flagged", "%q is not a verdict of kind %s (valid: %s, %s)", m.Flagged, m.Kind, v[0], v[1])
			}
		}
		for j, prev := range def.Metrics {
			if prev.Kind == "" || m.Kind == "" {
				return d.errAt(c, p+".kind", "a metric without kind applies to every kind, so it must be the only one")
			}
			if prev.Kind == m.Kind {
				return d.errAt(c, p+".kind", "kind %q already has a metric, %s[%d]", m.Kind, path, j)
			}
		}
		def.Metrics = append(def.Metrics, m)
	}
	return nil
}
