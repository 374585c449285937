package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-fit/cairn/sqldb/dbtest"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestClientWebhooksEndToEnd: an OAuth client registers a webhook endpoint
// with a client-credentials token; Ada allows the client through the
// authorization-code pages, Bob does not. Ada's new activity reaches the
// client's endpoint, signed (checked with the Standard Webhooks library);
// Bob's does not. Clients and users see only their own endpoints. Once Ada
// revokes the consent, the client's token for her stops working and her
// next activity is not delivered to it.
func TestClientWebhooksEndToEnd(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			storage := []string{"--data-dir", dir}
			if dialect == "postgres" {
				storage = append(storage, "--database-url", dbtest.Open(t, "postgres").URL)
			}
			addr := freeAddr(t)
			base := "http://" + addr
			s := &server{base: base}
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan int, 1)
			go func() {
				_, code := cli(t, ctx, "", append([]string{"serve", "--addr", addr, "--log-level", "warn",
					"--webhook-allow-private"}, storage...)...)
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

			var mu sync.Mutex
			var got []received
			arrived := make(chan struct{}, 100)
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if r.URL.Path != "/partner" {
					return // ada's and the rival's endpoints
				}
				mu.Lock()
				got = append(got, received{r.Header.Clone(), b})
				mu.Unlock()
				arrived <- struct{}{}
			}))
			defer receiver.Close()

			ids := map[string]string{}
			pats := map[string]string{}
			for _, email := range []string{"ada@example.com", "bob@example.com"} {
				var u struct{ ID string }
				out, code := cli(t, context.Background(), "s3cret-password\n", append([]string{"user", "create", "--email", email,
					"--password-stdin"}, storage...)...)
				if code != 0 || json.Unmarshal([]byte(out), &u) != nil {
					t.Fatalf("user create: %d %s", code, out)
				}
				ids[email] = u.ID
				out, code = cli(t, context.Background(), "", append([]string{"token", "create", "--user", email,
					"--scopes", "profile:read activity:write webhooks:manage"}, storage...)...)
				var tok struct{ Token string }
				if code != 0 || json.Unmarshal([]byte(out), &tok) != nil {
					t.Fatalf("token create: %d %s", code, out)
				}
				pats[email] = tok.Token
			}
			ada, bob := pats["ada@example.com"], pats["bob@example.com"]
			type client struct {
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret"`
			}
			newClient := func(name string) client {
				out, code := cli(t, context.Background(), "", append([]string{"oauth-client", "create", "--name", name,
					"--grant-types", "authorization_code client_credentials", "--scopes", "profile:read activity:read webhooks:manage",
					"--redirect-uri", "http://127.0.0.1:9999/cb"}, storage...)...)
				var c client
				if code != 0 || json.Unmarshal([]byte(out), &c) != nil {
					t.Fatalf("oauth-client create: %d %s", code, out)
				}
				return c
			}
			partner, rival := newClient("Partner"), newClient("Rival")
			ccToken := func(c client) string {
				tok, err := (&clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: base + "/oauth/token",
					Scopes: []string{"webhooks:manage"}}).Token(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				return tok.AccessToken
			}
			partnerTok, rivalTok := ccToken(partner), ccToken(rival)

			type hook struct {
				ID       string
				Secret   string
				UserID   *string `json:"user_id"`
				ClientID *string `json:"client_id"`
			}
			var partnerHook, rivalHook, adaHook hook
			if code := s.call(t, "POST", "/v1/webhooks", partnerTok, `{"url": "`+receiver.URL+`/partner"}`, &partnerHook); code != 201 ||
				partnerHook.ClientID == nil || *partnerHook.ClientID != partner.ClientID || partnerHook.UserID != nil {
				t.Fatalf("the client's endpoint: %d %+v", code, partnerHook)
			}
			// A client's Idempotency-Keys are its own: a retry replays the
			// first answer and creates no second endpoint (the list below
			// has one).
			for i := range 2 {
				req, _ := http.NewRequest("POST", base+"/v1/webhooks", strings.NewReader(`{"url": "`+receiver.URL+`/rival"}`))
				req.Header.Set("Authorization", "Bearer "+rivalTok)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", "rival-1")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var got hook
				if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 201 ||
					(i == 1) != (resp.Header.Get("Idempotent-Replayed") == "true") || (i == 1 && got.ID != rivalHook.ID) {
					t.Fatalf("the rival's endpoint, try %d: %d %v %+v %v", i, resp.StatusCode, err, got, resp.Header)
				}
				resp.Body.Close()
				rivalHook = got
			}
			if code := s.call(t, "POST", "/v1/webhooks", ada, `{"url": "`+receiver.URL+`/ada"}`, &adaHook); code != 201 ||
				adaHook.UserID == nil || *adaHook.UserID != ids["ada@example.com"] || adaHook.ClientID != nil {
				t.Fatalf("ada's endpoint: %d %+v", code, adaHook)
			}

			// Tenancy: each sees and changes only its own endpoints.
			for _, c := range []struct {
				who, token, mine string
			}{{"partner", partnerTok, partnerHook.ID}, {"rival", rivalTok, rivalHook.ID}, {"ada", ada, adaHook.ID}} {
				var list struct{ Data []hook }
				if code := s.call(t, "GET", "/v1/webhooks", c.token, "", &list); code != 200 || len(list.Data) != 1 || list.Data[0].ID != c.mine {
					t.Errorf("%s lists %d %+v", c.who, code, list)
				}
				for _, other := range []string{partnerHook.ID, rivalHook.ID, adaHook.ID} {
					if other == c.mine {
						continue
					}
					for _, call := range []struct{ method, path, body string }{{"GET", "/v1/webhooks/" + other, ""},
						{"PATCH", "/v1/webhooks/" + other, `{"enabled": false}`}, {"GET", "/v1/webhooks/" + other + "/deliveries", ""},
						{"POST", "/v1/webhooks/" + other + "/rotate-secret", ""}, {"DELETE", "/v1/webhooks/" + other, ""}} {
						if code := s.call(t, call.method, call.path, c.token, call.body, nil); code != 404 {
							t.Errorf("%s %s %s: %d, want 404", c.who, call.method, call.path, code)
						}
					}
				}
			}

			// Ada allows the partner on the consent page; Bob never does.
			conf := &oauth2.Config{ClientID: partner.ClientID, ClientSecret: partner.ClientSecret, RedirectURL: "http://127.0.0.1:9999/cb",
				Scopes: []string{"profile:read", "activity:read"}, Endpoint: oauth2.Endpoint{AuthURL: base + "/oauth/authorize",
					TokenURL: base + "/oauth/token"}}
			code := browserAuthorize(t, conf.AuthCodeURL("state-1234567890"), base, "ada@example.com", "s3cret-password")
			adaForPartner, err := conf.Exchange(context.Background(), code)
			if err != nil {
				t.Fatal(err)
			}
			var consents struct {
				Data []struct {
					ClientID   string `json:"client_id"`
					ClientName string `json:"client_name"`
					Scopes     []string
				}
			}
			if code := s.call(t, "GET", "/v1/me/oauth-consents", ada, "", &consents); code != 200 || len(consents.Data) != 1 ||
				consents.Data[0].ClientID != partner.ClientID || consents.Data[0].ClientName != "Partner" ||
				strings.Join(consents.Data[0].Scopes, " ") != "profile:read activity:read" {
				t.Fatalf("ada's consents: %d %+v", code, consents)
			}
			if code := s.call(t, "GET", "/v1/me/oauth-consents", bob, "", &consents); code != 200 || len(consents.Data) != 0 {
				t.Errorf("bob's consents: %d %+v", code, consents)
			}

			// partnerDeliveries lists the partner endpoint's deliveries: the
			// fan-out happens in the transaction of the change, so they are
			// there once the change is answered.
			type delivery struct {
				EventID string `json:"event_id"`
				Status  string
			}
			partnerDeliveries := func() []delivery {
				t.Helper()
				var list struct{ Data []delivery }
				if code := s.call(t, "GET", "/v1/webhooks/"+partnerHook.ID+"/deliveries", partnerTok, "", &list); code != 200 {
					t.Fatalf("partner deliveries: %d", code)
				}
				return list.Data
			}
			activity := func(token string) string {
				t.Helper()
				var a struct{ ID string }
				if code := s.call(t, "POST", "/v1/activities", token, `{"type": "run", "start_time": "2026-05-01T07:00:00Z"}`, &a); code != 201 {
					t.Fatalf("create activity: %d", code)
				}
				return a.ID
			}
			bobsActivity := activity(bob)
			if ds := partnerDeliveries(); len(ds) != 0 {
				t.Fatalf("bob's activity went to the partner: %+v", ds)
			}
			adasActivity := activity(ada)
			if ds := partnerDeliveries(); len(ds) != 1 {
				t.Fatalf("ada's activity: partner deliveries %+v", ds)
			}
			select {
			case <-arrived:
			case <-time.After(30 * time.Second):
				t.Fatal("ada's activity did not reach the partner")
			}
			mu.Lock()
			first := got[0]
			mu.Unlock()
			wh, err := standardwebhooks.NewWebhook(partnerHook.Secret)
			if err != nil {
				t.Fatal(err)
			}
			if err := wh.Verify(first.body, first.header); err != nil {
				t.Errorf("signature: %v", err)
			}
			var ev struct {
				Type   string
				UserID string `json:"user_id"`
				Data   struct {
					ActivityID string `json:"activity_id"`
				}
			}
			if json.Unmarshal(first.body, &ev) != nil || ev.Type != "activity.created" || ev.UserID != ids["ada@example.com"] ||
				ev.Data.ActivityID != adasActivity || ev.Data.ActivityID == bobsActivity {
				t.Errorf("delivered %s", first.body)
			}

			// Ada revokes: the partner's token for her stops working and her
			// next activity is not delivered to it.
			if code := s.call(t, "DELETE", "/v1/me/oauth-consents/"+partner.ClientID, ada, "", nil); code != 204 {
				t.Fatalf("revoke: %d", code)
			}
			if code := s.call(t, "DELETE", "/v1/me/oauth-consents/"+partner.ClientID, ada, "", nil); code != 404 {
				t.Errorf("revoke again: %d, want 404", code)
			}
			if status, _ := get(t, base+"/v1/users/"+ids["ada@example.com"], adaForPartner.AccessToken); status != 401 {
				t.Errorf("the partner's token for ada after the revocation: %d, want 401", status)
			}
			activity(ada)
			if ds := partnerDeliveries(); len(ds) != 1 {
				t.Errorf("after the revocation: partner deliveries %+v", ds)
			}
			deadline := time.Now().Add(30 * time.Second)
			for ds := partnerDeliveries(); len(ds) != 1 || ds[0].Status != "delivered"; ds = partnerDeliveries() {
				if time.Now().After(deadline) {
					t.Fatalf("partner deliveries: %+v", ds)
				}
				time.Sleep(20 * time.Millisecond)
			}
			mu.Lock()
			if len(got) != 1 {
				t.Errorf("the partner received %d requests, want 1", len(got))
			}
			mu.Unlock()
		})
	}
}

type received struct {
	header http.Header
	body   []byte
}
