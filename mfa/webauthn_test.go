package mfa_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/mfa"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// A software authenticator: an ECDSA P-256 key pair that answers WebAuthn
// registration ("none" attestation) and login ceremonies the way a
// security key or platform authenticator does, with its own CBOR encoding.

const (
	rpID   = "cairn.example"
	origin = "https://cairn.example"
)

type authenticator struct {
	key     *ecdsa.PrivateKey
	credID  []byte
	counter uint32
	origin  string
}

func newAuthenticator(t *testing.T) *authenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &authenticator{key: key, credID: id, origin: origin}
}

var b64 = base64.RawURLEncoding

// Authenticator data flags.
const (
	flagUP = 0x01 // user present
	flagUV = 0x04 // user verified
	flagAT = 0x40 // attested credential data included
)

func (a *authenticator) authData(flags byte, attested []byte) []byte {
	rp := sha256.Sum256([]byte(rpID))
	out := append(rp[:], flags)
	out = binary.BigEndian.AppendUint32(out, a.counter)
	return append(out, attested...)
}

// coseKey is the credential public key as a COSE_Key: EC2, ES256, P-256.
func (a *authenticator) coseKey(t *testing.T) []byte {
	pub, err := a.key.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	raw := pub.Bytes() // 0x04 | x | y
	return cborMap(
		cborInt(1), cborInt(2), // kty: EC2
		cborInt(3), cborInt(-7), // alg: ES256
		cborInt(-1), cborInt(1), // crv: P-256
		cborInt(-2), cborBytes(raw[1:33]), // x
		cborInt(-3), cborBytes(raw[33:65]), // y
	)
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// register answers navigator.credentials.create() for the options.
func (a *authenticator) register(t *testing.T, options json.RawMessage) []byte {
	t.Helper()
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
		t.Fatal(err)
	}
	if o.PublicKey.RP.ID != rpID || o.PublicKey.Challenge == "" {
		t.Fatalf("creation options: %s", options)
	}
	attested := make([]byte, 16) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.credID)))
	attested = append(attested, a.credID...)
	attested = append(attested, a.coseKey(t)...)
	attObj := cborMap(
		cborText("fmt"), cborText("none"),
		cborText("attStmt"), cborMap(),
		cborText("authData"), cborBytes(a.authData(flagUP|flagUV|flagAT, attested)),
	)
	resp, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.credID), "rawId": b64.EncodeToString(a.credID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData("webauthn.create", o.PublicKey.Challenge, a.origin)),
			"attestationObject": b64.EncodeToString(attObj),
			"transports":        []string{"internal"},
		},
		"clientExtensionResults": map[string]any{},
	})
	return resp
}

