package mfa_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/mfa"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// RFC 6238 Appendix B, the SHA-1 rows: the 20-byte ASCII seed, 8 digits.
func TestRFC6238Vectors(t *testing.T) {
	seed := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		code string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		got, err := mfa.Code(seed, time.Unix(v.unix, 0), 8)
		if err != nil || got != v.code {
			t.Errorf("T=%d: %q %v, want %s", v.unix, got, err, v.code)
		}
		// Six digits are the same truncation modulo 10^6.
		if six, _ := mfa.Code(seed, time.Unix(v.unix, 0), 6); six != v.code[2:] {
			t.Errorf("T=%d, 6 digits: %q, want %s", v.unix, six, v.code[2:])
		}
	}
}

type fixture struct {
	db    *dbtest.DB
	svc   *mfa.Service
	user  *cairn.User
	ctx   context.Context
	clock time.Time
}

// t0 is the start of a TOTP time step.
var t0 = time.Unix(1_900_000_020, 0).UTC()

func setup(t *testing.T, db *dbtest.DB, roles ...string) *fixture {
	t.Helper()
	line, _ := secrets.NewKey("test")
	keys, err := secrets.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	u := &cairn.User{Email: "ada@example.com", Name: "Ada", Roles: roles}
	if err := db.CreateUser(cairn.SystemContext(context.Background()), u); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, user: u, clock: t0,
		ctx: cairn.WithClient(cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID}), cairn.Client{IP: "192.0.2.1"})}
	f.svc = &mfa.Service{DB: db.DB, Keys: keys, Now: func() time.Time { return f.clock }}
	db.Now = func() time.Time { return f.clock }
	return f
}

func (f *fixture) at(steps int) { f.clock = t0.Add(time.Duration(steps) * mfa.Period) }

func code(t *testing.T, secret string, steps int) string {
	t.Helper()
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mfa.Code(raw, t0.Add(time.Duration(steps)*mfa.Period), mfa.Digits)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := cairn.ErrorCode(err); got != code {
		t.Fatalf("error code %q (%v), want %q", got, err, code)
	}
}

// enrollTOTP enrolls and confirms an app at step 0, returning its secret
// and recovery codes.
func (f *fixture) enrollTOTP(t *testing.T, session string) (string, *mfa.Enrolled) {
	t.Helper()
	f.at(0)
	e, err := f.svc.EnrollTOTP(f.ctx, f.user, session, "phone")
	if err != nil {
		t.Fatal(err)
	}
	done, err := f.svc.ConfirmTOTP(f.ctx, f.user.ID, session, e.FactorID, code(t, e.Secret, 0))
	if err != nil {
		t.Fatal(err)
	}
	return e.Secret, done
}

func TestTOTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		e, err := f.svc.EnrollTOTP(f.ctx, f.user, "s1", "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(e.URL, "otpauth://totp/cairn:ada@example.com?") || !strings.Contains(e.URL, "secret="+e.Secret) ||
			len(e.Secret) != 32 {
			t.Fatalf("enrollment: %+v", e)
		}
		// Not a factor until confirmed.
		if fs, _ := f.svc.Factors(f.ctx, f.user.ID); len(fs) != 0 {
			t.Fatalf("unconfirmed factor listed: %+v", fs)
		}
		wantCode(t, f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", code(t, e.Secret, 0)), cairn.EUNAUTHENTICATED)
		_, err = f.svc.ConfirmTOTP(f.ctx, f.user.ID, "s1", e.FactorID, code(t, e.Secret, 2))
		wantCode(t, err, cairn.EUNAUTHENTICATED)
		// The key can be shown again while it waits (after a mistyped
		// code), to its user only.
		again, err := f.svc.PendingTOTP(f.ctx, f.user, "s1", e.FactorID)
		if err != nil || *again != *e {
			t.Fatalf("pending enrollment: %+v %v, want %+v", again, err, e)
		}
		eve := &cairn.User{Email: "eve@example.com"}
		if err := db.CreateUser(cairn.SystemContext(context.Background()), eve); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.PendingTOTP(cairn.WithActor(context.Background(), cairn.Actor{UserID: eve.ID}), f.user, "s1", e.FactorID)
		wantCode(t, err, cairn.ENOTFOUND)
		done, err := f.svc.ConfirmTOTP(f.ctx, f.user.ID, "s1", e.FactorID, code(t, e.Secret, 0))
		if err != nil {
			t.Fatal(err)
		}
		if done.Factor.Kind != cairn.MFATOTP || done.Factor.Name != "Authenticator app" || len(done.RecoveryCodes) != mfa.RecoveryCodeCount {
			t.Fatalf("confirmed: %+v", done)
		}
		_, err = f.svc.ConfirmTOTP(f.ctx, f.user.ID, "s1", e.FactorID, code(t, e.Secret, 1))
		wantCode(t, err, cairn.ECONFLICT)
		// Once confirmed it is not shown again.
		_, err = f.svc.PendingTOTP(f.ctx, f.user, "s1", e.FactorID)
		wantCode(t, err, cairn.ECONFLICT)

		// The secret is sealed for its row.
		stored, err := db.FindMFAFactor(f.ctx, f.user.ID, e.FactorID)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
		if bytes.Contains(stored.SecretEnc, raw) {
			t.Fatal("the TOTP secret is stored in the clear")
		}
		if p, err := f.svc.Keys.Open(stored.SecretEnc, secrets.AD("mfa_factors", "secret_enc", e.FactorID)); err != nil || !bytes.Equal(p, raw) {
			t.Fatalf("sealed secret: %v", err)
		}

		// Clock drift: one step either way is accepted, two are not.
		f.at(10)
		for _, bad := range []int{8, 12, 13, 7, 0} {
			wantCode(t, f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", code(t, e.Secret, bad)), cairn.EUNAUTHENTICATED)
		}
		if err := f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", code(t, e.Secret, 9)); err != nil {
			t.Fatalf("one step late: %v", err)
		}
		// Each code works once: replaying it, or any code of that step or
		// before, is refused.
		wantCode(t, f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", code(t, e.Secret, 9)), cairn.EUNAUTHENTICATED)
		if err := f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", code(t, e.Secret, 11)); err != nil {
			t.Fatalf("one step early: %v", err)
		}
		wantCode(t, f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", code(t, e.Secret, 11)), cairn.EUNAUTHENTICATED)
		wantCode(t, f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", code(t, e.Secret, 10)), cairn.EUNAUTHENTICATED)
		f.at(12)
		c := code(t, e.Secret, 12)
		if err := f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", c[:3]+" "+c[3:]); err != nil {
			t.Fatalf("a code with a space: %v", err)
		}
		for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
			wantCode(t, f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", bad), cairn.EUNAUTHENTICATED)
		}
		// Another user's code checks against their own factors only.
		other := &cairn.User{Email: "bob@example.com"}
		if err := db.CreateUser(cairn.SystemContext(context.Background()), other); err != nil {
			t.Fatal(err)
		}
		f.at(13)
		bob := cairn.WithActor(context.Background(), cairn.Actor{UserID: other.ID})
		wantCode(t, f.svc.VerifyTOTP(bob, other.ID, "s9", code(t, e.Secret, 13)), cairn.EUNAUTHENTICATED)
		wantCode(t, f.svc.VerifyTOTP(bob, f.user.ID, "s9", code(t, e.Secret, 13)), cairn.ENOTFOUND)
	})
}

func TestRecoveryCodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		_, err := f.svc.RegenerateRecoveryCodes(f.ctx, f.user.ID, "s1")
		wantCode(t, err, cairn.EPRECONDITION)
		_, done := f.enrollTOTP(t, "s1")
		codes := done.RecoveryCodes
		format := regexp.MustCompile(`^[a-z2-7]{4}(-[a-z2-7]{4}){3}$`)
		seen := map[string]bool{}
		for _, c := range codes {
			if !format.MatchString(c) || seen[c] {
				t.Fatalf("codes %v", codes)
			}
			seen[c] = true
		}
		// Stored as hashes only.
		stored, err := db.UnusedRecoveryCodes(f.ctx, f.user.ID)
		if err != nil || len(stored) != 10 {
			t.Fatalf("stored: %d %v", len(stored), err)
		}
		for _, s := range stored {
			for _, c := range codes {
				if bytes.Contains(s.Hash, []byte(c)) || bytes.Contains(s.Hash, []byte(strings.ReplaceAll(c, "-", ""))) {
					t.Fatal("a recovery code is stored in the clear")
				}
			}
		}
		if err := f.svc.VerifyRecoveryCode(f.ctx, f.user.ID, "s2", codes[3]); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.VerifyRecoveryCode(f.ctx, f.user.ID, "s2", codes[3]), cairn.EUNAUTHENTICATED)
		// Typed in capitals without dashes.
		if err := f.svc.VerifyRecoveryCode(f.ctx, f.user.ID, "s2", strings.ToUpper(strings.ReplaceAll(codes[4], "-", " "))); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.VerifyRecoveryCode(f.ctx, f.user.ID, "s2", "aaaa-aaaa-aaaa-aaaa"), cairn.EUNAUTHENTICATED)
		if err := f.svc.RequireRecent(f.ctx, f.user.ID, "s2"); err != nil {
			t.Fatalf("a recovery code is an MFA check: %v", err)
		}
		page, err := db.SearchAudit(cairn.SystemContext(context.Background()), cairn.AuditFilter{UserID: f.user.ID, Action: cairn.AuditMFARecoveryUsed})
		if err != nil || page.Total != 2 || page.Data[0].IP != "192.0.2.1" {
			t.Fatalf("audit: %+v %v", page, err)
		}

		// New codes replace the old ones, after a recent check.
		f.at(20)
		_, err = f.svc.RegenerateRecoveryCodes(f.ctx, f.user.ID, "s2")
		wantCode(t, err, cairn.ESTEPUPREQUIRED)
		if err := f.svc.VerifyRecoveryCode(f.ctx, f.user.ID, "s2", codes[5]); err != nil {
			t.Fatal(err)
		}
		fresh, err := f.svc.RegenerateRecoveryCodes(f.ctx, f.user.ID, "s2")
		if err != nil || len(fresh) != 10 {
			t.Fatalf("regenerate: %v %v", fresh, err)
		}
		wantCode(t, f.svc.VerifyRecoveryCode(f.ctx, f.user.ID, "s2", codes[6]), cairn.EUNAUTHENTICATED)
		if err := f.svc.VerifyRecoveryCode(f.ctx, f.user.ID, "s2", fresh[0]); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStepUpAndFactorManagement(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		wantCode(t, f.svc.RequireRecent(f.ctx, f.user.ID, "s1"), cairn.ESTEPUPREQUIRED)
		secret, _ := f.enrollTOTP(t, "s1")
		// Confirming was a check: recent for five minutes, in that session only.
		if err := f.svc.RequireRecent(f.ctx, f.user.ID, "s1"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.RequireRecent(f.ctx, f.user.ID, "s2"), cairn.ESTEPUPREQUIRED)
		wantCode(t, f.svc.RequireRecent(f.ctx, f.user.ID, ""), cairn.ESTEPUPREQUIRED)
		f.clock = t0.Add(mfa.StepUpWindow)
		if err := f.svc.RequireRecent(f.ctx, f.user.ID, "s1"); err != nil {
			t.Fatalf("at exactly five minutes: %v", err)
		}
		f.clock = t0.Add(mfa.StepUpWindow + time.Second)
		wantCode(t, f.svc.RequireRecent(f.ctx, f.user.ID, "s1"), cairn.ESTEPUPREQUIRED)
		// A check recorded at an earlier time (a grant inheriting its
		// browser's sign-in) counts from that time.
		if err := f.svc.MarkVerifiedAt(f.ctx, f.user.ID, "grant:g1", cairn.MFATOTP, f.clock.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RequireRecent(f.ctx, f.user.ID, "grant:g1"); err != nil {
			t.Fatal(err)
		}
		f.clock = f.clock.Add(mfa.StepUpWindow - time.Minute + time.Second)
		wantCode(t, f.svc.RequireRecent(f.ctx, f.user.ID, "grant:g1"), cairn.ESTEPUPREQUIRED)
		f.clock = t0.Add(mfa.StepUpWindow + time.Second)

		// With a factor, adding or removing one needs a recent check.
		_, err := f.svc.EnrollTOTP(f.ctx, f.user, "s1", "second")
		wantCode(t, err, cairn.ESTEPUPREQUIRED)
		fs, _ := f.svc.Factors(f.ctx, f.user.ID)
		wantCode(t, f.svc.RemoveFactor(f.ctx, f.user.ID, "s1", fs[0].ID), cairn.ESTEPUPREQUIRED)
		f.at(20)
		if err := f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", code(t, secret, 20)); err != nil {
			t.Fatal(err)
		}
		e2, err := f.svc.EnrollTOTP(f.ctx, f.user, "s1", "second")
		if err != nil {
			t.Fatal(err)
		}
		done, err := f.svc.ConfirmTOTP(f.ctx, f.user.ID, "s1", e2.FactorID, code(t, e2.Secret, 20))
		if err != nil || len(done.RecoveryCodes) != 0 {
			t.Fatalf("a second factor brings no new recovery codes: %+v %v", done, err)
		}
		st, err := f.svc.Status(f.ctx, f.user)
		if err != nil || st.Required || strings.Join(st.Methods, ",") != "totp,recovery_code" {
			t.Fatalf("status: %+v %v", st, err)
		}
		if err := f.svc.RemoveFactor(f.ctx, f.user.ID, "s1", fs[0].ID); err != nil {
			t.Fatal(err)
		}
		// An admin resets another user's last factor without a check of
		// their own; the recovery codes go with it.
		adm := cairn.WithActor(context.Background(), cairn.Actor{UserID: "admin-id", Admin: true})
		wantCode(t, f.svc.RemoveFactor(f.ctx, f.user.ID, "s9", e2.FactorID), cairn.ESTEPUPREQUIRED)
		if err := f.svc.RemoveFactor(adm, f.user.ID, "", e2.FactorID); err != nil {
			t.Fatal(err)
		}
		if codes, _ := db.UnusedRecoveryCodes(f.ctx, f.user.ID); len(codes) != 0 {
			t.Fatalf("recovery codes outlived the last factor: %d", len(codes))
		}
		st, _ = f.svc.Status(f.ctx, f.user)
		if len(st.Methods) != 0 {
			t.Fatalf("status after removal: %+v", st)
		}
		page, err := db.SearchAudit(adm, cairn.AuditFilter{UserID: f.user.ID, Action: cairn.AuditMFARemove})
		if err != nil || page.Total != 2 || page.Data[0].ActorID != "admin-id" {
			t.Fatalf("audit: %+v %v", page, err)
		}
		// Without factors, enrolling needs no check.
		if _, err := f.svc.EnrollTOTP(f.ctx, f.user, "", ""); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPolicy(t *testing.T) {
	for _, c := range []struct {
		roles []string
		all   bool
		want  bool
	}{
		{[]string{cairn.RoleUser}, false, false},
		{[]string{cairn.RoleUser}, true, true},
		{[]string{cairn.RoleAdmin}, false, true},
		{[]string{cairn.RoleUser, cairn.RoleSupport}, false, true},
	} {
		if got := (mfa.Policy{RequireAll: c.all}).Required(&cairn.User{Roles: c.roles}); got != c.want {
			t.Errorf("roles %v, all %v: required %v", c.roles, c.all, got)
		}
	}
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db, cairn.RoleSupport)
		st, err := f.svc.Status(f.ctx, f.user)
		if err != nil || !st.Required || len(st.Methods) != 0 {
			t.Fatalf("a support user without factors must enroll: %+v %v", st, err)
		}
	})
}

