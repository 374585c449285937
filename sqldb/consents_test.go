package sqldb_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

func asClient(clientID string, scopes ...cairn.Scope) context.Context {
	return cairn.WithActor(context.Background(), cairn.Actor{ClientID: clientID, Scopes: scopes})
}

// TestOAuthConsents: a consent is recorded by the system only, widens on
// a new consent, is listed to its user alone with the client's name, and
// revoking it deletes the client's tokens for that user (not for others),
// denies its approved device grants, is audited, and lets a new consent
// start afresh.
func TestOAuthConsents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		ada, bob := mustUser(t, db, "ada@example.com"), mustUser(t, db, "bob@example.com")
		c := mustClient(t, db)
		at := time.Now().UTC().Truncate(time.Second)
		wantCode(t, db.RecordOAuthConsent(as(ada.ID), ada.ID, c.ID, []cairn.Scope{cairn.ScopeAdmin}, at), cairn.EFORBIDDEN)
		record := func(u *cairn.User, at time.Time, scopes ...cairn.Scope) {
			t.Helper()
			if err := db.RecordOAuthConsent(sys, u.ID, c.ID, scopes, at); err != nil {
				t.Fatal(err)
			}
		}
		record(ada, at, cairn.ScopeProfileRead)
		record(ada, at.Add(time.Minute), cairn.ScopeActivityRead, cairn.ScopeProfileRead)
		record(bob, at, cairn.ScopeActivityRead)
		list, err := db.ListOAuthConsents(as(ada.ID))
		if err != nil || len(list) != 1 || list[0].ClientID != c.ID || list[0].ClientName != "app" || list[0].UserID != ada.ID ||
			!slices.Equal(list[0].Scopes, []cairn.Scope{cairn.ScopeProfileRead, cairn.ScopeActivityRead}) ||
			!list[0].GrantedAt.Equal(at) || !list[0].UpdatedAt.Equal(at.Add(time.Minute)) {
			t.Fatalf("ada's consents: %+v %v", list, err)
		}
		_, err = db.ListOAuthConsents(asClient(c.ID))
		wantCode(t, err, cairn.ENOTFOUND)

		for _, tok := range []struct {
			user *cairn.User
			hash string
		}{{ada, "ada-access"}, {ada, "ada-refresh"}, {bob, "bob-access"}} {
			if err := db.CreateOAuthToken(sys, &cairn.OAuthToken{Kind: cairn.OAuthAccess, Hash: []byte(tok.hash), RequestID: tok.hash,
				ClientID: c.ID, UserID: tok.user.ID, Request: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
		}
		wantCode(t, db.RevokeOAuthConsent(as(ada.ID), "no-such-client"), cairn.ENOTFOUND)
		wantCode(t, db.RevokeOAuthConsent(asClient(c.ID), c.ID), cairn.ENOTFOUND)
		if err := db.RevokeOAuthConsent(as(ada.ID), c.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.RevokeOAuthConsent(as(ada.ID), c.ID), cairn.ENOTFOUND) // once
		if list, err := db.ListOAuthConsents(as(ada.ID)); err != nil || len(list) != 0 {
			t.Errorf("after revoking: %+v %v", list, err)
		}
		_, err = db.FindOAuthToken(sys, cairn.OAuthAccess, []byte("ada-access"))
		wantCode(t, err, cairn.ENOTFOUND)
		if _, err := db.FindOAuthToken(sys, cairn.OAuthAccess, []byte("bob-access")); err != nil {
			t.Errorf("bob's token went with ada's consent: %v", err)
		}
		if list, err := db.ListOAuthConsents(as(bob.ID)); err != nil || len(list) != 1 {
			t.Errorf("bob's consent: %+v %v", list, err)
		}
		audit, err := db.SearchAudit(sys, cairn.AuditFilter{Action: cairn.AuditOAuthConsentRevoke})
		if err != nil || len(audit.Data) != 1 || audit.Data[0].UserID != ada.ID || audit.Data[0].ActorID != ada.ID {
			t.Errorf("audit: %+v %v", audit, err)
		}

		// A new consent after a revocation starts from its own scopes.
		record(ada, at.Add(time.Hour), cairn.ScopeHealthRead)
		if list, err := db.ListOAuthConsents(as(ada.ID)); err != nil || len(list) != 1 ||
			!slices.Equal(list[0].Scopes, []cairn.Scope{cairn.ScopeHealthRead}) || !list[0].GrantedAt.Equal(at.Add(time.Hour)) {
			t.Errorf("consent after revocation: %+v %v", list, err)
		}
	})
}

