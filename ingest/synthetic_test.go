package ingest_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/fit"
	"github.com/cairn-fit/cairn/gpx"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/synth"
	"github.com/muktihari/fit/profile/typedef"
	"gocloud.dev/blob"
)

// These tests make their own files, so that a fresh clone tests ingestion
// without the shared fixtures.

var start = time.Date(2025, 6, 1, 6, 30, 0, 0, time.UTC)

func synthFIT(t testing.TB, serial uint32, legs ...synth.Leg) []byte {
	t.Helper()
	b, err := synth.FIT(start, serial, legs...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSyntheticActivity(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		file := synthFIT(t, 1001, synth.Leg{Sport: typedef.SportRunning, Offset: 0, Seconds: 600})
		res, err := f.svc.Import(f.ctx, f.user.ID, all, bytes.NewReader(file))
		if err != nil || res.Status != ingest.Created || res.Kind != cairn.KindActivity || len(res.ActivityIDs) != 1 {
			t.Fatalf("import: %+v %v", res, err)
		}
		a, err := db.FindActivity(f.ctx, res.ActivityIDs[0])
		if err != nil || a.Type != cairn.ActivityRun || !a.StartTime.Equal(start) || a.DeviceID == nil {
			t.Fatalf("activity: %+v %v", a, err)
		}
		s, err := db.FindSummary(f.ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		dist599, _ := synth.Totals(600)
		if !near(*s.DistanceM, dist599) || *s.DurationS != 599 || *s.AvgHR != 139 || *s.ElevationGain != 42 ||
			s.Sources["distance_m"] != cairn.SummaryFromDevice || s.Sources["moving_time_s"] != cairn.SummaryFromComputed {
			t.Errorf("summary: distance %v duration %v avg_hr %v gain %v sources %v", *s.DistanceM, *s.DurationS, *s.AvgHR, *s.ElevationGain, s.Sources)
		}
		again, err := f.svc.Import(f.ctx, f.user.ID, all, bytes.NewReader(file))
		if err != nil || again.Status != ingest.Duplicate || again.ActivityIDs[0] != a.ID {
			t.Fatalf("same file again: %+v %v", again, err)
		}

		// The same recording as GPX (another file, another source): one
		// canonical activity with both sources recorded.
		decoded, err := fit.Decode(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		var g bytes.Buffer
		if err := gpx.Encode(&g, decoded.Activities[0]); err != nil {
			t.Fatal(err)
		}
		same, err := f.svc.Import(f.ctx, f.user.ID, all, &g)
		if err != nil || same.Status != ingest.Duplicate || same.ActivityIDs[0] != a.ID {
			t.Fatalf("same recording as GPX: %+v %v", same, err)
		}
		sources, err := db.ActivitySources(f.ctx, a.ID)
		if err != nil || len(sources) != 2 || sources[0].FileHash == sources[1].FileHash {
			t.Errorf("sources: %+v %v", sources, err)
		}
		if n := f.count(t, "activities"); n != 1 {
			t.Errorf("%d activities, want 1", n)
		}
		// One import made the activity: one activity.created and one
		// device.synced for the window it covers, and the device's sync time.
		synced, err := db.ListEvents(f.ctx, cairn.EventFilter{Types: []cairn.EventType{cairn.EventDeviceSynced}})
		var data struct {
			DeviceID   string           `json:"device_id"`
			SyncWindow cairn.TimeWindow `json:"sync_window"`
		}
		if err != nil || len(synced.Data) != 1 || json.Unmarshal(synced.Data[0].Data, &data) != nil ||
			data.DeviceID != *a.DeviceID || !data.SyncWindow.Start.Equal(start) || !data.SyncWindow.End.Equal(start.Add(599*time.Second)) {
			t.Errorf("device.synced: %+v, %+v, %v", synced, data, err)
		}
		var created int
		if err := db.Reader().QueryRow("SELECT count(*) FROM events WHERE type = 'activity.created' AND user_id = $1", f.user.ID).Scan(&created); err != nil || created != 1 {
			t.Errorf("activity.created events: %d, %v", created, err)
		}
		if d, err := db.FindDevice(f.ctx, *a.DeviceID); err != nil || d.LastSyncAt == nil {
			t.Errorf("device after import: %+v, %v", d, err)
		}
		// Both originals are kept under their hash, nothing staged is left.
		var originals []string
		it := f.bucket.List(&blob.ListOptions{Prefix: "users/" + f.user.ID + "/originals/"})
		for {
			obj, err := it.Next(f.ctx)
			if err != nil {
				break
			}
			originals = append(originals, obj.Key)
		}
		if len(originals) != 2 || strings.Contains(strings.Join(originals, " "), "incoming") ||
			!strings.HasSuffix(originals[0], ".fit") && !strings.HasSuffix(originals[1], ".fit") {
			t.Errorf("originals in the blob store: %v", originals)
		}
	})
}

func TestSyntheticMultisport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		file := synthFIT(t, 1002, synth.Leg{Sport: typedef.SportSwimming, Offset: 0, Seconds: 300}, synth.Leg{Sport: typedef.SportCycling, Offset: 6 * time.Minute, Seconds: 900},
			synth.Leg{Sport: typedef.SportRunning, Offset: 22 * time.Minute, Seconds: 600})
		res, err := f.svc.Import(f.ctx, f.user.ID, all, bytes.NewReader(file))
		if err != nil || len(res.ActivityIDs) != 4 {
			t.Fatalf("import: %+v %v", res, err)
		}
		parent, err := db.FindActivity(f.ctx, res.ActivityIDs[0])
		if err != nil || parent.Type != cairn.ActivityMultisport || parent.ParentID != nil {
			t.Fatalf("parent: %+v %v", parent, err)
		}
		wantTypes := []cairn.ActivityType{cairn.ActivityOpenWaterSwim, cairn.ActivityRide, cairn.ActivityRun}
		var total float64
		for i, id := range res.ActivityIDs[1:] {
			c, err := db.FindActivity(f.ctx, id)
			if err != nil || c.ParentID == nil || *c.ParentID != parent.ID {
				t.Fatalf("child %d: %+v %v", i, c, err)
			}
			if c.Type != wantTypes[i] && !(i == 0 && c.Type == cairn.ActivityPoolSwim) {
				t.Errorf("child %d type %s, want %s", i, c.Type, wantTypes[i])
			}
			s, _ := db.FindSummary(f.ctx, id)
			total += *s.DistanceM
		}
		ps, err := db.FindSummary(f.ctx, parent.ID)
		if err != nil || *ps.DistanceM != total {
			t.Errorf("parent distance %v, children add up to %v (%v)", ps.DistanceM, total, err)
		}
	})
}

func TestScopes(t *testing.T) {
	f := setup(t, dbtest.Open(t, "sqlite"))
	file := synthFIT(t, 1003, synth.Leg{Sport: typedef.SportRunning, Offset: 0, Seconds: 60})
	_, err := f.svc.Import(f.ctx, f.user.ID, ingest.Allowed{Health: true}, bytes.NewReader(file))
	if cairn.ErrorCode(err) != cairn.EFORBIDDEN {
		t.Errorf("activity file with health:write only: %v", err)
	}
	if n := f.count(t, "activities"); n != 0 {
		t.Errorf("refused import wrote %d activities", n)
	}
}
