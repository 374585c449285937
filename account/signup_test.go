package account_test

import (
	"context"
	"net/url"
	"regexp"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/account"
	"github.com/cairn-fit/cairn/argon2id"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

type lastMail struct{ m cairn.Mail }

func (l *lastMail) Send(_ context.Context, m cairn.Mail) error { l.m = m; return nil }

var linkRe = regexp.MustCompile(`https://\S+`)

func (l *lastMail) token(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(linkRe.FindString(l.m.Text))
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("no link in %q", l.m.Text)
	}
	return u.Query().Get("token")
}

// An address that became an account between sign-up and confirmation
// (an admin made it, or another sign-up was confirmed) is not taken over:
// the confirmation fails and changes nothing.
func TestConfirmSignUpAfterTheAddressWasTaken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		box := &lastMail{}
		svc := &account.Service{DB: db.DB, Mailer: box, OpenSignUp: true, ConfirmURL: "https://cairn.example/signup/confirm",
			Password: argon2id.Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32}}
		if err := svc.SignUp(sys, "Gus@example.com", "Gus", "gus's long password"); err != nil {
			t.Fatal(err)
		}
		if box.m.To != "gus@example.com" {
			t.Fatalf("mail to %q", box.m.To)
		}
		token := box.token(t)
		if email, err := svc.SignUpEmail(sys, token); err != nil || email != "gus@example.com" {
			t.Fatalf("%q %v", email, err)
		}
		taken := user(t, db, "gus@example.com")
		_, err := svc.ConfirmSignUp(sys, token, "gus's long password")
		wantCode(t, err, cairn.ECONFLICT)
		u, err := db.FindUserByEmail(f.admin, "gus@example.com")
		if err != nil || u.ID != taken.ID || u.PasswordHash != "" {
			t.Errorf("the existing account changed: %+v %v", u, err)
		}
		if n := auditCount(t, db, "", cairn.AuditSignUp); n != 0 {
			t.Errorf("%d sign-up entries", n)
		}
		// Tokens of another kind are not sign-up tokens.
		_, err = svc.ConfirmSignUp(sys, cairn.PasswordResetPrefix+token, "gus's long password")
		wantCode(t, err, cairn.ENOTFOUND)
	})
}