func TestGuessingIsLimited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		secret, _ := f.enrollTOTP(t, "s1")
		f.svc.Limiter = ratelimit.New(nil, func() time.Time { return f.clock })
		f.at(5)
		var limited error
		for i := range 20 {
			err := f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", "000000")
			if cairn.ErrorCode(err) == cairn.ERATELIMITED {
				limited = err
				if i < 3 {
					t.Fatalf("limited after %d guesses", i)
				}
				break
			}
			wantCode(t, err, cairn.EUNAUTHENTICATED)
		}
		if limited == nil {
			t.Fatal("20 wrong codes in a row were never limited")
		}
		// Even the right code waits for the backoff to pass.
		wantCode(t, f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", code(t, secret, 5)), cairn.ERATELIMITED)
		f.clock = f.clock.Add(cairn.ErrorRetryAfter(limited))
		if err := f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", code(t, secret, 5)); err != nil {
			t.Fatalf("after Retry-After: %v", err)
		}
	})
}

// The same code sent by several requests at once is accepted once.
func TestConcurrentReplay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		secret, done := f.enrollTOTP(t, "s1")
		f.at(3)
		c := code(t, secret, 3)
		try := func(check func() error) int {
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok := 0
			for range 8 {
				wg.Go(func() {
					err := check()
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						ok++
					} else if cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			return ok
		}
		if n := try(func() error { return f.svc.VerifyTOTP(f.ctx, f.user.ID, "s1", c) }); n != 1 {
			t.Fatalf("one TOTP code accepted %d times", n)
		}
		if n := try(func() error { return f.svc.VerifyRecoveryCode(f.ctx, f.user.ID, "s1", done.RecoveryCodes[0]) }); n != 1 {
			t.Fatalf("one recovery code accepted %d times", n)
		}
	})
}
