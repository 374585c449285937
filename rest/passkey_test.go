package rest_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/mfa"
	"github.com/cairn-fit/cairn/mfa/mfatest"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// The relying party of the identity env's passkeys.
const (
	passkeyRP     = "cairn.example"
	passkeyOrigin = "https://cairn.example"
)

type ceremony struct {
	CeremonyID string          `json:"ceremony_id"`
	Options    json.RawMessage `json:"options"`
}

// begin starts a passkey ceremony (register or verify) and fails the test
// unless it is answered.
func (e *idEnv) begin(kind, tok string) ceremony {
	e.t.Helper()
	var c ceremony
	if resp := e.doJSON("POST", "/v1/me/mfa/passkeys/"+kind+"/begin", tok, "", &c); resp.StatusCode != 200 || c.CeremonyID == "" {
		e.t.Fatalf("begin %s: %d %+v", kind, resp.StatusCode, c)
	}
	return c
}

// finishBody is a finish request's body: the ceremony, the browser's
// answer and, for a registration, a name.
func finishBody(t *testing.T, c ceremony, credential []byte, err error, name string) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"ceremony_id": c.CeremonyID, "credential": json.RawMessage(credential)}
	if name != "" {
		body["name"] = name
	}
	b, _ := json.Marshal(body)
	return string(b)
}

// TestPasskeysOverHTTP registers a passkey through the API with a software
// authenticator, steps up with it, and checks what is refused: a finished
// ceremony, a replayed assertion, another user's ceremony, a stale check.
func TestPasskeysOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newIdentityEnv(t, db)
		ada, bob := e.user("ada@example.com"), e.user("bob@example.com")
		tok, bobTok := e.token(ada, time.Hour, cairn.ScopeProfileRead), e.token(bob, time.Hour, cairn.ScopeProfileRead)
		key := mfatest.New(passkeyRP, passkeyOrigin)

		// Registration: the options are the browser's, for this server.
		reg := e.begin("register", tok)
		var opts struct {
			PublicKey struct {
				RP   struct{ ID string }   `json:"rp"`
				User struct{ Name string } `json:"user"`
			} `json:"publicKey"`
		}
		if err := json.Unmarshal(reg.Options, &opts); err != nil || opts.PublicKey.RP.ID != passkeyRP || opts.PublicKey.User.Name != ada.Email {
			t.Fatalf("creation options %s: %v", reg.Options, err)
		}
		cred, err := key.Create(reg.Options)
		var done struct {
			Factor struct {
				ID, Kind, Name string
			} `json:"factor"`
			RecoveryCodes []string `json:"recovery_codes"`
		}
		if resp := e.doJSON("POST", "/v1/me/mfa/passkeys/register/finish", tok, finishBody(t, reg, cred, err, "YubiKey"), &done); resp.StatusCode != 201 ||
			done.Factor.Kind != cairn.MFAWebAuthn || done.Factor.Name != "YubiKey" || len(done.RecoveryCodes) != 10 {
			t.Fatalf("finish registration: %d %+v", resp.StatusCode, done)
		}
		// A ceremony finishes once, and only for its user.
		var bad errorShape
		if resp := e.doJSON("POST", "/v1/me/mfa/passkeys/register/finish", tok, finishBody(t, reg, cred, nil, ""), &bad); resp.StatusCode != 400 || bad.Error.Code != cairn.EVALIDATION {
			t.Errorf("a finished ceremony: %d %+v", resp.StatusCode, bad)
		}
		var status struct {
			Methods []string `json:"methods"`
			Factors []struct{ ID, Kind string }
		}
		if resp := e.do("GET", "/v1/me/mfa", tok, &status); resp.StatusCode != 200 || len(status.Factors) != 1 ||
			status.Factors[0].ID != done.Factor.ID || status.Methods[0] != cairn.MFAWebAuthn {
			t.Fatalf("status: %d %+v", resp.StatusCode, status)
		}

		// Registering was an MFA check; five minutes on it is stale, and a
		// second factor needs a fresh one.
		e.advance(mfa.StepUpWindow + time.Second)
		e.wantError("POST", "/v1/me/mfa/passkeys/register/begin", tok, 401, cairn.ESTEPUPREQUIRED)
		e.wantError("POST", "/v1/me/mfa/recovery-codes", tok, 401, cairn.ESTEPUPREQUIRED)

		// Step-up with the passkey.
		ver := e.begin("verify", tok)
		assertion, err := key.Get(ver.Options)
		var verified struct {
			Method     string    `json:"method"`
			VerifiedAt time.Time `json:"verified_at"`
			ValidUntil time.Time `json:"valid_until"`
		}
		if resp := e.doJSON("POST", "/v1/me/mfa/passkeys/verify/finish", tok, finishBody(t, ver, assertion, err, ""), &verified); resp.StatusCode != 200 ||
			verified.Method != cairn.MFAWebAuthn || verified.ValidUntil.Sub(verified.VerifiedAt) != mfa.StepUpWindow {
			t.Fatalf("verify: %d %+v", resp.StatusCode, verified)
		}
		if resp := e.do("POST", "/v1/me/mfa/recovery-codes", tok, nil); resp.StatusCode != 200 {
			t.Errorf("recovery codes after a passkey check: %d", resp.StatusCode)
		}
		// The check is the token's sign-in's: another token of Ada's has none.
		other := e.token(ada, time.Hour, cairn.ScopeProfileRead)
		e.wantError("POST", "/v1/me/mfa/recovery-codes", other, 401, cairn.ESTEPUPREQUIRED)
		// The same assertion under a new ceremony signs another challenge.
		ver2 := e.begin("verify", other)
		if resp := e.doJSON("POST", "/v1/me/mfa/passkeys/verify/finish", other, finishBody(t, ver2, assertion, nil, ""), &bad); resp.StatusCode != 401 || bad.Error.Code != cairn.EUNAUTHENTICATED {
			t.Errorf("a replayed assertion: %d %+v", resp.StatusCode, bad)
		}
		e.wantError("POST", "/v1/me/mfa/recovery-codes", other, 401, cairn.ESTEPUPREQUIRED)
		// Bob can neither finish Ada's ceremony nor begin one without a passkey.
		ver3 := e.begin("verify", tok)
		assertion, err = key.Get(ver3.Options)
		if resp := e.doJSON("POST", "/v1/me/mfa/passkeys/verify/finish", bobTok, finishBody(t, ver3, assertion, err, ""), &bad); resp.StatusCode != 400 || bad.Error.Code != cairn.EVALIDATION {
			t.Errorf("Bob finishing Ada's ceremony: %d %+v", resp.StatusCode, bad)
		}
		e.wantError("POST", "/v1/me/mfa/passkeys/verify/begin", bobTok, 412, cairn.EPRECONDITION)
		// Bad bodies name their field.
		if resp := e.doJSON("POST", "/v1/me/mfa/passkeys/verify/finish", tok, `{"ceremony_id":"x"}`, &bad); resp.StatusCode != 400 || bad.Error.Fields["credential"] == "" {
			t.Errorf("no credential: %d %+v", resp.StatusCode, bad)
		}

		// The check is audited as a webauthn one, for Ada's sign-in.
		list, err := db.SearchAudit(cairn.SystemContext(context.Background()),
			cairn.AuditFilter{UserID: ada.ID, Action: cairn.AuditMFAVerify, Page: cairn.PageRequest{Limit: 10}})
		if err != nil || len(list.Data) != 1 || !json.Valid(list.Data[0].Details) || list.Data[0].ActorID != ada.ID {
			t.Fatalf("audit: %+v %v", list, err)
		}
		var details struct{ Method string }
		if json.Unmarshal(list.Data[0].Details, &details); details.Method != cairn.MFAWebAuthn {
			t.Errorf("audited method: %s", list.Data[0].Details)
		}

		// Removing the passkey, with the fresh check, leaves no factor.
		if resp := e.do("DELETE", "/v1/me/mfa/factors/"+done.Factor.ID, tok, nil); resp.StatusCode != 204 {
			t.Fatalf("remove: %d", resp.StatusCode)
		}
		e.wantError("POST", "/v1/me/mfa/passkeys/verify/begin", tok, 412, cairn.EPRECONDITION)
	})
}

