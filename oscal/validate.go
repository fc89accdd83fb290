package oscal

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaFS holds NIST's OSCAL v1.1.3 JSON Schemas, unmodified (see
// schemas/SOURCE.txt and schemas/LICENSE.md).
//
//go:embed schemas/*.json schemas/SOURCE.txt schemas/LICENSE.md
var schemaFS embed.FS

// schemaFile is the embedded NIST schema of each kind.
var schemaFile = map[Kind]string{
	KindAP:   "schemas/oscal_assessment-plan_schema.json",
	KindAR:   "schemas/oscal_assessment-results_schema.json",
	KindPOAM: "schemas/oscal_poam_schema.json",
}

// ErrInvalid is wrapped by Validate's error when a document does not
// conform to its schema.
var ErrInvalid = errors.New("not valid against the NIST OSCAL schema")

// compiled compiles the three schemas once. The schemas are draft-07;
// formats (date-time, uri, uri-reference) are asserted. Their patterns
// use \p{L} and \p{N}, which Go's regexp (RE2) supports, so they compile
// as they are.
var compiled = sync.OnceValues(func() (map[Kind]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[Kind]*jsonschema.Schema{}
	for k, file := range schemaFile {
		data, err := schemaFS.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read %s schema: %w", k, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("parse %s schema: %w", k, err)
		}
		url := "embed:///" + file
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("add %s schema: %w", k, err)
		}
		if out[k], err = c.Compile(url); err != nil {
			return nil, fmt.Errorf("compile %s schema: %w", k, err)
		}
	}
	return out, nil
})

// Schema returns the embedded NIST JSON Schema of kind k.
func Schema(k Kind) ([]byte, error) {
	file, ok := schemaFile[k]
	if !ok {
		return nil, fmt.Errorf("schema of kind %q: %w", k, ErrUnknownKind)
	}
	return schemaFS.ReadFile(file)
}

// Validate checks doc, a JSON document of kind k, against NIST's OSCAL
// v1.1.3 JSON Schema for that model. The error wraps ErrInvalid and says
// where the document fails.
func Validate(k Kind, doc []byte) error {
	schemas, err := compiled()
	if err != nil {
		return err
	}
	sch, ok := schemas[k]
	if !ok {
		return fmt.Errorf("validate: %w: %q", ErrUnknownKind, k)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("validate %s: parse: %w", k, err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("validate %s: %w: %v", k, ErrInvalid, err)
	}
	return nil
}
