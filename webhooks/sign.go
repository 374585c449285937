package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
)

// Signatures follow Standard Webhooks (https://www.standardwebhooks.com):
// the secret is "whsec_" and the base64 of its key; each request carries
// webhook-id (the message: the same on every attempt), webhook-timestamp
// (Unix seconds of the attempt) and webhook-signature, "v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body", one per key in use, separated
// by spaces.

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// Secret key sizes the standard allows; cairn makes 32-byte keys.
const (
	minKeySize = 24
	maxKeySize = 64
	keySize    = 32
)

// Standard Webhooks header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// NewSecret returns a new signing secret and its key.
func NewSecret() (secret string, key []byte) {
	key = make([]byte, keySize)
	_, _ = rand.Read(key) // crypto/rand never fails on supported platforms
	return FormatSecret(key), key
}

// FormatSecret writes a key as a secret.
func FormatSecret(key []byte) string { return SecretPrefix + base64.StdEncoding.EncodeToString(key) }

// ParseSecret returns a secret's key.
func ParseSecret(secret string) ([]byte, error) {
	bad := cairn.Invalid(map[string]string{"secret": "must be whsec_ and the base64 of 24 to 64 bytes"})
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, bad
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) < minKeySize || len(key) > maxKeySize {
		return nil, bad
	}
	return key, nil
}

// Sign returns the webhook-signature header for a message: one v1
// signature per key, in the order given.
func Sign(id string, ts time.Time, body []byte, keys ...[]byte) string {
	prefix := id + "." + strconv.FormatInt(ts.Unix(), 10) + "."
	sigs := make([]string, len(keys))
	for i, k := range keys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(prefix))
		m.Write(body)
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	return strings.Join(sigs, " ")
}
