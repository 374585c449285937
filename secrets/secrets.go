// Package secrets seals secrets at rest (provider tokens, webhook secrets,
// TOTP seeds) with AES-256-GCM from the standard library.
//
// A Keyring holds every key in use; the newest seals, all of them open.
// Each ciphertext names the key that sealed it:
//
//	version (1 byte, 1) | len(key id) (1 byte) | key id | nonce (12 bytes) | sealed
//
// and is bound by GCM's associated data to that header and to the place it
// is stored (AD(table, column, row id)), so that a ciphertext copied into
// another row or column no longer opens. Rotating means adding a key at
// the end of the list and re-sealing every stored secret (cairn keys
// rotate); older keys stay in the list until no ciphertext names them.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/cairn-fit/cairn"
)

// KeySize is the length of an AES-256 key.
const KeySize = 32

const (
	version   = 1
	nonceSize = 12
)

var (
	// ErrUnknownKey means a ciphertext names a key the keyring lacks.
	ErrUnknownKey = errors.New("secrets: the ciphertext's key is not in the keyring")
	// ErrCorrupt means a ciphertext is malformed, was altered, or is
	// opened at another place than the one it was sealed for.
	ErrCorrupt = errors.New("secrets: the ciphertext is corrupt or belongs elsewhere")
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Keyring seals with its newest key and opens with any of its keys.
type Keyring struct {
	aeads map[string]cipher.AEAD
	ids   []string // in configuration order; the last is the newest
}

// Parse reads a key list: entries "id:base64-of-32-bytes" separated by
// commas (or white space, so that a key file may hold one per line; lines
// starting with # are comments). The last entry is the newest key.
func Parse(s string) (*Keyring, error) {
	s = stripComments(s)
	entries := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
	if len(entries) == 0 {
		return nil, errors.New("secrets: no keys")
	}
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, e := range entries {
		id, b64, ok := strings.Cut(e, ":")
		if !ok || !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("secrets: key %d: want id:base64 with an id of letters, digits, '.', '_' or '-' (at most 64)", i+1)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("secrets: key id %q appears twice", id)
		}
		key, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("secrets: key %q: %w", id, err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("secrets: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secrets: key %q: %w", id, err)
		}
		k.aeads[id] = aead
		k.ids = append(k.ids, id)
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("want %d bytes, got %d", KeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// Current returns the id of the key that seals.
func (k *Keyring) Current() string { return k.ids[len(k.ids)-1] }

// IDs returns the key ids, oldest first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// AD returns the associated data that binds a secret to where it is
// stored: its table, column and row (the row's id, or the place
// sqldb.EncryptedColumns names for the column). Every caller sealing a
// column must bind it the way rotation does, and the column must be listed
// in sqldb.EncryptedColumns.
func AD(table, column, rowID string) []byte {
	return []byte("cairn\x00" + table + "\x00" + column + "\x00" + rowID)
}

// Seal encrypts plaintext under the newest key, bound to ad.
func (k *Keyring) Seal(plaintext, ad []byte) ([]byte, error) {
	id := k.Current()
	header := make([]byte, 0, 2+len(id)+nonceSize)
	header = append(header, version, byte(len(id)))
	header = append(header, id...)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	out := append(header, nonce...)
	return k.aeads[id].Seal(out, nonce, plaintext, aad(out[:2+len(id)], ad)), nil
}

// Open decrypts a ciphertext sealed for ad by any key of the keyring.
func (k *Keyring) Open(ciphertext, ad []byte) ([]byte, error) {
	id, rest, err := split(ciphertext)
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, cairn.Wrap(cairn.EINTERNAL, fmt.Errorf("%w (key %q)", ErrUnknownKey, id), "internal error")
	}
	if len(rest) < nonceSize+aead.Overhead() {
		return nil, cairn.Wrap(cairn.EINTERNAL, ErrCorrupt, "internal error")
	}
	plain, err := aead.Open(nil, rest[:nonceSize], rest[nonceSize:], aad(ciphertext[:2+len(id)], ad))
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, ErrCorrupt, "internal error")
	}
	return plain, nil
}

// Reseal returns ciphertext sealed under the newest key: unchanged (and
// changed false) when that key already sealed it, else opened and sealed
// again for the same ad.
func (k *Keyring) Reseal(ciphertext, ad []byte) (out []byte, changed bool, err error) {
	id, err := KeyID(ciphertext)
	if err != nil {
		return nil, false, err
	}
	if id == k.Current() {
		return ciphertext, false, nil
	}
	plain, err := k.Open(ciphertext, ad)
	if err != nil {
		return nil, false, err
	}
	out, err = k.Seal(plain, ad)
	return out, err == nil, err
}

// KeyID returns the id of the key that sealed ciphertext.
func KeyID(ciphertext []byte) (string, error) {
	id, _, err := split(ciphertext)
	if err != nil {
		return "", cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return id, nil
}

func split(c []byte) (id string, rest []byte, err error) {
	if len(c) < 2 || c[0] != version || int(c[1]) == 0 || len(c) < 2+int(c[1]) {
		return "", nil, ErrCorrupt
	}
	n := int(c[1])
	return string(c[2 : 2+n]), c[2+n:], nil
}

// aad is GCM's associated data: the header (version and key id) and the
// caller's place.
func aad(header, ad []byte) []byte {
	out := make([]byte, 0, len(header)+len(ad))
	return append(append(out, header...), ad...)
}

// NewKey returns a new key entry "id:base64" for a key list.
func NewKey(id string) (string, error) {
	if !keyIDPattern.MatchString(id) {
		return "", fmt.Errorf("secrets: key id %q: use letters, digits, '.', '_' or '-' (at most 64)", id)
	}
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return id + ":" + base64.StdEncoding.EncodeToString(b), nil
}

func stripComments(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
