package suite

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Suite is a loaded, validated suite: its definition, the items selected
// from its datasets and what its transforms need. A Suite is immutable and
// safe for concurrent use.
type Suite struct {
	Name        string       `json:"name"`
	Version     string       `json:"version"`
	Description string       `json:"description,omitempty"`
	Datasets    []DatasetRef `json:"datasets"`
	Transforms  []string     `json:"transforms"`
	Scorer      string       `json:"scorer"`
	Metrics     []Metric     `json:"metrics"`
	GroupBy     []string     `json:"group_by"`

	file  string
	items []Item
	used  []DatasetInfo // item datasets and transform resources, in reference order
	tdefs []transformDef
	// para paraphrases a private form's items (paraphrase.go); nil
	// otherwise.
	para   *paraphrases
	res    *resources
	pool   []*Item // harmful items with an affirmative target, for many-shot
	digest string
	// planName, set on a private form, is its public suite's name: the
	// plan draws with it so both forms select the same samples.
	planName string
}

// Load parses and validates a suite file. name is used in error messages
// (a file name, or "builtin/x.yaml"). Errors about the content are *Error
// values wrapping ErrInvalidSuite.
func Load(name string, src []byte) (*Suite, error) {
	def, err := parse(name, src)
	if err != nil {
		return nil, err
	}
	return build(def, src)
}

// LoadFile reads and loads the suite file at p.
func LoadFile(p string) (*Suite, error) {
	src, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("load suite: %w", err)
	}
	return Load(p, src)
}

// BuiltinNames lists the built-in suites in a stable order.
func BuiltinNames() []string {
	entries, err := fs.ReadDir(embedded, "builtin")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Builtin loads the built-in suite called name. An unknown name gives an
// error wrapping ErrUnknownSuite that lists the valid names.
func Builtin(name string) (*Suite, error) {
	if !slices.Contains(BuiltinNames(), name) {
		return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknownSuite, name, strings.Join(BuiltinNames(), ", "))
	}
	p := path.Join("builtin", name+".yaml")
	src, err := fs.ReadFile(embedded, p)
	if err != nil {
		return nil, fmt.Errorf("load builtin suite %s: %w", name, err)
	}
	return Load(p, src)
}