// TestClientEndpointsAndFanOut: a client's endpoint receives the events
// of the users whose active consent covers them, carrying the user's id;
// a revoked consent stops them; clients and users reach only their own
// endpoints; and an endpoint has exactly one owner, on both databases.
func TestClientEndpointsAndFanOut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		ada, bob, cy := mustUser(t, db, "ada@example.com"), mustUser(t, db, "bob@example.com"), mustUser(t, db, "cy@example.com")
		app, other := mustClient(t, db), mustClient(t, db)
		appCtx, otherCtx := asClient(app.ID, cairn.ScopeWebhooksManage), asClient(other.ID, cairn.ScopeWebhooksManage)
		endpoint := func(ctx context.Context, e cairn.WebhookEndpoint) *cairn.WebhookEndpoint {
			t.Helper()
			e.ID, e.URL, e.Enabled = sqldb.NewID(), "https://hooks.example/"+e.ClientID+e.UserID, true
			if err := db.CreateWebhookEndpoint(ctx, &e, []byte("sealed")); err != nil {
				t.Fatal(err)
			}
			return &e
		}
		appHook := endpoint(appCtx, cairn.WebhookEndpoint{ClientID: app.ID})
		adaHook := endpoint(as(ada.ID), cairn.WebhookEndpoint{UserID: ada.ID})
		otherHook := endpoint(otherCtx, cairn.WebhookEndpoint{ClientID: other.ID})
		// Impersonation is refused: a client for another client or a user,
		// a user for a client.
		for _, c := range []struct {
			ctx context.Context
			e   cairn.WebhookEndpoint
		}{{appCtx, cairn.WebhookEndpoint{ClientID: other.ID}}, {appCtx, cairn.WebhookEndpoint{UserID: ada.ID}},
			{as(ada.ID), cairn.WebhookEndpoint{ClientID: app.ID}}} {
			c.e.ID, c.e.URL = sqldb.NewID(), "https://hooks.example/x"
			wantCode(t, db.CreateWebhookEndpoint(c.ctx, &c.e, []byte("sealed")), cairn.ENOTFOUND)
		}

		// Tenancy: each sees only its own.
		for _, c := range []struct {
			who  string
			ctx  context.Context
			mine *cairn.WebhookEndpoint
		}{{"app", appCtx, appHook}, {"other client", otherCtx, otherHook}, {"ada", as(ada.ID), adaHook}} {
			page, err := db.ListWebhookEndpoints(c.ctx, cairn.PageRequest{})
			if err != nil || len(page.Data) != 1 || page.Data[0].ID != c.mine.ID {
				t.Errorf("%s lists %+v %v", c.who, page, err)
			}
			for _, e := range []*cairn.WebhookEndpoint{appHook, adaHook, otherHook} {
				if e == c.mine {
					continue
				}
				_, err := db.FindWebhookEndpoint(c.ctx, e.ID)
				wantCode(t, err, cairn.ENOTFOUND)
				wantCode(t, db.DeleteWebhookEndpoint(c.ctx, e.ID), cairn.ENOTFOUND)
				_, err = db.WebhookSecret(c.ctx, e.ID)
				wantCode(t, err, cairn.ENOTFOUND)
				_, err = db.ListWebhookDeliveries(c.ctx, cairn.DeliveryFilter{EndpointID: e.ID})
				wantCode(t, err, cairn.ENOTFOUND)
				changed := *e
				changed.URL = "https://evil.example/"
				wantCode(t, db.UpdateWebhookEndpoint(c.ctx, &changed, e.UpdatedAt), cairn.ENOTFOUND)
			}
		}
		got, err := db.FindWebhookEndpoint(appCtx, appHook.ID)
		if err != nil || got.ClientID != app.ID || got.UserID != "" {
			t.Fatalf("the app's endpoint: %+v %v", got, err)
		}
		got.EventTypes = []cairn.EventType{cairn.EventActivityCreated, cairn.EventSyncCompleted, cairn.EventUserDeleted,
			cairn.EventWebhookDisabled, cairn.EventExportReady}
		if err := db.UpdateWebhookEndpoint(appCtx, got, got.UpdatedAt); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.UpdateWebhookEndpoint(appCtx, got, got.UpdatedAt.Add(-time.Second)), cairn.EPRECONDITION)

		now := time.Now()
		if err := db.RecordOAuthConsent(sys, ada.ID, app.ID, []cairn.Scope{cairn.ScopeActivityRead}, now); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordOAuthConsent(sys, cy.ID, app.ID, []cairn.Scope{cairn.ScopeProfileRead}, now); err != nil {
			t.Fatal(err)
		}
		// deliveries appends ev and returns the endpoints it was delivered to.
		deliveries := func(ev cairn.Event) []string {
			t.Helper()
			ctx := as(ev.UserID)
			if err := db.InTx(ctx, func(tx *sqldb.Tx) error { return tx.AppendEvent(ctx, &ev) }); err != nil {
				t.Fatal(err)
			}
			var to []string
			for _, e := range []*cairn.WebhookEndpoint{appHook, adaHook, otherHook} {
				page, err := db.ListWebhookDeliveries(cairn.SystemContext(ctx), cairn.DeliveryFilter{EndpointID: e.ID})
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range page.Data {
					if d.EventID == ev.ID {
						if d.UserID != ev.UserID || d.EventType != ev.Type || d.Status != cairn.DeliveryPending {
							t.Errorf("delivery %+v of %+v", d, ev)
						}
						to = append(to, e.ID)
					}
				}
			}
			return to
		}
		created := func(u *cairn.User) cairn.Event {
			return cairn.ActivityEvent(cairn.EventActivityCreated, &cairn.Activity{ID: sqldb.NewID(), UserID: u.ID, Type: cairn.ActivityRun})
		}
		for _, c := range []struct {
			name string
			ev   cairn.Event
			want []string
		}{
			{"ada's activity (consent with activity:read)", created(ada), []string{appHook.ID, adaHook.ID}},
			{"bob's activity (no consent)", created(bob), nil},
			{"cy's activity (profile:read only)", created(cy), nil},
			{"cy's sync (profile:read covers it)", cairn.SyncEvent(cairn.EventSyncCompleted, cy.ID, "s1", "strava", ""), []string{appHook.ID}},
			{"cy deleted (any consent)", cairn.UserDeletedEvent(cy.ID), []string{appHook.ID}},
			{"cy's export (needs export)", cairn.ExportReadyEvent(cy.ID, "x1"), nil},
			{"ada's endpoint disabled (never to clients)", cairn.WebhookDisabledEvent(ada.ID, adaHook.ID, "gone"), []string{adaHook.ID}},
		} {
			if got := deliveries(c.ev); !slices.Equal(got, c.want) {
				t.Errorf("%s: delivered to %v, want %v", c.name, got, c.want)
			}
		}
		// A client's list of deliveries shows every consenting user's.
		page, err := db.ListWebhookDeliveries(appCtx, cairn.DeliveryFilter{EndpointID: appHook.ID})
		if err != nil || page.Total != 3 {
			t.Errorf("the app's deliveries: %+v %v", page, err)
		}
		if err := db.RevokeOAuthConsent(as(ada.ID), app.ID); err != nil {
			t.Fatal(err)
		}
		if got := deliveries(created(ada)); !slices.Equal(got, []string{adaHook.ID}) {
			t.Errorf("after revoking: delivered to %v", got)
		}

		// One owner, whatever writes the row.
		for _, row := range []struct {
			user   any
			client string
		}{{nil, ""}, {ada.ID, app.ID}} {
			_, err := db.Writer().Exec(`INSERT INTO webhook_endpoints (id, user_id, client_id, url, secret_enc, created_at, updated_at)
				VALUES ($1, $2, $3, 'https://x.example', $4, $5, $5)`, sqldb.NewID(), row.user, row.client, []byte("s"), "2024-01-01T00:00:00Z")
			if err == nil {
				t.Errorf("an endpoint owned by user %v and client %q was stored", row.user, row.client)
			}
		}
		if _, err := db.Writer().Exec("UPDATE webhook_endpoints SET client_id = $1 WHERE id = $2", app.ID, adaHook.ID); err == nil {
			t.Error("an endpoint became owned by a user and a client")
		}
	})
}

