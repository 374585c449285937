package rest

import (
	"container/list"
	"sync"
)

// pageCache keeps encoded list pages, least recently used out first. A
// key includes the version of the data the page was read at (see
// ActivitiesVersion), so an entry never goes stale: a change makes a new
// key, and the old entry ages out. Instances of cairn each keep their own.
type pageCache struct {
	mu      sync.Mutex
	max     int
	order   *list.List // of *pageEntry, most recent first
	entries map[string]*list.Element
}

type pageEntry struct {
	key  string
	body []byte
}

func newPageCache(max int) *pageCache {
	return &pageCache{max: max, order: list.New(), entries: map[string]*list.Element{}}
}

func (c *pageCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*pageEntry).body, true
}

func (c *pageCache) put(key string, body []byte) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.entries[key] = c.order.PushFront(&pageEntry{key: key, body: body})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*pageEntry).key)
	}
}
