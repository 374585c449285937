package sqldb_test

import (
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

func TestSignUpsAndEndingSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		ada := mustUser(t, db, "ada@example.com")
		bob := mustUser(t, db, "bob@example.com")
		now := time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }

		// Only the system reaches sign-ups, reset tokens by hash, and the
		// ending of sessions.
		s1 := &cairn.SignUp{Email: "dan@example.com", Name: "Dan", PasswordHash: "h1", Hash: []byte("token-1"), ExpiresAt: now.Add(time.Hour)}
		wantCode(t, db.CreateSignUp(as(ada.ID), s1), cairn.EFORBIDDEN)
		wantCode(t, db.CreateSignUp(admin, s1), cairn.EFORBIDDEN)
		_, err := db.FindSignUp(as(ada.ID), s1.Hash)
		wantCode(t, err, cairn.EFORBIDDEN)
		_, err = db.FindPasswordReset(as(ada.ID), []byte("x"))
		wantCode(t, err, cairn.EFORBIDDEN)
		wantCode(t, db.InTx(sys, func(tx *sqldb.Tx) error {
			_, _, err := tx.EndUserSessions(as(ada.ID), ada.ID)
			return err
		}), cairn.EFORBIDDEN)

		s2 := &cairn.SignUp{Email: "dan@example.com", Name: "Mallory", PasswordHash: "h2", Hash: []byte("token-2"), ExpiresAt: now.Add(time.Hour)}
		old := &cairn.SignUp{Email: "erin@example.com", PasswordHash: "h3", Hash: []byte("token-3"), ExpiresAt: now.Add(-time.Second)}
		for _, s := range []*cairn.SignUp{s1, s2, old} {
			if err := db.CreateSignUp(sys, s); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.FindSignUp(sys, s1.Hash)
		if err != nil || got.Email != "dan@example.com" || got.Name != "Dan" || got.PasswordHash != "h1" || got.UsedAt != nil || !got.ExpiresAt.Equal(s1.ExpiresAt) {
			t.Fatalf("found %+v %v", got, err)
		}
		consume := func(hash string) (*cairn.SignUp, error) {
			var s *cairn.SignUp
			err := db.InTx(sys, func(tx *sqldb.Tx) (err error) {
				s, err = tx.ConsumeSignUp(sys, []byte(hash))
				return err
			})
			return s, err
		}
		_, err = consume("token-3") // expired
		wantCode(t, err, cairn.ENOTFOUND)
		_, err = consume("unknown")
		wantCode(t, err, cairn.ENOTFOUND)
		if s, err := consume("token-1"); err != nil || s.PasswordHash != "h1" {
			t.Fatalf("consume %+v %v", s, err)
		}
		// Used once; the address's other sign-up is void with it.
		for _, h := range []string{"token-1", "token-2"} {
			_, err = consume(h)
			wantCode(t, err, cairn.ENOTFOUND)
			if s, err := db.FindSignUp(sys, []byte(h)); err != nil || s.UsedAt == nil {
				t.Errorf("%s: %+v %v", h, s, err)
			}
		}
		// The purge takes used and expired sign-ups.
		if _, err := db.PurgeExpired(sys, now); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"token-1", "token-2", "token-3"} {
			_, err := db.FindSignUp(sys, []byte(h))
			wantCode(t, err, cairn.ENOTFOUND)
		}

		// Reset tokens are found by hash, used or not.
		r := &cairn.PasswordReset{UserID: ada.ID, Hash: []byte("reset-1"), ExpiresAt: now.Add(time.Hour)}
		if err := db.CreatePasswordReset(sys, r); err != nil {
			t.Fatal(err)
		}
		if f, err := db.FindPasswordReset(sys, r.Hash); err != nil || f.UserID != ada.ID || f.UsedAt != nil {
			t.Fatalf("reset %+v %v", f, err)
		}

		// Ending ada's sessions leaves bob's.
		for _, u := range []string{ada.ID, ada.ID, bob.ID} {
			if err := db.CreateWebSession(sys, &cairn.WebSession{Hash: []byte(sqldb.NewID()), UserID: u, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		var sessions int64
		if err := db.InTx(sys, func(tx *sqldb.Tx) (err error) {
			sessions, _, err = tx.EndUserSessions(sys, ada.ID)
			return err
		}); err != nil || sessions != 2 {
			t.Fatalf("ended %d sessions: %v", sessions, err)
		}
		if err := db.InTx(sys, func(tx *sqldb.Tx) (err error) {
			sessions, _, err = tx.EndUserSessions(sys, bob.ID)
			return err
		}); err != nil || sessions != 1 {
			t.Fatalf("bob's sessions: %d %v", sessions, err)
		}
	})
}
