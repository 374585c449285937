package sqldb_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

func mustClient(t *testing.T, db *dbtest.DB) *cairn.OAuthClient {
	t.Helper()
	c := &cairn.OAuthClient{Name: "app", SecretHash: []byte("hash-1"), GrantTypes: []string{cairn.GrantAuthorizationCode,
		cairn.GrantRefreshToken}, Scopes: []cairn.Scope{cairn.ScopeActivityRead}, RedirectURIs: []string{"https://app.example/cb"}}
	if err := db.CreateOAuthClient(sys, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOAuthClients(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		if err := db.CreateOAuthClient(as(u.ID, cairn.ScopeAdmin), &cairn.OAuthClient{Name: "x"}); cairn.ErrorCode(err) != cairn.EFORBIDDEN {
			t.Fatalf("a user registered a client: %v", err)
		}
		wantCode(t, db.CreateOAuthClient(sys, &cairn.OAuthClient{Name: "bad", GrantTypes: []string{cairn.GrantAuthorizationCode},
			Scopes: []cairn.Scope{cairn.ScopeAdmin}, RedirectURIs: []string{"https://a.example/cb"}}), cairn.EVALIDATION)
		c := mustClient(t, db)
		got, err := db.FindOAuthClient(sys, c.ID)
		if err != nil || got.Name != "app" || !bytes.Equal(got.SecretHash, []byte("hash-1")) || got.Public ||
			len(got.GrantTypes) != 2 || got.RedirectURIs[0] != "https://app.example/cb" || got.PreviousSecretHash != nil {
			t.Fatalf("found %+v, %v", got, err)
		}
		if _, err := db.FindOAuthClient(as(u.ID), c.ID); cairn.ErrorCode(err) != cairn.EFORBIDDEN {
			t.Fatalf("a user read a client: %v", err)
		}
		grace := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		rot, err := db.RotateOAuthClientSecret(sys, c.ID, []byte("hash-2"), grace)
		if err != nil || !bytes.Equal(rot.SecretHash, []byte("hash-2")) || !bytes.Equal(rot.PreviousSecretHash, []byte("hash-1")) ||
			rot.PreviousSecretExpiresAt == nil || !rot.PreviousSecretExpiresAt.Equal(grace) {
			t.Fatalf("rotated %+v, %v", rot, err)
		}
		_, err = db.RotateOAuthClientSecret(sys, "no-such-client", []byte("h"), grace)
		wantCode(t, err, cairn.ENOTFOUND)

		// Clients a user registered, oldest first; none of another's.
		other := mustUser(t, db, "bob@example.com")
		for _, id := range []string{"ada-1", "ada-2"} {
			if err := db.CreateOAuthClient(sys, &cairn.OAuthClient{ID: id, Name: id, OwnerID: u.ID,
				GrantTypes: []string{cairn.GrantClientCredentials}, Scopes: []cairn.Scope{cairn.ScopeProfileRead}}); err != nil {
				t.Fatal(err)
			}
		}
		owned, err := db.ListOAuthClientsByOwner(sys, u.ID)
		if err != nil || len(owned) != 2 || owned[0].ID != "ada-1" || owned[1].ID != "ada-2" || owned[0].OwnerID != u.ID {
			t.Fatalf("Ada's clients: %+v, %v", owned, err)
		}
		if owned, err := db.ListOAuthClientsByOwner(sys, other.ID); err != nil || len(owned) != 0 {
			t.Fatalf("Bob's clients: %+v, %v", owned, err)
		}
		if _, err := db.ListOAuthClientsByOwner(as(u.ID), u.ID); cairn.ErrorCode(err) != cairn.EFORBIDDEN {
			t.Fatalf("a user listed clients: %v", err)
		}
	})
}

func TestOAuthTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		c := mustClient(t, db)
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		mk := func(kind, hash, req string) {
			t.Helper()
			tok := &cairn.OAuthToken{Kind: kind, Hash: []byte(hash), RequestID: req, ClientID: c.ID, UserID: u.ID,
				ExpiresAt: &exp, Request: []byte(`{"id":"` + req + `"}`)}
			if err := db.CreateOAuthToken(sys, tok); err != nil {
				t.Fatal(err)
			}
		}
		mk(cairn.OAuthRefresh, "r1", "fam-a")
		mk(cairn.OAuthRefresh, "r2", "fam-a")
		mk(cairn.OAuthAccess, "a1", "fam-a")
		mk(cairn.OAuthRefresh, "r3", "fam-b")
		got, err := db.FindOAuthToken(sys, cairn.OAuthRefresh, []byte("r1"))
		if err != nil || !got.Active || got.UserID != u.ID || got.RequestID != "fam-a" || string(got.Request) != `{"id":"fam-a"}` ||
			!got.ExpiresAt.Equal(exp) {
			t.Fatalf("found %+v, %v", got, err)
		}
		// The kind is part of the key.
		_, err = db.FindOAuthToken(sys, cairn.OAuthAccess, []byte("r1"))
		wantCode(t, err, cairn.ENOTFOUND)
		// Spending succeeds once.
		if err := db.SpendOAuthToken(sys, cairn.OAuthRefresh, []byte("r1")); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.SpendOAuthToken(sys, cairn.OAuthRefresh, []byte("r1")), cairn.ECONFLICT)
		wantCode(t, db.SpendOAuthToken(sys, cairn.OAuthRefresh, []byte("missing")), cairn.ENOTFOUND)
		// A family's refresh tokens go inactive, its access tokens away;
		// another family is untouched.
		if err := db.DeactivateOAuthTokens(sys, cairn.OAuthRefresh, "fam-a"); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteOAuthTokens(sys, cairn.OAuthAccess, "fam-a"); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.FindOAuthToken(sys, cairn.OAuthRefresh, []byte("r2")); got.Active {
			t.Error("r2 still active after its family was revoked")
		}
		_, err = db.FindOAuthToken(sys, cairn.OAuthAccess, []byte("a1"))
		wantCode(t, err, cairn.ENOTFOUND)
		if got, _ := db.FindOAuthToken(sys, cairn.OAuthRefresh, []byte("r3")); !got.Active {
			t.Error("another family was revoked")
		}
		// Client credentials tokens have no user.
		tok := &cairn.OAuthToken{Kind: cairn.OAuthAccess, Hash: []byte("cc"), RequestID: "fam-c", ClientID: c.ID, Request: []byte(`{}`)}
		if err := db.CreateOAuthToken(sys, tok); err != nil {
			t.Fatal(err)
		}
		if got, err := db.FindOAuthToken(sys, cairn.OAuthAccess, []byte("cc")); err != nil || got.UserID != "" || got.ExpiresAt != nil {
			t.Fatalf("client token %+v, %v", got, err)
		}
		// Purge removes what has expired.
		if n, err := db.PurgeExpiredOAuth(context.Background(), exp.Add(time.Second)); err != nil || n != 3 {
			t.Fatalf("purged %d, %v; want 3", n, err)
		}
	})
}

