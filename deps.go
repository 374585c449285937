//go:build deps

// Package cairn: this file pins dependencies that are not yet imported by code.
package cairn

import (
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/muktihari/fit/decoder"
	_ "github.com/muktihari/fit/encoder"
	_ "github.com/oapi-codegen/runtime"
	_ "github.com/paulmach/orb"
	_ "github.com/paulmach/orb/geojson"
	_ "github.com/paulmach/orb/simplify"
	_ "github.com/pressly/goose/v3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/riverqueue/river"
	_ "github.com/riverqueue/river/riverdriver/riverdatabasesql"
	_ "github.com/riverqueue/river/riverdriver/riverpgxv5"
	_ "github.com/riverqueue/river/riverdriver/riversqlite"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/twpayne/go-polyline"
	_ "gocloud.dev/blob/fileblob"
	_ "golang.org/x/crypto/argon2"
	_ "modernc.org/sqlite"
	_ "pgregory.net/rapid"
)
