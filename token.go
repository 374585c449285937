package cairn

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
)

// TokenPrefix marks cairn personal access tokens, so that secret scanners
// and people can recognise one.
const TokenPrefix = "cairn_pat_"

// NewTokenSecret returns a new random token secret and the hash to store.
func NewTokenSecret() (secret string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashToken(secret)
}

// HashToken returns the stored form of a token secret. The secret has 256
// bits of entropy, so a plain SHA-256 is as strong as a slow hash here, and
// lookups by hash need no constant-time comparison.
func HashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// ParseScopes splits a space-separated scope list, rejecting unknown ones.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, f := range strings.Fields(s) {
		if !ValidScope(Scope(f)) {
			return nil, Invalid(map[string]string{"scopes": "unknown scope " + f})
		}
		out = append(out, Scope(f))
	}
	if len(out) == 0 {
		return nil, Invalid(map[string]string{"scopes": "at least one scope is required"})
	}
	return out, nil
}

// Usable reports why a token cannot be used at now, or "" when it can.
func (t *PersonalAccessToken) Usable(now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "the token was revoked"
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return "the token has expired"
	}
	return ""
}
