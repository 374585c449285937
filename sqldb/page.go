package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
)

// Keyset pagination over (time column, id), newest first. A cursor holds
// the position of a boundary row, the direction and a fingerprint of the
// list's filter, so a cursor cannot be replayed under another filter; the
// owner filter is applied on every page, so a forged cursor still only
// reaches the actor's own rows.

type cursor struct {
	Filter string `json:"f"`
	Dir    string `json:"d"` // "next" (older rows) or "prev" (newer rows)
	Time   string `json:"t"`
	ID     string `json:"i"`
}

func encodeCursor(c cursor) *string {
	b, _ := json.Marshal(c) // plain strings: cannot fail
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

func decodeCursor(s, filter string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := cairn.Invalid(map[string]string{"cursor": "is not a cursor of this list"})
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c cursor
	if json.Unmarshal(raw, &c) != nil || c.Filter != filter || (c.Dir != "next" && c.Dir != "prev") {
		return nil, bad
	}
	if _, err := time.Parse(time.RFC3339Nano, c.Time); err != nil {
		return nil, bad
	}
	return &c, nil
}

// fingerprint identifies a list and its filter.
func fingerprint(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\x00", p)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// pageQuery describes one keyset-paginated list.
type pageQuery struct {
	columns string // selected columns
	table   string
	timeCol string // sort column; ties broken by id
	where   []string
	args    argList
	filter  string // fingerprint of the filter
	page    cairn.PageRequest
	// count, when set, answers the total instead of count(*) (see counts.go).
	count func(context.Context) (int, error)
	// key, when set, binds a cursor's time for timeCol (a DATE column);
	// by default it is bound as a time.
	key func(time.Time) any
}

// keyed is a row with its sort key.
type keyed[T any] struct {
	row  T
	time time.Time
	id   string
}

// queryPage runs q and returns one page with cursors and the total count.
func queryPage[T any](ctx context.Context, db *DB, q pageQuery, scan func(*sql.Rows) (keyed[T], error)) (*cairn.Page[T], error) {
	limit, err := q.page.NormalizeLimit()
	if err != nil {
		return nil, err
	}
	cur, err := decodeCursor(q.page.Cursor, q.filter)
	if err != nil {
		return nil, err
	}
	count := q.count
	if count == nil {
		count = func(ctx context.Context) (int, error) { return countRows(ctx, db, q) }
	}
	total, err := count(ctx)
	if err != nil {
		return nil, err
	}
	// A cursor's own direction holds unless the request goes backward.
	backwards := q.page.Backward || (cur != nil && cur.Dir == "prev")
	rows, err := fetchKeyed(ctx, db, q, cur, backwards, limit+1, scan)
	if err != nil {
		return nil, err
	}
	return buildPage(q.filter, cur, backwards, rows, limit, total, q.page.RowCursors), nil
}

func countRows(ctx context.Context, db *DB, q pageQuery) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx,
		"SELECT count(*) FROM "+q.table+" WHERE "+strings.Join(q.where, " AND "), q.args.args...).Scan(&n)
	return n, db.translate(err)
}

func fetchKeyed[T any](ctx context.Context, db *DB, q pageQuery, cur *cursor, backwards bool, n int, scan func(*sql.Rows) (keyed[T], error)) ([]keyed[T], error) {
	where := append([]string(nil), q.where...)
	args := argList{args: append([]any(nil), q.args.args...)}
	order, op := "DESC", "<"
	if backwards {
		order, op = "ASC", ">"
	}
	if cur != nil {
		t, _ := time.Parse(time.RFC3339Nano, cur.Time) // checked in decodeCursor
		key := db.t
		if q.key != nil {
			key = q.key
		}
		where = append(where, fmt.Sprintf("(%s, id) %s (%s, %s)", q.timeCol, op, args.add(key(t)), args.add(cur.ID)))
	}
	query := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s %s, id %s LIMIT %d",
		q.columns, q.table, strings.Join(where, " AND "), q.timeCol, order, order, n)
	rows, err := db.read.QueryContext(ctx, query, args.args...)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	var out []keyed[T]
	for rows.Next() {
		k, err := scan(rows)
		if err != nil {
			return nil, db.translate(err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, db.translate(err)
	}
	if backwards {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// buildPage trims the look-ahead row and sets the cursors. Rows arrive
// newest first; when paging backwards the look-ahead row is the newest.
func buildPage[T any](filter string, cur *cursor, backwards bool, rows []keyed[T], limit, total int, withCursors bool) *cairn.Page[T] {
	more := len(rows) > limit
	if more {
		if backwards {
			rows = rows[1:]
		} else {
			rows = rows[:limit]
		}
	}
	p := &cairn.Page[T]{Data: make([]T, len(rows)), Total: total}
	for i, r := range rows {
		p.Data[i] = r.row
	}
	if len(rows) == 0 {
		return p
	}
	mk := func(k keyed[T], dir string) *string {
		return encodeCursor(cursor{Filter: filter, Dir: dir, Time: k.time.UTC().Format(time.RFC3339Nano), ID: k.id})
	}
	if withCursors {
		// A row's cursor goes on past it; a backward request turns it round.
		p.Cursors = make([]string, len(rows))
		for i, r := range rows {
			p.Cursors[i] = *mk(r, "next")
		}
	}
	// Backward from a cursor, the cursor's row and those after it remain;
	// backward from the end of the list, nothing does.
	if (!backwards && more) || (backwards && cur != nil) {
		p.NextCursor = mk(rows[len(rows)-1], "next")
	}
	if (backwards && more) || (!backwards && cur != nil) {
		p.PrevCursor = mk(rows[0], "prev")
	}
	return p
}
