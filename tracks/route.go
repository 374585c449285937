package tracks

import (
	"context"
	"encoding/json"
	"math"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/geo"
	"github.com/cairn-fit/cairn/series"
	"github.com/cairn-fit/cairn/sqldb"
)

// Route formats.
const (
	FormatPolyline = "polyline"
	FormatGeoJSON  = "geojson"
)

// RouteView is a route rendered for a client.
type RouteView struct {
	Route     *cairn.Route
	Format    string
	Polyline  string          // with FormatPolyline
	GeoJSON   json.RawMessage // a Feature, with FormatGeoJSON
	Points    int             // points rendered
	Tolerance float64         // metres, 0 for the full track
}

// Route renders an activity's full-resolution track as format, simplified
// by Douglas-Peucker when tolerance (metres) is above 0.
func (s *Service) Route(ctx context.Context, activityID, format string, tolerance float64) (*RouteView, error) {
	if format != FormatPolyline && format != FormatGeoJSON {
		return nil, cairn.Invalid(map[string]string{"format": "must be polyline or geojson"})
	}
	if !(tolerance >= 0) || math.IsInf(tolerance, 0) {
		return nil, cairn.Invalid(map[string]string{"simplify_tolerance": "must be a number of metres, 0 or more"})
	}
	if _, err := s.liveActivity(ctx, activityID); err != nil {
		return nil, err
	}
	r, err := s.DB.FindRoute(ctx, activityID)
	if err != nil {
		return nil, err
	}
	return s.RenderRoute(ctx, r, format, tolerance)
}

// RenderRoute renders a route row already read (of a live activity), as
// Route does: GraphQL reads many routes' rows in one query.
func (s *Service) RenderRoute(ctx context.Context, r *cairn.Route, format string, tolerance float64) (*RouteView, error) {
	if format != FormatPolyline && format != FormatGeoJSON {
		return nil, cairn.Invalid(map[string]string{"format": "must be polyline or geojson"})
	}
	if !(tolerance >= 0) || math.IsInf(tolerance, 0) {
		return nil, cairn.Invalid(map[string]string{"simplify_tolerance": "must be a number of metres, 0 or more"})
	}
	points, elevations, err := s.routePoints(ctx, r)
	if err != nil {
		return nil, err
	}
	if tolerance > 0 {
		points, elevations = simplify(points, elevations, tolerance)
	}
	v := &RouteView{Route: r, Format: format, Points: len(points), Tolerance: tolerance}
	if format == FormatPolyline {
		v.Polyline = geo.EncodePolyline(points)
		return v, nil
	}
	if len(points) < 2 {
		return nil, cairn.Errorf(cairn.EUNPROCESSABLE, "the route has fewer than two points: ask for a polyline")
	}
	v.GeoJSON, err = geo.LineStringGeoJSON(points, elevations)
	return v, err
}

// routePoints reads the full-resolution track: the route blob, or for a
// route stored without one, its polyline.
func (s *Service) routePoints(ctx context.Context, r *cairn.Route) ([]cairn.LatLng, []float64, error) {
	if r.BlobKey == "" {
		points, err := geo.DecodePolyline(r.Polyline)
		if err != nil {
			return nil, nil, cairn.Wrap(cairn.EINTERNAL, err, "a stored route cannot be read")
		}
		return points, nil, nil
	}
	b, err := s.read(ctx, r.BlobKey)
	if err != nil {
		return nil, nil, err
	}
	track, err := TrackWindow(b, Window{})
	if err != nil {
		return nil, nil, err
	}
	points := make([]cairn.LatLng, len(track))
	elevations := make([]float64, len(track))
	hasElevation := false
	for i, p := range track {
		points[i], elevations[i] = cairn.LatLng{Lat: p.Lat, Lng: p.Lon}, p.Alt
		hasElevation = hasElevation || !math.IsNaN(p.Alt)
	}
	if !hasElevation {
		elevations = nil
	}
	return points, elevations, nil
}

// simplify applies Douglas-Peucker and keeps the elevations of the points
// kept: geo.Simplify returns the caller's own values in order, so walking
// both lines in step finds each kept point's index.
func simplify(points []cairn.LatLng, elevations []float64, tolerance float64) ([]cairn.LatLng, []float64) {
	kept := geo.Simplify(points, tolerance)
	if elevations == nil {
		return kept, nil
	}
	ele := make([]float64, 0, len(kept))
	i := 0
	for k, p := range kept {
		for i < len(points)-1 && points[i] != p {
			i++
		}
		if k == len(kept)-1 {
			i = len(points) - 1 // Simplify keeps the caller's last point
		}
		ele = append(ele, elevations[i])
		i++
	}
	return kept, ele
}

// PutRoute stores a client's track (with elevations, or nil) as the
// activity's route and position series. Clients send no times, so the
// position series has none (t = 0), as for a GPX route.
func (s *Service) PutRoute(ctx context.Context, activityID string, points []cairn.LatLng, elevations []float64) (*cairn.Route, error) {
	if len(points) < 2 || len(points) > MaxPoints {
		return nil, cairn.Invalid(map[string]string{"points": "a route needs 2 to 1000000 points"})
	}
	a, err := s.liveActivity(ctx, activityID)
	if err != nil {
		return nil, err
	}
	ts := make([]int64, len(points))
	lat, lon, alt := make([]float64, len(points)), make([]float64, len(points)), make([]float64, len(points))
	for i, p := range points {
		lat[i], lon[i], alt[i] = p.Lat, p.Lng, math.NaN()
		if elevations != nil {
			alt[i] = elevations[i]
		}
	}
	b, err := series.Encode(ts, lat, lon, alt)
	if err != nil {
		return nil, cairn.Wrap(cairn.EVALIDATION, err, "the route cannot be stored")
	}
	key := SeriesKey(a.UserID, a.ID, "route")
	if err := s.write(ctx, key, b); err != nil {
		return nil, err
	}
	r := rollup(points, elevations)
	r.UserID, r.ActivityID, r.BlobKey = a.UserID, a.ID, key
	m := MetricOf(cairn.MetricPosition, ts, nil)
	m.UserID, m.ActivityID, m.BlobKey = a.UserID, a.ID, key
	err = s.DB.InTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.UpsertRoute(ctx, &r); err != nil {
			return err
		}
		return tx.UpsertMetric(ctx, &m)
	})
	return &r, err
}

// rollup is the route row of a track, as geo.BuildRoute makes it for files.
func rollup(points []cairn.LatLng, elevations []float64) cairn.Route {
	start, end := points[0], points[len(points)-1]
	box := geo.BBox(points)
	r := cairn.Route{
		Polyline:   geo.EncodePolyline(geo.Simplify(points, geo.DisplayTolerance)),
		PointCount: len(points),
		Start:      &start,
		End:        &end,
		BBox:       box[:],
	}
	if gain, loss, ok := geo.ElevationGainLoss(elevations); ok {
		r.ElevationGain, r.ElevationLoss = &gain, &loss
	}
	return r
}
