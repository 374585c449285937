package main

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestOAuthEndToEnd registers clients with the CLI, gets tokens from the
// serving process with golang.org/x/oauth2, and uses them on the REST API:
// a user's token reads that user's profile; a client-credentials token is
// no user and reaches no one's; a rotated secret keeps the old one valid.
func TestOAuthEndToEnd(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			storage := []string{"--data-dir", dir}
			if dialect == "postgres" {
				storage = append(storage, "--database-url", dbtest.Open(t, "postgres").URL)
			}
			addr := freeAddr(t)
			base := "http://" + addr
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan int, 1)
			go func() {
				_, code := cli(t, ctx, "", append([]string{"serve", "--addr", addr, "--log-level", "warn"}, storage...)...)
				done <- code
			}()
			defer func() {
				stop()
				select {
				case <-done:
				case <-time.After(30 * time.Second):
					t.Error("serve did not stop")
				}
			}()
			waitReady(t, base)
			if dialect == "sqlite" {
				if b, err := os.ReadFile(filepath.Join(dir, "oauth-secret")); err != nil || len(b) != 32 {
					t.Errorf("the generated secret is not kept in the data folder: %d bytes, %v", len(b), err)
				}
			}

			var ada struct{ ID string }
			out, code := cli(t, context.Background(), "s3cret-password\n", append([]string{"user", "create", "--email", "ada@example.com",
				"--password-stdin"}, storage...)...)
			if code != 0 || json.Unmarshal([]byte(out), &ada) != nil {
				t.Fatalf("user create: %d %s", code, out)
			}
			type client struct {
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret"`
				OwnerID      string `json:"owner_id"`
			}
			create := func(args ...string) (client, int) {
				out, code := cli(t, context.Background(), "", append(append([]string{"oauth-client", "create"}, args...), storage...)...)
				var c client
				if code == 0 && json.Unmarshal([]byte(out), &c) != nil {
					t.Fatalf("oauth-client create printed %q", out)
				}
				return c, code
			}
			if _, code := create("--name", "Bad", "--grant-types", "authorization_code", "--scopes", "admin",
				"--redirect-uri", "https://app.example/cb"); code != 1 {
				t.Errorf("admin scope for a user-facing client: exit %d", code)
			}
			if _, code := create("--grant-types", "client_credentials", "--scopes", "export"); code != 1 {
				t.Errorf("no name: exit %d", code)
			}
			if _, code := create("--name", "Nobody's", "--grant-types", "client_credentials", "--scopes", "export",
				"--owner", "nobody@example.com"); code != 1 {
				t.Errorf("an unknown owner: exit %d", code)
			}
			// A client Ada registered, named by her email or her id.
			for _, owner := range []string{"ada@example.com", ada.ID} {
				own, code := create("--name", "Ada's tool", "--grant-types", "client_credentials", "--scopes", "export", "--owner", owner)
				if code != 0 || own.OwnerID != ada.ID {
					t.Errorf("--owner %s: %d %+v", owner, code, own)
				}
			}

			// Authorization code with PKCE, signing in and consenting through
			// the pages; the token reads Ada's profile on the REST API.
			app, code := create("--name", "Phone App", "--public", "--grant-types", "authorization_code refresh_token",
				"--scopes", "profile:read offline_access", "--redirect-uri", "http://127.0.0.1:9999/cb")
			if code != 0 || app.ClientID == "" || app.ClientSecret != "" {
				t.Fatalf("public client: %d %+v", code, app)
			}
			conf := &oauth2.Config{ClientID: app.ClientID, RedirectURL: "http://127.0.0.1:9999/cb", Scopes: []string{"profile:read"},
				Endpoint: oauth2.Endpoint{AuthURL: base + "/oauth/authorize", TokenURL: base + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
			verifier := oauth2.GenerateVerifier()
			codeValue := browserAuthorize(t, conf.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier)), base,
				"ada@example.com", "s3cret-password")
			tok, err := conf.Exchange(context.Background(), codeValue, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if status, body := get(t, base+"/v1/users/"+ada.ID, tok.AccessToken); status != 200 || !strings.Contains(body, ada.ID) {
				t.Errorf("profile with an OAuth token: %d %s", status, body)
			}
			if status, _ := get(t, base+"/v1/users/"+ada.ID+"/activities", tok.AccessToken); status != 403 {
				t.Errorf("activities without activity:read: %d, want 403", status)
			}

			// Client credentials: the client is no user.
			svc, code := create("--name", "Exporter", "--grant-types", "client_credentials", "--scopes", "profile:read export")
			if code != 0 || !strings.HasPrefix(svc.ClientSecret, "cairn_cs_") {
				t.Fatalf("confidential client: %d %+v", code, svc)
			}
			cc := &clientcredentials.Config{ClientID: svc.ClientID, ClientSecret: svc.ClientSecret, TokenURL: base + "/oauth/token",
				Scopes: []string{"profile:read"}}
			ccTok, err := cc.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if status, body := get(t, base+"/v1/users/"+ada.ID, ccTok.AccessToken); status != 404 {
				t.Errorf("a client-credentials token read a user's profile: %d %s", status, body)
			}
			if status, _ := get(t, base+"/v1/users/"+ada.ID, "cairn_at_forged.token"); status != 401 {
				t.Errorf("forged token: %d", status)
			}

			// Rotation: the new secret works and the old one still does.
			out, code = cli(t, context.Background(), "", append([]string{"oauth-client", "rotate", "--client-id", svc.ClientID,
				"--oauth-secret-grace", "1h"}, storage...)...)
			var rot struct {
				ClientSecret string    `json:"client_secret"`
				Until        time.Time `json:"previous_secret_expires_at"`
			}
			if code != 0 || json.Unmarshal([]byte(out), &rot) != nil || rot.ClientSecret == svc.ClientSecret ||
				time.Until(rot.Until) < 59*time.Minute || time.Until(rot.Until) > 61*time.Minute {
				t.Fatalf("rotate: %d %s", code, out)
			}
			if _, err := cc.Token(context.Background()); err != nil {
				t.Errorf("old secret during the grace period: %v", err)
			}
			rotated := *cc
			rotated.ClientSecret = rot.ClientSecret
			if _, err := rotated.Token(context.Background()); err != nil {
				t.Errorf("new secret: %v", err)
			}
			if _, code := cli(t, context.Background(), "", append([]string{"oauth-client", "rotate", "--client-id", app.ClientID},
				storage...)...); code != 1 {
				t.Errorf("rotating a public client: exit %d", code)
			}

			// The metadata is served next to the API.
			if status, body := get(t, base+"/.well-known/oauth-authorization-server", ""); status != 200 ||
				!strings.Contains(body, `"issuer":"`+base+`"`) {
				t.Errorf("metadata: %d %s", status, body)
			}
		})
	}
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

func hiddenFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// browserAuthorize signs in and allows, as a browser with cookies does,
// and returns the code the redirect carries.
func browserAuthorize(t *testing.T, authURL, base, email, password string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(r.URL.String(), base) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	read := func(resp *http.Response, err error) (*http.Response, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	_, page := read(c.Get(authURL))
	f := hiddenFields(page)
	f.Set("email", email)
	f.Set("password", password)
	_, page = read(c.PostForm(base+"/login", f))
	if !strings.Contains(page, "profile:read") {
		t.Fatalf("consent page: %.300s", page)
	}
	f = hiddenFields(page)
	f.Set("decision", "allow")
	resp, _ := read(c.PostForm(base+"/oauth/authorize", f))
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatal(errors.New("no code in the redirect: " + resp.Header.Get("Location")))
	}
	return loc.Query().Get("code")
}

func TestOAuthConfig(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "oauth-secret")
	if err := writeFile(secret, strings.Repeat("s", 40)+"\n"); err != nil {
		t.Fatal(err)
	}
	envs := map[string]string{"CAIRN_OAUTH_SECRET_FILE": secret, "CAIRN_OAUTH_ISSUER": "https://cairn.example"}
	var c Config
	fs := newFlagSet()
	c.serveFlags(fs)
	if err := c.parse(fs, []string{"--oauth-access-token-lifespan", "5m"}, func(k string) string { return envs[k] }); err != nil {
		t.Fatal(err)
	}
	if c.OAuthSecret != strings.Repeat("s", 40) || c.OAuthIssuer != "https://cairn.example" || c.OAuthAccessLifespan != 5*time.Minute ||
		c.OAuthRefreshLifespan != 30*24*time.Hour {
		t.Errorf("config = %+v", c)
	}
	for _, bad := range [][]string{{"--oauth-access-token-lifespan", "16m"}, {"--oauth-secret", "short"},
		{"--oauth-issuer", "cairn.example"}, {"--oauth-issuer", "https://cairn.example/path"}, {"--oauth-refresh-token-lifespan", "-1h"}} {
		var c Config
		fs := newFlagSet()
		c.serveFlags(fs)
		if err := c.parse(fs, bad, func(string) string { return "" }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