// TestPurgeEventHistory: the retention purge deletes finished deliveries
// past their retention and then old events nothing refers to, in
// batches, and keeps pending deliveries, dead ones still replayable, their
// events, and recent events.
func TestPurgeEventHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		ada := mustUser(t, db, "ada@example.com")
		ctx := as(ada.ID)
		hook := &cairn.WebhookEndpoint{ID: sqldb.NewID(), UserID: ada.ID, URL: "https://hooks.example/", Enabled: true}
		if err := db.CreateWebhookEndpoint(ctx, hook, []byte("sealed")); err != nil {
			t.Fatal(err)
		}
		start := time.Now().UTC()
		setClock := func(at time.Time) { db.Now = func() time.Time { return at } }
		defer func() { db.Now = time.Now }()
		// event appends an event at the time, and finishes its delivery
		// (status) at finished unless it stays pending.
		event := func(at time.Time, status string, finished time.Time) (evID, deliveryID string) {
			t.Helper()
			setClock(at)
			ev := cairn.ActivityEvent(cairn.EventActivityCreated, &cairn.Activity{ID: sqldb.NewID(), UserID: ada.ID})
			if err := db.InTx(ctx, func(tx *sqldb.Tx) error { return tx.AppendEvent(ctx, &ev) }); err != nil {
				t.Fatal(err)
			}
			page, err := db.ListWebhookDeliveries(ctx, cairn.DeliveryFilter{EndpointID: hook.ID, Page: cairn.PageRequest{Limit: 200}})
			i := slices.IndexFunc(page.Data, func(d cairn.WebhookDelivery) bool { return d.EventID == ev.ID })
			if err != nil || i < 0 {
				t.Fatalf("delivery of %s: %+v %v", ev.ID, page, err)
			}
			d := page.Data[i]
			if status != cairn.DeliveryPending {
				setClock(finished)
				d.Status = status
				if _, err := db.RecordDeliveryAttempt(sys, &d, sqldb.EndpointUnchanged, ""); err != nil {
					t.Fatal(err)
				}
			}
			return ev.ID, d.ID
		}
		old, recent := start.Add(-40*24*time.Hour), start.Add(-time.Hour)
		var gone, kept []string
		for range 5 { // old and delivered long ago: deleted, several batches
			ev, _ := event(old, cairn.DeliveryDelivered, old.Add(time.Minute))
			gone = append(gone, ev)
		}
		deadOld, _ := event(old, cairn.DeliveryDead, old.Add(time.Hour))
		gone = append(gone, deadOld)
		pendingOld, pendingDelivery := event(old, cairn.DeliveryPending, time.Time{})
		kept = append(kept, pendingOld)
		deadRecent, deadDelivery := event(old, cairn.DeliveryDead, recent) // died lately: still replayable
		kept = append(kept, deadRecent)
		fresh, _ := event(recent, cairn.DeliveryDelivered, recent)
		kept = append(kept, fresh)
		setClock(old)
		lone := cairn.UserDeletedEvent(ada.ID) // old, never delivered (the endpoint did not want it)
		hook.EventTypes = []cairn.EventType{cairn.EventActivityCreated}
		if err := db.UpdateWebhookEndpoint(ctx, hook, hook.UpdatedAt); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *sqldb.Tx) error { return tx.AppendEvent(ctx, &lone) }); err != nil {
			t.Fatal(err)
		}
		gone = append(gone, lone.ID)
		db.Now = time.Now

		cutoff := start.Add(-30 * 24 * time.Hour)
		_, _, err := db.PurgeEventHistory(ctx, cutoff, cutoff, 2)
		wantCode(t, err, cairn.EFORBIDDEN)
		events, deliveries, err := db.PurgeEventHistory(sys, cutoff, cutoff, 2)
		if err != nil || events != int64(len(gone)) || deliveries != 6 {
			t.Fatalf("purged %d events and %d deliveries (%v), want %d and 6", events, deliveries, err, len(gone))
		}
		page, err := db.ListEvents(ctx, cairn.EventFilter{})
		var left []string
		for _, ev := range page.Data {
			left = append(left, ev.ID)
		}
		slices.Sort(left)
		slices.Sort(kept)
		if err != nil || !slices.Equal(left, kept) {
			t.Errorf("events left: %v (%v), want %v", left, err, kept)
		}
		ds, err := db.ListWebhookDeliveries(ctx, cairn.DeliveryFilter{EndpointID: hook.ID})
		if err != nil || ds.Total != 3 {
			t.Errorf("deliveries left: %+v %v", ds, err)
		}
		if d, err := db.ReplayWebhookDelivery(ctx, hook.ID, deadDelivery); err != nil || d.Status != cairn.DeliveryPending {
			t.Errorf("the recently dead delivery is not replayable: %+v %v", d, err)
		}
		if _, err := db.FindWebhookDelivery(ctx, pendingDelivery); err != nil {
			t.Errorf("the pending delivery: %v", err)
		}
		if events, deliveries, err := db.PurgeEventHistory(sys, cutoff, cutoff, 2); err != nil || events+deliveries != 0 {
			t.Errorf("a second pass deleted %d events and %d deliveries (%v)", events, deliveries, err)
		}
	})
}
