package web

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// Operations outside apiRoutes, documented by hand: they take no token.
var publicOps = []struct{ method, path, op, summary string }{
	{"GET", "/healthz", "health", "Liveness: 200 while the server runs"},
	{"GET", "/api/v1/openapi.json", "openAPI", "This OpenAPI 3.1 document"},
}

var pathParamRE = regexp.MustCompile(`\{([a-zA-Z_]+)\}`)

// openAPIDocument builds the OpenAPI 3.1 document from the route table,
// with JSON Schemas derived from the request and response Go types.
func openAPIDocument(routes []route) ([]byte, error) {
	schemas := map[string]any{}
	problem := map[string]any{"$ref": "#/components/schemas/Problem"}
	schemas["Problem"] = schemaOf(reflect.TypeFor[Problem](), schemas)
	problemResp := func(desc string) map[string]any {
		return map[string]any{"description": desc,
			"content": map[string]any{"application/problem+json": map[string]any{"schema": problem}}}
	}
	paths := map[string]map[string]any{}
	add := func(method, path string, op map[string]any) error {
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		m := strings.ToLower(method)
		if _, dup := paths[path][m]; dup {
			return fmt.Errorf("build openapi document: %s %s documented twice", method, path)
		}
		paths[path][m] = op
		return nil
	}
	for _, p := range publicOps {
		op := map[string]any{"operationId": p.op, "summary": p.summary, "security": []any{},
			"responses": map[string]any{"200": map[string]any{"description": "OK"}}}
		if err := add(p.method, p.path, op); err != nil {
			return nil, err
		}
	}
	for _, rt := range routes {
		var params []any
		for _, m := range pathParamRE.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.query {
			s := map[string]any{"type": "string"}
			if q == "limit" {
				s = map[string]any{"type": "integer", "minimum": 1, "maximum": 500}
			}
			if rt.op == "getCaseOSCAL" && q == "kind" {
				params = append(params, map[string]any{"name": q, "in": "query", "required": true,
					"schema": map[string]any{"type": "string", "enum": []string{"ap", "ar", "poam"}}})
				continue
			}
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": s})
		}
		if rt.op == "submitCase" {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
				"schema": map[string]any{"type": "string", "maxLength": 255}})
		}
		ok := map[string]any{"description": "Success"}
		if rt.resp != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.resp), schemas)}}
		}
		resps := map[string]any{
			fmt.Sprint(rt.status): ok,
			"401":                 problemResp("Missing or bad bearer token"),
			"403":                 problemResp("The caller's role does not allow this"),
			"404":                 problemResp("No such resource, or not the caller's"),
			"409":                 problemResp("Conflicts with the resource's state (invalid transition, concurrent change)"),
			"422":                 problemResp("A value is unacceptable"),
			"500":                 problemResp("Internal error (logged, not shown)"),
		}
		op := map[string]any{"operationId": rt.op, "summary": rt.summary, "responses": resps}
		if params != nil {
			op["parameters"] = params
		}
		if rt.req != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.req), schemas)}}}
			resps["400"] = problemResp("Malformed JSON, wrong types, unknown fields or trailing data")
			resps["413"] = problemResp("Body over the size limit")
			resps["415"] = problemResp("Body is not application/json")
		}
		if err := add(rt.method, rt.path, op); err != nil {
			return nil, err
		}
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Clearance review API", "version": "1",
			"description": "Pre-release security review of AI models: cases, findings, decisions, appeals and the audit trail."},
		"servers":  []any{map[string]any{"url": "/"}},
		"security": []any{map[string]any{"bearer": []any{}}},
		"paths":    paths,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("build openapi document: %w", err)
	}
	return b, nil
}

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	timeType       = reflect.TypeFor[time.Time]()
)

// schemaOf returns the JSON Schema of t, adding named structs to schemas
// and referring to them.
func schemaOf(t reflect.Type, schemas map[string]any) map[string]any {
	switch {
	case t == rawMessageType:
		return map[string]any{}
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), schemas)
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return map[string]any{"type": "integer"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), schemas)}
	case reflect.Struct:
		name := schemaName(t)
		ref := map[string]any{"$ref": "#/components/schemas/" + name}
		if _, done := schemas[name]; done {
			return ref
		}
		schemas[name] = nil // placeholder against recursion
		props := map[string]any{}
		var required []string
		for f := range t.Fields() {
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = schemaOf(f.Type, schemas)
			if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
				required = append(required, name)
			}
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		schemas[name] = s
		return ref
	}
	return map[string]any{}
}

// schemaName names a struct type's schema: Go names less the JSON
// suffix, generics spelled out (list[caseJSON] is CaseList).
func schemaName(t reflect.Type) string {
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 {
		arg := n[i+1 : len(n)-1]
		arg = arg[strings.LastIndexByte(arg, '.')+1:]
		return schemaName0(arg) + "List"
	}
	return schemaName0(n)
}

func schemaName0(n string) string {
	n = strings.TrimSuffix(n, "JSON")
	if n == "" {
		return n
	}
	return strings.ToUpper(n[:1]) + n[1:]
}
