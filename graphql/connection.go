package graphql

import (
	"context"
	"fmt"

	"github.com/cairn-fit/cairn"
)

// pageArgs are a connection's paging arguments.
type pageArgs struct {
	First  *int32
	After  *string
	Last   *int32
	Before *string
}

// request turns Relay's arguments into a store page: first/after reads
// forward (first 50 by default), last/before backward; at most
// cairn.MaxPageSize rows either way.
func (a pageArgs) request() (cairn.PageRequest, error) {
	bad := func(field, msg string) (cairn.PageRequest, error) {
		return cairn.PageRequest{}, cairn.Invalid(map[string]string{field: msg})
	}
	size := func(field string, n int32) (int, error) {
		if n < 1 || n > cairn.MaxPageSize {
			return 0, cairn.Invalid(map[string]string{field: fmt.Sprintf("must be between 1 and %d", cairn.MaxPageSize)})
		}
		return int(n), nil
	}
	p := cairn.PageRequest{Limit: cairn.DefaultPageSize, RowCursors: true}
	switch {
	case a.First != nil && a.Last != nil:
		return bad("last", "cannot be used with first")
	case a.After != nil && a.Before != nil:
		return bad("before", "cannot be used with after")
	case a.Before != nil && a.Last == nil:
		return bad("before", "goes with last")
	case a.After != nil && a.Last != nil:
		return bad("after", "goes with first")
	}
	var err error
	if a.First != nil {
		p.Limit, err = size("first", *a.First)
	}
	if a.Last != nil {
		p.Limit, err = size("last", *a.Last)
		p.Backward = true
	}
	if a.After != nil {
		p.Cursor = *a.After
	}
	if a.Before != nil {
		p.Cursor = *a.Before
	}
	return p, err
}

// paged reports whether the arguments ask for anything but a first page.
func (a pageArgs) paged() bool { return a.After != nil || a.Before != nil || a.Last != nil }

// connection is a page of a list as a Relay connection; R resolves a row.
type connection[R any] struct {
	edges []*edge[R]
	page  pageInfo
	total int
}

type edge[R any] struct {
	cursor string
	node   R
}

func (e *edge[R]) Cursor() string { return e.cursor }
func (e *edge[R]) Node() R        { return e.node }

func (c *connection[R]) Edges() []*edge[R]   { return c.edges }
func (c *connection[R]) PageInfo() *pageInfo { return &c.page }
func (c *connection[R]) TotalCount() int32   { return int32(min(c.total, 1<<31-1)) }

// newConnection resolves a store page; node makes each row's resolver
// (rows are passed by index so that resolvers can share their list).
// The rows count against the request's budget.
func newConnection[T, R any](ctx context.Context, p *cairn.Page[T], node func(i int) R) (*connection[R], error) {
	if err := charge(ctx, len(p.Data)); err != nil {
		return nil, err
	}
	c := &connection[R]{total: p.Total, edges: make([]*edge[R], len(p.Data))}
	for i := range p.Data {
		c.edges[i] = &edge[R]{cursor: p.Cursors[i], node: node(i)}
	}
	// Rows before the page exist when the store gave a way back; rows
	// after it when it gave a way on.
	c.page.hasPrev, c.page.hasNext = p.PrevCursor != nil, p.NextCursor != nil
	if n := len(p.Cursors); n > 0 {
		c.page.start, c.page.end = &p.Cursors[0], &p.Cursors[n-1]
	}
	return c, nil
}

type pageInfo struct {
	hasNext, hasPrev bool
	start, end       *string
}

func (p *pageInfo) HasNextPage() bool     { return p.hasNext }
func (p *pageInfo) HasPreviousPage() bool { return p.hasPrev }
func (p *pageInfo) StartCursor() *string  { return p.start }
func (p *pageInfo) EndCursor() *string    { return p.end }
