package rest

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

// codeStatus is the one table from error codes to HTTP statuses. GraphQL
// carries the same codes in extensions.code.
var codeStatus = map[string]int{
	cairn.EUNAUTHENTICATED: http.StatusUnauthorized,
	cairn.ESTEPUPREQUIRED:  http.StatusUnauthorized,
	cairn.EFORBIDDEN:       http.StatusForbidden,
	cairn.ENOTFOUND:        http.StatusNotFound,
	cairn.ECONFLICT:        http.StatusConflict,
	cairn.EDUPLICATE:       http.StatusConflict,
	cairn.EVALIDATION:      http.StatusBadRequest,
	cairn.EPRECONDITION:    http.StatusPreconditionFailed,
	cairn.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	cairn.EUNPROCESSABLE:   http.StatusUnprocessableEntity,
	cairn.EINVALIDFILE:     http.StatusUnprocessableEntity,
	cairn.EUNSUPPORTEDFILE: http.StatusUnsupportedMediaType,
	cairn.ERATELIMITED:     http.StatusTooManyRequests,
	cairn.EUNAVAILABLE:     http.StatusServiceUnavailable,
	cairn.EINTERNAL:        http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for err's code.
func StatusOf(err error) int {
	if s, ok := codeStatus[cairn.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorBody is the documented error shape.
func errorBody(err error) api.Error {
	var b api.Error
	b.Error.Code = api.ErrorErrorCode(cairn.ErrorCode(err))
	if StatusOf(err) == http.StatusInternalServerError {
		b.Error.Code = api.ErrorErrorCode(cairn.EINTERNAL)
	}
	b.Error.Message = cairn.ErrorMessage(err)
	if f := cairn.ErrorFields(err); len(f) > 0 {
		b.Error.Fields = &f
	}
	return b
}

// writeError answers err in the error shape; only server faults are logged
// as errors, with their cause (never sent to the client).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(s.log, w, r, err)
}

// WriteError answers err in the documented error shape with the status
// of its code (the one table above), logging server faults on log (nil:
// not logged). Handlers that live beside the API (the providers'
// webhooks and OAuth callbacks) answer their errors through it too.
func WriteError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	status := StatusOf(err)
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "err", err, "method", r.Method, "path", r.URL.Path)
	} else {
		log.DebugContext(r.Context(), "request refused", "err", err)
	}
	var ce *cairn.Error
	if status == http.StatusUnauthorized && errors.As(err, &ce) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cairn"`)
	}
	if d := cairn.ErrorRetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	}
	writeJSON(w, status, errorBody(err))
}

// HandleErrors turns a handler that returns its error into an
// http.Handler that answers the error through WriteError.
func HandleErrors(log *slog.Logger, fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			WriteError(log, w, r, err)
		}
	})
}

// Endpoint is HandleErrors with the server's logger and observation
// (request id, access log, metrics): what the wiring gives the providers'
// endpoints.
func (s *Server) Endpoint(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return s.observe(HandleErrors(s.log, fn))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}
