package sqldb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

var admin = cairn.WithActor(context.Background(), cairn.Actor{UserID: "admin", Admin: true, Scopes: []cairn.Scope{cairn.ScopeAdmin}})

func TestAuditLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		ada := mustUser(t, db, "ada@example.com")
		bob := mustUser(t, db, "bob@example.com")
		clock := time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { clock = clock.Add(time.Minute); return clock }

		// The actor and the client come from the context unless given.
		ctx := cairn.WithClient(as(ada.ID), cairn.Client{IP: "203.0.113.9", UserAgent: "test/1"})
		e := &cairn.AuditEntry{UserID: ada.ID, Action: cairn.AuditMFAEnroll, Details: json.RawMessage(`{"kind": "totp"}`)}
		if err := db.RecordAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		if e.ActorID != ada.ID || e.IP != "203.0.113.9" || e.UserAgent != "test/1" || e.ID == "" {
			t.Fatalf("filled entry: %+v", e)
		}
		if err := db.InTx(sys, func(tx *sqldb.Tx) error {
			return tx.RecordAudit(sys, &cairn.AuditEntry{UserID: bob.ID, Action: cairn.AuditUserFreeze})
		}); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if err := db.RecordAudit(admin, &cairn.AuditEntry{UserID: bob.ID, Action: cairn.AuditUserUnfreeze,
				Details: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.RecordAudit(sys, &cairn.AuditEntry{Action: cairn.AuditKeysRotate}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.RecordAudit(sys, &cairn.AuditEntry{}), cairn.EVALIDATION)
		wantCode(t, db.RecordAudit(context.Background(), &cairn.AuditEntry{Action: "x"}), cairn.EINTERNAL)

		// Admins only.
		_, err := db.SearchAudit(as(ada.ID), cairn.AuditFilter{UserID: ada.ID})
		wantCode(t, err, cairn.EFORBIDDEN)

		all, err := db.SearchAudit(admin, cairn.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if all.Total != 8 || len(all.Data) != 8 || all.Data[0].Action != cairn.AuditKeysRotate ||
			all.Data[0].ActorID != cairn.AuditSystem || all.Data[0].UserID != "" {
			t.Fatalf("newest first, all 8: %+v", all)
		}
		first := all.Data[7]
		if first.ActorID != ada.ID || first.IP != "203.0.113.9" || string(first.Details) != `{"kind":"totp"}` ||
			!first.CreatedAt.Equal(e.CreatedAt) {
			t.Fatalf("round trip: %+v", first)
		}
		check := func(f cairn.AuditFilter, want int) *cairn.Page[cairn.AuditEntry] {
			t.Helper()
			p, err := db.SearchAudit(admin, f)
			if err != nil {
				t.Fatal(err)
			}
			limit := cairn.DefaultPageSize
			if f.Page.Limit > 0 {
				limit = f.Page.Limit
			}
			if p.Total != want || len(p.Data) != min(want, limit) {
				t.Fatalf("filter %+v: total %d, %d rows, want %d", f, p.Total, len(p.Data), want)
			}
			return p
		}
		check(cairn.AuditFilter{ActorID: "admin"}, 5)
		check(cairn.AuditFilter{ActorID: cairn.AuditSystem}, 2)
		check(cairn.AuditFilter{UserID: bob.ID}, 6)
		check(cairn.AuditFilter{UserID: bob.ID, Action: cairn.AuditUserFreeze}, 1)
		check(cairn.AuditFilter{Action: "nothing.like.this"}, 0)
		since, until := all.Data[5].CreatedAt, all.Data[1].CreatedAt
		mid := check(cairn.AuditFilter{Since: &since, Until: &until}, 4)
		if mid.Data[0].ID != all.Data[2].ID || mid.Data[3].ID != all.Data[5].ID {
			t.Fatalf("since inclusive, until exclusive: %+v", mid.Data)
		}
		_, err = db.SearchAudit(admin, cairn.AuditFilter{Since: &until, Until: &since})
		wantCode(t, err, cairn.EVALIDATION)

		// Keyset pages, both ways, under one filter only.
		f := cairn.AuditFilter{UserID: bob.ID, Page: cairn.PageRequest{Limit: 4}}
		p1 := check(f, 6)
		if len(p1.Data) != 4 || p1.NextCursor == nil || p1.PrevCursor != nil {
			t.Fatalf("page 1: %d rows, cursors %v %v", len(p1.Data), p1.NextCursor, p1.PrevCursor)
		}
		f.Page.Cursor = *p1.NextCursor
		p2, err := db.SearchAudit(admin, f)
		if err != nil || len(p2.Data) != 2 || p2.NextCursor != nil || p2.Data[0].ID != all.Data[5].ID {
			t.Fatalf("page 2: %+v %v", p2, err)
		}
		f.Page.Cursor = *p2.PrevCursor
		back, err := db.SearchAudit(admin, f)
		if err != nil || len(back.Data) != 4 || back.Data[0].ID != p1.Data[0].ID {
			t.Fatalf("back to page 1: %+v %v", back, err)
		}
		_, err = db.SearchAudit(admin, cairn.AuditFilter{UserID: ada.ID, Page: cairn.PageRequest{Cursor: *p1.NextCursor}})
		wantCode(t, err, cairn.EVALIDATION)
	})
}

