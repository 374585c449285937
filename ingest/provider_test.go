package ingest_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/fit"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/synth"
	"github.com/muktihari/fit/profile/typedef"
)

// TestStoreProvider: a provider's activity is stored like a file's (a
// summary, series, its source), once per provider record; the same
// recording uploaded as a file before is one activity with both sources.
func TestStoreProvider(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		file := synthFIT(t, 3003, synth.Leg{Sport: typedef.SportRunning, Offset: 0, Seconds: 900})
		decoded, err := fit.Decode(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		rec := decoded.Activities[0]

		// A provider's record of a recording cairn has not seen.
		later := rec
		shift := 3 * time.Hour
		later.Start, later.End = rec.Start.Add(shift), rec.End.Add(shift)
		later.Records = append([]cairn.Record(nil), rec.Records...)
		for i := range later.Records {
			later.Records[i].Time = later.Records[i].Time.Add(shift)
		}
		pa := ingest.ProviderActivity{Provider: cairn.ProviderStrava, ExternalID: "777", Format: "strava", Activity: later}
		calls := 0
		res, err := f.svc.StoreProvider(f.ctx, f.user.ID, pa, func(tx *sqldb.Tx, r *ingest.ProviderResult) error {
			calls++
			return nil
		})
		if err != nil || !res.Created || calls != 1 {
			t.Fatalf("store: %+v %v (also called %d times)", res, err, calls)
		}
		a, err := db.FindActivity(f.ctx, res.ActivityID)
		if err != nil || a.Source != cairn.SourceStrava || a.Provider != cairn.ProviderStrava || a.ExternalID != "777" ||
			!a.StartTime.Equal(later.Start) || a.Type != cairn.ActivityRun {
			t.Fatalf("activity %+v %v", a, err)
		}
		if s, err := db.FindSummary(f.ctx, a.ID); err != nil || s.DistanceM == nil || *s.DistanceM <= 0 {
			t.Errorf("summary %+v %v", s, err)
		}
		if ms, err := db.ListMetrics(f.ctx, cairn.MetricFilter{ActivityID: a.ID}); err != nil || len(ms.Data) < 3 {
			t.Errorf("metrics %v %v", ms, err)
		}
		again, err := f.svc.StoreProvider(f.ctx, f.user.ID, pa, nil)
		if err != nil || again.Created || again.ActivityID != a.ID {
			t.Errorf("the same record again: %+v %v", again, err)
		}

		// A file first, then the provider's copy of the same recording.
		up, err := f.svc.Import(f.ctx, f.user.ID, all, bytes.NewReader(file))
		if err != nil || up.Status != ingest.Created {
			t.Fatalf("import: %+v %v", up, err)
		}
		same := rec
		same.Start = rec.Start.Add(20 * time.Second) // the provider's clock differs a little
		dup, err := f.svc.StoreProvider(f.ctx, f.user.ID, ingest.ProviderActivity{Provider: cairn.ProviderGarmin,
			ExternalID: "g-1", Format: "fit", Activity: same, Original: file}, nil)
		if err != nil || dup.Created || dup.ActivityID != up.ActivityIDs[0] {
			t.Fatalf("same recording: %+v %v (file activity %v)", dup, err, up.ActivityIDs)
		}
		src, err := db.ActivitySources(f.ctx, dup.ActivityID)
		if err != nil || len(src) != 2 || src[0].Source != cairn.SourceFile || src[1].Provider != cairn.ProviderGarmin || src[1].ExternalID != "g-1" {
			t.Errorf("sources %+v %v", src, err)
		}
		page, err := db.ListActivities(f.ctx, cairn.ActivityFilter{UserID: f.user.ID})
		if err != nil || page.Total != 2 {
			t.Errorf("%d activities, want 2: %v", page.Total, err)
		}
	})
}
