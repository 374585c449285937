package sqldb

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// TimeLayout is how SQLite stores times: fixed width, UTC, microseconds, so
// that text order is time order and keyset comparisons work.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// timeScanner reads a time column from either driver: PostgreSQL returns
// time.Time, SQLite the text written in TimeLayout.
type timeScanner struct{ dst **time.Time }

func (s timeScanner) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.dst = nil
		return nil
	case time.Time:
		t := x.UTC()
		*s.dst = &t
		return nil
	case string:
		return s.parse(x)
	case []byte:
		return s.parse(string(x))
	}
	return fmt.Errorf("sqldb: cannot scan %T into a time", v)
}

func (s timeScanner) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("sqldb: bad time %q: %w", v, err)
	}
	t = t.UTC()
	*s.dst = &t
	return nil
}

// tm scans a NOT NULL time column into *time.Time.
func tm(dst *time.Time) sql.Scanner { return &valueTime{dst: dst} }

type valueTime struct {
	dst *time.Time
	p   *time.Time
}

func (v *valueTime) Scan(src any) error {
	if err := (timeScanner{&v.p}).Scan(src); err != nil {
		return err
	}
	if v.p == nil {
		return fmt.Errorf("sqldb: NULL in a NOT NULL time column")
	}
	*v.dst = *v.p
	return nil
}

// tmp scans a nullable time column into **time.Time.
func tmp(dst **time.Time) sql.Scanner { return timeScanner{dst} }

// jsonScanner reads a JSON column (JSONB or TEXT) into raw bytes.
type jsonScanner struct{ dst *json.RawMessage }

func (s jsonScanner) Scan(v any) error {
	var raw []byte
	switch x := v.(type) {
	case nil:
		*s.dst = nil
		return nil
	case string:
		raw = []byte(x)
	case []byte:
		raw = x
	default:
		return fmt.Errorf("sqldb: cannot scan %T into JSON", v)
	}
	// JSONB reformats what it stores; compacting makes both dialects
	// return the same bytes.
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return fmt.Errorf("sqldb: stored JSON is invalid: %w", err)
	}
	*s.dst = buf.Bytes()
	return nil
}

func js(dst *json.RawMessage) sql.Scanner { return jsonScanner{dst} }

// jsonArg binds raw JSON; nil or empty binds NULL.
func jsonArg(m json.RawMessage) any {
	if len(m) == 0 {
		return nil
	}
	return string(m)
}

// jsonOf encodes v for a JSON column.
func jsonOf(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sqldb: encode JSON: %w", err)
	}
	return string(b), nil
}
