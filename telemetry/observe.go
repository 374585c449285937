package telemetry

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
)

// Observe gives every request an id (X-Request-Id, and on every log line
// through the context), one access log line, request counts and latency
// by route pattern and status, and turns a panic into fail's answer (or a
// log line when the response had started). REST and the OAuth pages share
// it, so every request is observed once and alike.
func Observe(log *slog.Logger, m *Metrics, next http.Handler, fail func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = NewRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(WithRequestID(r.Context(), id))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err := fmt.Errorf("panic: %v\n%s", v, debug.Stack())
				if sw.status == 0 {
					fail(sw, r, err)
				} else {
					log.ErrorContext(r.Context(), "panic after response started", "err", err)
				}
			}
			record(log, m, r, sw.status, time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}

func record(log *slog.Logger, m *Metrics, r *http.Request, status int, d time.Duration) {
	route := r.Pattern
	if route == "" || route == "/" {
		route = "unmatched"
	}
	code := strconv.Itoa(status)
	m.Requests.WithLabelValues(route, r.Method, code).Inc()
	m.Latency.WithLabelValues(route, r.Method, code).Observe(d.Seconds())
	log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "route", route,
		"status", status, "duration_ms", float64(d.Microseconds())/1000)
}

// statusWriter records the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