func TestOAuthTransactions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		c := mustClient(t, db)
		create := func(ctx context.Context, hash string) {
			t.Helper()
			if err := db.CreateOAuthToken(ctx, &cairn.OAuthToken{Kind: cairn.OAuthAccess, Hash: []byte(hash),
				RequestID: "r", ClientID: c.ID, Request: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
		}
		ctx, err := db.BeginOAuthTx(sys)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.BeginOAuthTx(ctx); err == nil {
			t.Fatal("nested transaction started")
		}
		create(ctx, "rolled-back")
		// The transaction sees its own write.
		if _, err := db.FindOAuthToken(ctx, cairn.OAuthAccess, []byte("rolled-back")); err != nil {
			t.Fatal(err)
		}
		if err := db.RollbackOAuthTx(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = db.FindOAuthToken(sys, cairn.OAuthAccess, []byte("rolled-back"))
		wantCode(t, err, cairn.ENOTFOUND)

		ctx, err = db.BeginOAuthTx(sys)
		if err != nil {
			t.Fatal(err)
		}
		create(ctx, "committed")
		if err := db.CommitOAuthTx(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.RollbackOAuthTx(ctx); err != nil {
			t.Fatalf("rollback after commit: %v", err)
		}
		if _, err := db.FindOAuthToken(sys, cairn.OAuthAccess, []byte("committed")); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDeviceGrants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		c := mustClient(t, db)
		now := time.Now().UTC().Truncate(time.Millisecond)
		g := &cairn.DeviceGrant{DeviceCodeHash: []byte("dev"), UserCodeHash: []byte("user"), RequestID: "req", ClientID: c.ID,
			Scopes: []cairn.Scope{cairn.ScopeActivityRead}, Interval: 5 * time.Second, ExpiresAt: now.Add(10 * time.Minute)}
		if err := db.CreateDeviceGrant(sys, g); err != nil {
			t.Fatal(err)
		}
		dup := *g
		dup.DeviceCodeHash = []byte("dev-2")
		wantCode(t, db.CreateDeviceGrant(sys, &dup), cairn.ECONFLICT) // same user code
		if err := db.RecordDevicePoll(sys, []byte("dev"), now, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindDeviceGrant(sys, []byte("dev"))
		if err != nil || got.Status != cairn.DevicePending || got.Interval != 10*time.Second || got.LastPolledAt == nil ||
			!got.LastPolledAt.Equal(now) || got.UserID != "" {
			t.Fatalf("found %+v, %v", got, err)
		}
		// An expired grant cannot be decided.
		wantCode(t, db.DecideDeviceGrant(sys, []byte("user"), u.ID, nil, true, now.Add(time.Hour)), cairn.ENOTFOUND)
		wantCode(t, db.UseDeviceGrant(sys, []byte("dev")), cairn.ECONFLICT) // not approved yet
		if err := db.DecideDeviceGrant(sys, []byte("user"), u.ID, []cairn.Scope{cairn.ScopeActivityRead}, true, now); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.DecideDeviceGrant(sys, []byte("user"), u.ID, nil, false, now), cairn.ENOTFOUND) // decided already
		got, err = db.FindDeviceGrantByUserCode(sys, []byte("user"))
		if err != nil || got.Status != cairn.DeviceApproved || got.UserID != u.ID {
			t.Fatalf("found %+v, %v", got, err)
		}
		if err := db.UseDeviceGrant(sys, []byte("dev")); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.UseDeviceGrant(sys, []byte("dev")), cairn.ECONFLICT)
	})
}

func TestWebSessionsAndSecret(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		s := &cairn.WebSession{Hash: []byte("cookie"), UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}
		if err := db.CreateWebSession(sys, s); err != nil {
			t.Fatal(err)
		}
		if got, err := db.FindWebSession(sys, []byte("cookie")); err != nil || got.UserID != u.ID || got.Pending || got.MFAAt != nil {
			t.Fatalf("found %+v, %v", got, err)
		}
		// A sign-in waiting for its second factor, and one that passed it.
		pending := &cairn.WebSession{Hash: []byte("pending"), UserID: u.ID, Pending: true, ExpiresAt: time.Now().Add(time.Minute)}
		mfaAt := time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)
		passed := &cairn.WebSession{Hash: []byte("passed"), UserID: u.ID, MFAAt: &mfaAt, MFAMethod: cairn.MFATOTP, ExpiresAt: time.Now().Add(time.Hour)}
		for _, ws := range []*cairn.WebSession{pending, passed} {
			if err := db.CreateWebSession(sys, ws); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := db.FindWebSession(sys, []byte("pending")); err != nil || !got.Pending || got.MFAAt != nil {
			t.Fatalf("pending: %+v, %v", got, err)
		}
		if got, err := db.FindWebSession(sys, []byte("passed")); err != nil || got.Pending || got.MFAAt == nil ||
			!got.MFAAt.Equal(mfaAt) || got.MFAMethod != cairn.MFATOTP {
			t.Fatalf("passed MFA: %+v, %v", got, err)
		}
		// Sessions are the system's: a user cannot read them.
		_, err := db.FindWebSession(cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID}), []byte("passed"))
		if err == nil {
			t.Fatal("a user read a web session")
		}
		if err := db.DeleteWebSession(sys, []byte("cookie")); err != nil {
			t.Fatal(err)
		}
		_, err = db.FindWebSession(sys, []byte("cookie"))
		wantCode(t, err, cairn.ENOTFOUND)

		first, err := db.EnsureOAuthSecret(sys, []byte("first-secret"))
		if err != nil || string(first) != "first-secret" {
			t.Fatalf("first secret %q, %v", first, err)
		}
		second, err := db.EnsureOAuthSecret(sys, []byte("second-secret"))
		if err != nil || string(second) != "first-secret" {
			t.Fatalf("second call returned %q, %v; want the first secret", second, err)
		}
	})
}
