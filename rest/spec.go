package rest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

// The embedded OpenAPI document is the source of truth for routes and for
// the scope each operation needs: scopes are read from its security
// requirements, so a route cannot exist without a declared rule.

// operation is one route of the spec.
type operation struct {
	Method, Path string
	ID           string
	Public       bool // security: []
	// Scopes lists alternatives: a token must carry every scope of at
	// least one of them.
	Scopes [][]cairn.Scope
}

// loadOperations reads the operations from the embedded document.
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
			}
			if err := json.Unmarshal(raw, &op); err != nil || op.OperationID == "" {
				continue // "parameters" and other non-operation keys
			}
			o := operation{Method: strings.ToUpper(method), Path: path, ID: op.OperationID}
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
			// The generated code names operations with an upper-case first letter.
			ops[strings.ToUpper(o.ID[:1])+o.ID[1:]] = o
		}
	}
	return ops, nil
}