// Builtins loads every built-in suite, in name order. The built-in suites
// are tested to load, so an error here means a broken build.
func Builtins() ([]*Suite, error) {
	var out []*Suite
	for _, n := range BuiltinNames() {
		s, err := Builtin(n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// build loads the referenced datasets, applies filters, removes duplicate
// items, resolves scorers, checks metrics and computes the digest.
func build(def *definition, src []byte) (*Suite, error) {
	d := &decoder{file: def.file}
	s := def.Suite
	s.file = def.file
	h := sha256.New()
	writeField(h, []byte("clearance-suite-v1"))
	writeField(h, []byte(renderVersion))
	writeField(h, src)

	byKey := map[string]int{} // normalised input → index in s.items
	ids := map[string]bool{}
	for ri, ref := range s.Datasets {
		node := def.refNodes[ri]
		dd, _ := lookupDataset(ref.ID) // parse checked the id
		ld, err := loadItems(dd)
		if err != nil {
			return nil, d.errAt(node, fmt.Sprintf("datasets[%d].id", ri), "%v", err)
		}
		writeField(h, []byte(ref.ID))
		writeField(h, []byte(ld.digest))
		selected, err := filterItems(d, node, fmt.Sprintf("datasets[%d]", ri), ref, ld.items)
		if err != nil {
			return nil, err
		}
		info := dd.info(ld.digest, 0)
		for _, it := range selected {
			if strings.Contains(it.ID, "/") || ids[it.ID] {
				return nil, d.errAt(node, fmt.Sprintf("datasets[%d]", ri), "dataset %s yields a duplicate or malformed item id %q", ref.ID, it.ID)
			}
			ids[it.ID] = true
			key := it.Kind + "\x00" + normalizePrompt(it.System) + "\x00" + normalizePrompt(it.Prompt)
			if j, dup := byKey[key]; dup {
				s.items[j].Aliases = append(s.items[j].Aliases, it.ID)
				continue
			}
			sc, err := resolveScorer(ref, s.Scorer, &it)
			if err != nil {
				return nil, d.errAt(node, fmt.Sprintf("datasets[%d]", ri), "%v", err)
			}
			it.Scorer = sc
			byKey[key] = len(s.items)
			s.items = append(s.items, it)
			info.Rows++
		}
		s.used = append(s.used, info)
	}
	if len(s.items) == 0 {
		return nil, d.errAt(def.root, "datasets", "the filters select no items")
	}
	if err := checkMetrics(d, def, s.items); err != nil {
		return nil, err
	}

	s.res = &resources{}
	var needs []string
	for _, name := range s.Transforms {
		t, _ := lookupTransform(name)
		s.tdefs = append(s.tdefs, t)
		for _, n := range t.needs {
			if !slices.Contains(needs, n) {
				needs = append(needs, n)
			}
		}
	}
	for _, id := range needs {
		dd, ok := lookupDataset(id)
		if !ok {
			return nil, fmt.Errorf("load suite %s: transform resource %s missing from catalog", s.Name, id)
		}
		files, digest, err := dd.read()
		if err != nil {
			return nil, err
		}
		n, err := dd.parseRes(files, s.res)
		if err != nil {
			return nil, fmt.Errorf("load suite %s: parse resource %s: %w", s.Name, id, err)
		}
		writeField(h, []byte(id))
		writeField(h, []byte(digest))
		s.used = append(s.used, dd.info(digest, n))
	}
	for i := range s.items {
		if it := &s.items[i]; it.Kind == KindHarmful && it.Target != "" {
			s.pool = append(s.pool, it)
		}
	}
	s.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return &s, nil
}

func (dd datasetDef) info(digest string, rows int) DatasetInfo {
	return DatasetInfo{
		ID: dd.id, Title: dd.title, License: dd.license, Source: dd.source,
		Rows: rows, Digest: digest, Files: slices.Clone(dd.files), Generated: dd.fingerprint != nil,
	}
}

// filterItems applies a reference's filters. A filter value that matches no
// item of the dataset is an error: it is almost always a typo.
func filterItems(d *decoder, node *yaml.Node, path string, ref DatasetRef, items []Item) ([]Item, error) {
	idMatch := func(it *Item, want string) bool {
		return it.ID == want || it.ID == ref.ID+":"+want
	}
	type filter struct {
		name   string
		values []string
		match  func(it *Item, v string) bool
	}
	filters := []filter{
		{"categories", ref.Categories, func(it *Item, v string) bool { return it.Category == v }},
		{"source_categories", ref.SourceCategories, func(it *Item, v string) bool { return it.SourceCategory == v }},
		{"kinds", ref.Kinds, func(it *Item, v string) bool { return it.Kind == v }},
		{"items", ref.Items, idMatch},
		{"exclude_items", ref.ExcludeItems, idMatch},
	}
	for _, f := range filters {
		for _, v := range f.values {
			if !slices.ContainsFunc(items, func(it Item) bool { return f.match(&it, v) }) {
				return nil, d.errAt(node, path+"."+f.name, "%q matches no item of dataset %s%s", v, ref.ID, valuesHint(f.name, items))
			}
		}
	}
	var out []Item
	for _, it := range items {
		keep := true
		for _, f := range filters {
			if len(f.values) == 0 {
				continue
			}
			hit := slices.ContainsFunc(f.values, func(v string) bool { return f.match(&it, v) })
			if f.name == "exclude_items" {
				hit = !hit
			}
			keep = keep && hit
		}
		if keep {
			out = append(out, it)
		}
	}
	return out, nil
}

// valuesHint lists the values a category or kind filter could take.
func valuesHint(filter string, items []Item) string {
	var vals []string
	for _, it := range items {
		var v string
		switch filter {
		case "categories":
			v = it.Category
		case "source_categories":
			v = it.SourceCategory
		case "kinds":
			v = it.Kind
		default:
			return ""
		}
		if !slices.Contains(vals, v) {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	return " (have: " + strings.Join(vals, ", ") + ")"
}

// resolveScorer picks the scorer of an item: the reference's, else the
// suite's. "marker" falls back to "judge" for items without a derivable
// marker; scorers whose expectation the item lacks are an error.
func resolveScorer(ref DatasetRef, suiteScorer string, it *Item) (string, error) {
	sc := suiteScorer
	if ref.Scorer != "" {
		sc = ref.Scorer
	}
	switch sc {
	case "marker":
		if it.Expect.Marker == "" {
			return "judge", nil
		}
	case "canary":
		if it.Expect.Canary == "" {
			return "", fmt.Errorf("scorer canary needs a canary, and item %s has none", it.ID)
		}
	case "choice", "exact":
		if it.Expect.Answer == "" {
			return "", fmt.Errorf("scorer %s needs an answer, and item %s has none", sc, it.ID)
		}
	case "regex":
		if it.Expect.Pattern == "" {
			return "", fmt.Errorf("scorer regex needs a pattern, and item %s has none", it.ID)
		}
	}
	return sc, nil
}

// checkMetrics makes sure every kind the suite yields has exactly one metric
// whose flagged verdict fits the kind, and that no metric names a kind the
// suite does not yield.
func checkMetrics(d *decoder, def *definition, items []Item) error {
	var present []string
	for _, it := range items {
		if !slices.Contains(present, it.Kind) {
			present = append(present, it.Kind)
		}
	}
	for i, m := range def.Metrics {
		if m.Kind != "" && !slices.Contains(present, m.Kind) {
			return d.errAt(def.metricsNode.Content[i], fmt.Sprintf("metrics[%d].kind", i), "the suite has no items of kind %s", m.Kind)
		}
	}
	for _, k := range present {
		m, ok := metricFor(def.Metrics, k)
		if !ok {
			return d.errAt(def.metricsNode, "metrics", "no metric for kind %s, which the datasets yield", k)
		}
		if v := verdicts[k]; m.Flagged != v[0] && m.Flagged != v[1] {
			return d.errAt(def.metricsNode, "metrics", "flagged %q is not a verdict of kind %s (valid: %s, %s)", m.Flagged, k, v[0], v[1])
		}
	}
	return nil
}

func metricFor(ms []Metric, kind string) (Metric, bool) {
	for _, m := range ms {
		if m.Kind == kind || m.Kind == "" {
			return m, true
		}
	}
	return Metric{}, false
}

// Metric returns the metric that counts samples of kind, and whether there
// is one.
func (s *Suite) Metric(kind string) (Metric, bool) { return metricFor(s.Metrics, kind) }

// Digest is "sha256:<hex>" over the suite file's bytes, the render version
// of this package, and the digests of every dataset and transform resource
// the suite uses. Runs record it so that results are tied to exact prompts.
func (s *Suite) Digest() string { return s.digest }

// Kinds returns the distinct kinds of the suite's items, sorted.
func (s *Suite) Kinds() []string {
	var out []string
	for i := range s.items {
		out = append(out, s.items[i].Kind)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Items returns a copy of the suite's items, after filtering and removal of
// duplicates, in dataset order.
func (s *Suite) Items() []Item {
	out := slices.Clone(s.items)
	for i := range out {
		out[i].Aliases = slices.Clone(out[i].Aliases)
		out[i].Expect.Choices = slices.Clone(out[i].Expect.Choices)
	}
	return out
}

// DatasetsUsed describes the datasets and transform resources the suite
// draws on; Rows counts the items (or templates) it uses from each.
func (s *Suite) DatasetsUsed() []DatasetInfo { return slices.Clone(s.used) }
