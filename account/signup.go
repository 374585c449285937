package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/argon2id"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/sqldb"
)

// Self-service sign-up, when the server is open to it (OpenSignUp), and
// the checks the reset page makes before showing its form.
//
// A sign-up creates no user: it stores the details and the password's
// hash with a single-use token, and mails the token to the address. Only
// confirming creates the account, and confirming asks for the password
// chosen at sign-up. So an address nobody confirmed holds no account
// (it cannot sign in, and does not block its owner or an admin), and
// someone who signs up with another person's address cannot pre-hijack
// the account: even if the owner opens that sign-up's link, it needs the
// intruder's password. A sign-up token is a sibling of the reset token
// rather than one of them, because a reset token belongs to a user and
// this one precedes the user.

// DefaultSignUpTTL is how long a sign-up confirmation link works.
const DefaultSignUpTTL = 24 * time.Hour

// Messages of links that cannot be used (reset, invitation, sign-up).
var (
	errLinkUnknown = cairn.Errorf(cairn.ENOTFOUND,
		"This link is not valid. Check that you opened the whole link from the mail; an old link may also have been cleaned up. Ask for a new one.")
	errLinkUsed = cairn.Errorf(cairn.ENOTFOUND,
		"This link was already used: each link works once. If you still need it, ask for a new one.")
	errLinkExpired = cairn.Errorf(cairn.ENOTFOUND,
		"This link has expired. Ask for a new one.")
)

// linkState says why a stored token cannot be used, or nil.
func (s *Service) linkState(usedAt *time.Time, expiresAt time.Time) error {
	switch {
	case usedAt != nil:
		return errLinkUsed
	case !s.DB.Now().Before(expiresAt):
		return errLinkExpired
	}
	return nil
}

// ResetTokenUser returns the user a reset (or invitation) token would set
// the password of, or why the token cannot be used: unknown, used,
// expired, or its user gone.
func (s *Service) ResetTokenUser(ctx context.Context, token string) (*cairn.User, error) {
	return s.checkReset(cairn.SystemContext(ctx), token)
}

func (s *Service) checkReset(sys context.Context, token string) (*cairn.User, error) {
	if !strings.HasPrefix(token, cairn.PasswordResetPrefix) {
		return nil, errLinkUnknown
	}
	r, err := s.DB.FindPasswordReset(sys, cairn.HashToken(token))
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return nil, errLinkUnknown
	} else if err != nil {
		return nil, err
	}
	if err := s.linkState(r.UsedAt, r.ExpiresAt); err != nil {
		return nil, err
	}
	u, err := s.DB.FindUser(sys, r.UserID)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return nil, errLinkUnknown
	}
	return u, err
}

// SignUpOpen reports whether anyone may sign up (otherwise accounts are
// made by admins, who invite their users).
func (s *Service) SignUpOpen() bool { return s.OpenSignUp }

