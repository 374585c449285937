package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// TestEvents: events are listed newest first, per user, with cursors, by
// type and since a time; an admin sees every user's; the store refuses an
// unknown type and another user's event.
func TestEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		ada, bob := mustUser(t, db, "ada@example.com"), mustUser(t, db, "bob@example.com")
		adaCtx, bobCtx := as(ada.ID), as(bob.ID)
		appendEvent := func(ctx context.Context, ev cairn.Event) cairn.Event {
			t.Helper()
			if err := db.InTx(ctx, func(tx *sqldb.Tx) error { return tx.AppendEvent(ctx, &ev) }); err != nil {
				t.Fatal(err)
			}
			return ev
		}
		var ids []string
		for i := range 5 {
			ev := cairn.DeviceSyncedEvent(ada.ID, "d1", cairn.TimeWindow{Start: time.Unix(int64(i), 0).UTC(), End: time.Unix(int64(i+1), 0).UTC()})
			if i == 2 {
				ev = cairn.ActivityEvent(cairn.EventActivityCreated, &cairn.Activity{ID: "a1", UserID: ada.ID, Type: cairn.ActivityRun})
			}
			ids = append(ids, appendEvent(adaCtx, ev).ID)
		}
		middle := ids[2]
		bobs := appendEvent(bobCtx, cairn.UserDeletedEvent(bob.ID))

		page, err := db.ListEvents(adaCtx, cairn.EventFilter{Page: cairn.PageRequest{Limit: 2}})
		if err != nil || page.Total != 5 || len(page.Data) != 2 || page.Data[0].ID != ids[4] || page.NextCursor == nil {
			t.Fatalf("first page: %+v %v", page, err)
		}
		var seen []string
		for p := page; ; {
			for _, ev := range p.Data {
				seen = append(seen, ev.ID)
				if ev.UserID != ada.ID || ev.Version != 1 || ev.CreatedAt.IsZero() || len(ev.Data) == 0 {
					t.Errorf("event %+v", ev)
				}
			}
			if p.NextCursor == nil {
				break
			}
			if p, err = db.ListEvents(adaCtx, cairn.EventFilter{Page: cairn.PageRequest{Limit: 2, Cursor: *p.NextCursor}}); err != nil {
				t.Fatal(err)
			}
		}
		if len(seen) != 5 || seen[0] != ids[4] || seen[4] != ids[0] {
			t.Errorf("pages: %v, want %v newest first", seen, ids)
		}
		if _, err := db.ListEvents(adaCtx, cairn.EventFilter{Types: []cairn.EventType{cairn.EventDeviceSynced},
			Page: cairn.PageRequest{Cursor: *page.NextCursor}}); cairn.ErrorCode(err) != cairn.EVALIDATION {
			t.Errorf("a cursor under another filter: %v", err)
		}
		typed, err := db.ListEvents(adaCtx, cairn.EventFilter{Types: []cairn.EventType{cairn.EventActivityCreated}})
		if err != nil || typed.Total != 1 || typed.Data[0].ID != middle || typed.Data[0].Type != cairn.EventActivityCreated {
			t.Errorf("by type: %+v %v", typed, err)
		}
		all, _ := db.ListEvents(adaCtx, cairn.EventFilter{})
		since := all.Data[1].CreatedAt // the fourth event's time
		recent, err := db.ListEvents(adaCtx, cairn.EventFilter{Since: &since})
		if err != nil || recent.Total != 2 {
			t.Errorf("since: %+v %v", recent, err)
		}
		if p, _ := db.ListEvents(bobCtx, cairn.EventFilter{}); p.Total != 1 || p.Data[0].ID != bobs.ID {
			t.Errorf("bob's events: %+v", p)
		}
		admin := cairn.WithActor(context.Background(), cairn.Actor{UserID: bob.ID, Admin: true})
		if p, _ := db.ListEvents(admin, cairn.EventFilter{}); p.Total != 6 {
			t.Errorf("an admin's list: %d", p.Total)
		}
		err = db.InTx(adaCtx, func(tx *sqldb.Tx) error {
			ev := cairn.UserDeletedEvent(bob.ID)
			return tx.AppendEvent(adaCtx, &ev)
		})
		if cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("an event about another user: %v", err)
		}
		err = db.InTx(adaCtx, func(tx *sqldb.Tx) error {
			ev := cairn.NewEvent("activity.exploded", ada.ID, struct{}{})
			return tx.AppendEvent(adaCtx, &ev)
		})
		if err == nil {
			t.Error("an unknown event type was recorded")
		}
	})
}
