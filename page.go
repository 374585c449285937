package cairn

// PageRequest asks for one page of a keyset-paginated list.
type PageRequest struct {
	// Cursor is an opaque position from a previous page; empty for the first.
	Cursor string
	Limit  int
	// Backward asks for the Limit rows just before Cursor (the newer ones),
	// or for the last Limit rows of the list when Cursor is empty: GraphQL's
	// last/before. Rows still come in list order.
	Backward bool
	// RowCursors asks for a cursor at each row of the page (Page.Cursors),
	// as GraphQL's edges carry.
	RowCursors bool
}

// Page is one page of a list with cursors in both directions and the total
// count of rows under the filter.
type Page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
	PrevCursor *string `json:"prev_cursor"`
	Total      int     `json:"total"`
	// Cursors, when asked for (PageRequest.RowCursors), holds a cursor at
	// each row of Data: a page asked for with it starts just after that
	// row or, with Backward, ends just before it.
	Cursors []string `json:"-"`
}

// Page size limits shared by every list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// NormalizeLimit applies the default and checks the maximum.
func (p PageRequest) NormalizeLimit() (int, error) {
	switch {
	case p.Limit == 0:
		return DefaultPageSize, nil
	case p.Limit < 1 || p.Limit > MaxPageSize:
		return 0, Invalid(map[string]string{"limit": "must be between 1 and 200"})
	}
	return p.Limit, nil
}