// The audit log is append-only: the store offers no way to change or
// remove an entry.
func TestAuditLogHasNoUpdateOrDelete(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeOf(&sqldb.DB{}), reflect.TypeOf(&sqldb.Tx{})} {
		for i := range typ.NumMethod() {
			name := typ.Method(i).Name
			if strings.Contains(name, "Audit") && name != "RecordAudit" && name != "SearchAudit" {
				t.Errorf("%s has method %s on the audit log", typ, name)
			}
		}
	}
}

func TestMFAStorage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		ada := mustUser(t, db, "ada@example.com")
		bob := mustUser(t, db, "bob@example.com")
		me := as(ada.ID)

		totp := &cairn.MFAFactor{UserID: ada.ID, Kind: cairn.MFATOTP, Name: "phone", SecretEnc: []byte{1, 2, 3}}
		if err := db.CreateMFAFactor(me, totp); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.CreateMFAFactor(as(bob.ID), &cairn.MFAFactor{UserID: ada.ID, Kind: cairn.MFATOTP}), cairn.ENOTFOUND)
		wantCode(t, db.CreateMFAFactor(me, &cairn.MFAFactor{UserID: ada.ID, Kind: "sms"}), cairn.EVALIDATION)
		// A code cannot be used before the factor is confirmed; confirming
		// uses up the first code's step.
		wantCode(t, db.UseTOTPStep(me, ada.ID, totp.ID, 100), cairn.ECONFLICT)
		if err := db.ConfirmTOTPFactor(me, ada.ID, totp.ID, 100); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.ConfirmTOTPFactor(me, ada.ID, totp.ID, 101), cairn.ECONFLICT)
		wantCode(t, db.UseTOTPStep(me, ada.ID, totp.ID, 100), cairn.ECONFLICT)
		if err := db.UseTOTPStep(me, ada.ID, totp.ID, 102); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.UseTOTPStep(me, ada.ID, totp.ID, 101), cairn.ECONFLICT)
		wantCode(t, db.UseTOTPStep(as(bob.ID), ada.ID, totp.ID, 200), cairn.ENOTFOUND)
		got, err := db.FindMFAFactor(me, ada.ID, totp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastStep != 102 || got.ConfirmedAt == nil || got.LastUsedAt == nil || string(got.SecretEnc) != "\x01\x02\x03" || got.Name != "phone" {
			t.Fatalf("factor: %+v", got)
		}

		key := &cairn.MFAFactor{UserID: ada.ID, Kind: cairn.MFAWebAuthn, Name: "key", CredentialID: []byte("cred-1"),
			Credential: json.RawMessage(`{"id":"Y3JlZC0x","signCount":1}`), ConfirmedAt: &got.CreatedAt}
		if err := db.CreateMFAFactor(me, key); err != nil {
			t.Fatal(err)
		}
		// A credential id is registered once, for anyone.
		wantCode(t, db.CreateMFAFactor(as(bob.ID), &cairn.MFAFactor{UserID: bob.ID, Kind: cairn.MFAWebAuthn, CredentialID: []byte("cred-1")}), cairn.ECONFLICT)
		if err := db.UpdateWebAuthnCredential(me, ada.ID, key.ID, json.RawMessage(`{"id":"Y3JlZC0x","signCount":2}`)); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.UpdateWebAuthnCredential(me, ada.ID, totp.ID, json.RawMessage(`{}`)), cairn.ENOTFOUND)
		fs, err := db.MFAFactors(me, ada.ID)
		if err != nil || len(fs) != 2 || fs[0].ID != totp.ID || string(fs[1].Credential) != `{"id":"Y3JlZC0x","signCount":2}` ||
			string(fs[1].CredentialID) != "cred-1" {
			t.Fatalf("factors: %+v %v", fs, err)
		}
		if fs, _ := db.MFAFactors(as(bob.ID, cairn.ScopeProfileRead), bob.ID); len(fs) != 0 {
			t.Fatalf("bob sees factors: %+v", fs)
		}
		_, err = db.MFAFactors(as(bob.ID), ada.ID)
		wantCode(t, err, cairn.ENOTFOUND)
		wantCode(t, db.DeleteMFAFactor(as(bob.ID), ada.ID, key.ID), cairn.ENOTFOUND)
		wantCode(t, db.DeleteMFAFactor(as(bob.ID), bob.ID, key.ID), cairn.ENOTFOUND)
		if err := db.DeleteMFAFactor(me, ada.ID, key.ID); err != nil {
			t.Fatal(err)
		}

		// Recovery codes: replaced as a set, each used once.
		if err := db.ReplaceRecoveryCodes(me, ada.ID, [][]byte{{1}, {2}, {3}}); err != nil {
			t.Fatal(err)
		}
		if err := db.ReplaceRecoveryCodes(me, ada.ID, [][]byte{{4}, {5}}); err != nil {
			t.Fatal(err)
		}
		codes, err := db.UnusedRecoveryCodes(me, ada.ID)
		if err != nil || len(codes) != 2 {
			t.Fatalf("codes: %+v %v", codes, err)
		}
		if err := db.UseRecoveryCode(me, ada.ID, codes[0].ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.UseRecoveryCode(me, ada.ID, codes[0].ID), cairn.ECONFLICT)
		wantCode(t, db.UseRecoveryCode(as(bob.ID), ada.ID, codes[1].ID), cairn.ENOTFOUND)
		if left, _ := db.UnusedRecoveryCodes(me, ada.ID); len(left) != 1 || left[0].ID != codes[1].ID {
			t.Fatalf("left: %+v", left)
		}

		// Per-session MFA checks.
		_, _, err = db.MFASessionVerifiedAt(me, ada.ID, "s1")
		wantCode(t, err, cairn.ENOTFOUND)
		at1, err := db.RecordMFASession(me, ada.ID, "s1", cairn.MFATOTP)
		if err != nil {
			t.Fatal(err)
		}
		db.Now = func() time.Time { return at1.Add(time.Minute) }
		at2, err := db.RecordMFASession(me, ada.ID, "s1", cairn.MFAWebAuthn)
		if err != nil {
			t.Fatal(err)
		}
		if at, method, err := db.MFASessionVerifiedAt(me, ada.ID, "s1"); err != nil || !at.Equal(at2) || method != cairn.MFAWebAuthn {
			t.Fatalf("session: %v %q %v", at, method, err)
		}
		_, _, err = db.MFASessionVerifiedAt(as(bob.ID), ada.ID, "s1")
		wantCode(t, err, cairn.ENOTFOUND)
		// A grant inherits its browser's check with the check's own time.
		earlier := at1.Add(-3 * time.Minute)
		if err := db.RecordMFASessionAt(me, ada.ID, "grant:g1", cairn.MFARecoveryCode, earlier); err != nil {
			t.Fatal(err)
		}
		if at, method, err := db.MFASessionVerifiedAt(me, ada.ID, "grant:g1"); err != nil || !at.Equal(earlier) || method != cairn.MFARecoveryCode {
			t.Fatalf("grant session: %v %q %v", at, method, err)
		}
		wantCode(t, db.RecordMFASessionAt(as(bob.ID), ada.ID, "grant:g2", cairn.MFATOTP, earlier), cairn.ENOTFOUND)

		// WebAuthn ceremonies finish once, for their user and kind, before
		// they expire.
		exp := at2.Add(5 * time.Minute)
		c1, err := db.CreateWebAuthnCeremony(me, ada.ID, "registration", json.RawMessage(`{"challenge":"abc"}`), exp)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.TakeWebAuthnCeremony(as(bob.ID), bob.ID, c1, "registration")
		wantCode(t, err, cairn.ENOTFOUND)
		s, err := db.TakeWebAuthnCeremony(me, ada.ID, c1, "registration")
		if err != nil || string(s) != `{"challenge":"abc"}` {
			t.Fatalf("take: %s %v", s, err)
		}
		_, err = db.TakeWebAuthnCeremony(me, ada.ID, c1, "registration")
		wantCode(t, err, cairn.ENOTFOUND)
		c2, _ := db.CreateWebAuthnCeremony(me, ada.ID, "login", json.RawMessage(`{}`), exp)
		_, err = db.TakeWebAuthnCeremony(me, ada.ID, c2, "registration")
		wantCode(t, err, cairn.ENOTFOUND)
		c3, _ := db.CreateWebAuthnCeremony(me, ada.ID, "login", json.RawMessage(`{}`), exp)
		db.Now = func() time.Time { return exp }
		_, err = db.TakeWebAuthnCeremony(me, ada.ID, c3, "login")
		wantCode(t, err, cairn.ENOTFOUND)

		// The purge removes expired ceremonies, unconfirmed enrollments a
		// day old and session records a month old.
		c4, _ := db.CreateWebAuthnCeremony(me, ada.ID, "login", json.RawMessage(`{}`), exp)
		pending := &cairn.MFAFactor{UserID: ada.ID, Kind: cairn.MFATOTP, SecretEnc: []byte{9}}
		if err := db.CreateMFAFactor(me, pending); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PurgeExpired(context.Background(), exp.Add(25*time.Hour)); err != nil {
			t.Fatal(err)
		}
		_, err = db.TakeWebAuthnCeremony(me, ada.ID, c4, "login")
		wantCode(t, err, cairn.ENOTFOUND)
		_, err = db.FindMFAFactor(me, ada.ID, pending.ID)
		wantCode(t, err, cairn.ENOTFOUND)
		if _, err := db.FindMFAFactor(me, ada.ID, totp.ID); err != nil {
			t.Fatalf("a confirmed factor was purged: %v", err)
		}
		if _, _, err := db.MFASessionVerifiedAt(me, ada.ID, "s1"); err != nil {
			t.Fatalf("a recent session record was purged: %v", err)
		}
		if _, err := db.PurgeExpired(context.Background(), exp.Add(31*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		_, _, err = db.MFASessionVerifiedAt(me, ada.ID, "s1")
		wantCode(t, err, cairn.ENOTFOUND)
	})
}

func TestFreezeAndSoftDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		ada := mustUser(t, db, "ada@example.com")
		tok := &cairn.PersonalAccessToken{UserID: ada.ID, Hash: []byte("h"), Scopes: []cairn.Scope{cairn.ScopeProfileRead}}
		if err := db.CreateToken(sys, tok); err != nil {
			t.Fatal(err)
		}
		inTx := func(ctx context.Context, fn func(*sqldb.Tx) error) error { return db.InTx(ctx, fn) }

		var u *cairn.User
		wantCode(t, inTx(as(ada.ID), func(tx *sqldb.Tx) error {
			_, err := tx.SetUserStatus(as(ada.ID), ada.ID, cairn.UserFrozen)
			return err
		}), cairn.EFORBIDDEN)
		wantCode(t, inTx(admin, func(tx *sqldb.Tx) error {
			_, err := tx.SetUserStatus(admin, ada.ID, "gone")
			return err
		}), cairn.EVALIDATION)
		if err := inTx(admin, func(tx *sqldb.Tx) (err error) {
			u, err = tx.SetUserStatus(admin, ada.ID, cairn.UserFrozen)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if u.Status != cairn.UserFrozen || u.Email != ada.Email {
			t.Fatalf("frozen: %+v", u)
		}
		if _, tu, err := db.FindTokenUser(context.Background(), []byte("h")); err != nil || tu.Status != cairn.UserFrozen {
			t.Fatalf("the token lookup sees the status: %+v %v", tu, err)
		}
		if err := inTx(sys, func(tx *sqldb.Tx) (err error) {
			u, err = tx.SetUserStatus(sys, ada.ID, cairn.UserActive)
			return err
		}); err != nil || u.Status != cairn.UserActive {
			t.Fatalf("unfreeze: %+v %v", u, err)
		}

		var deletedAt time.Time
		if err := inTx(admin, func(tx *sqldb.Tx) (err error) {
			deletedAt, err = tx.SoftDeleteUser(admin, ada.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, err := db.FindUser(sys, ada.ID)
		wantCode(t, err, cairn.ENOTFOUND)
		_, _, err = db.FindTokenUser(context.Background(), []byte("h"))
		wantCode(t, err, cairn.ENOTFOUND)
		wantCode(t, inTx(admin, func(tx *sqldb.Tx) error { _, err := tx.SoftDeleteUser(admin, ada.ID); return err }), cairn.ENOTFOUND)
		wantCode(t, inTx(admin, func(tx *sqldb.Tx) error {
			_, err := tx.SetUserStatus(admin, ada.ID, cairn.UserFrozen)
			return err
		}), cairn.ENOTFOUND)
		// Only the system purges, and only the deletion it was asked for.
		_, err = db.PurgeUser(admin, ada.ID, deletedAt)
		wantCode(t, err, cairn.EFORBIDDEN)
		_, err = db.PurgeUser(sys, ada.ID, deletedAt.Add(-time.Second))
		wantCode(t, err, cairn.EPRECONDITION)

		if err := inTx(admin, func(tx *sqldb.Tx) (err error) {
			u, err = tx.RestoreUser(admin, ada.ID)
			return err
		}); err != nil || u.DeletedAt != nil {
			t.Fatalf("restore: %+v %v", u, err)
		}
		if _, err := db.FindUser(sys, ada.ID); err != nil {
			t.Fatal(err)
		}
		_, err = db.PurgeUser(sys, ada.ID, deletedAt)
		wantCode(t, err, cairn.EPRECONDITION)
	})
}

// userTables lists the tables with a user_id column, read from the schema
// independently of the store.
func userTables(t *testing.T, db *dbtest.DB) []string {
	t.Helper()
	q := `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name = 'user_id'`
	if db.Dialect() == "postgres" {
		q = `SELECT table_name FROM information_schema.columns WHERE column_name = 'user_id' AND table_schema = current_schema()`
	}
	rows, err := db.Reader().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func rowsOf(t *testing.T, db *dbtest.DB, userID string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range userTables(t, db) {
		var n int
		if err := db.Reader().QueryRow("SELECT count(*) FROM "+table+" WHERE user_id = $1", userID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			out[table] = n
		}
	}
	return out
}

func TestPurgeUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		seed := func(email string) *cairn.User {
			u := mustUser(t, db, email)
			me := as(u.ID)
			createActivities(t, db, me, u.ID, 3, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
			dev := &cairn.Device{UserID: u.ID, Model: "fr965"}
			if err := db.CreateDevice(me, dev); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateToken(sys, &cairn.PersonalAccessToken{UserID: u.ID, Hash: []byte(email), Scopes: []cairn.Scope{cairn.ScopeProfileRead}}); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateMFAFactor(me, &cairn.MFAFactor{UserID: u.ID, Kind: cairn.MFATOTP, SecretEnc: []byte{1}}); err != nil {
				t.Fatal(err)
			}
			if err := db.ReplaceRecoveryCodes(me, u.ID, [][]byte{[]byte(email)}); err != nil {
				t.Fatal(err)
			}
			if err := db.CreatePasswordReset(sys, &cairn.PasswordReset{UserID: u.ID, Hash: []byte("r" + email), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if err := db.RecordAudit(admin, &cairn.AuditEntry{UserID: u.ID, Action: cairn.AuditUserFreeze}); err != nil {
				t.Fatal(err)
			}
			return u
		}
		ada, bob := seed("ada@example.com"), seed("bob@example.com")
		// More activities than one purge statement deletes.
		dbtest.SeedActivities(t, db, ada.ID, 6000)
		bobBefore := rowsOf(t, db, bob.ID)
		adaBefore := rowsOf(t, db, ada.ID)
		if len(adaBefore) < 8 || adaBefore["activities"] != 6003 {
			t.Fatalf("seeded too little to test: %v", adaBefore)
		}

		var deletedAt time.Time
		if err := db.InTx(admin, func(tx *sqldb.Tx) (err error) {
			deletedAt, err = tx.SoftDeleteUser(admin, ada.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		counts, err := db.PurgeUser(sys, ada.ID, deletedAt)
		if err != nil {
			t.Fatal(err)
		}
		if left := rowsOf(t, db, ada.ID); len(left) != 1 || left["audit_log"] != 1 {
			t.Fatalf("rows left after the purge: %v (only the audit log keeps its entry)", left)
		}
		if counts["activities"] != 6003 || counts["users"] != 1 {
			t.Fatalf("counts: %v", counts)
		}
		var n int
		if err := db.Reader().QueryRow("SELECT count(*) FROM users WHERE id = $1", ada.ID).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the user row is still there: %d %v", n, err)
		}
		if after := rowsOf(t, db, bob.ID); !reflect.DeepEqual(after, bobBefore) {
			t.Fatalf("another user's rows changed: %v, was %v", after, bobBefore)
		}
		// Again: nothing to do.
		if counts, err := db.PurgeUser(sys, ada.ID, deletedAt); err != nil || counts != nil {
			t.Fatalf("second purge: %v %v", counts, err)
		}
		_, err = db.PurgeUser(sys, bob.ID, deletedAt)
		wantCode(t, err, cairn.EPRECONDITION)
	})
}

func TestPasswordResets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		ada := mustUser(t, db, "ada@example.com")
		now := time.Now()
		mk := func(h string, exp time.Time) {
			t.Helper()
			if err := db.CreatePasswordReset(sys, &cairn.PasswordReset{UserID: ada.ID, Hash: []byte(h), ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
		}
		mk("a", now.Add(time.Hour))
		mk("b", now.Add(time.Hour))
		mk("old", now.Add(-time.Second))
		wantCode(t, db.CreatePasswordReset(as("someone"), &cairn.PasswordReset{UserID: ada.ID, Hash: []byte("c"), ExpiresAt: now}), cairn.ENOTFOUND)
		consume := func(ctx context.Context, h string) (string, error) {
			var id string
			err := db.InTx(ctx, func(tx *sqldb.Tx) (err error) {
				id, err = tx.ConsumePasswordReset(ctx, []byte(h), "$argon2id$new")
				return err
			})
			return id, err
		}
		_, err := consume(as(ada.ID), "a")
		wantCode(t, err, cairn.EFORBIDDEN)
		_, err = consume(sys, "old")
		wantCode(t, err, cairn.ENOTFOUND)
		_, err = consume(sys, "nope")
		wantCode(t, err, cairn.ENOTFOUND)
		id, err := consume(sys, "a")
		if err != nil || id != ada.ID {
			t.Fatalf("consume: %q %v", id, err)
		}
		u, _ := db.FindUser(sys, ada.ID)
		if u.PasswordHash != "$argon2id$new" {
			t.Fatalf("password hash %q", u.PasswordHash)
		}
		// Single use, and the other outstanding token is void too.
		_, err = consume(sys, "a")
		wantCode(t, err, cairn.ENOTFOUND)
		_, err = consume(sys, "b")
		wantCode(t, err, cairn.ENOTFOUND)
		mk("c", now.Add(time.Hour))
		if err := db.InTx(admin, func(tx *sqldb.Tx) error { _, err := tx.SoftDeleteUser(admin, ada.ID); return err }); err != nil {
			t.Fatal(err)
		}
		_, err = consume(sys, "c")
		wantCode(t, err, cairn.ENOTFOUND)
	})
}
