// Package mfatest is a software WebAuthn authenticator for tests: an
// ECDSA P-256 key pair that answers registration ("none" attestation) and
// login ceremonies the way a security key or platform authenticator does,
// taking the options a relying party sends to navigator.credentials.create()
// or .get() and answering the PublicKeyCredential as JSON. It encodes its
// own CBOR, so that the tests exercise go-webauthn's parsing rather than a
// shared encoder's.
package mfatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Authenticator is one credential on one device. Tests may change its
// fields to misbehave: another Origin (a phishing page), another
// CredentialID (a forged key), a Counter moved back (a cloned key).
type Authenticator struct {
	RPID   string
	Origin string
	// CredentialID names the credential to the relying party.
	CredentialID []byte
	// Counter is the signature counter: each Get signs it plus one.
	Counter uint32
	// UserHandle is answered with assertions: the user id Create was
	// given, unless set.
	UserHandle []byte

	key *ecdsa.PrivateKey
}

// New returns an authenticator with a fresh key and credential id for the
// relying party rpID, answering as if from the page at origin.
func New(rpID, origin string) *Authenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &Authenticator{RPID: rpID, Origin: origin, CredentialID: id, key: key}
}

var b64 = base64.RawURLEncoding

// Authenticator data flags.
const (
	flagUP = 0x01 // user present
	flagUV = 0x04 // user verified
	flagAT = 0x40 // attested credential data included
)

func (a *Authenticator) authData(flags byte, attested []byte) []byte {
	rp := sha256.Sum256([]byte(a.RPID))
	out := append(rp[:], flags)
	out = binary.BigEndian.AppendUint32(out, a.Counter)
	return append(out, attested...)
}

// coseKey is the credential public key as a COSE_Key: EC2, ES256, P-256.
func (a *Authenticator) coseKey() ([]byte, error) {
	pub, err := a.key.PublicKey.ECDH()
	if err != nil {
		return nil, err
	}
	raw := pub.Bytes() // 0x04 | x | y
	return cborMap(
		cborInt(1), cborInt(2), // kty: EC2
		cborInt(3), cborInt(-7), // alg: ES256
		cborInt(-1), cborInt(1), // crv: P-256
		cborInt(-2), cborBytes(raw[1:33]), // x
		cborInt(-3), cborBytes(raw[33:65]), // y
	), nil
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// Create answers navigator.credentials.create() for the creation options
// ({"publicKey": {...}}, as go-webauthn marshals them).
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("creation options: %w", err)
	}
	if o.PublicKey.RP.ID != a.RPID || o.PublicKey.Challenge == "" {
		return nil, fmt.Errorf("creation options for another relying party or without a challenge: %s", options)
	}
	if a.UserHandle == nil {
		h, err := b64.DecodeString(o.PublicKey.User.ID)
		if err != nil {
			return nil, fmt.Errorf("creation options: user id: %w", err)
		}
		a.UserHandle = h
	}
	cose, err := a.coseKey()
	if err != nil {
		return nil, err
	}
	attested := make([]byte, 16) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.CredentialID)))
	attested = append(attested, a.CredentialID...)
	attested = append(attested, cose...)
	attObj := cborMap(
		cborText("fmt"), cborText("none"),
		cborText("attStmt"), cborMap(),
		cborText("authData"), cborBytes(a.authData(flagUP|flagUV|flagAT, attested)),
	)
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.CredentialID), "rawId": b64.EncodeToString(a.CredentialID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(attObj),
			"transports":        []string{"internal"},
		},
		"clientExtensionResults": map[string]any{},
	})
}

// Get answers navigator.credentials.get() for the request options
// ({"publicKey": {...}}), counting one more use.
func (a *Authenticator) Get(options []byte) ([]byte, error) {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RPID      string `json:"rpId"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("request options: %w", err)
	}
	if o.PublicKey.RPID != a.RPID || o.PublicKey.Challenge == "" {
		return nil, fmt.Errorf("request options for another relying party or without a challenge: %s", options)
	}
	a.Counter++
	auth := a.authData(flagUP|flagUV, nil)
	cd := a.clientData("webauthn.get", o.PublicKey.Challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte(nil), auth...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.CredentialID), "rawId": b64.EncodeToString(a.CredentialID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(auth),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(a.UserHandle),
		},
		"clientExtensionResults": map[string]any{},
	})
}

// A minimal CBOR encoder (RFC 8949): unsigned and negative integers, byte
// and text strings, maps.
func cborHead(major byte, n uint64) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n < 1<<8:
		return []byte{major<<5 | 24, byte(n)}
	case n < 1<<16:
		return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
	}
	return binary.BigEndian.AppendUint32([]byte{major<<5 | 26}, uint32(n))
}

func cborInt(v int64) []byte {
	if v < 0 {
		return cborHead(1, uint64(-1-v))
	}
	return cborHead(0, uint64(v))
}

func cborBytes(b []byte) []byte { return append(cborHead(2, uint64(len(b))), b...) }
func cborText(s string) []byte  { return append(cborHead(3, uint64(len(s))), s...) }

func cborMap(kv ...[]byte) []byte {
	out := cborHead(5, uint64(len(kv)/2))
	for _, x := range kv {
		out = append(out, x...)
	}
	return out
}
