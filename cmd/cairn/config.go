package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cairn-fit/cairn/mail"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/secrets"
)

// Config is every setting of cairn, parsed once from flags, CAIRN_*
// environment variables and, for secrets, CAIRN_*_FILE files; flags win
// over variables, variables over defaults.
type Config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	BlobURL         string
	LogLevel        slog.Level
	ShutdownTimeout time.Duration

	// Webhook delivery (webhooks.go).
	Webhooks WebhookSettings

	// GraphQL API (graphql.go).
	GraphQL GraphQLSettings

	// Sync with Strava and Garmin (sync.go).
	Sync SyncSettings

	// OAuth2 authorization server.
	OAuthIssuer          string        // public base URL; empty: http://<addr>
	OAuthSecret          string        // token signing secret; empty: generated and kept
	OAuthAccessLifespan  time.Duration // at most 15 minutes
	OAuthRefreshLifespan time.Duration
	OAuthSecretGrace     time.Duration // how long a rotated client secret stays valid

	// Identity and access.
	SecretKeys  string // keys sealing secrets at rest (secrets.Parse); empty: <data-dir>/secret-keys
	SMTPURL     string // empty: mail is written to the log
	MailFrom    string
	MFARequired bool // MFA for every user, not only admin and support

	SignUp string // who makes accounts: invite (admins, who invite) or open (anyone, confirmed by mail)
	// TrustedProxies may name the client in X-Forwarded-For (rate limits,
	// audit log); empty: the peer is the client.
	TrustedProxies ratelimit.Proxies
}

// Values of --signup.
const (
	SignUpInvite = "invite"
	SignUpOpen   = "open"
)

// secretFlags may also be given as a file (CAIRN_X_FILE), for container
// secrets.
var secretFlags = map[string]bool{"database-url": true, "blob-url": true, "oauth-secret": true,
	"secret-keys": true, "smtp-url": true}

// storageFlags registers the settings every command that touches data takes.
func (c *Config) storageFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", "./data", "folder for the SQLite database and local blobs")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "empty: SQLite in the data folder; postgres://…: PostgreSQL")
	fs.StringVar(&c.BlobURL, "blob-url", "", "empty: files under the data folder; s3://…, gs://…, file://… buckets")
	fs.TextVar(&c.LogLevel, "log-level", slog.LevelInfo, "debug, info, warn or error")
}

// serveFlags registers the server's settings.
func (c *Config) serveFlags(fs *flag.FlagSet) {
	c.storageFlags(fs)
	c.webhookFlags(fs)
	c.graphqlFlags(fs)
	c.syncFlags(fs)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to drain requests and jobs on SIGTERM")
	c.oauthFlags(fs)
	c.keyFlags(fs)
	fs.StringVar(&c.SMTPURL, "smtp-url", "", "SMTP server for mail: smtp://user:password@host:587 (STARTTLS) or smtps://…:465; empty: mail is written to the log")
	fs.StringVar(&c.MailFrom, "mail-from", "cairn <cairn@localhost>", "the sender of cairn's mail")
	fs.BoolVar(&c.MFARequired, "mfa-required", false, "require MFA of every user (admin and support users always need it)")
	fs.StringVar(&c.SignUp, "signup", SignUpInvite, "who makes accounts: invite (admins create them and mail invitations) or open (anyone may sign up at /signup, confirming the address by mail)")
	fs.Func("trusted-proxies", "comma-separated CIDR prefixes or addresses of the reverse proxies whose X-Forwarded-For names the client (for rate limits and the audit log); empty: the connecting peer is the client",
		func(s string) (err error) {
			c.TrustedProxies, err = ratelimit.ParseProxies(s)
			return err
		})
}

// keyFlags registers the keys that seal secrets at rest.
func (c *Config) keyFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.SecretKeys, "secret-keys", "", "keys sealing secrets at rest: id:base64 entries separated by commas, the last one seals; empty: <data-dir>/secret-keys, created on first start")
}

// oauthFlags registers the authorization server's settings.
func (c *Config) oauthFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.OAuthIssuer, "oauth-issuer", "", "the server's public base URL for OAuth2 (https://…); empty: http://<addr>")
	fs.StringVar(&c.OAuthSecret, "oauth-secret", "", "secret (32+ bytes) signing OAuth2 tokens; empty: generated on first start and kept")
	fs.DurationVar(&c.OAuthAccessLifespan, "oauth-access-token-lifespan", 15*time.Minute, "OAuth2 access token lifetime (at most 15m)")
	fs.DurationVar(&c.OAuthRefreshLifespan, "oauth-refresh-token-lifespan", 30*24*time.Hour, "OAuth2 refresh token lifetime")
}

// parse reads args, then fills every flag not given on the command line
// from the environment, then validates.
func (c *Config) parse(fs *flag.FlagSet, args []string, env func(string) string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
		}
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		name := "CAIRN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := env(name)
		if path := env(name + "_FILE"); v == "" && path != "" && (secretFlags[f.Name] || slices.Contains(syncSecretFlags, f.Name)) {
			b, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
				return
			}
			v = strings.TrimSpace(string(b))
		}
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return c.validate()
}

func (c *Config) validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("--database-url must be empty (SQLite) or a postgres:// URL"))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, errors.New("--shutdown-timeout must not be negative"))
	}
	if c.Sync != (SyncSettings{}) {
		errs = append(errs, c.Sync.validate())
	}
	if c.OAuthIssuer != "" {
		if u, err := url.Parse(c.OAuthIssuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			errs = append(errs, errors.New("--oauth-issuer must be an http(s) base URL without a path"))
		}
	}
	if c.SecretKeys != "" {
		if _, err := secrets.Parse(c.SecretKeys); err != nil {
			errs = append(errs, fmt.Errorf("--secret-keys: %w", err))
		}
	}
	if c.SMTPURL != "" {
		if _, err := mail.ParseURL(c.SMTPURL, c.MailFrom); err != nil {
			errs = append(errs, fmt.Errorf("--smtp-url: %w", err))
		}
	}
	if c.SignUp != "" && c.SignUp != SignUpInvite && c.SignUp != SignUpOpen {
		errs = append(errs, fmt.Errorf("--signup must be %s or %s", SignUpInvite, SignUpOpen))
	}
	if c.OAuthSecret != "" && len(c.OAuthSecret) < 32 {
		errs = append(errs, errors.New("--oauth-secret must be at least 32 bytes"))
	}
	if c.OAuthAccessLifespan < 0 || c.OAuthAccessLifespan > 15*time.Minute {
		errs = append(errs, errors.New("--oauth-access-token-lifespan must be between 0 and 15m"))
	}
	if c.OAuthRefreshLifespan < 0 || c.OAuthSecretGrace < 0 {
		errs = append(errs, errors.New("OAuth lifespans and grace periods must not be negative"))
	}
	errs = append(errs, c.Webhooks.validate()...)
	errs = append(errs, c.GraphQL.validate()...)
	return errors.Join(errs...)
}
