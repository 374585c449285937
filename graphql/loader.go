package graphql

import (
	"context"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"
)

// siblings loads one kind of thing for every object of one list (a page
// of a connection, nodes(ids:), a mutation's result) in one batch. graphql-go
// resolves a list's objects a few at a time (its parallelism limit), so a
// loader that batches by time would see a few keys per window: instead the
// first object to ask queues every sibling's key on a dataloader whose
// batch capacity is their number, and the batch runs as soon as the last
// is queued, whatever the scheduling. Objects that never ask for the
// field cost nothing.
type siblings[K comparable, V any] struct {
	keys  func() []K
	fetch func(context.Context, []K) (map[K]V, error)

	once   sync.Once
	thunks map[K]dataloader.Thunk[V]
}

func newSiblings[K comparable, V any](keys func() []K, fetch func(context.Context, []K) (map[K]V, error)) *siblings[K, V] {
	return &siblings[K, V]{keys: keys, fetch: fetch}
}

// load returns the value of key, the zero value when the batch did not
// find it.
func (s *siblings[K, V]) load(ctx context.Context, key K) (V, error) {
	s.once.Do(func() { s.start(ctx) })
	th, ok := s.thunks[key]
	if !ok {
		var zero V
		return zero, nil
	}
	return th()
}

func (s *siblings[K, V]) start(ctx context.Context) {
	var keys []K
	seen := map[K]bool{}
	var zero K
	for _, k := range s.keys() {
		if k != zero && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	s.thunks = make(map[K]dataloader.Thunk[V], len(keys))
	if len(keys) == 0 {
		return
	}
	batch := func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		found, err := s.fetch(ctx, keys)
		out := make([]*dataloader.Result[V], len(keys))
		for i, k := range keys {
			out[i] = &dataloader.Result[V]{Data: found[k], Error: err}
		}
		return out
	}
	// The capacity starts the batch when the last key is queued; the wait
	// is never reached.
	l := dataloader.NewBatchedLoader(batch, dataloader.WithBatchCapacity[K, V](len(keys)),
		dataloader.WithWait[K, V](time.Minute))
	for _, k := range keys {
		s.thunks[k] = l.Load(ctx, k)
	}
}

// byKey indexes rows by a key.
func byKey[K comparable, T any](rows []T, key func(*T) K) map[K]*T {
	out := make(map[K]*T, len(rows))
	for i := range rows {
		out[key(&rows[i])] = &rows[i]
	}
	return out
}
