package graphql

import (
	"context"
	"math"
	"sort"
	"sync"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/tracks"
	graphql "github.com/graph-gophers/graphql-go"
)

// An activity's parts: its series, route and summary. Each knows its
// activity, which the list that produced it read already.

type metricResolver struct {
	s        *Server
	m        *cairn.Metric
	activity *activityResolver
}

func (r *metricResolver) ID() graphql.ID         { return globalID(kindMetric, r.m.ID) }
func (r *metricResolver) DatabaseID() graphql.ID { return graphql.ID(r.m.ID) }
func (r *metricResolver) Type() string           { return enumOut(r.m.Type) }
func (r *metricResolver) Unit() string           { return r.m.Unit }
func (r *metricResolver) SamplingRate() float64  { return r.m.SamplingRate }
func (r *metricResolver) Count() int32           { return int32(r.m.Count) }
func (r *metricResolver) StartTime() *dateTime   { return dtp(r.m.StartTime) }
func (r *metricResolver) EndTime() *dateTime     { return dtp(r.m.EndTime) }
func (r *metricResolver) CreatedAt() dateTime    { return dt(r.m.CreatedAt) }
func (r *metricResolver) UpdatedAt() dateTime    { return dt(r.m.UpdatedAt) }

func (r *metricResolver) Aggregates() *aggregates { return &aggregates{r.m} }

func (r *metricResolver) Activity(ctx context.Context) (*activityResolver, error) {
	if err := r.s.need(ctx, opGetActivity); err != nil {
		return nil, err
	}
	return r.activity, nil
}

type aggregates struct{ m *cairn.Metric }

func (a *aggregates) Min() *float64 { return a.m.Min }
func (a *aggregates) Max() *float64 { return a.m.Max }
func (a *aggregates) Avg() *float64 { return a.m.Avg }

type seriesArgs struct {
	RangeStart *dateTime
	RangeEnd   *dateTime
	Downsample *int32
}

func (r *metricResolver) Series(ctx context.Context, args seriesArgs) ([]*point, error) {
	if err := r.s.need(ctx, opGetMetric); err != nil {
		return nil, err
	}
	w := tracks.Window{Start: timep(args.RangeStart), End: timep(args.RangeEnd)}
	if args.Downsample != nil {
		w.Downsample = int(*args.Downsample)
		if w.Downsample < 3 || w.Downsample > 100_000 {
			return nil, cairn.Invalid(map[string]string{"downsample": "must be between 3 and 100000"})
		}
	}
	if w.Start != nil && w.End != nil && !w.End.After(*w.Start) {
		return nil, cairn.Invalid(map[string]string{"rangeEnd": "must be after rangeStart"})
	}
	m := r.m
	if m.BlobKey == "" {
		// A replayed mutation's answer does not keep where the series is.
		var err error
		if m, err = r.s.d.Series.FindMetric(ctx, r.m.ID); err != nil {
			return nil, err
		}
	}
	series, err := r.s.d.Tracks.SeriesOf(ctx, m, w)
	if err != nil {
		return nil, err
	}
	var out []*point
	if series.Track != nil {
		out = make([]*point, len(series.Track))
		for i, p := range series.Track {
			out[i] = &point{t: float64(p.T), lat: finite(p.Lat), lon: finite(p.Lon), alt: finite(p.Alt)}
		}
	} else {
		out = make([]*point, len(series.Points))
		for i, p := range series.Points {
			out[i] = &point{t: float64(p.T), v: finite(p.V)}
		}
	}
	return out, nil
}

// point is a MetricPoint; NaN (a missing sample) is null.
type point struct {
	t                float64
	v, lat, lon, alt *float64
}

func (p *point) T() float64    { return p.t }
func (p *point) V() *float64   { return p.v }
func (p *point) Lat() *float64 { return p.lat }
func (p *point) Lon() *float64 { return p.lon }
func (p *point) Alt() *float64 { return p.alt }

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// routeResolver renders the route when a field needs the track.
type routeResolver struct {
	s         *Server
	r         *cairn.Route
	activity  *activityResolver
	format    string
	tolerance float64

	once sync.Once
	view *tracks.RouteView
	err  error
}

func (r *routeResolver) render(ctx context.Context) (*tracks.RouteView, error) {
	r.once.Do(func() {
		if r.view == nil {
			r.view, r.err = r.s.d.Tracks.RenderRoute(ctx, r.r, r.format, r.tolerance)
		}
	})
	return r.view, r.err
}

