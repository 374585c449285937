// Package cairn is the domain core: entity types, error codes and the
// service interfaces that the adapters (sqlite, postgres, rest, …) implement
// or consume. It imports nothing of HTTP or SQL.
package cairn

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. They are part of the public API: REST answers them in
// {"error":{"code":…}} and GraphQL in extensions.code. The table that maps
// them to HTTP statuses lives in the rest package.
const (
	EUNAUTHENTICATED = "UNAUTHENTICATED"
	EFORBIDDEN       = "FORBIDDEN"
	ENOTFOUND        = "NOT_FOUND"
	ECONFLICT        = "CONFLICT"
	EVALIDATION      = "VALIDATION_ERROR"
	EPRECONDITION    = "PRECONDITION_FAILED"
	ERATELIMITED     = "RATE_LIMITED"
	EUNPROCESSABLE   = "UNPROCESSABLE"
	ETOOLARGE        = "PAYLOAD_TOO_LARGE"
	EINTERNAL        = "INTERNAL"
	EUNAVAILABLE     = "UNAVAILABLE"
	ESTEPUPREQUIRED  = "STEP_UP_REQUIRED"
	EUNSUPPORTEDFILE = "UNSUPPORTED_FILE"
	EINVALIDFILE     = "INVALID_FILE"
	EDUPLICATE       = "DUPLICATE"
)

// Error is the one error type that crosses package boundaries. Message is
// safe to show to a client; Fields names the offending inputs of a
// validation error. The wrapped cause is for logs only.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	Err     error
	// RetryAfter, when positive, tells the client how long to wait before
	// trying again (a RATE_LIMITED error's Retry-After).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and message that keeps err as its cause.
func Wrap(code string, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Invalid returns a validation error naming the fields that are wrong.
func Invalid(fields map[string]string) *Error {
	return &Error{Code: EVALIDATION, Message: "the request is not valid", Fields: fields}
}

// RateLimited returns a RATE_LIMITED error telling the client to wait
// retryAfter before trying again.
func RateLimited(retryAfter time.Duration, message string) *Error {
	return &Error{Code: ERATELIMITED, Message: message, RetryAfter: retryAfter}
}

// ErrorRetryAfter returns how long the client should wait before trying
// again, or 0 when err does not say.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter
	}
	return 0
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of err: the *Error's message, or a
// generic text for unknown errors so that no internals leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorFields returns the field errors of a validation error, if any.
func ErrorFields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
