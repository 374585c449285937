package graphql

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/cairn-fit/cairn"
)

// A mutation's idempotencyKey is an Idempotency-Key: the same store and
// rules as the REST API's (cairn.IdempotencyStore), per user, in the same
// namespace. The fingerprint is the mutation and its arguments; the kept
// answer is the mutation's result (the domain object) or its error.

// keptAnswer is what a key keeps.
type keptAnswer struct {
	Data  json.RawMessage `json:"data,omitempty"`
	Error *keptError      `json:"error,omitempty"`
}

type keptError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// idempotent checks the operation's scope and runs it, under the key when
// one is given: the first run's answer is kept and replayed to retries.
func idempotent[T any](ctx context.Context, s *Server, op string, key *string, args any, run func() (T, error)) (T, error) {
	var zero T
	if err := s.need(ctx, op); err != nil {
		return zero, err
	}
	if requestOf(ctx).readOnly {
		return zero, cairn.Errorf(cairn.EVALIDATION, "mutations are sent with POST")
	}
	if key == nil {
		return run()
	}
	if err := checkKey(*key); err != nil {
		return zero, err
	}
	a, _ := cairn.ActorFrom(ctx)
	req := &cairn.IdempotentRequest{Owner: cairn.IdempotencyOwner(a), Key: *key, Method: "GRAPHQL", Path: "mutation " + op,
		Hash: fingerprint(op, args)}
	prior, err := s.d.Idempotency.BeginRequest(ctx, req)
	if err != nil {
		return zero, err
	}
	if prior != nil {
		return replay[T](req, prior)
	}
	v, err := run()
	settle(ctx, s, req, v, err)
	return v, err
}

// checkKey applies the REST API's rule for Idempotency-Key values.
func checkKey(key string) error {
	ok := key != "" && len(key) <= 255
	for _, c := range key {
		ok = ok && c >= 0x20 && c < 0x7f && c != '"' && c != '\\'
	}
	if !ok {
		return cairn.Invalid(map[string]string{"idempotencyKey": "must be 1 to 255 printable ASCII characters"})
	}
	return nil
}

// fingerprint identifies a mutation and its arguments, less the key.
func fingerprint(op string, args any) string {
	v := reflect.New(reflect.TypeOf(args)).Elem()
	v.Set(reflect.ValueOf(args))
	if f := v.FieldByName("IdempotencyKey"); f.IsValid() {
		f.SetZero()
	}
	b, _ := json.Marshal(v.Interface()) // arguments decoded from GraphQL: plain values
	h := sha256.Sum256(append([]byte(op+"\x00"), b...))
	return hex.EncodeToString(h[:])
}

func replay[T any](req, prior *cairn.IdempotentRequest) (T, error) {
	var zero T
	switch {
	case prior.Hash != req.Hash:
		return zero, cairn.Errorf(cairn.EUNPROCESSABLE, "this idempotencyKey was used for another request")
	case prior.Response == nil:
		return zero, cairn.Errorf(cairn.ECONFLICT, "a request with this idempotencyKey is still running; retry later")
	}
	var kept keptAnswer
	if err := json.Unmarshal(prior.Response.Body, &kept); err != nil {
		return zero, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	if kept.Error != nil {
		return zero, &cairn.Error{Code: kept.Error.Code, Message: kept.Error.Message, Fields: kept.Error.Fields}
	}
	var v T
	if err := json.Unmarshal(kept.Data, &v); err != nil {
		return zero, cairn.Wrap(cairn.EINTERNAL, fmt.Errorf("kept answer: %w", err), "internal error")
	}
	return v, nil
}

// settle keeps the answer for retries, or releases the key when the
// outcome may differ next time, as REST does for 5xx, 401, 403 and 429.
func settle[T any](ctx context.Context, s *Server, req *cairn.IdempotentRequest, v T, runErr error) {
	ctx = context.WithoutCancel(ctx) // the outcome is kept even if the client left
	var err error
	switch cairn.ErrorCode(runErr) {
	case cairn.EINTERNAL, cairn.EUNAVAILABLE, cairn.EUNAUTHENTICATED, cairn.ESTEPUPREQUIRED, cairn.EFORBIDDEN, cairn.ERATELIMITED:
		err = s.d.Idempotency.ReleaseRequest(ctx, req.Owner, req.Key)
	default:
		var kept keptAnswer
		if runErr != nil {
			kept.Error = &keptError{Code: cairn.ErrorCode(runErr), Message: cairn.ErrorMessage(runErr), Fields: cairn.ErrorFields(runErr)}
		} else if kept.Data, err = json.Marshal(v); err != nil {
			err = s.d.Idempotency.ReleaseRequest(ctx, req.Owner, req.Key)
			break
		}
		body, _ := json.Marshal(kept) // raw JSON and strings: cannot fail
		err = s.d.Idempotency.CompleteRequest(ctx, req.Owner, req.Key, cairn.StoredResponse{Status: 200,
			Header: map[string]string{"Content-Type": "application/json"}, Body: body})
	}
	if err != nil {
		s.log.ErrorContext(ctx, "idempotency key not settled", "err", err, "key", req.Key)
	}
}