func (r *routeResolver) ID() graphql.ID          { return globalID(kindRoute, r.r.ActivityID) }
func (r *routeResolver) DatabaseID() graphql.ID  { return graphql.ID(r.r.ID) }
func (r *routeResolver) Format() string          { return enumOut(r.format) }
func (r *routeResolver) PointCount() int32       { return int32(r.r.PointCount) }
func (r *routeResolver) ElevationGain() *float64 { return r.r.ElevationGain }
func (r *routeResolver) ElevationLoss() *float64 { return r.r.ElevationLoss }
func (r *routeResolver) CreatedAt() dateTime     { return dt(r.r.CreatedAt) }
func (r *routeResolver) UpdatedAt() dateTime     { return dt(r.r.UpdatedAt) }
func (r *routeResolver) Start() *latLng          { return latLngOf(r.r.Start) }
func (r *routeResolver) End() *latLng            { return latLngOf(r.r.End) }

func (r *routeResolver) SimplifyTolerance() *float64 {
	if r.tolerance > 0 {
		return &r.tolerance
	}
	return nil
}

func (r *routeResolver) Bbox() *[]float64 {
	if len(r.r.BBox) != 4 {
		return nil
	}
	b := append([]float64(nil), r.r.BBox...)
	return &b
}

func (r *routeResolver) Activity(ctx context.Context) (*activityResolver, error) {
	if err := r.s.need(ctx, opGetActivity); err != nil {
		return nil, err
	}
	return r.activity, nil
}

func (r *routeResolver) Polyline(ctx context.Context) (*string, error) {
	if r.format != tracks.FormatPolyline {
		return nil, nil
	}
	v, err := r.render(ctx)
	if err != nil {
		return nil, err
	}
	return &v.Polyline, nil
}

func (r *routeResolver) GeoJSON(ctx context.Context) (*jsonValue, error) {
	if r.format != tracks.FormatGeoJSON {
		return nil, nil
	}
	v, err := r.render(ctx)
	if err != nil {
		return nil, err
	}
	return jsonOf(v.GeoJSON), nil
}

func (r *routeResolver) ReturnedPoints(ctx context.Context) (int32, error) {
	v, err := r.render(ctx)
	if err != nil {
		return 0, err
	}
	return int32(v.Points), nil
}

type latLng struct{ p cairn.LatLng }

func latLngOf(p *cairn.LatLng) *latLng {
	if p == nil {
		return nil
	}
	return &latLng{*p}
}

func (l *latLng) Lat() float64 { return l.p.Lat }
func (l *latLng) Lng() float64 { return l.p.Lng }

type summaryResolver struct {
	sum      *cairn.Summary
	activity *activityResolver
}

func (r *summaryResolver) Activity(ctx context.Context) (*activityResolver, error) {
	if err := r.activity.list.s.need(ctx, opGetActivity); err != nil {
		return nil, err
	}
	return r.activity, nil
}

func (r *summaryResolver) DistanceM() *float64        { return r.sum.DistanceM }
func (r *summaryResolver) DurationS() *float64        { return r.sum.DurationS }
func (r *summaryResolver) MovingTimeS() *float64      { return r.sum.MovingTimeS }
func (r *summaryResolver) TimerTimeS() *float64       { return r.sum.TimerTimeS }
func (r *summaryResolver) Calories() *float64         { return r.sum.Calories }
func (r *summaryResolver) AvgHr() *float64            { return r.sum.AvgHR }
func (r *summaryResolver) MaxHr() *float64            { return r.sum.MaxHR }
func (r *summaryResolver) AvgPace() *float64          { return r.sum.AvgPace }
func (r *summaryResolver) AvgSpeed() *float64         { return r.sum.AvgSpeed }
func (r *summaryResolver) MaxSpeed() *float64         { return r.sum.MaxSpeed }
func (r *summaryResolver) AvgPower() *float64         { return r.sum.AvgPower }
func (r *summaryResolver) AvgCadence() *float64       { return r.sum.AvgCadence }
func (r *summaryResolver) Steps() *float64            { return r.sum.Steps }
func (r *summaryResolver) StrideLength() *float64     { return r.sum.StrideLength }
func (r *summaryResolver) IntensityMinutes() *float64 { return r.sum.IntensityMinutes }
func (r *summaryResolver) ElevationGain() *float64    { return r.sum.ElevationGain }
func (r *summaryResolver) ElevationLoss() *float64    { return r.sum.ElevationLoss }
func (r *summaryResolver) UpdatedAt() dateTime        { return dt(r.sum.UpdatedAt) }

func (r *summaryResolver) HrZonesS() *[]float64 {
	if len(r.sum.HRZones) == 0 {
		return nil
	}
	z := append([]float64(nil), r.sum.HRZones...)
	return &z
}

func (r *summaryResolver) Sources() []*summarySource {
	out := make([]*summarySource, 0, len(r.sum.Sources))
	for f, s := range r.sum.Sources {
		out = append(out, &summarySource{field: f, source: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].field < out[j].field })
	return out
}

type summarySource struct{ field, source string }

func (s *summarySource) Field() string  { return s.field }
func (s *summarySource) Source() string { return s.source }
