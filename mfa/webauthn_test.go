package mfa_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/mfa"
	"github.com/cairn-fit/cairn/mfa/mfatest"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

const (
	rpID   = "cairn.example"
	origin = "https://cairn.example"
)

var b64 = base64.RawURLEncoding

// must returns an authenticator's answer, failing the test on an error.
func must(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
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
		key := mfatest.New(rpID, origin)

		// Registration.
		c, err := f.svc.BeginPasskeyRegistration(f.ctx, f.user, "s1")
		if err != nil {
			t.Fatal(err)
		}
		done, err := f.svc.FinishPasskeyRegistration(f.ctx, f.user, "s1", c.ID, "YubiKey", must(t)(key.Create(c.Options)))
		if err != nil {
			t.Fatal(err)
		}
		if done.Factor.Kind != cairn.MFAWebAuthn || done.Factor.Name != "YubiKey" || len(done.RecoveryCodes) != 10 ||
			string(done.Factor.CredentialID) != string(key.CredentialID) {
			t.Fatalf("registered: %+v", done)
		}
		if err := f.svc.RequireRecent(f.ctx, f.user.ID, "s1"); err != nil {
			t.Fatalf("registering a passkey is an MFA check: %v", err)
		}
		// A ceremony finishes once.
		_, err = f.svc.FinishPasskeyRegistration(f.ctx, f.user, "s1", c.ID, "again", must(t)(key.Create(c.Options)))
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
		if json.Unmarshal(c2.Options, &excl); len(excl.PublicKey.Exclude) != 1 || excl.PublicKey.Exclude[0].ID != b64.EncodeToString(key.CredentialID) {
			t.Fatalf("exclusions: %s", c2.Options)
		}
		_, err = f.svc.FinishPasskeyRegistration(f.ctx, f.user, "s1", c2.ID, "dup", must(t)(key.Create(c2.Options)))
		wantCode(t, err, cairn.ECONFLICT)
		// A response for another origin is refused.
		c3, _ := f.svc.BeginPasskeyRegistration(f.ctx, f.user, "s1")
		evil := mfatest.New(rpID, origin)
		evil.Origin = "https://evil.example"
		_, err = f.svc.FinishPasskeyRegistration(f.ctx, f.user, "s1", c3.ID, "evil", must(t)(evil.Create(c3.Options)))
		wantCode(t, err, cairn.EVALIDATION)

		// Login.
		l, err := f.svc.BeginPasskeyLogin(f.ctx, f.user)
		if err != nil {
			t.Fatal(err)
		}
		assertion := must(t)(key.Get(l.Options))
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
		forged := mfatest.New(rpID, origin)
		forged.CredentialID = key.CredentialID
		forged.Counter = 10
		forged.UserHandle = []byte(f.user.ID)
		wantCode(t, f.svc.FinishPasskeyLogin(f.ctx, f.user, "s3", l3.ID, must(t)(forged.Get(l3.Options))), cairn.EUNAUTHENTICATED)
		// A counter that does not move forward means a cloned key.
		l4, _ := f.svc.BeginPasskeyLogin(f.ctx, f.user)
		key.Counter = 0 // the next login signs counter 1 again
		wantCode(t, f.svc.FinishPasskeyLogin(f.ctx, f.user, "s3", l4.ID, must(t)(key.Get(l4.Options))), cairn.EUNAUTHENTICATED)
		l5, _ := f.svc.BeginPasskeyLogin(f.ctx, f.user)
		key.Counter = 4
		if err := f.svc.FinishPasskeyLogin(f.ctx, f.user, "s3", l5.ID, must(t)(key.Get(l5.Options))); err != nil {
			t.Fatalf("counter 5: %v", err)
		}
		// The counter was stored: 5 again is a clone.
		l6, _ := f.svc.BeginPasskeyLogin(f.ctx, f.user)
		key.Counter = 4
		wantCode(t, f.svc.FinishPasskeyLogin(f.ctx, f.user, "s4", l6.ID, must(t)(key.Get(l6.Options))), cairn.EUNAUTHENTICATED)

		// Another user can neither finish this user's ceremony nor log in
		// with this passkey.
		bob := &cairn.User{Email: "bob@example.com"}
		if err := db.CreateUser(cairn.SystemContext(f.ctx), bob); err != nil {
			t.Fatal(err)
		}
		bobCtx := cairn.WithActor(f.ctx, cairn.Actor{UserID: bob.ID})
		l7, _ := f.svc.BeginPasskeyLogin(f.ctx, f.user)
		wantCode(t, f.svc.FinishPasskeyLogin(bobCtx, bob, "s5", l7.ID, must(t)(key.Get(l7.Options))), cairn.EVALIDATION)
		_, err = f.svc.BeginPasskeyLogin(bobCtx, bob)
		wantCode(t, err, cairn.EPRECONDITION)

		st, err := f.svc.Status(f.ctx, f.user)
		if err != nil || len(st.Methods) != 2 || st.Methods[0] != cairn.MFAWebAuthn {
			t.Fatalf("status: %+v %v", st, err)
		}
	})
}
