package main

import (
	"errors"
	"flag"
	"log/slog"
	"net/http"

	"github.com/cairn-fit/cairn/graphql"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/tracks"
)

// GraphQLSettings configure the GraphQL API at /graphql.
type GraphQLSettings struct {
	Introspection bool
	GraphiQL      bool
	MaxDepth      int
	MaxNodes      int
	MaxQueryBytes int
}

// graphqlFlags registers the GraphQL API's settings.
func (c *Config) graphqlFlags(fs *flag.FlagSet) {
	g := &c.GraphQL
	fs.BoolVar(&g.Introspection, "graphql-introspection", true, "answer GraphQL introspection (__schema, __type)")
	fs.BoolVar(&g.GraphiQL, "graphiql", false, "serve a query page to browsers at GET /graphql")
	fs.IntVar(&g.MaxDepth, "graphql-max-depth", 15, "deepest field nesting a GraphQL query may have")
	fs.IntVar(&g.MaxNodes, "graphql-max-nodes", 10_000, "most objects one GraphQL request's lists may return, all together")
	fs.IntVar(&g.MaxQueryBytes, "graphql-max-query-bytes", 16<<10, "longest GraphQL query text, in bytes")
}

func (g GraphQLSettings) validate() []error {
	if g.MaxDepth < 0 || g.MaxNodes < 0 || g.MaxQueryBytes < 0 {
		return []error{errors.New("--graphql-max-depth, --graphql-max-nodes and --graphql-max-query-bytes must not be negative (0: the default)")}
	}
	return nil
}

// withGraphQL serves the GraphQL API beside h, over the REST API's
// stores, tokens and scopes.
func withGraphQL(h http.Handler, c *Config, s *store, api *rest.Server, tr *tracks.Service, log *slog.Logger) (http.Handler, error) {
	g, err := graphql.New(graphql.Deps{Users: s, Devices: s, Activities: s, Summaries: s, Series: s, Health: s,
		Workouts: s, Idempotency: s, Batch: s, Tracks: tr, Admin: api.Admin(), Authenticate: api.Authenticate,
		TrustedProxies: c.TrustedProxies,
		Scopes:         api.OperationScopes(), Log: log, Introspection: c.GraphQL.Introspection, GraphiQL: c.GraphQL.GraphiQL,
		Limits: graphql.Limits{MaxDepth: c.GraphQL.MaxDepth, MaxNodes: c.GraphQL.MaxNodes, MaxQueryBytes: c.GraphQL.MaxQueryBytes}})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	gh := api.Observe(g.Handler())
	for _, p := range graphql.Paths() {
		mux.Handle(p, gh)
	}
	return mux, nil
}
