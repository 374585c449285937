package rest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/cairn-fit/cairn"
)

// idempotent implements the Idempotency-Key header (IETF
// draft-ietf-httpapi-idempotency-key-header) on POST and PATCH: the first
// request with a key runs and its response is kept for 24 hours; a retry
// with the same key and request replays it, marked Idempotent-Replayed.
func (s *Server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.Header.Get("Idempotency-Key")
		a, authed := cairn.ActorFrom(r.Context())
		owner := cairn.IdempotencyOwner(a)
		if raw == "" || !authed || owner == "" || (r.Method != http.MethodPost && r.Method != http.MethodPatch) {
			next.ServeHTTP(w, r)
			return
		}
		key, err := parseKey(raw)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		req := &cairn.IdempotentRequest{Owner: owner, Key: key, Method: r.Method, Path: r.URL.RequestURI(),
			Hash: fingerprintRequest(r)}
		prior, err := s.Idempotency.BeginRequest(r.Context(), req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if prior != nil {
			s.replay(w, r, req, prior)
			return
		}
		rec := newRecorder()
		next.ServeHTTP(rec, r)
		s.settle(r.Context(), req, rec)
		rec.flush(w)
	})
}

// parseKey reads the header's value: an sf-string ("…") or, leniently, a
// bare token.
func parseKey(raw string) (string, error) {
	key := strings.TrimSpace(raw)
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		key = key[1 : len(key)-1]
	}
	ok := key != "" && len(key) <= 255
	for _, c := range key {
		ok = ok && c >= 0x20 && c < 0x7f && c != '"' && c != '\\'
	}
	if !ok {
		return "", cairn.Invalid(map[string]string{"Idempotency-Key": "must be 1 to 255 printable ASCII characters"})
	}
	return key, nil
}

// fingerprintRequest identifies what a key was used for: method, path
// with query, and body.
func fingerprintRequest(r *http.Request) string {
	h := sha256.Sum256([]byte(r.Method + "\x00" + r.URL.RequestURI() + "\x00" + bodyHash(r.Context())))
	return hex.EncodeToString(h[:])
}

func (s *Server) replay(w http.ResponseWriter, r *http.Request, req, prior *cairn.IdempotentRequest) {
	switch {
	case prior.Hash != req.Hash:
		s.writeError(w, r, cairn.Errorf(cairn.EUNPROCESSABLE, "this Idempotency-Key was used for another request"))
	case prior.Response == nil:
		s.writeError(w, r, cairn.Errorf(cairn.ECONFLICT, "a request with this Idempotency-Key is still running; retry later"))
	default:
		for k, v := range prior.Response.Header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(prior.Response.Status)
		_, _ = w.Write(prior.Response.Body)
	}
}

// kept are the headers a replay repeats.
var kept = []string{"Content-Type", "Location", "ETag"}

// settle keeps the response for retries, or releases the key when the
// outcome may differ next time: a server fault, or an authorization or
// rate limit refusal.
func (s *Server) settle(ctx context.Context, req *cairn.IdempotentRequest, rec *recorder) {
	ctx = context.WithoutCancel(ctx) // the outcome is kept even if the client left
	st := rec.status
	if st == 0 {
		st = http.StatusOK
	}
	var err error
	switch {
	case st >= 500 || st == http.StatusUnauthorized || st == http.StatusForbidden || st == http.StatusTooManyRequests:
		err = s.Idempotency.ReleaseRequest(ctx, req.Owner, req.Key)
	default:
		resp := cairn.StoredResponse{Status: st, Header: map[string]string{}, Body: rec.body.Bytes()}
		for _, k := range kept {
			if v := rec.Header().Get(k); v != "" {
				resp.Header[k] = v
			}
		}
		err = s.Idempotency.CompleteRequest(ctx, req.Owner, req.Key, resp)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "idempotency key not settled", "err", err, "key", req.Key)
	}
}
