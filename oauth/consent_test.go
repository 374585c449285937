package oauth_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"golang.org/x/oauth2/clientcredentials"
)

// TestConsentRecorded: allowing an app on the consent page records the
// consent, and a later consent widens its scopes; approving a device
// records one too, denying does not. Tokens name their client in the
// actor: a user's token acts as the user for the client, a
// client-credentials token as the client alone.
func TestConsentRecorded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		consents := func(u *cairn.User) []cairn.OAuthConsent {
			t.Helper()
			list, err := db.ListOAuthConsents(cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID}))
			if err != nil {
				t.Fatal(err)
			}
			return list
		}
		conf := e.publicApp(cairn.ScopeProfileRead, cairn.ScopeActivityRead, cairn.ScopeOfflineAccess)
		b := newBrowser(t)
		conf.Scopes = []string{"profile:read"}
		tok := e.codeFlow(b, conf, "ada@example.com")
		if a, err := e.actor(tok.AccessToken); err != nil || a.UserID != e.ada.ID || a.ClientID != conf.ClientID || a.IsClient() {
			t.Errorf("ada's token for the app acts as %+v, %v", a, err)
		}
		if c := consents(e.ada); len(c) != 1 || c[0].ClientID != conf.ClientID || !slices.Equal(c[0].Scopes, []cairn.Scope{"profile:read"}) {
			t.Fatalf("after the first consent: %+v", c)
		}
		e.clock.Advance(time.Minute)
		conf.Scopes = []string{"activity:read"}
		e.codeFlow(b, conf, "ada@example.com")
		if c := consents(e.ada); len(c) != 1 || !slices.Equal(c[0].Scopes, []cairn.Scope{"profile:read", "activity:read"}) ||
			!c[0].UpdatedAt.After(c[0].GrantedAt) {
			t.Errorf("after the second consent: %+v", c)
		}
		if c := consents(e.bob); len(c) != 0 {
			t.Errorf("bob's consents: %+v", c)
		}

		// The device grant: bob denies one request, then approves another.
		device := e.publicApp(cairn.ScopeActivityRead)
		device.Scopes = []string{"activity:read"}
		bb := newBrowser(t)
		for i, decision := range []string{"deny", "allow"} {
			da, err := device.DeviceAuth(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			resp, body := bb.do(http.MethodGet, da.VerificationURIComplete, nil)
			if i == 0 {
				_, body = bb.signIn(e, resp, body, "bob@example.com")
			}
			f := fields(body)
			f.Set("user_code", da.UserCode)
			_, body = bb.do(http.MethodPost, e.iss+"/oauth/device", f)
			f = fields(body)
			f.Set("decision", decision)
			if resp, body := bb.do(http.MethodPost, e.iss+"/oauth/device", f); resp.StatusCode != 200 {
				t.Fatalf("%s: %d %.300s", decision, resp.StatusCode, body)
			}
			c := consents(e.bob)
			switch {
			case decision == "deny" && len(c) != 0:
				t.Errorf("a denied device recorded a consent: %+v", c)
			case decision == "allow" && (len(c) != 1 || c[0].ClientID != device.ClientID ||
				!slices.Equal(c[0].Scopes, []cairn.Scope{"activity:read"})):
				t.Errorf("after approving the device: %+v", c)
			}
		}

		id, secret := e.client(&cairn.OAuthClient{Name: "Partner", GrantTypes: []string{cairn.GrantClientCredentials},
			Scopes: []cairn.Scope{cairn.ScopeWebhooksManage}})
		cc, err := (&clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.iss + "/oauth/token",
			Scopes: []string{"webhooks:manage"}}).Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if a, err := e.actor(cc.AccessToken); err != nil || a.UserID != "" || a.ClientID != id || !a.IsClient() ||
			!a.Has(cairn.ScopeWebhooksManage) || !strings.HasPrefix(cc.AccessToken, "cairn_at_") {
			t.Errorf("client-credentials actor %+v, %v", a, err)
		}
	})
}
