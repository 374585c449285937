package tracks

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/series"
	"github.com/cairn-fit/cairn/sqldb"
)

// MaxPoints bounds a series sent by a client.
const MaxPoints = 1_000_000

// Window selects part of a series: points with Start <= t < End, reduced
// to at most Downsample points (0 keeps them all).
type Window struct {
	Start, End *time.Time
	Downsample int
}

// Series is a window of a metric series. A scalar series has Points (NaN
// for a missing sample); the position series has Track instead.
type Series struct {
	Metric *cairn.Metric
	Points []cairn.Point
	Track  []TrackPoint
}

// TrackPoint is one sample of the position series.
type TrackPoint struct {
	T             int64
	Lat, Lon, Alt float64
}

// Series returns a window of an activity's series.
func (s *Service) Series(ctx context.Context, activityID, metricID string, w Window) (*Series, error) {
	if _, err := s.liveActivity(ctx, activityID); err != nil {
		return nil, err
	}
	m, err := s.DB.FindMetric(ctx, metricID)
	if err != nil {
		return nil, err
	}
	if m.ActivityID != activityID {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return s.SeriesOf(ctx, m, w)
}

// SeriesOf returns a window of a series whose metadata is already read
// (of a live activity), as Series does.
func (s *Service) SeriesOf(ctx context.Context, m *cairn.Metric, w Window) (*Series, error) {
	b, err := s.read(ctx, m.BlobKey)
	if err != nil {
		return nil, err
	}
	out := &Series{Metric: m}
	if m.Type == cairn.MetricPosition {
		out.Track, err = TrackWindow(b, w)
	} else {
		out.Points, err = PointsWindow(b, w)
	}
	return out, err
}

// PointsWindow decodes a scalar series blob, slices it and downsamples it
// by largest-triangle-three-buckets, which keeps peaks and troughs.
func PointsWindow(b []byte, w Window) ([]cairn.Point, error) {
	points, err := series.DecodePoints(b)
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "a stored series cannot be read")
	}
	lo, hi := bounds(w)
	if lo != math.MinInt64 || hi != math.MaxInt64 {
		points = series.Slice(points, lo, hi)
	}
	if w.Downsample > 0 {
		points = series.Downsample(points, w.Downsample)
	}
	return points, nil
}

// TrackWindow decodes a route blob (lat, lon, alt), slices it and keeps at
// most w.Downsample points at even strides: LTTB needs one value to rank
// points by, and a position has none (simplify routes in metres instead).
func TrackWindow(b []byte, w Window) ([]TrackPoint, error) {
	t, cols, err := series.Decode(b)
	if err != nil || len(cols) != 3 {
		return nil, cairn.Wrap(cairn.EINTERNAL, fmt.Errorf("route blob: %v, %d columns", err, len(cols)), "a stored route cannot be read")
	}
	lo, hi := bounds(w)
	i := sort.Search(len(t), func(i int) bool { return t[i] >= lo })
	j := sort.Search(len(t), func(j int) bool { return t[j] >= hi })
	n := max(j-i, 0)
	keep := n
	if w.Downsample > 0 && w.Downsample < n {
		keep = w.Downsample
	}
	out := make([]TrackPoint, keep)
	for k := range out {
		x := i + k
		if keep < n {
			x = i + k*(n-1)/(keep-1) // first and last stay
		}
		out[k] = TrackPoint{T: t[x], Lat: cols[0][x], Lon: cols[1][x], Alt: cols[2][x]}
	}
	return out, nil
}

// bounds turns a window into millisecond bounds.
func bounds(w Window) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	if w.Start != nil {
		lo = w.Start.UnixMilli()
	}
	if w.End != nil {
		hi = w.End.UnixMilli()
	}
	return lo, hi
}

// PutSeries stores a client's points as the activity's series of type
// typ, replacing one of that type.
func (s *Service) PutSeries(ctx context.Context, activityID string, typ cairn.MetricType, points []cairn.Point) (*cairn.Metric, error) {
	if err := validatePoints(typ, points); err != nil {
		return nil, err
	}
	a, err := s.liveActivity(ctx, activityID)
	if err != nil {
		return nil, err
	}
	b, err := series.EncodePoints(points)
	if err != nil {
		return nil, cairn.Wrap(cairn.EVALIDATION, err, "the points cannot be stored")
	}
	key := SeriesKey(a.UserID, a.ID, string(typ))
	if err := s.write(ctx, key, b); err != nil {
		return nil, err
	}
	ts, vs := make([]int64, len(points)), make([]float64, len(points))
	for i, p := range points {
		ts[i], vs[i] = p.T, p.V
	}
	m := MetricOf(typ, ts, vs)
	m.UserID, m.ActivityID, m.BlobKey = a.UserID, a.ID, key
	err = s.DB.InTx(ctx, func(tx *sqldb.Tx) error { return tx.UpsertMetric(ctx, &m) })
	return &m, err
}

func validatePoints(typ cairn.MetricType, points []cairn.Point) error {
	bad := func(field, msg string) error { return cairn.Invalid(map[string]string{field: msg}) }
	switch {
	case !typ.Valid():
		return bad("type", "is not a known metric type")
	case typ == cairn.MetricPosition:
		return bad("type", "the position series is written with the route (POST …/route)")
	case len(points) == 0 || len(points) > MaxPoints:
		return bad("points", fmt.Sprintf("must hold 1 to %d points", MaxPoints))
	}
	for i, p := range points {
		if i > 0 && p.T <= points[i-1].T {
			return bad(fmt.Sprintf("points[%d].t", i), "must be later than the point before")
		}
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			return bad(fmt.Sprintf("points[%d].v", i), "must be a finite number")
		}
	}
	return nil
}