// TestPasskeyGuessingIsLimited: assertions that do not verify count
// against the MFA rate limit like wrong codes (429 with Retry-After).
func TestPasskeyGuessingIsLimited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newIdentityEnv(t, db)
		ada := e.user("ada@example.com")
		tok := e.token(ada, time.Hour, cairn.ScopeProfileRead)
		key := mfatest.New(passkeyRP, passkeyOrigin)
		reg := e.begin("register", tok)
		cred, err := key.Create(reg.Options)
		if resp := e.doJSON("POST", "/v1/me/mfa/passkeys/register/finish", tok, finishBody(t, reg, cred, err, ""), nil); resp.StatusCode != 201 {
			t.Fatalf("register: %d", resp.StatusCode)
		}
		// A forged key: Ada's credential id, another private key.
		forged := mfatest.New(passkeyRP, passkeyOrigin)
		forged.CredentialID, forged.UserHandle = key.CredentialID, key.UserHandle
		for i := range 10 {
			c := e.begin("verify", tok)
			assertion, err := forged.Get(c.Options)
			var body errorShape
			resp, raw := e.raw("POST", "/v1/me/mfa/passkeys/verify/finish", tok, finishBody(t, c, assertion, err, ""), nil)
			_ = json.Unmarshal(raw, &body)
			if resp.StatusCode == 429 {
				if body.Error.Code != cairn.ERATELIMITED || resp.Header.Get("Retry-After") == "" {
					t.Fatalf("429 without its code or Retry-After: %+v %v", body, resp.Header)
				}
				if i < 3 {
					t.Fatalf("limited after %d failures: the free failures are gone", i)
				}
				// The owner's own key is refused too until the backoff ends.
				c := e.begin("verify", tok)
				assertion, err := key.Get(c.Options)
				if resp := e.doJSON("POST", "/v1/me/mfa/passkeys/verify/finish", tok, finishBody(t, c, assertion, err, ""), nil); resp.StatusCode != 429 {
					t.Errorf("a valid assertion while limited: %d", resp.StatusCode)
				}
				return
			}
			if resp.StatusCode != 401 || body.Error.Code != cairn.EUNAUTHENTICATED {
				t.Fatalf("forged assertion %d: %d %+v", i, resp.StatusCode, body)
			}
		}
		t.Fatal("ten forged assertions in a row were never limited")
	})
}
