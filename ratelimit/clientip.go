package ratelimit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/cairn-fit/cairn"
)

// Proxies are the peers trusted to say, in X-Forwarded-For, whom they
// forward: a load balancer or reverse proxy in front of cairn. Without
// them every client behind the proxy would share the proxy's per-IP
// limits; trusting the header from anyone else would let a guesser pick
// a fresh IP for every attempt.
type Proxies []netip.Prefix

// ParseProxies reads a comma-separated list of CIDR prefixes or single
// addresses ("10.0.0.0/8, 192.0.2.7").
func ParseProxies(s string) (Proxies, error) {
	var out Proxies
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (ps Proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP is the address a request comes from, for rate limits and the
// audit log: the peer's, unless the peer is a trusted proxy. Then
// X-Forwarded-For is read from the right, past every trusted proxy, and
// the first other address is the client; what lies left of it was written
// by the client and proves nothing. A malformed entry stops the walk at
// the last proxy reached.
func (ps Proxies) ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !ps.trusts(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		peer = a.Unmap()
		if !ps.trusts(peer) {
			break
		}
	}
	return peer.String()
}

// Client is the request's client for the audit log and rate limits: its
// address by ClientIP, and its user agent.
func (ps Proxies) Client(r *http.Request) cairn.Client {
	return cairn.Client{IP: ps.ClientIP(r), UserAgent: r.UserAgent()}
}
