package ingest_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/synth"
	"github.com/muktihari/fit/profile/typedef"
)

// TestActivityCreatedEvents: an import records one activity.created per
// top-level activity it creates (a multisport file: its parent only), and
// a duplicate none.
func TestActivityCreatedEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		events := func() []cairn.Event {
			t.Helper()
			p, err := db.ListEvents(f.ctx, cairn.EventFilter{Types: []cairn.EventType{cairn.EventActivityCreated}})
			if err != nil {
				t.Fatal(err)
			}
			return p.Data
		}
		multi := synthFIT(t, 2002, synth.Leg{Sport: typedef.SportSwimming, Offset: 0, Seconds: 300},
			synth.Leg{Sport: typedef.SportCycling, Offset: 6 * time.Minute, Seconds: 600},
			synth.Leg{Sport: typedef.SportRunning, Offset: 17 * time.Minute, Seconds: 600})
		res, err := f.svc.Import(f.ctx, f.user.ID, all, bytes.NewReader(multi))
		if err != nil || res.Status != ingest.Created || len(res.ActivityIDs) != 4 {
			t.Fatalf("import: %+v %v", res, err)
		}
		got := events()
		if len(got) != 1 || got[0].Type != cairn.EventActivityCreated || got[0].UserID != f.user.ID {
			t.Fatalf("events after a multisport import: %+v", got)
		}
		var data cairn.ActivityEventData
		if err := json.Unmarshal(got[0].Data, &data); err != nil || data.ActivityID != res.ActivityIDs[0] ||
			data.Type != cairn.ActivityMultisport {
			t.Errorf("event data %s (parent %s)", got[0].Data, res.ActivityIDs[0])
		}
		if again, err := f.svc.Import(f.ctx, f.user.ID, all, bytes.NewReader(multi)); err != nil || again.Status != ingest.Duplicate {
			t.Fatalf("again: %+v %v", again, err)
		}
		if n := len(events()); n != 1 {
			t.Errorf("a duplicate recorded events: %d", n)
		}
	})
}
