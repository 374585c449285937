package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	enigma "github.com/ory/fosite/token/hmac"
)

// Token prefixes: people and secret scanners can tell cairn's tokens
// apart, and the REST API sends every bearer token without the personal
// access token prefix here.
const (
	AccessTokenPrefix  = "cairn_at_"
	RefreshTokenPrefix = "cairn_rt_"
	CodePrefix         = "cairn_ac_"
	DeviceCodePrefix   = "cairn_dc_"
	ClientSecretPrefix = "cairn_cs_"
)

// strategy issues opaque HMAC-SHA512/256 tokens, "<prefix><key>.<mac>".
// The store keeps only the SHA-256 of the MAC (the "signature"), so
// neither a token nor its MAC can be read back from the database.
type strategy struct {
	*oauth2.HMACSHAStrategyUnPrefixed
}

var _ oauth2.CoreStrategy = (*strategy)(nil)

func newStrategy(cfg *fosite.Config) *strategy {
	return &strategy{oauth2.NewHMACSHAStrategyUnPrefixed(&enigma.HMACStrategy{Config: cfg}, cfg)}
}

func prefixed(prefix, token, sig string, err error) (string, string, error) {
	if err != nil {
		return "", "", err
	}
	return prefix + token, sig, nil
}

func unprefixed(prefix, token string) (string, error) {
	t, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return "", fosite.ErrInvalidTokenFormat
	}
	return t, nil
}

func (s *strategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	t, sig, err := s.HMACSHAStrategyUnPrefixed.GenerateAccessToken(ctx, r)
	return prefixed(AccessTokenPrefix, t, sig, err)
}

func (s *strategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	t, err := unprefixed(AccessTokenPrefix, token)
	if err != nil {
		return err
	}
	return s.HMACSHAStrategyUnPrefixed.ValidateAccessToken(ctx, r, t)
}

func (s *strategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	t, sig, err := s.HMACSHAStrategyUnPrefixed.GenerateRefreshToken(ctx, r)
	return prefixed(RefreshTokenPrefix, t, sig, err)
}

func (s *strategy) ValidateRefreshToken(ctx context.Context, r fosite.Requester, token string) error {
	t, err := unprefixed(RefreshTokenPrefix, token)
	if err != nil {
		return err
	}
	return s.HMACSHAStrategyUnPrefixed.ValidateRefreshToken(ctx, r, t)
}

func (s *strategy) GenerateAuthorizeCode(ctx context.Context, r fosite.Requester) (string, string, error) {
	t, sig, err := s.HMACSHAStrategyUnPrefixed.GenerateAuthorizeCode(ctx, r)
	return prefixed(CodePrefix, t, sig, err)
}

func (s *strategy) ValidateAuthorizeCode(ctx context.Context, r fosite.Requester, token string) error {
	t, err := unprefixed(CodePrefix, token)
	if err != nil {
		return err
	}
	return s.HMACSHAStrategyUnPrefixed.ValidateAuthorizeCode(ctx, r, t)
}

// secretHasher hashes client secrets with SHA-256: they are 256-bit
// random values, so a slow hash adds nothing; comparison is constant-time.
type secretHasher struct{}

func (secretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	return h[:], nil
}

var errSecretMismatch = errors.New("oauth: client secret does not match")

func (secretHasher) Compare(_ context.Context, hash, data []byte) error {
	h := sha256.Sum256(data)
	if len(hash) == 0 || subtle.ConstantTimeCompare(hash, h[:]) != 1 {
		return errSecretMismatch
	}
	return nil
}

// NewClientSecret returns a new client secret and the hash to store.
func NewClientSecret() (secret string, hash []byte) {
	secret = ClientSecretPrefix + randomString(32)
	h, _ := secretHasher{}.Hash(context.Background(), []byte(secret))
	return secret, h
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashOf returns the stored form of a secret value (a token signature, a
// device or user code, a session cookie).
func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// deriveKey derives a 32-byte key for one purpose from the deployment's
// secret, so that token signing and CSRF never share a key.
func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("cairn oauth " + purpose))
	return m.Sum(nil)
}
