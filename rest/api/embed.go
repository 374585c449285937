package api

import _ "embed"

// OpenAPIJSON is the OpenAPI document, generated from rest/openapi.yaml by
// `make generate` and served at /v1/openapi.json.
//
//go:embed openapi.json
var OpenAPIJSON []byte
