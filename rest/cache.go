package rest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/cairn-fit/cairn"
)

// cache gives every successful GET (and PATCH) a strong ETag, the hash of
// its body, and answers If-None-Match with 304 when the client's copy is
// current. Responses are per user, so shared caches may not keep them and
// clients revalidate every time.
func (s *Server) cache(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPatch {
			next.ServeHTTP(w, r)
			return
		}
		rec := newRecorder()
		next.ServeHTTP(rec, r)
		if rec.status == http.StatusOK {
			tag := etagOf(rec.body.Bytes())
			h := rec.Header()
			h.Set("ETag", tag)
			if r.Method == http.MethodGet {
				h.Set("Cache-Control", "private, no-cache")
				h.Add("Vary", "Authorization")
				if matches(r.Header.Get("If-None-Match"), tag, false) {
					rec.body.Reset()
					h.Del("Content-Type")
					rec.status = http.StatusNotModified
				}
			}
		}
		rec.flush(w)
	})
}

// etagOf is the strong entity tag of a response body.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// etagOfJSON is the tag of v as a handler's response encodes it
// (json.Encoder: the JSON and a newline), for If-Match.
func etagOfJSON(v any) (string, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return "", err
	}
	return etagOf(buf.Bytes()), nil
}

// matches reports whether a list of entity tags (If-Match, If-None-Match)
// holds tag or "*". If-None-Match compares weakly (a W/ prefix is
// ignored), If-Match strongly (RFC 9110, 13.1).
func matches(list, tag string, strong bool) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if !strong {
			t = strings.TrimPrefix(t, "W/")
		}
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// checkIfMatch answers PRECONDITION_FAILED when the request carries an
// If-Match that does not hold the current representation's tag.
func checkIfMatch(ifMatch *string, current any) error {
	if ifMatch == nil || *ifMatch == "" {
		return nil
	}
	tag, err := etagOfJSON(current)
	if err != nil {
		return err
	}
	if !matches(*ifMatch, tag, true) {
		return cairn.Errorf(cairn.EPRECONDITION, "If-Match does not hold the resource's current ETag %s", tag)
	}
	return nil
}

// recorder buffers a response so that a middleware can look at it (and
// change it) before it is sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// flush sends the buffered response.
func (r *recorder) flush(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.status != http.StatusNotModified && r.status != http.StatusNoContent {
		// A known length spares the client chunked decoding.
		w.Header().Set("Content-Length", strconv.Itoa(r.body.Len()))
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}
