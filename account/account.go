// Package account runs the lifecycle of user accounts for the admin API:
// freezing, soft deletion followed by a purge job that removes every row
// and blob of the user, password resets by mailed single-use tokens, and
// self-service sign-up confirmed by mail.
// Every change is written to the audit log in its own transaction.
package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/argon2id"
	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/riverqueue/river"
)

// Defaults.
const (
	DefaultResetTTL   = time.Hour
	DefaultPurgeAfter = 30 * 24 * time.Hour
	MinPasswordLength = 10
	MaxPasswordLength = 1024
)

// Service changes accounts. Callers check that the actor is an admin
// where the API requires it; the store refuses non-admins as well.
type Service struct {
	DB *sqldb.DB
	// Queue takes the purge jobs (set once the queue exists).
	Queue *jobs.Queue
	// Mailer sends reset mails; mail.Log when no SMTP server is configured.
	Mailer cairn.Mailer
	// Limiter limits reset mails per IP and per address; nil does not.
	Limiter *ratelimit.Limiter
	// ResetURL is the page that takes a reset token, which is appended as
	// ?token=…; empty: the mail gives the token alone.
	ResetURL string
	// ResetTTL is how long a reset token works (DefaultResetTTL when zero).
	ResetTTL time.Duration
	// OpenSignUp lets anyone sign up (SignUp); otherwise accounts are made
	// by admins, who invite their users.
	OpenSignUp bool
	// ConfirmURL is the page that confirms a sign-up, with the token
	// appended as ?token=…; empty: the mail gives the token alone.
	ConfirmURL string
	// SignUpTTL is how long a sign-up link works (DefaultSignUpTTL when zero).
	SignUpTTL time.Duration
	// PurgeAfter is how long a deleted account waits before its data is
	// purged (it can be restored meanwhile); negative purges at once,
	// zero means DefaultPurgeAfter.
	PurgeAfter time.Duration
	// Password hashes new passwords; argon2id.OWASP when zero.
	Password argon2id.Params
	Log      *slog.Logger
}

func (s *Service) audit(ctx context.Context, tx *sqldb.Tx, userID, action string, details any) error {
	var raw json.RawMessage
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
		}
		raw = b
	}
	return tx.RecordAudit(ctx, &cairn.AuditEntry{UserID: userID, Action: action, Details: raw})
}

// notSelf refuses an admin acting on their own account where that would
// lock them out.
func notSelf(ctx context.Context, userID, what string) error {
	if a, _ := cairn.ActorFrom(ctx); a.UserID != "" && a.UserID == userID {
		return cairn.Errorf(cairn.EVALIDATION, "you cannot %s your own account", what)
	}
	return nil
}

// Freeze stops a user from signing in and using tokens, keeping the data.
func (s *Service) Freeze(ctx context.Context, userID string) (*cairn.User, error) {
	if err := notSelf(ctx, userID, "freeze"); err != nil {
		return nil, err
	}
	return s.setStatus(ctx, userID, cairn.UserFrozen, cairn.AuditUserFreeze)
}

// Unfreeze lets a frozen user in again.
func (s *Service) Unfreeze(ctx context.Context, userID string) (*cairn.User, error) {
	return s.setStatus(ctx, userID, cairn.UserActive, cairn.AuditUserUnfreeze)
}

func (s *Service) setStatus(ctx context.Context, userID, status, action string) (*cairn.User, error) {
	var u *cairn.User
	err := s.DB.InTx(ctx, func(tx *sqldb.Tx) (err error) {
		if u, err = tx.SetUserStatus(ctx, userID, status); err != nil {
			return err
		}
		return s.audit(ctx, tx, userID, action, nil)
	})
	return u, err
}

// Delete soft-deletes a user and schedules the purge of all its data
// after PurgeAfter, in one transaction. Until then Restore undoes it.
func (s *Service) Delete(ctx context.Context, userID string) error {
	if err := notSelf(ctx, userID, "delete"); err != nil {
		return err
	}
	if s.Queue == nil {
		return cairn.Errorf(cairn.EUNAVAILABLE, "the job queue is not running")
	}
	after := s.PurgeAfter
	if after == 0 {
		after = DefaultPurgeAfter
	}
	return s.DB.InTx(ctx, func(tx *sqldb.Tx) error {
		at, err := tx.SoftDeleteUser(ctx, userID)
		if err != nil {
			return err
		}
		ev := cairn.UserDeletedEvent(userID)
		if err := tx.AppendEvent(ctx, &ev); err != nil {
			return err
		}
		purgeAt := at.Add(max(after, 0))
		if err := s.Queue.InsertTx(ctx, tx, PurgeArgs{UserID: userID, DeletedAt: at},
			&river.InsertOpts{ScheduledAt: purgeAt, MaxAttempts: 10}); err != nil {
			return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
		}
		return s.audit(ctx, tx, userID, cairn.AuditUserDelete, map[string]any{"purge_at": purgeAt})
	})
}

