package rest

import (
	"sync"
	"time"

	"github.com/cairn-fit/cairn"
)

// authCache remembers, for a short time, which token and user a bearer
// token's hash resolved to, so that a busy client costs one lookup per
// TTL instead of one per request. The token's expiry is still checked on
// every request; a revocation, a deleted user or a frozen account takes
// effect within the TTL.
type authCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]authEntry
}

type authEntry struct {
	tok     *cairn.PersonalAccessToken
	user    *cairn.User
	expires time.Time
}

// authCacheSize bounds the cache; when full it starts afresh, which costs
// one lookup per token.
const authCacheSize = 10_000

func newAuthCache(ttl time.Duration) *authCache {
	return &authCache{ttl: ttl, entries: map[string]authEntry{}}
}

func (c *authCache) get(hash []byte, now time.Time) (*cairn.PersonalAccessToken, *cairn.User, bool) {
	if c.ttl <= 0 {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(hash)]
	if !ok || now.After(e.expires) {
		return nil, nil, false
	}
	return e.tok, e.user, true
}

func (c *authCache) put(hash []byte, tok *cairn.PersonalAccessToken, u *cairn.User, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= authCacheSize {
		c.entries = map[string]authEntry{}
	}
	c.entries[string(hash)] = authEntry{tok: tok, user: u, expires: now.Add(c.ttl)}
}
