package graphql

import (
	"io"
	"net/http"
)

// servePage serves a minimal query page for browsers (GET /graphql with
// Accept: text/html, when enabled). GraphiQL itself is not served: its
// assets would have to be vendored into the binary (cairn loads nothing
// from a CDN). The page posts the query with the bearer token typed in,
// which it keeps in the tab's sessionStorage only.
func servePage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, page)
}

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cairn GraphQL</title>
<style>
body{font:14px system-ui,sans-serif;margin:1rem;display:grid;grid-template-columns:1fr 1fr;gap:1rem}
textarea,pre,input{font:13px ui-monospace,monospace;width:100%;box-sizing:border-box}
textarea{height:16rem}pre{background:#f4f4f4;padding:.5rem;min-height:33rem;overflow:auto;margin:0}
header{grid-column:1/3}label{display:block;margin:.5rem 0 .2rem}
</style></head><body>
<header><b>cairn GraphQL</b> — POST /graphql · schema at <a href="/graphql/schema.graphql">/graphql/schema.graphql</a></header>
<div>
<label for="token">Bearer token</label><input id="token" type="password" autocomplete="off">
<label for="query">Query</label><textarea id="query">{
  viewer {
    activities(first: 10) {
      totalCount
      edges { cursor node { id type name startTime summary { distanceM durationS } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}</textarea>
<label for="variables">Variables (JSON)</label><textarea id="variables" style="height:5rem">{}</textarea>
<p><button id="run">Run (Ctrl+Enter)</button></p>
</div>
<pre id="out"></pre>
<script>
const $ = (id) => document.getElementById(id);
$("token").value = sessionStorage.getItem("cairn-token") || "";
async function run() {
  sessionStorage.setItem("cairn-token", $("token").value);
  let variables;
  try { variables = JSON.parse($("variables").value || "{}"); }
  catch (e) { $("out").textContent = "variables: " + e.message; return; }
  const res = await fetch("/graphql", {method: "POST",
    headers: {"Content-Type": "application/json", "Authorization": "Bearer " + $("token").value},
    body: JSON.stringify({query: $("query").value, variables})});
  $("out").textContent = res.status + "\n" + JSON.stringify(await res.json(), null, 2);
}
$("run").onclick = run;
document.onkeydown = (e) => { if (e.ctrlKey && e.key === "Enter") run(); };
</script></body></html>
`
