//go:build tools

// Package tools pins the code generators, apart from the main module so
// that they do not swell its dependencies.
package tools

import _ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
