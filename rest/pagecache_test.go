package rest

import "testing"

func TestPageCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newPageCache(2)
	c.put("a", []byte("1"))
	c.put("b", []byte("2"))
	if _, ok := c.get("a"); !ok { // a is now the most recent
		t.Fatal("a is missing")
	}
	c.put("c", []byte("3"))
	if _, ok := c.get("b"); ok {
		t.Error("b, the least recently used, was kept")
	}
	if v, ok := c.get("a"); !ok || string(v) != "1" {
		t.Errorf("a = %q, %v", v, ok)
	}
	off := newPageCache(-1)
	off.put("a", []byte("1"))
	if _, ok := off.get("a"); ok {
		t.Error("a disabled cache kept a page")
	}
}