// SignUp starts a sign-up: it mails the address a link to confirm it. It
// answers the same whether or not the address has an account (the owner
// of an existing account is told by mail instead), so it tells no one
// which addresses are known; the password is hashed either way, so that
// the time does not tell either. Limited per IP and per address.
func (s *Service) SignUp(ctx context.Context, email, name, password string) error {
	if !s.OpenSignUp {
		return cairn.Errorf(cairn.EFORBIDDEN, "accounts on this server are made by invitation")
	}
	email, name, err := checkSignUp(email, name, password)
	if err != nil {
		return err
	}
	if s.Limiter != nil {
		if err := s.Limiter.Allow(ratelimit.SignUp, cairn.ClientFrom(ctx).IP, email); err != nil {
			return err
		}
	}
	hash, err := s.hash(password)
	if err != nil {
		return err
	}
	sys := cairn.SystemContext(ctx)
	u, err := s.DB.FindUserByEmail(sys, email)
	switch {
	case err == nil:
		return s.mailExisting(sys, u)
	case cairn.ErrorCode(err) != cairn.ENOTFOUND:
		return err
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	token := cairn.SignUpPrefix + base64.RawURLEncoding.EncodeToString(b)
	ttl := s.SignUpTTL
	if ttl == 0 {
		ttl = DefaultSignUpTTL
	}
	su := &cairn.SignUp{Email: email, Name: name, PasswordHash: hash, Hash: cairn.HashToken(token), ExpiresAt: s.DB.Now().Add(ttl)}
	if err := s.DB.CreateSignUp(sys, su); err != nil {
		return err
	}
	if err := s.DB.RecordAudit(sys, &cairn.AuditEntry{ActorID: "anonymous", Action: cairn.AuditSignUpAsked,
		Details: mustJSON(map[string]string{"email": email})}); err != nil {
		return err
	}
	link := token
	if s.ConfirmURL != "" {
		link = s.ConfirmURL + "?token=" + url.QueryEscape(token)
	}
	return s.Mailer.Send(ctx, cairn.Mail{To: email, Subject: "Confirm your cairn account",
		Text: "Someone signed up on cairn with this address, " + email + ".\n\n" +
			"If it was you, open this link within " + ttl.String() + " and enter the password you chose:\n\n" + link + "\n\n" +
			"If it was not you, ignore this mail: no account is made without it.\n"})
}

// mailExisting tells the owner of an account that someone signed up
// with its address, instead of telling the person signing up.
func (s *Service) mailExisting(sys context.Context, u *cairn.User) error {
	if err := s.DB.RecordAudit(sys, &cairn.AuditEntry{ActorID: "anonymous", UserID: u.ID, Action: cairn.AuditSignUpAsked,
		Details: mustJSON(map[string]any{"email": u.Email, "existing": true})}); err != nil {
		return err
	}
	return s.Mailer.Send(sys, cairn.Mail{To: u.Email, Subject: "Your cairn account",
		Text: "Someone tried to sign up on cairn with this address, " + u.Email + ", which already has an account.\n\n" +
			"If it was you, sign in instead; if you forgot your password, choose \"Forgot your password?\" on the sign-in page.\n" +
			"If it was not you, ignore this mail: nothing changed.\n"})
}

// checkSignUp validates a sign-up and returns its normalized address and name.
func checkSignUp(email, name, password string) (string, string, error) {
	f := map[string]string{}
	email = strings.ToLower(strings.TrimSpace(email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		f["email"] = "must be an email address"
	}
	name = strings.TrimSpace(name)
	if len([]rune(name)) > 200 {
		f["name"] = "must have at most 200 characters"
	}
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	if err := CheckPassword(password); err != nil {
		f["password"] = "must have at least 10 characters"
	}
	if len(f) > 0 {
		return "", "", cairn.Invalid(f)
	}
	return email, name, nil
}

// SignUpEmail returns the address a sign-up token would confirm, or why
// the token cannot be used.
func (s *Service) SignUpEmail(ctx context.Context, token string) (string, error) {
	su, err := s.findSignUp(cairn.SystemContext(ctx), token)
	if err != nil {
		return "", err
	}
	return su.Email, nil
}

func (s *Service) findSignUp(sys context.Context, token string) (*cairn.SignUp, error) {
	if !strings.HasPrefix(token, cairn.SignUpPrefix) {
		return nil, errLinkUnknown
	}
	su, err := s.DB.FindSignUp(sys, cairn.HashToken(token))
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return nil, errLinkUnknown
	} else if err != nil {
		return nil, err
	}
	return su, s.linkState(su.UsedAt, su.ExpiresAt)
}

// ConfirmSignUp creates the account of a sign-up from its mailed token,
// given the password chosen at sign-up (see the package comment on
// sign-ups), and returns the new user. A wrong password answers
// UNAUTHENTICATED and leaves the link usable; the caller limits guesses.
// An address that has meanwhile become an account answers CONFLICT.
func (s *Service) ConfirmSignUp(ctx context.Context, token, password string) (*cairn.User, error) {
	sys := cairn.SystemContext(ctx)
	su, err := s.findSignUp(sys, token)
	if err != nil {
		return nil, err
	}
	if ok, _ := argon2id.Verify(password, su.PasswordHash); !ok {
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "This is not the password you chose when you signed up.")
	}
	var u *cairn.User
	err = s.DB.InTx(sys, func(tx *sqldb.Tx) error {
		su, err := tx.ConsumeSignUp(sys, su.Hash)
		if err != nil {
			return err
		}
		u = &cairn.User{Email: su.Email, Name: su.Name, PasswordHash: su.PasswordHash, Roles: []string{cairn.RoleUser},
			Status: cairn.UserActive}
		if err := tx.CreateUser(sys, u); err != nil {
			return err
		}
		return tx.RecordAudit(sys, &cairn.AuditEntry{ActorID: u.ID, UserID: u.ID, Action: cairn.AuditSignUp,
			Details: mustJSON(map[string]string{"email": u.Email})})
	})
	switch cairn.ErrorCode(err) {
	case "":
		return u, nil
	case cairn.ENOTFOUND:
		// Used by a confirmation racing this one.
		_, err = s.findSignUp(sys, token)
		if err == nil {
			err = errLinkUsed
		}
		return nil, err
	case cairn.ECONFLICT:
		return nil, cairn.Errorf(cairn.ECONFLICT, "This address already has an account. Sign in, or ask for a password reset.")
	}
	return nil, err
}
