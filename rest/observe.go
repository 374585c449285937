package rest

import "net/http"

// Observe gives a handler that lives beside the API (the OAuth pages,
// GraphQL) what every API request has: a request id on its log lines and
// in X-Request-Id, an access log line, request metrics by route pattern,
// and panics answered as 500 in the error shape.
func (s *Server) Observe(h http.Handler) http.Handler { return s.observe(h) }
