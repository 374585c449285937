package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// TestSyncStorage: connections and sync sessions keep to their user; a
// session's lease admits one worker at a time (its holder again at once,
// another only once it lapses); items are recorded once and counted as
// they advance.
func TestSyncStorage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		sys := cairn.SystemContext(context.Background())
		ada, bob := &cairn.User{Email: "ada@example.com"}, &cairn.User{Email: "bob@example.com"}
		for _, u := range []*cairn.User{ada, bob} {
			if err := db.CreateUser(sys, u); err != nil {
				t.Fatal(err)
			}
		}
		as := func(u *cairn.User) context.Context {
			return cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID})
		}
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		c := &cairn.Connection{UserID: ada.ID, Provider: cairn.ProviderStrava, ExternalUserID: "42",
			AccessTokenEnc: []byte("sealed-a"), RefreshTokenEnc: []byte("sealed-r"), ExpiresAt: &exp}
		if err := db.UpsertConnection(as(ada), c); err != nil || c.ID == "" || c.Status != cairn.ConnectionActive {
			t.Fatalf("connection %+v %v", c, err)
		}
		if err := db.UpsertConnection(as(bob), &cairn.Connection{UserID: ada.ID, Provider: cairn.ProviderGarmin}); cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("bob writes ada's connection: %v", err)
		}
		again := *c
		again.AccessTokenEnc = []byte("sealed-b")
		if err := db.UpsertConnection(as(ada), &again); err != nil || again.ID != c.ID {
			t.Errorf("reconnecting keeps the row: %v %s %s", err, again.ID, c.ID)
		}
		if _, err := db.FindConnection(as(bob), ada.ID, cairn.ProviderStrava); cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("bob reads ada's connection: %v", err)
		}
		if got, err := db.FindConnectionByExternal(sys, cairn.ProviderStrava, "42"); err != nil || got.UserID != ada.ID || string(got.AccessTokenEnc) != "sealed-b" {
			t.Errorf("by external id: %+v %v", got, err)
		}

		s := &cairn.SyncSession{UserID: ada.ID, Provider: cairn.ProviderStrava, Type: cairn.SyncBackfill}
		if err := db.CreateSyncSession(as(ada), s, nil); err != nil || s.Status != cairn.SyncInitiated {
			t.Fatalf("session %+v %v", s, err)
		}
		if _, err := db.FindSyncSession(as(bob), s.ID); cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("bob reads ada's session: %v", err)
		}
		until := time.Now().Add(time.Minute)
		if _, err := db.ClaimSyncSession(sys, s.ID, "a", until); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ClaimSyncSession(sys, s.ID, "b", until); cairn.ErrorCode(err) != cairn.ECONFLICT {
			t.Errorf("a second worker: %v", err)
		}
		if _, err := db.ClaimSyncSession(sys, s.ID, "a", until); err != nil {
			t.Errorf("the holder again: %v", err)
		}
		if res, err := db.ResumableSyncSessions(sys, 10); err != nil || len(res) != 0 {
			t.Errorf("a held session is resumable: %v %v", res, err)
		}
		s.Status = cairn.SyncFetching
		if err := db.SaveSyncSession(as(ada), s, "b", until); cairn.ErrorCode(err) != cairn.EPRECONDITION {
			t.Errorf("saving without the lease: %v", err)
		}
		items := []sqldb.SyncItem{{Provider: cairn.ProviderStrava, ExternalID: "1", Start: exp, End: exp.Add(time.Hour)},
			{Provider: cairn.ProviderStrava, ExternalID: "2", Start: exp, End: exp.Add(time.Hour)}}
		if n, err := db.AddSyncItems(as(ada), s, "a", until, items); err != nil || n != 2 {
			t.Fatalf("items: %d %v", n, err)
		}
		if n, err := db.AddSyncItems(as(ada), s, "a", until, items[:1]); err != nil || n != 0 {
			t.Errorf("the same item again: %d %v", n, err)
		}
		listed, err := db.SyncItems(as(ada), ada.ID, s.ID, sqldb.ItemListed, 10)
		if err != nil || len(listed) != 2 {
			t.Fatalf("listed %v %v", listed, err)
		}
		listed[0].State = sqldb.ItemFetched
		for range 2 { // counted once however often it is written
			if err := db.AdvanceSyncItem(as(ada), nil, &listed[0]); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.ReleaseSyncSession(sys, s.ID, "a"); err != nil {
			t.Fatal(err)
		}
		got, err := db.ClaimSyncSession(sys, s.ID, "b", until)
		if err != nil || got.Status != cairn.SyncFetching || got.Counters != (cairn.SyncCounters{Estimated: 2, Fetched: 1}) {
			t.Errorf("after release: %+v %v", got, err)
		}
	})
}
