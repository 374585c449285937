package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/oauth"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/telemetry"
)

// cmdOAuthClientCreate registers an OAuth2 client and prints it with its
// secret (confidential clients), which is shown only this once.
func cmdOAuthClientCreate(ctx context.Context, e env, args []string) error {
	var c Config
	var name, grants, scopes, redirects, owner string
	var public bool
	fs := flag.NewFlagSet("oauth-client create", flag.ContinueOnError)
	c.storageFlags(fs)
	fs.StringVar(&name, "name", "", "the client's name, shown on the consent page (required)")
	fs.StringVar(&grants, "grant-types", "", `space-separated: authorization_code client_credentials refresh_token `+cairn.GrantDeviceCode)
	fs.StringVar(&scopes, "scopes", "", `space-separated scopes the client may ask for, e.g. "activity:read offline_access"`)
	fs.StringVar(&redirects, "redirect-uri", "", "redirect URI, matched exactly (space-separated for several)")
	fs.BoolVar(&public, "public", false, "a public client (no secret; must use PKCE)")
	fs.StringVar(&owner, "owner", "", "the email or id of the user who registered the client (admins can then rotate it as theirs)")
	if err := c.parse(fs, args, e.getenv); err != nil {
		return err
	}
	sc, err := cairn.ParseScopes(scopes)
	if err != nil {
		return errors.New("--scopes: " + strings.Join(mapValues(cairn.ErrorFields(err)), "; "))
	}
	client := &cairn.OAuthClient{Name: name, GrantTypes: strings.Fields(grants), Scopes: sc,
		RedirectURIs: strings.Fields(redirects), Public: public}
	if err := client.Validate(); err != nil {
		return errors.New(strings.Join(mapValues(cairn.ErrorFields(err)), "; "))
	}
	var secret string
	if !public {
		secret, client.SecretHash = oauth.NewClientSecret()
	}
	s, err := openStore(ctx, &c, telemetry.NewLogger(e.stderr, slogWarn(c)))
	if err != nil {
		return err
	}
	defer s.Close()
	if owner != "" {
		if client.OwnerID, err = findUserID(ctx, s, owner); err != nil {
			return fmt.Errorf("--owner: %w", err)
		}
	}
	if err := s.CreateOAuthClient(cairn.SystemContext(ctx), client); err != nil {
		return err
	}
	out := map[string]any{"client_id": client.ID, "name": client.Name, "grant_types": client.GrantTypes,
		"scopes": client.Scopes, "redirect_uris": client.RedirectURIs, "public": client.Public}
	if client.OwnerID != "" {
		out["owner_id"] = client.OwnerID
	}
	if secret != "" {
		out["client_secret"] = secret
	}
	return json.NewEncoder(e.stdout).Encode(out)
}

// cmdOAuthClientRotate gives a confidential client a new secret; the old
// one keeps working for the grace period, so that deployments can switch.
func cmdOAuthClientRotate(ctx context.Context, e env, args []string) error {
	var c Config
	var id string
	fs := flag.NewFlagSet("oauth-client rotate", flag.ContinueOnError)
	c.storageFlags(fs)
	fs.StringVar(&id, "client-id", "", "the client to rotate (required)")
	fs.DurationVar(&c.OAuthSecretGrace, "oauth-secret-grace", 24*time.Hour, "how long the previous secret stays valid")
	if err := c.parse(fs, args, e.getenv); err != nil {
		return err
	}
	if id == "" {
		return errors.New("--client-id is required")
	}
	s, err := openStore(ctx, &c, telemetry.NewLogger(e.stderr, slogWarn(c)))
	if err != nil {
		return err
	}
	defer s.Close()
	secret, hash := oauth.NewClientSecret()
	until := time.Now().Add(c.OAuthSecretGrace).UTC().Truncate(time.Second)
	client, err := s.RotateOAuthClientSecret(cairn.SystemContext(ctx), id, hash, until)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return errors.New("no confidential client with id " + id)
	} else if err != nil {
		return err
	}
	return json.NewEncoder(e.stdout).Encode(map[string]any{"client_id": client.ID, "client_secret": secret,
		"previous_secret_expires_at": client.PreviousSecretExpiresAt})
}

// newOAuthServer builds the authorization server from the configuration.
// ident's account service backs the account pages.
// Sign-in asks for the second factor through ident's MFA service, and
// the pages share ident's limiter with the MFA checks of the API.
func newOAuthServer(ctx context.Context, c *Config, s *store, ident *identity, log *slog.Logger, metrics *telemetry.Metrics) (*oauth.Server, error) {
	secret, err := oauthSecret(ctx, c, s)
	if err != nil {
		return nil, err
	}
	issuer := c.OAuthIssuer
	if issuer == "" {
		// Good for a server on this machine; behind a proxy or on a
		// public address, --oauth-issuer names what clients reach.
		host, port, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return nil, fmt.Errorf("--addr: %w", err)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
			log.Warn("OAuth2 issuer defaults to localhost: set --oauth-issuer to the URL clients use")
		}
		issuer = "http://" + net.JoinHostPort(host, port)
	}
	return oauth.New(oauth.Config{Issuer: issuer, Secret: secret,
		AccessTokenLifespan: c.OAuthAccessLifespan, RefreshTokenLifespan: c.OAuthRefreshLifespan,
		Store: s, Users: s, Audit: s, Accounts: ident.Accounts, Limiter: ident.Limiter, MFA: ident.MFA, TrustedProxies: c.TrustedProxies,
		Log: log, Metrics: metrics})
}

// withOAuth answers the authorization server's paths and sends the rest
// to the API. It sits outside the API's own mux, whose routes are exactly
// the spec's.
func withOAuth(api *rest.Server, auth *oauth.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", api.Handler())
	h := auth.Handler() // observed by the oauth package itself
	for _, p := range oauth.Paths {
		mux.Handle(p, h)
	}
	return mux
}

// oauthSecret is the token signing secret: --oauth-secret if given, else
// one generated on first start and kept where every process of the
// deployment finds it: a file in the data folder next to the SQLite
// database, or a table in the PostgreSQL database.
func oauthSecret(ctx context.Context, c *Config, s *store) ([]byte, error) {
	if c.OAuthSecret != "" {
		return []byte(c.OAuthSecret), nil
	}
	candidate := make([]byte, 32)
	_, _ = rand.Read(candidate)
	if s.Dialect() == "postgres" {
		return s.EnsureOAuthSecret(cairn.SystemContext(ctx), candidate)
	}
	path := filepath.Join(c.DataDir, "oauth-secret")
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("oauth secret: %w", err)
	}
	// O_EXCL: of two processes starting at once one writes, the other
	// reads what it wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		for range 50 {
			if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
				return b, nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		return nil, fmt.Errorf("oauth secret: %s is shorter than 32 bytes", path)
	} else if err != nil {
		return nil, fmt.Errorf("oauth secret: %w", err)
	}
	if _, err := f.Write(candidate); err != nil {
		f.Close()
		return nil, fmt.Errorf("oauth secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("oauth secret: %w", err)
	}
	return candidate, nil
}

// findUserID resolves a user named by email or id.
func findUserID(ctx context.Context, s *store, emailOrID string) (string, error) {
	sys := cairn.SystemContext(ctx)
	find := s.FindUser
	if strings.Contains(emailOrID, "@") {
		find = s.FindUserByEmail
	}
	u, err := find(sys, emailOrID)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return "", errors.New("no user " + emailOrID)
	} else if err != nil {
		return "", err
	}
	return u.ID, nil
}
