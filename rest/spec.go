package rest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

// The embedded OpenAPI document is the source of truth for routes, for
// the scope each operation needs (its security requirements, so a route
// cannot exist without a declared rule) and for request body limits
// (x-max-body-bytes).

// defaultMaxBody bounds a request body when the operation names no limit.
const defaultMaxBody = 1 << 20

// operation is one route of the spec.
type operation struct {
	Method, Path string
	ID           string // as the generated code names it: GetUser
	Public       bool   // security: []
	// Scopes lists alternatives: a token must carry every scope of at
	// least one of them.
	Scopes  [][]cairn.Scope
	MaxBody int64
}

// Pattern is the operation's ServeMux pattern, as the generated code
// registers it.
func (o operation) Pattern() string { return o.Method + " " + o.Path }

// loadOperations reads the operations from the embedded document, keyed
// by pattern.
func loadOperations() (map[string]operation, error) {
	var doc struct {
		Security []map[string][]string                 `json:"security"`
		Paths    map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPIJSON, &doc); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	ops := map[string]operation{}
	for path, methods := range doc.Paths {
		for method, raw := range methods {
			var op struct {
				OperationID string                 `json:"operationId"`
				Security    *[]map[string][]string `json:"security"`
				MaxBody     int64                  `json:"x-max-body-bytes"`
			}
			if err := json.Unmarshal(raw, &op); err != nil || op.OperationID == "" {
				continue // "parameters" and other non-operation keys
			}
			o := operation{Method: strings.ToUpper(method), Path: path, MaxBody: op.MaxBody,
				ID: strings.ToUpper(op.OperationID[:1]) + op.OperationID[1:]}
			if o.MaxBody <= 0 {
				o.MaxBody = defaultMaxBody
			}
			sec := doc.Security
			if op.Security != nil {
				sec = *op.Security
			}
			o.Public = len(sec) == 0
			for _, req := range sec {
				var all []cairn.Scope
				for _, s := range req["bearer"] {
					all = append(all, cairn.Scope(s))
				}
				o.Scopes = append(o.Scopes, all)
			}
			ops[o.Pattern()] = o
		}
	}
	return ops, nil
}

// bodyTypes finds each operation's JSON request body type in the
// generated strict interface: method X takes XRequestObject, whose Body
// points to the body. Multipart bodies (a *multipart.Reader) are skipped.
func bodyTypes(ops map[string]operation) map[string]reflect.Type {
	byID := map[string]string{}
	for p, o := range ops {
		byID[o.ID] = p
	}
	out := map[string]reflect.Type{}
	iface := reflect.TypeFor[api.StrictServerInterface]()
	for i := range iface.NumMethod() {
		m := iface.Method(i)
		req := m.Type.In(1)
		body, ok := req.FieldByName("Body")
		// Generated body types live in package api; a multipart body is a
		// *multipart.Reader.
		if !ok || body.Type.Kind() != reflect.Pointer || body.Type.Elem().PkgPath() != iface.PkgPath() {
			continue
		}
		if p, ok := byID[m.Name]; ok {
			out[p] = body.Type.Elem()
		}
	}
	return out
}
