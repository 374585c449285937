# cairn: make targets. Only Go is needed for run and test.
GO ?= go
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: run build test test-pg generate lint bench bench-api fuzz

run:
	$(GO) run ./cmd/cairn serve

build:
	$(GO) build -o bin/cairn ./cmd/cairn

# The whole suite; PostgreSQL cases run when CAIRN_TEST_POSTGRES_URL is set.
test:
	$(GO) test ./...

# The whole suite on SQLite and PostgreSQL, with the race detector.
test-pg:
	CAIRN_TEST_POSTGRES_URL=$(PG_URL) $(GO) test -race ./...

# Regenerates the OpenAPI JSON, the server code (rest/api) and the client
# the HTTP tests use (rest/client) from rest/openapi.yaml.
OAPI_CODEGEN = $(GO) run -modfile=$(CURDIR)/tools/go.mod github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen
generate:
	cd tools && $(GO) run ./yaml2json ../rest/openapi.yaml ../rest/api/openapi.json
	cd rest && $(OAPI_CODEGEN) -config oapi-codegen.yaml openapi.yaml
	cd rest/client && $(OAPI_CODEGEN) -config oapi-codegen.yaml ../openapi.yaml

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The API's benchmarks on PostgreSQL, connected as a server on the same
# host would be (no TLS): a million activities are seeded for the lists.
BENCH_PG_URL ?= $(PG_URL)?sslmode=disable
bench-api:
	CAIRN_TEST_POSTGRES_URL='$(BENCH_PG_URL)' $(GO) test -run '^$$' -bench . -benchmem -v ./sqldb ./rest ./tracks

# Runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done
