package main

import (
	"log/slog"
	"net"
	"net/url"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/account"
	"github.com/cairn-fit/cairn/mail"
	"github.com/cairn-fit/cairn/mfa"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/secrets"
	"gocloud.dev/blob"
)

// identity holds the identity and access services, built once at start
// for the routes that use them (sign-in, MFA, the admin API).
type identity struct {
	Keys     *secrets.Keyring
	Limiter  *ratelimit.Limiter
	Mailer   cairn.Mailer
	Accounts *account.Service
	MFA      *mfa.Service
	// Purge is the purge job's worker, for the queue.
	Purge *account.PurgeWorker
}

// newIdentity loads the keys (creating the key file on first start),
// chooses the mailer and builds the services; the account service gets
// its queue once the queue runs.
func newIdentity(c *Config, s *store, bucket *blob.Bucket, log *slog.Logger) (*identity, error) {
	keys, err := loadKeys(c, log, true)
	if err != nil {
		return nil, err
	}
	id := &identity{Keys: keys, Limiter: ratelimit.New(nil, nil), Mailer: mail.Log{Log: log}}
	if c.SMTPURL != "" {
		smtp, err := mail.ParseURL(c.SMTPURL, c.MailFrom)
		if err != nil {
			return nil, err
		}
		id.Mailer = smtp
	}
	public := c.OAuthIssuer
	if public == "" {
		public = "http://" + c.Addr
	}
	id.Accounts = &account.Service{DB: s.DB, Mailer: id.Mailer, Limiter: id.Limiter, ResetURL: public + "/reset-password",
		OpenSignUp: c.SignUp == SignUpOpen, ConfirmURL: public + "/signup/confirm", Log: log}
	id.MFA = &mfa.Service{DB: s.DB, Keys: keys, Limiter: id.Limiter, Policy: mfa.Policy{RequireAll: c.MFARequired}}
	if u, err := url.Parse(public); err == nil {
		host := u.Hostname()
		if w, err := mfa.NewWebAuthn(host, []string{u.Scheme + "://" + u.Host}); err == nil && net.ParseIP(host) == nil {
			id.MFA.WebAuthn = w
		} else {
			log.Info("passkeys are off: they need the server's public URL on a domain name (--oauth-issuer)", "url", public)
		}
	}
	id.Purge = &account.PurgeWorker{DB: s.DB, Bucket: bucket, Log: log}
	log.Info("identity", "secret_keys", len(keys.IDs()), "sealing_key", keys.Current(), "mail", mailKind(c), "signup", c.SignUp)
	return id, nil
}

func mailKind(c *Config) string {
	if c.SMTPURL == "" {
		return "log"
	}
	if u, err := url.Parse(c.SMTPURL); err == nil {
		return u.Scheme + "://" + u.Host
	}
	return "smtp"
}
