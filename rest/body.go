package rest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
)

// readBody enforces the operation's body size limit (413) and, for JSON
// bodies, decodes the body strictly into the operation's generated body
// type before the generated code does, so that unknown fields, wrong
// types and malformed JSON answer 400 naming the field. The body's hash
// goes into the context for idempotency keys.
func (s *Server) readBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPatch {
			next.ServeHTTP(w, r)
			return
		}
		op := s.ops[r.Pattern]
		tooLarge := cairn.Errorf(cairn.ETOOLARGE, "the request body is larger than %d bytes", op.MaxBody)
		if r.ContentLength > op.MaxBody {
			s.writeError(w, r, tooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, op.MaxBody)
		typ, isJSON := s.bodies[r.Pattern]
		if !isJSON && r.Header.Get("Idempotency-Key") == "" {
			next.ServeHTTP(w, r) // a file upload streams on
			return
		}
		hash, cleanup, err := s.bufferBody(r, isJSON)
		defer cleanup()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = tooLarge
		}
		if err == nil && isJSON {
			err = strictDecode(r, typ)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyHashKey{}, hash)))
	})
}

type bodyHashKey struct{}

// bodyHash returns the hash readBody computed for the request's body.
func bodyHash(ctx context.Context) string {
	h, _ := ctx.Value(bodyHashKey{}).(string)
	return h
}

// bufferBody reads the body and replaces it with a re-readable copy: in
// memory for JSON (at most 16 MiB), in a temporary file for an upload
// made with an Idempotency-Key, which must be hashed before it runs.
func (s *Server) bufferBody(r *http.Request, inMemory bool) (hash string, cleanup func(), err error) {
	h := sha256.New()
	cleanup = func() {}
	if inMemory {
		b, err := io.ReadAll(io.TeeReader(r.Body, h))
		r.Body = io.NopCloser(bytes.NewReader(b))
		return hex.EncodeToString(h.Sum(nil)), cleanup, err
	}
	f, err := os.CreateTemp("", "cairn-upload-*")
	if err != nil {
		return "", cleanup, cairn.Wrap(cairn.EUNAVAILABLE, err, "cannot buffer the upload")
	}
	cleanup = func() { f.Close(); os.Remove(f.Name()) }
	if _, err := io.Copy(io.MultiWriter(f, h), r.Body); err != nil {
		return "", cleanup, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", cleanup, cairn.Wrap(cairn.EUNAVAILABLE, err, "cannot buffer the upload")
	}
	r.Body = io.NopCloser(f)
	return hex.EncodeToString(h.Sum(nil)), cleanup, nil
}

// strictDecode decodes the buffered JSON body into a new value of typ,
// refusing unknown fields, and puts the body back for the generated code.
func strictDecode(r *http.Request, typ reflect.Type) error {
	raw, _ := io.ReadAll(r.Body) // a bytes.Reader: cannot fail
	r.Body = io.NopCloser(bytes.NewReader(raw))
	if len(bytes.TrimSpace(raw)) == 0 {
		return cairn.Invalid(map[string]string{"body": "a JSON object is required"})
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(reflect.New(typ).Interface())
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err != nil {
		return cairn.Invalid(map[string]string{decodeField(err, raw, typ): decodeProblem(err)})
	}
	var tree any
	_ = json.Unmarshal(raw, &tree) // decoded above: cannot fail
	if field := missing(tree, typ, ""); field != "" {
		return cairn.Invalid(map[string]string{field: "is required"})
	}
	return nil
}

// missing returns the first required field absent from a decoded JSON
// value, or "". The generated types mark required fields by leaving
// omitempty out of their json tag.
func missing(v any, typ reflect.Type, path string) string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch x := v.(type) {
	case []any:
		if typ.Kind() == reflect.Slice {
			for i, e := range x {
				if f := missing(e, typ.Elem(), fmt.Sprintf("%s[%d]", path, i)); f != "" {
					return f
				}
			}
		}
	case map[string]any:
		if typ.Kind() != reflect.Struct || typ.PkgPath() == "time" {
			return ""
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			field := strings.TrimPrefix(path+"."+name, ".")
			value, present := x[name]
			if !present && !strings.Contains(opts, "omitempty") && name != "" && name != "-" {
				return field
			}
			if present {
				if m := missing(value, f.Type, field); m != "" {
					return m
				}
			}
		}
	}
	return ""
}

// decodeField names the body field a decoding error is about.
func decodeField(err error, raw []byte, typ reflect.Type) string {
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return te.Field
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
	case errors.As(err, &pe):
		return badTimeField(raw, typ)
	}
	return "body"
}

func decodeProblem(err error) string {
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("must be a %s, not a %s", jsonKind(te.Type), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "is not a known field"
	case errors.As(err, &pe):
		return "must be an RFC 3339 date-time, like 2025-03-01T06:00:00Z"
	case errors.As(err, &se):
		return fmt.Sprintf("is not valid JSON (at byte %d)", se.Offset)
	}
	return "is not a valid JSON object for this operation"
}

// jsonKind names a Go type in JSON terms.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "whole number"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

// badTimeField finds the top-level date-time field that does not parse:
// encoding/json reports a time.ParseError without the field's name.
func badTimeField(raw []byte, typ reflect.Type) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return "body"
	}
	timeType := reflect.TypeFor[time.Time]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft != timeType || fields[name] == nil {
			continue
		}
		var t time.Time
		if json.Unmarshal(fields[name], &t) != nil {
			return name
		}
	}
	return "body"
}
