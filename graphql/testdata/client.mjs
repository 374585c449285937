// Pages through viewer.activities with Apollo Client, as a partner's app
// would: relayStylePagination merges the pages in Apollo's cache, fetchMore
// follows pageInfo.endCursor; then backward with last/before, and the
// queries are validated by graphql-js against the introspected schema.
// Run by graphql/client_test.go: node client.mjs URL TOKEN PAGE_SIZE.
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { relayStylePagination } from "@apollo/client/utilities/index.js";
import { buildClientSchema, getIntrospectionQuery, parse, validate } from "graphql";

const [url, token, size] = process.argv.slice(2);
const first = Number(size);
const headers = { authorization: `Bearer ${token}` };

const forwardQuery = gql`
  query Activities($first: Int, $after: String) {
    viewer {
      id
      activities(first: $first, after: $after) {
        totalCount
        edges { cursor node { id databaseId type startTime summary { distanceM } } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }`;
const backwardQuery = gql`
  query Back($last: Int, $before: String) {
    viewer {
      id
      activities(last: $last, before: $before) {
        edges { node { databaseId } }
        pageInfo { hasPreviousPage startCursor }
      }
    }
  }`;

// graphql-js: the introspected schema accepts the queries.
const intro = await fetch(url, {
  method: "POST",
  headers: { ...headers, "content-type": "application/json" },
  body: JSON.stringify({ query: getIntrospectionQuery() }),
}).then((r) => r.json());
if (intro.errors) throw new Error("introspection: " + JSON.stringify(intro.errors));
const schema = buildClientSchema(intro.data);
for (const q of [forwardQuery, backwardQuery]) {
  const errors = validate(schema, parse(q.loc.source.body));
  if (errors.length) throw new Error("invalid query: " + errors.map((e) => e.message).join("; "));
}

const client = new ApolloClient({
  link: new HttpLink({ uri: url, headers }),
  cache: new InMemoryCache({ typePolicies: { User: { fields: { activities: relayStylePagination() } } } }),
});

// Forward: page after page from the network into the cache, which merges
// them; the cache's pageInfo tells where the next page starts.
let result = await client.query({ query: forwardQuery, variables: { first }, fetchPolicy: "network-only" });
let pages = 1;
while (result.data.viewer.activities.pageInfo.hasNextPage) {
  if (pages > 100) throw new Error("more than 100 pages: the cursors do not move");
  result = await client.query({
    query: forwardQuery,
    variables: { first, after: result.data.viewer.activities.pageInfo.endCursor },
    fetchPolicy: "network-only",
  });
  pages++;
}
const merged = client.readQuery({ query: forwardQuery, variables: { first } });
const forward = merged.viewer.activities.edges.map((e) => e.node.databaseId);

// Backward from the end, without the cache.
const backward = [];
let before;
for (;;) {
  const { data } = await client.query({
    query: backwardQuery,
    variables: { last: first, before },
    fetchPolicy: "no-cache",
  });
  const page = data.viewer.activities;
  backward.unshift(...page.edges.map((e) => e.node.databaseId));
  if (!page.pageInfo.hasPreviousPage) break;
  if (backward.length > 10000) throw new Error("the cursors do not move");
  before = page.pageInfo.startCursor;
}

console.log(JSON.stringify({ total: merged.viewer.activities.totalCount, pages, forward, backward }));
