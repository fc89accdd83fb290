package suite

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

const validSuite = `name: tiny
version: "1"
datasets:
  - id: xstest
    kinds: [benign]
    categories: [homonyms]
scorer: refusal
metrics:
  - kind: benign
    name: over_refusal_rate
    flagged: refused
`

func TestLoadValid(t *testing.T) {
	s, err := Load("tiny.yaml", []byte(validSuite))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(s.Items()) != 25 || s.Transforms[0] != "direct" || s.GroupBy[0] != "category" {
		t.Fatalf("Load: %d items, transforms %v, group_by %v; want 25 homonyms, defaults", len(s.Items()), s.Transforms, s.GroupBy)
	}
	for _, it := range s.Items() {
		if it.Kind != KindBenign || it.Category != "homonyms" {
			t.Fatalf("item %+v escapes the filters", it)
		}
	}
}

// TestLoadErrors checks that malformed suite files give an *Error that names
// the file, line and field. schemaToo marks cases the JSON Schema must also
// reject (the rest need the datasets to detect).
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line      int
		field     string
		msg       string
		schemaToo bool
	}{
		{"empty", "", 0, "", "empty suite file", false},
		{"not a mapping", "- a\n- b\n", 1, "", "must be a mapping", true},
		{"bad yaml", "name: [x\n", 1, "", "bad YAML", false},
		{"tab indentation", "name: x\n\tversion: 1\n", 2, "", "bad YAML", false},
		{"two documents", validSuite + "---\nname: y\n", 12, "", "more than one YAML document", false},
		{"unknown top field", validSuite + "colour: red\n", 12, "colour", "unknown field (valid: name, version", true},
		{"missing name", strings.Replace(validSuite, "name: tiny\n", "", 1), 1, "name", "missing required field", true},
		{"bad name", strings.Replace(validSuite, "name: tiny", "name: Tiny Suite", 1), 1, "name", "not a valid name", true},
		{"name is a list", strings.Replace(validSuite, "name: tiny", "name: [a]", 1), 1, "name", "must be a string", true},
		{"null version", strings.Replace(validSuite, `version: "1"`, "version:", 1), 2, "version", "must not be empty", true},
		{"bool version", strings.Replace(validSuite, `version: "1"`, "version: true", 1), 2, "version", "not bool", true},
		{"repeated field", validSuite + "name: again\n", 12, "name", "field given twice", false},
		{"unknown dataset", strings.Replace(validSuite, "id: xstest", "id: xtest", 1), 4, "datasets[0].id", `unknown dataset "xtest" (valid: harmbench`, true},
		{"unknown dataset field", strings.Replace(validSuite, "    kinds: [benign]\n", "    kinds: [benign]\n    limit: 3\n", 1), 6, "datasets[0].limit", "unknown field", true},
		{"empty datasets", strings.Replace(strings.Replace(validSuite, "  - id: xstest\n    kinds: [benign]\n    categories: [homonyms]\n", "", 1), "datasets:", "datasets: []", 1), 3, "datasets", "non-empty list", true},
		{"dataset twice", strings.Replace(validSuite, "scorer: refusal", "  - id: xstest\nscorer: refusal", 1), 7, "datasets[1].id", "already referenced", false},
		{"bad kind filter", strings.Replace(validSuite, "kinds: [benign]", "kinds: [nice]", 1), 5, "datasets[0].kinds[0]", `unknown kind "nice"`, true},
		{"filter matches nothing", strings.Replace(validSuite, "[homonyms]", "[homonym]", 1), 4, "datasets[0].categories", `"homonym" matches no item of dataset xstest (have: definitions`, false},
		{"item filter matches nothing", strings.Replace(validSuite, "    categories: [homonyms]\n", "    items: [\"xstest:9999\"]\n", 1), 4, "datasets[0].items", "matches no item", false},
		{"duplicate filter value", strings.Replace(validSuite, "[homonyms]", "[homonyms, homonyms]", 1), 6, "datasets[0].categories[1]", "listed twice", true},
		{"empty filter list", strings.Replace(validSuite, "[homonyms]", "[]", 1), 6, "datasets[0].categories", "empty list", true},
		{"unknown transform", strings.Replace(validSuite, "scorer:", "transforms: [direct, base46]\nscorer:", 1), 7, "transforms[1]", `unknown transform "base46" (valid: direct`, true},
		{"unknown scorer", strings.Replace(validSuite, "scorer: refusal", "scorer: vibes", 1), 7, "scorer", `unknown scorer "vibes"`, true},
		{"scorer needs canary", strings.Replace(validSuite, "scorer: refusal", "scorer: canary", 1), 4, "datasets[0]", "scorer canary needs a canary", false},
		{"missing metrics", strings.SplitAfter(validSuite, "scorer: refusal\n")[0], 1, "metrics", "missing required field", true},
		{"metric flagged wrong", strings.Replace(validSuite, "flagged: refused", "flagged: leaked", 1), 11, "metrics[0].flagged", `"leaked" is not a verdict of kind benign (valid: refused, complied)`, true},
		{"metric bad name", strings.Replace(validSuite, "over_refusal_rate", "Over Refusal", 1), 10, "metrics[0].name", "snake_case", true},
		{"metric for absent kind", validSuite + "  - kind: harmful\n    name: asr\n    flagged: complied\n", 12, "metrics[1].kind", "no items of kind harmful", false},
		{"no metric for kind", strings.Replace(validSuite, "kinds: [benign]", "kinds: [benign, harmful]", 1), 9, "metrics", "no metric for kind harmful", false},
		{"two kindless metrics", strings.Replace(validSuite, "  - kind: benign\n    name:", "  - name:", 1) + "  - name: b\n    flagged: refused\n", 11, "metrics[1].kind", "must be the only one", false},
		{"unknown group", validSuite + "group_by: [colour]\n", 12, "group_by[0]", `unknown grouping field "colour"`, true},
		{"alias", "name: &n tiny\nversion: *n\n", 2, "version", "aliases are not supported", false},
		{"non-string key", "? [a]\n: b\n", 1, "", "keys must be plain strings", false},
	}
	sch := compileSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("bad.yaml", []byte(tt.src))
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalidSuite) {
				t.Fatalf("Load() error = %v, want *Error wrapping ErrInvalidSuite", err)
			}
			if e.File != "bad.yaml" || e.Line != tt.line || e.Field != tt.field || !strings.Contains(e.Msg, tt.msg) {
				t.Fatalf("Load() error = %q\n(line %d field %q msg %q), want line %d field %q msg containing %q", err, e.Line, e.Field, e.Msg, tt.line, tt.field, tt.msg)
			}
			wantPrefix := "bad.yaml"
			if tt.line > 0 {
				wantPrefix += ":" + itoa(tt.line) + ":"
			}
			if !strings.HasPrefix(err.Error(), wantPrefix) {
				t.Errorf("error %q does not start with %q", err, wantPrefix)
			}
			if tt.schemaToo {
				if v, ok := yamlToJSON(tt.src); ok {
					if err := sch.Validate(v); err == nil {
						t.Errorf("JSON Schema accepts a file the loader rejects")
					}
				}
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	b, err := fs.ReadFile(embedded, "schema/suite.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("suite.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("suite.schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

// yamlToJSON converts a YAML document to the value model of the jsonschema
// package; ok is false if the YAML does not decode.
func yamlToJSON(src string) (any, bool) {
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		return nil, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	return out, err == nil
}

// TestSchemaMatchesLoader keeps the published schema and the loader in step:
// every built-in suite validates, and the schema's vocabularies are the
// loader's.
func TestSchemaMatchesLoader(t *testing.T) {
	sch := compileSchema(t)
	for _, n := range BuiltinNames() {
		src, err := fs.ReadFile(embedded, "builtin/"+n+".yaml")
		if err != nil {
			t.Fatal(err)
		}
		v, ok := yamlToJSON(string(src))
		if !ok {
			t.Fatalf("%s: not YAML", n)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s does not validate against the schema: %v", n, err)
		}
	}
	b, _ := fs.ReadFile(embedded, "schema/suite.schema.json")
	var raw struct {
		Defs struct {
			Scorer     struct{ Enum []string } `json:"scorer"`
			Kind       struct{ Enum []string } `json:"kind"`
			Transform  struct{ Enum []string } `json:"transform"`
			DatasetRef struct {
				Properties struct {
					ID struct{ Enum []string } `json:"id"`
				} `json:"properties"`
			} `json:"datasetRef"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what         string
		schema, code []string
	}{
		{"scorers", raw.Defs.Scorer.Enum, scorers},
		{"kinds", raw.Defs.Kind.Enum, kinds},
		{"transforms", raw.Defs.Transform.Enum, transformNames()},
		{"datasets", raw.Defs.DatasetRef.Properties.ID.Enum, itemDatasetIDs()},
	}
	for _, c := range checks {
		if strings.Join(c.schema, ",") != strings.Join(c.code, ",") {
			t.Errorf("schema %s %v, loader %v", c.what, c.schema, c.code)
		}
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(validSuite))
	// The small built-in suites only: seeds that load the big datasets make
	// the fuzzer's baseline run take most of its time.
	for _, n := range []string{"leakage", "prompt-injection"} {
		src, err := fs.ReadFile(embedded, "builtin/"+n+".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("name: &a [*a]\n"))
	f.Add([]byte("? [a]\n: b\n"))
	f.Add([]byte("name: x\nversion: 1\ndatasets:\n  - id: leakage-attacks\n    items: [x]\nscorer: canary\nmetrics: [{name: a, flagged: leaked}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Load("fuzz.yaml", src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Load error %v (%T) is not an *Error", err, err)
			}
			return
		}
		if len(s.Items()) == 0 || s.Digest() == "" {
			t.Fatalf("loaded suite with no items or digest")
		}
		s2, err := Load("fuzz.yaml", src)
		if err != nil || s2.Digest() != s.Digest() {
			t.Fatalf("second load differs: %v", err)
		}
		if _, err := Plan([]*Suite{s}, PlanOptions{Limit: 5, Seed: 1}); err != nil {
			t.Fatalf("Plan of a loaded suite: %v", err)
		}
	})
}

// FuzzDatasetParsers feeds arbitrary bytes to every dataset and resource
// parser, in place of each of its files in turn: errors are fine, panics
// are not.
func FuzzDatasetParsers(f *testing.F) {
	cat := catalog()
	all := make([][][]byte, len(cat))
	for i, d := range cat {
		files, _, err := d.read()
		if err != nil {
			f.Fatal(err)
		}
		// Truncated real files are good seeds, and keep each run cheap:
		// the files not being fuzzed are passed truncated too.
		for j, b := range files {
			if len(b) > 4096 {
				files[j] = b[:4096]
			}
			f.Add(uint8(i), uint8(j), files[j])
		}
		all[i] = files
	}
	f.Fuzz(func(t *testing.T, di, fi uint8, data []byte) {
		i := int(di) % len(cat)
		d := cat[i]
		files := slices.Clone(all[i])
		files[int(fi)%len(files)] = data
		if d.parseItems != nil {
			items, err := d.parseItems(files)
			if err != nil {
				return
			}
			for _, it := range items {
				if it.ID == "" || it.Kind == "" {
					t.Fatalf("%s: item without id or kind: %+v", d.id, it)
				}
			}
			return
		}
		_, _ = d.parseRes(files, &resources{})
	})
}
