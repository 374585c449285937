package graphql

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// dateTime is the DateTime scalar: RFC 3339 out; RFC 3339 or a date
// (midnight UTC) in, as the REST API's filters take.
type dateTime struct{ time.Time }

func (dateTime) ImplementsGraphQLType(name string) bool { return name == "DateTime" }

func (t *dateTime) UnmarshalGraphQL(input any) error {
	s, ok := input.(string)
	if !ok {
		return fmt.Errorf("a DateTime is a string, not %T", input)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("%q is not an RFC 3339 date-time or a date", s)
}

func (t dateTime) MarshalJSON() ([]byte, error) { return json.Marshal(t.Time) }

func dt(t time.Time) dateTime { return dateTime{t} }

func dtp(t *time.Time) *dateTime {
	if t == nil {
		return nil
	}
	return &dateTime{*t}
}

func timep(t *dateTime) *time.Time {
	if t == nil {
		return nil
	}
	return &t.Time
}

// date is the Date scalar: YYYY-MM-DD.
type date string

func (date) ImplementsGraphQLType(name string) bool { return name == "Date" }

func (d *date) UnmarshalGraphQL(input any) error {
	s, ok := input.(string)
	if !ok {
		return fmt.Errorf("a Date is a string, not %T", input)
	}
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	*d = date(s)
	return nil
}

func (d date) MarshalJSON() ([]byte, error) { return json.Marshal(string(d)) }

// jsonValue is the JSON scalar: any JSON value, kept as raw bytes.
type jsonValue struct{ raw json.RawMessage }

func (jsonValue) ImplementsGraphQLType(name string) bool { return name == "JSON" }

func (j *jsonValue) UnmarshalGraphQL(input any) error {
	raw, err := json.Marshal(input)
	if err != nil {
		return fmt.Errorf("not a JSON value: %v", err)
	}
	j.raw = raw
	return nil
}

func (j jsonValue) MarshalJSON() ([]byte, error) {
	if len(j.raw) == 0 {
		return []byte("null"), nil
	}
	return j.raw, nil
}

func jsonOf(raw json.RawMessage) *jsonValue {
	if len(raw) == 0 {
		return nil
	}
	return &jsonValue{raw: raw}
}

// enumOut turns a domain value (trail_run) into a GraphQL enum value
// (TRAIL_RUN); enumIn the reverse.
func enumOut[T ~string](v T) string { return strings.ToUpper(string(v)) }

func enumIn[T ~string](v string) T { return T(strings.ToLower(v)) }
