package ratelimit_test

import (
	"net/http/httptest"
	"testing"

	"github.com/cairn-fit/cairn/ratelimit"
)

func TestClientIP(t *testing.T) {
	proxies, err := ratelimit.ParseProxies("10.0.0.0/8, 192.0.2.7,2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, peer, xff, want string
	}{
		{"no proxy: the peer", "203.0.113.9:5555", "", "203.0.113.9"},
		{"an untrusted peer's header is ignored", "203.0.113.9:5555", "198.51.100.1", "203.0.113.9"},
		{"a trusted proxy names the client", "10.1.2.3:5555", "198.51.100.1", "198.51.100.1"},
		{"a single trusted address", "192.0.2.7:80", "198.51.100.1", "198.51.100.1"},
		{"a client's own entries left of it are ignored", "10.1.2.3:5555", "1.1.1.1, 198.51.100.1", "198.51.100.1"},
		{"chained trusted proxies are skipped", "10.1.2.3:5555", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"IPv6", "[2001:db8::1]:443", "2001:db9::5", "2001:db9::5"},
		{"a malformed entry stops at the last proxy", "10.1.2.3:5555", "198.51.100.1, garbage", "10.1.2.3"},
		{"a proxy without the header", "10.1.2.3:5555", "", "10.1.2.3"},
		{"all hops trusted: the leftmost", "10.1.2.3:5555", "10.0.0.1", "10.0.0.1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := proxies.ClientIP(r); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	var none ratelimit.Proxies
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:5555"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := none.ClientIP(r); got != "10.1.2.3" {
		t.Errorf("no trusted proxies: %q", got)
	}
	for _, bad := range []string{"10.0.0.0/33", "not-an-ip", "10.0.0/8"} {
		if _, err := ratelimit.ParseProxies(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
