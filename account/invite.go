package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"time"

	"github.com/cairn-fit/cairn"
)

// DefaultInviteTTL is how long an invitation link works.
const DefaultInviteTTL = 7 * 24 * time.Hour

// Invite mails a user created by an admin (who has no password yet) a
// single-use link to choose one: a reset token that lives
// DefaultInviteTTL. The caller checks the admin's permission; the store
// lets only admins reach another user.
func (s *Service) Invite(ctx context.Context, userID string) error {
	u, err := s.DB.FindUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.Status == cairn.UserFrozen {
		return cairn.Errorf(cairn.EPRECONDITION, "the account is frozen")
	}
	link, err := s.mailToken(ctx, u, DefaultInviteTTL)
	if err != nil {
		return err
	}
	if err := s.DB.RecordAudit(ctx, &cairn.AuditEntry{UserID: u.ID, Action: cairn.AuditUserInvite}); err != nil {
		return err
	}
	return s.Mailer.Send(ctx, cairn.Mail{To: u.Email, Subject: "You are invited to cairn",
		Text: "An account was created for you on cairn, as " + u.Email + ".\n\n" +
			"To choose your password and sign in, open this link within " + DefaultInviteTTL.String() + ":\n\n" + link + "\n"})
}

// SendPasswordReset mails a user a reset link on an admin's request (the
// user lost their password): unlike RequestPasswordReset it is not
// anonymous, and it is recorded as the admin's action.
func (s *Service) SendPasswordReset(ctx context.Context, userID string) error {
	u, err := s.DB.FindUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.Status == cairn.UserFrozen {
		return cairn.Errorf(cairn.EPRECONDITION, "the account is frozen")
	}
	ttl := s.ResetTTL
	if ttl == 0 {
		ttl = DefaultResetTTL
	}
	link, err := s.mailToken(ctx, u, ttl)
	if err != nil {
		return err
	}
	if err := s.DB.RecordAudit(ctx, &cairn.AuditEntry{UserID: u.ID, Action: cairn.AuditAdminResetPass}); err != nil {
		return err
	}
	return s.Mailer.Send(ctx, cairn.Mail{To: u.Email, Subject: "Reset your cairn password",
		Text: "An administrator started a password reset for your cairn account " + u.Email + ".\n\n" +
			"To choose a new password, open this link within " + ttl.String() + ":\n\n" + link + "\n"})
}

// mailToken stores a new reset token for u that lives ttl and returns the
// link (or the token alone without ResetURL).
func (s *Service) mailToken(ctx context.Context, u *cairn.User, ttl time.Duration) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	token := cairn.PasswordResetPrefix + base64.RawURLEncoding.EncodeToString(b)
	r := &cairn.PasswordReset{UserID: u.ID, Hash: cairn.HashToken(token), ExpiresAt: s.DB.Now().Add(ttl)}
	if err := s.DB.CreatePasswordReset(ctx, r); err != nil {
		return "", err
	}
	if s.ResetURL == "" {
		return token, nil
	}
	return s.ResetURL + "?token=" + url.QueryEscape(token), nil
}
