package ingest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/analysis"
	"github.com/cairn-fit/cairn/geo"
	"github.com/cairn-fit/cairn/series"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/tracks"
	"golang.org/x/sync/errgroup"
)

// activities stores an activity file. A FIT file with several sessions is
// one multisport activity (a parent and a child per session); the files of
// a FIT chain, and the tracks of a GPX or TCX file, are independent
// activities.
func (p *plan) activities(ctx context.Context, tx *sqldb.Tx) (*Result, error) {
	acts := p.file.Activities
	if len(acts) == 0 {
		return nil, cairn.Errorf(cairn.EINVALIDFILE, "the file holds no activity")
	}
	deviceID, err := p.device(ctx, tx)
	if err != nil {
		return nil, err
	}
	res := &Result{Status: Duplicate}
	var window cairn.TimeWindow // of what this file added
	for _, g := range recordings(p.file.Format, acts) {
		ids, created, err := p.group(ctx, tx, g, deviceID)
		if err != nil {
			return nil, err
		}
		if created {
			res.Status = Created
			window = widen(window, g)
		}
		for _, id := range ids {
			if !slices.Contains(res.ActivityIDs, id) {
				res.ActivityIDs = append(res.ActivityIDs, id)
			}
		}
	}
	if deviceID != nil && res.Status == Created {
		if err := deviceSynced(ctx, tx, p.userID, *deviceID, window); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// widen extends w to the time range of a recording that has timestamps.
func widen(w cairn.TimeWindow, acts []cairn.DecodedActivity) cairn.TimeWindow {
	start, end := span(acts)
	if start.IsZero() {
		return w
	}
	if w.Start.IsZero() || start.Before(w.Start) {
		w.Start = start
	}
	if end.After(w.End) {
		w.End = end
	}
	return w
}

// deviceSynced records that the device's data for the window reached
// cairn: its last_sync_at, and device.synced in the transaction.
func deviceSynced(ctx context.Context, tx *sqldb.Tx, userID, deviceID string, window cairn.TimeWindow) error {
	if err := tx.MarkDeviceSynced(ctx, userID, deviceID, time.Now()); err != nil {
		return err
	}
	ev := cairn.DeviceSyncedEvent(userID, deviceID, window)
	return tx.AppendEvent(ctx, &ev)
}

// group stores one recording: a single activity, or a multisport parent
// and its sessions. The same recording from another source (another file,
// a provider) is kept once: this file is recorded as one more source of
// the canonical activity.
func (p *plan) group(ctx context.Context, tx *sqldb.Tx, acts []cairn.DecodedActivity, deviceID *string) (ids []string, created bool, err error) {
	if start, end := span(acts); !start.IsZero() {
		same, err := tx.FindSameRecording(ctx, p.userID, start, end)
		if err == nil {
			return []string{same.ID}, false, p.addSource(ctx, tx, same.ID)
		} else if cairn.ErrorCode(err) != cairn.ENOTFOUND {
			return nil, false, err
		}
	}
	// The sessions of a multisport file are built side by side.
	built := make([]*activity, len(acts))
	var g errgroup.Group
	for i := range acts {
		g.Go(func() (err error) {
			built[i], err = p.build(ctx, &acts[i], deviceID)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, false, err
	}
	if len(built) == 1 {
		if err := built[0].store(ctx, tx); err != nil {
			return nil, false, err
		}
		if err := activityCreated(ctx, tx, &built[0].act); err != nil {
			return nil, false, err
		}
		return []string{built[0].act.ID}, true, p.addSource(ctx, tx, built[0].act.ID)
	}
	parent := multisportParent(built, deviceID, p.userID)
	if err := parent.store(ctx, tx); err != nil {
		return nil, false, err
	}
	if err := activityCreated(ctx, tx, &parent.act); err != nil {
		return nil, false, err
	}
	ids = []string{parent.act.ID}
	for _, b := range built {
		b.act.ParentID = &parent.act.ID
		if err := b.store(ctx, tx); err != nil {
			return nil, false, err
		}
		ids = append(ids, b.act.ID)
	}
	return ids, true, p.addSource(ctx, tx, parent.act.ID)
}

// activityCreated records activity.created for a top-level activity (a
// multisport file's parent, not its sessions) in the transaction.
func activityCreated(ctx context.Context, tx *sqldb.Tx, a *cairn.Activity) error {
	ev := cairn.ActivityEvent(cairn.EventActivityCreated, a)
	return tx.AppendEvent(ctx, &ev)
}

// recordings splits a file's activities into recordings: for FIT, a new
// one starts at each first session of a chained file (session_index 0);
// otherwise each activity is its own.
func recordings(format string, acts []cairn.DecodedActivity) [][]cairn.DecodedActivity {
	var groups [][]cairn.DecodedActivity
	for i := range acts {
		idx, _ := acts[i].Metadata["session_index"].(int)
		if format != cairn.FormatFIT || idx == 0 || len(groups) == 0 {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], acts[i])
	}
	return groups
}

// span is the time range of a file's sessions; zero without timestamps.
func span(acts []cairn.DecodedActivity) (start, end time.Time) {
	start = acts[0].Start
	for _, a := range acts {
		if a.End.After(end) {
			end = a.End
		}
	}
	return start, end
}

func (p *plan) addSource(ctx context.Context, tx *sqldb.Tx, activityID string) error {
	src := p.origin()
	src.ActivityID, src.UserID = activityID, p.userID
	return tx.AddActivitySource(ctx, &src)
}

// origin is where the plan's activities come from: a file, or a
// provider's record (StoreProvider).
func (p *plan) origin() cairn.ActivitySource {
	if p.provider != nil {
		src := *p.provider
		src.FileHash = p.hash
		return src
	}
	return cairn.ActivitySource{Source: cairn.SourceFile, FileHash: p.hash}
}

// device finds the user's device that recorded the file, registering it
// the first time.
func (p *plan) device(ctx context.Context, tx *sqldb.Tx) (*string, error) {
	d := p.file.Device
	if d == nil || d.Model == "" {
		return nil, nil
	}
	found, err := tx.FindDeviceBySerial(ctx, p.userID, d.Model, d.SerialNumber)
	if err == nil {
		return &found.ID, nil
	} else if cairn.ErrorCode(err) != cairn.ENOTFOUND {
		return nil, err
	}
	dev := &cairn.Device{UserID: p.userID, Manufacturer: d.Manufacturer, Model: d.Model,
		SerialNumber: d.SerialNumber, FirmwareVersion: d.FirmwareVersion}
	if err := tx.CreateDevice(ctx, dev); err != nil {
		return nil, err
	}
	return &dev.ID, nil
}

// activity is one activity ready to store.
type activity struct {
	act     cairn.Activity
	summary cairn.Summary
	metrics []cairn.Metric
	route   *cairn.Route
}

func (a *activity) store(ctx context.Context, tx *sqldb.Tx) error {
	if err := tx.CreateActivity(ctx, &a.act); err != nil {
		return err
	}
	a.summary.ActivityID, a.summary.UserID = a.act.ID, a.act.UserID
	if err := tx.UpsertSummary(ctx, &a.summary); err != nil {
		return err
	}
	for i := range a.metrics {
		a.metrics[i].ActivityID = a.act.ID
	}
	if err := tx.UpsertMetrics(ctx, a.metrics); err != nil {
		return err
	}
	if a.route != nil {
		a.route.ActivityID = a.act.ID
		return tx.UpsertRoute(ctx, a.route)
	}
	return nil
}

// build computes an activity's row, summary, series and route, writing
// the series to the blob store.
func (p *plan) build(ctx context.Context, d *cairn.DecodedActivity, deviceID *string) (*activity, error) {
	id := sqldb.NewID()
	b := &activity{}
	start, end := d.Start, d.End
	if start.IsZero() {
		// A route without timestamps (a planned GPX track) still imports;
		// it is dated by its import.
		start, end = time.Now().UTC(), time.Time{}
		p.warnOnce("the file has no timestamps: the activity is dated by its import")
	}
	meta := map[string]any{"format": p.file.Format}
	for k, v := range d.Metadata {
		meta[k] = v
	}
	if len(d.Laps) > 0 {
		meta["laps"] = d.Laps
	}
	if d.Indoor {
		meta["indoor"] = true
	}
	metadata, err := cairn.MarshalMetadata(meta)
	if err != nil {
		return nil, cairn.Wrap(cairn.EINVALIDFILE, err, "the file's metadata cannot be stored")
	}
	src := p.origin()
	b.act = cairn.Activity{ID: id, UserID: p.userID, DeviceID: deviceID, Type: d.Type, Sport: d.Sport,
		Name: d.Name, StartTime: start, Source: src.Source, Provider: src.Provider, ExternalID: src.ExternalID,
		RawFileRef: p.originalKey, FileHash: p.hash, Partial: p.file.Partial, Metadata: metadata}
	if !b.act.Type.Valid() {
		b.act.Type = cairn.ActivityOther
	}
	if !end.IsZero() && !end.Before(start) {
		b.act.EndTime = &end
	}
	// The summary is computed while the series and route are prepared.
	summarized := make(chan struct{})
	go func() {
		defer close(summarized)
		b.summary = analysis.Summarize(*d, summaryOptions())
	}()
	err = p.series(ctx, b, d.Records)
	<-summarized
	if err != nil {
		return nil, err
	}
	return b, nil
}

// streams are the per-record metrics stored as series.
var streams = []struct {
	typ cairn.MetricType
	get func(*cairn.Record) float64
}{
	{cairn.MetricHeartRate, func(r *cairn.Record) float64 { return r.HeartRate }},
	{cairn.MetricPower, func(r *cairn.Record) float64 { return r.Power }},
	{cairn.MetricCadence, func(r *cairn.Record) float64 { return r.Cadence }},
	{cairn.MetricSpeed, func(r *cairn.Record) float64 { return r.Speed }},
	{cairn.MetricAltitude, func(r *cairn.Record) float64 { return r.Altitude }},
	{cairn.MetricTemperature, func(r *cairn.Record) float64 { return r.Temperature }},
	{cairn.MetricDistance, func(r *cairn.Record) float64 { return r.Distance }},
}

// series describes each stream that has values, and the route, then
// encodes them into one bundle blob for the activity (one object to write
// instead of one per stream) in the background: the rows are written
// meanwhile, and the transaction commits only once the blob is stored.
func (p *plan) series(ctx context.Context, b *activity, records []cairn.Record) error {
	key := fmt.Sprintf("users/%s/activities/%s/streams", p.userID, b.act.ID)
	type part struct {
		name string
		ts   []int64
		cols [][]float64
	}
	var parts []part
	describe := func(m cairn.Metric, ts []int64, cols ...[]float64) {
		m.UserID, m.BlobKey = p.userID, series.Ref(key, string(m.Type))
		b.metrics = append(b.metrics, m)
		parts = append(parts, part{string(m.Type), ts, cols})
	}
	for _, s := range streams {
		if ts, vs := column(records, s.get); len(vs) > 0 {
			describe(tracks.MetricOf(s.typ, ts, vs), ts, vs)
		}
	}
	if track := geo.Track(records); len(track) > 0 {
		// The full-resolution track (time, lat, lon, altitude) is stored
		// once: it is both the route's points and the position series.
		r, _, _ := geo.RouteFromTrack(records, track)
		ts, lat, lon, alt := trackColumns(records, track)
		r.UserID, r.BlobKey = p.userID, series.Ref(key, string(cairn.MetricPosition))
		b.route = &r
		describe(tracks.MetricOf(cairn.MetricPosition, ts, nil), ts, lat, lon, alt)
	}
	if len(parts) == 0 {
		return nil
	}
	p.pending.Go(func() error {
		encoded := make(map[string][]byte, len(parts))
		var mu sync.Mutex
		var g errgroup.Group
		for _, pt := range parts {
			g.Go(func() error {
				data, err := series.Encode(pt.ts, pt.cols...)
				if err != nil {
					return cairn.Wrap(cairn.EINVALIDFILE, err, "a series cannot be encoded")
				}
				mu.Lock()
				defer mu.Unlock()
				encoded[pt.name] = data
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		return p.put(ctx, key, series.Bundle(encoded))
	})
	return nil
}

func trackColumns(records []cairn.Record, track []geo.TrackPoint) (ts []int64, lat, lon, alt []float64) {
	ts = make([]int64, len(track))
	lat, lon, alt = make([]float64, len(track)), make([]float64, len(track)), make([]float64, len(track))
	for i, tp := range track {
		rec := &records[tp.Index]
		ts[i], lat[i], lon[i], alt[i] = millis(rec.Time), tp.Lat, tp.Lng, rec.Altitude
	}
	return ts, lat, lon, alt
}

// column gathers one stream's samples that have a value.
func column(records []cairn.Record, get func(*cairn.Record) float64) ([]int64, []float64) {
	var ts []int64
	var vs []float64
	for i := range records {
		if v := get(&records[i]); !math.IsNaN(v) && !math.IsInf(v, 0) {
			if ts == nil {
				ts, vs = make([]int64, 0, len(records)-i), make([]float64, 0, len(records)-i)
			}
			ts = append(ts, millis(records[i].Time))
			vs = append(vs, v)
		}
	}
	return ts, vs
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// multisportParent is the activity that spans a multisport file's
// sessions, with a summary adding up theirs.
func multisportParent(children []*activity, deviceID *string, userID string) *activity {
	first, last := children[0], children[len(children)-1]
	parent := &activity{}
	parent.act = first.act
	parent.act.ID, parent.act.Type, parent.act.Sport, parent.act.Name = sqldb.NewID(), cairn.ActivityMultisport, "multisport", first.act.Name
	parent.act.DeviceID, parent.act.UserID = deviceID, userID
	parent.act.EndTime = last.act.EndTime
	s := cairn.Summary{Sources: map[string]string{}}
	for _, c := range children {
		add := func(field string, dst **float64, v *float64) {
			if v == nil {
				return
			}
			sum := *v
			if *dst != nil {
				sum += **dst
			}
			*dst = &sum
			s.Sources[field] = cairn.SummaryFromComputed
		}
		add("distance_m", &s.DistanceM, c.summary.DistanceM)
		add("moving_time_s", &s.MovingTimeS, c.summary.MovingTimeS)
		add("timer_time_s", &s.TimerTimeS, c.summary.TimerTimeS)
		add("calories", &s.Calories, c.summary.Calories)
		add("elevation_gain", &s.ElevationGain, c.summary.ElevationGain)
		add("elevation_loss", &s.ElevationLoss, c.summary.ElevationLoss)
		if c.summary.MaxHR != nil && (s.MaxHR == nil || *c.summary.MaxHR > *s.MaxHR) {
			v := *c.summary.MaxHR
			s.MaxHR = &v
			s.Sources["max_hr"] = cairn.SummaryFromComputed
		}
	}
	if parent.act.EndTime != nil {
		d := parent.act.EndTime.Sub(parent.act.StartTime).Seconds()
		s.DurationS = &d
		s.Sources["duration_s"] = cairn.SummaryFromComputed
	}
	parent.summary = s
	return parent
}
