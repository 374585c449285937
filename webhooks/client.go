package webhooks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-fit/cairn"
)

// Server-side request forgery: an endpoint's URL is the user's to choose,
// so, unless the configuration allows private targets, cairn refuses to
// connect to loopback, private, link-local (cloud metadata), shared and
// other special-purpose addresses. The check runs on the address being
// dialled, after DNS resolution, in the dialer's Control function: a name
// that resolves to a public address when it is saved and to a private
// one when it is delivered to (DNS rebinding) is refused all the same.
// Proxies from the environment are ignored and redirects not followed,
// so nothing else decides where a request goes.

// ErrForbiddenTarget is the cause of a refused connection.
var ErrForbiddenTarget = errors.New("webhooks: the target address is not allowed")

// special lists IPv4 and IPv6 ranges that are not the public internet,
// besides what netip's predicates cover.
var special = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // shared address space (carrier-grade NAT)
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"240.0.0.0/4",     // reserved, and broadcast
		"64:ff9b::/96",    // NAT64: reaches IPv4 through a gateway
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard
		"2001::/23",       // IETF protocol assignments (Teredo, …)
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4: embeds an IPv4 address
		"fec0::/10",       // site-local (deprecated)
		"::ffff:0:0:0/96", // IPv4-translated
		"5f00::/16",       // segment routing SIDs
		"3fff::/20",       // documentation
		"ff00::/8",        // multicast
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"169.254.0.0/16",  // link-local, cloud metadata
		"127.0.0.0/8",     // loopback
		"10.0.0.0/8",      // private
		"172.16.0.0/12",   // private
		"192.168.0.0/16",  // private
		"224.0.0.0/4",     // multicast
		"::/96",           // unspecified, IPv4-compatible (deprecated)
		"::1/128",         // loopback
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Public reports whether ip is a public unicast address that webhooks may
// reach without --webhook-allow-private.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || ip.Zone() != "" {
		return false
	}
	for _, p := range special {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// refusePrivate is the dialer's Control function: it sees the resolved
// address about to be connected to.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenTarget, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !Public(ip) {
		return fmt.Errorf("%w: %s is not a public address", ErrForbiddenTarget, host)
	}
	return nil
}

// newClient returns the HTTP client deliveries are sent with: a timeout
// for the whole request, no proxy, no redirects, and the SSRF guard unless
// allowPrivate.
func newClient(timeout time.Duration, allowPrivate bool, conns int) *http.Client {
	dialer := &net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = refusePrivate
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          4 * conns,
			MaxIdleConnsPerHost:   conns,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: timeout,
		},
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// checkTarget refuses, when saving an endpoint, a URL whose host is
// plainly not public: an address literal or a localhost name. Other names
// are checked when delivered to.
func checkTarget(raw string, allowPrivate bool) error {
	if allowPrivate {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return cairn.Invalid(map[string]string{"url": "must be an absolute http or https URL"})
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	refused := cairn.Invalid(map[string]string{"url": "points to a private, loopback or link-local address, which this server does not deliver to"})
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return refused
	}
	if ip, err := netip.ParseAddr(host); err == nil && !Public(ip) {
		return refused
	}
	return nil
}