// login answers navigator.credentials.get() for the options, counting
// one more use.
func (a *authenticator) login(t *testing.T, options json.RawMessage, userHandle string) []byte {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RPID      string `json:"rpId"`
			Allow     []struct {
				ID string `json:"id"`
			} `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatal(err)
	}
	if o.PublicKey.RPID != rpID || len(o.PublicKey.Allow) == 0 {
		t.Fatalf("request options: %s", options)
	}
	a.counter++
	auth := a.authData(flagUP|flagUV, nil)
	cd := clientData("webauthn.get", o.PublicKey.Challenge, a.origin)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte(nil), auth...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.credID), "rawId": b64.EncodeToString(a.credID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(auth),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString([]byte(userHandle)),
		},
		"clientExtensionResults": map[string]any{},
	})
	return resp
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

func TestPasskeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		f.svc.Now = nil // go-webauthn checks its ceremony deadlines on the wall clock
		db.Now = time.Now
		w, err := mfa.NewWebAuthn(rpID, []string{origin})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.WebAuthn = w
		key := newAuthenticator(t)

		// Registration.
		c, err := f.svc.BeginPasskeyRegistration(f.ctx, f.user, "s1")
		if err != nil {
			t.Fatal(err)
		}
		done, err := f.svc.FinishPasskeyRegistration(f.ctx, f.user, "s1", c.ID, "YubiKey", key.register(t, c.Options))
		if err != nil {
			t.Fatal(err)
		}
		if done.Factor.Kind != cairn.MFAWebAuthn || done.Factor.Name != "YubiKey" || len(done.RecoveryCodes) != 10 ||
			string(done.Factor.CredentialID) != string(key.credID) {
			t.Fatalf("registered: %+v", done)
		}
		if err := f.svc.RequireRecent(f.ctx, f.user.ID, "s1"); err != nil {
			t.Fatalf("registering a passkey is an MFA check: %v", err)
		}
		// A ceremony finishes once.
		_, err = f.svc.FinishPasskeyRegistration(f.ctx, f.user, "s1", c.ID, "again", key.register(t, c.Options))
		wantCode(t, err, cairn.EVALIDATION)
		// The same authenticator is not registered twice.
		c2, err := f.svc.BeginPasskeyRegistration(f.ctx, f.user, "s1")
		if err != nil {
			t.Fatal(err)
		}
		var excl struct {
			PublicKey struct {
				Exclude []struct {
					ID string `json:"id"`
				} `json:"excludeCredentials"`
			} `json:"publicKey"`
		}
		if json.Unmarshal(c2.Options, &excl); len(excl.PublicKey.Exclude) != 1 || excl.PublicKey.Exclude[0].ID != b64.EncodeToString(key.credID) {
			t.Fatalf("exclusions: %s", c2.Options)
		}
		_, err = f.svc.FinishPasskeyRegistration(f.ctx, f.user, "s1", c2.ID, "dup", key.register(t, c2.Options))
		wantCode(t, err, cairn.ECONFLICT)
		// A response for another origin is refused.
		c3, _ := f.svc.BeginPasskeyRegistration(f.ctx, f.user, "s1")
		evil := newAuthenticator(t)
		evil.origin = "https://evil.example"
		_, err = f.svc.FinishPasskeyRegistration(f.ctx, f.user, "s1", c3.ID, "evil", evil.register(t, c3.Options))
		wantCode(t, err, cairn.EVALIDATION)

		// Login.
		l, err := f.svc.BeginPasskeyLogin(f.ctx, f.user)
		if err != nil {
			t.Fatal(err)
		}
		assertion := key.login(t, l.Options, f.user.ID)
		if err := f.svc.FinishPasskeyLogin(f.ctx, f.user, "s2", l.ID, assertion); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RequireRecent(f.ctx, f.user.ID, "s2"); err != nil {
			t.Fatal(err)
		}
		// Replayed: the ceremony is gone, and under a new ceremony the
		// signature is over another challenge.
		wantCode(t, f.svc.FinishPasskeyLogin(f.ctx, f.user, "s3", l.ID, assertion), cairn.EVALIDATION)
		l2, _ := f.svc.BeginPasskeyLogin(f.ctx, f.user)
		wantCode(t, f.svc.FinishPasskeyLogin(f.ctx, f.user, "s3", l2.ID, assertion), cairn.EUNAUTHENTICATED)
		wantCode(t, f.svc.RequireRecent(f.ctx, f.user.ID, "s3"), cairn.ESTEPUPREQUIRED)
		// A signature by another key is refused.
		l3, _ := f.svc.BeginPasskeyLogin(f.ctx, f.user)
		forged := newAuthenticator(t)
		forged.credID = key.credID
		forged.counter = 10
		wantCode(t, f.svc.FinishPasskeyLogin(f.ctx, f.user, "s3", l3.ID, forged.login(t, l3.Options, f.user.ID)), cairn.EUNAUTHENTICATED)
		// A counter that does not move forward means a cloned key.
		l4, _ := f.svc.BeginPasskeyLogin(f.ctx, f.user)
		key.counter = 0 // the next login signs counter 1 again
		wantCode(t, f.svc.FinishPasskeyLogin(f.ctx, f.user, "s3", l4.ID, key.login(t, l4.Options, f.user.ID)), cairn.EUNAUTHENTICATED)
		l5, _ := f.svc.BeginPasskeyLogin(f.ctx, f.user)
		key.counter = 4
		if err := f.svc.FinishPasskeyLogin(f.ctx, f.user, "s3", l5.ID, key.login(t, l5.Options, f.user.ID)); err != nil {
			t.Fatalf("counter 5: %v", err)
		}
		// The counter was stored: 5 again is a clone.
		l6, _ := f.svc.BeginPasskeyLogin(f.ctx, f.user)
		key.counter = 4
		wantCode(t, f.svc.FinishPasskeyLogin(f.ctx, f.user, "s4", l6.ID, key.login(t, l6.Options, f.user.ID)), cairn.EUNAUTHENTICATED)

		// Another user can neither finish this user's ceremony nor log in
		// with this passkey.
		bob := &cairn.User{Email: "bob@example.com"}
		if err := db.CreateUser(cairn.SystemContext(f.ctx), bob); err != nil {
			t.Fatal(err)
		}
		bobCtx := cairn.WithActor(f.ctx, cairn.Actor{UserID: bob.ID})
		l7, _ := f.svc.BeginPasskeyLogin(f.ctx, f.user)
		wantCode(t, f.svc.FinishPasskeyLogin(bobCtx, bob, "s5", l7.ID, key.login(t, l7.Options, f.user.ID)), cairn.EVALIDATION)
		_, err = f.svc.BeginPasskeyLogin(bobCtx, bob)
		wantCode(t, err, cairn.EPRECONDITION)

		st, err := f.svc.Status(f.ctx, f.user)
		if err != nil || len(st.Methods) != 2 || st.Methods[0] != cairn.MFAWebAuthn {
			t.Fatalf("status: %+v %v", st, err)
		}
	})
}