// Restore undoes a deletion whose purge has not run; the scheduled purge
// then does nothing.
func (s *Service) Restore(ctx context.Context, userID string) (*cairn.User, error) {
	var u *cairn.User
	err := s.DB.InTx(ctx, func(tx *sqldb.Tx) (err error) {
		if u, err = tx.RestoreUser(ctx, userID); err != nil {
			return err
		}
		return s.audit(ctx, tx, userID, cairn.AuditUserRestore, nil)
	})
	return u, err
}

// RequestPasswordReset mails a reset link to the user with this email. It
// answers nil whether or not there is such a user (so that it tells no one
// which addresses have accounts); frozen and deleted users get no mail.
// It runs before anyone is signed in, as the system.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	if s.Limiter != nil {
		if err := s.Limiter.Allow(ratelimit.PasswordReset, cairn.ClientFrom(ctx).IP, email); err != nil {
			return err
		}
	}
	sys := cairn.SystemContext(ctx)
	u, err := s.DB.FindUserByEmail(sys, email)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if u.Status != cairn.UserActive {
		return nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	token := cairn.PasswordResetPrefix + base64.RawURLEncoding.EncodeToString(b)
	ttl := s.ResetTTL
	if ttl == 0 {
		ttl = DefaultResetTTL
	}
	r := &cairn.PasswordReset{UserID: u.ID, Hash: cairn.HashToken(token), ExpiresAt: s.DB.Now().Add(ttl)}
	if err := s.DB.CreatePasswordReset(sys, r); err != nil {
		return err
	}
	if err := s.DB.RecordAudit(sys, &cairn.AuditEntry{UserID: u.ID, Action: cairn.AuditPasswordResetAsked}); err != nil {
		return err
	}
	link := token
	if s.ResetURL != "" {
		link = s.ResetURL + "?token=" + url.QueryEscape(token)
	}
	return s.Mailer.Send(ctx, cairn.Mail{To: u.Email, Subject: "Reset your cairn password",
		Text: "Someone asked to reset the password of your cairn account " + u.Email + ".\n\n" +
			"To choose a new password, open this link within " + ttl.String() + ":\n\n" + link + "\n\n" +
			"If it was not you, ignore this mail: your password stays as it is.\n"})
}

// ResetPassword sets a new password with a reset token from a mail (a
// reset, or an invitation to choose the first password). The token works
// once, and its use voids the user's other reset tokens. A failure tells
// whether the link is unknown, used or expired (see checkReset).
//
// It also signs the user out everywhere, in the same transaction: web
// sessions, and every OAuth access and refresh token. A reset is what a
// person does when they fear someone else has the password; whoever used
// it may have signed in on the pages or consented to an app of their own,
// and a refresh token outlives a password by up to 30 days, so keeping
// the tokens would keep the intruder in. The price, apps asking for
// consent again, is small next to that. Personal access tokens stay: the
// user made each one by name, lists and revokes them in the API, and
// scripts would break silently. The person is not signed in here either:
// they sign in with the new password (and their second factor).
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	if !strings.HasPrefix(token, cairn.PasswordResetPrefix) {
		return errLinkUnknown
	}
	hash, err := s.hash(password)
	if err != nil {
		return err
	}
	sys := cairn.SystemContext(ctx)
	err = s.DB.InTx(sys, func(tx *sqldb.Tx) error {
		userID, err := tx.ConsumePasswordReset(sys, cairn.HashToken(token), hash)
		if err != nil {
			return err
		}
		sessions, tokens, err := tx.EndUserSessions(sys, userID)
		if err != nil {
			return err
		}
		return tx.RecordAudit(sys, &cairn.AuditEntry{ActorID: userID, UserID: userID, Action: cairn.AuditPasswordReset,
			Details: mustJSON(map[string]int64{"sessions_ended": sessions, "oauth_tokens_revoked": tokens})})
	})
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		_, err = s.checkReset(sys, token)
	}
	return err
}

// CheckPassword is the rule for every password a person chooses.
func CheckPassword(password string) error {
	if n := len([]rune(password)); n < MinPasswordLength || len(password) > MaxPasswordLength {
		return cairn.Invalid(map[string]string{"password": "must have at least 10 characters"})
	}
	return nil
}

// hash hashes a new password with argon2id (OWASP parameters by default).
func (s *Service) hash(password string) (string, error) {
	p := s.Password
	if p == (argon2id.Params{}) {
		p = argon2id.OWASP
	}
	h, err := argon2id.Hash(password, p)
	if err != nil {
		return "", cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return h, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}
