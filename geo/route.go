package geo

import (
	"math"

	"github.com/cairn-fit/cairn"
)

// DisplayTolerance is the Douglas-Peucker tolerance, in metres, of the
// polyline BuildRoute stores for display. At 3 m a map at street zoom shows
// no difference from the full track, while a typical 1 Hz recording shrinks
// five- to tenfold.
const DisplayTolerance = 3.0

// BuildRoute derives an activity's route from its records. It returns the
// route rollup (display polyline, full-resolution point count, start, end,
// bounding box, elevation gain and loss), the full-resolution points that
// go to the blob store, and their altitudes (NaN where a record has none;
// nil when none has any). Positions are cleaned by Track. An activity
// without positions (indoor, pool) yields a zero Route and nil slices:
// check PointCount.
//
// ElevationGain and ElevationLoss are those of the track's own altitudes,
// computed by ElevationGainLoss, the same function analysis uses for the
// summary; they stay nil when the track has no altitude.
func BuildRoute(records []cairn.Record) (route cairn.Route, points []cairn.LatLng, elevations []float64) {
	return RouteFromTrack(records, Track(records))
}

// RouteFromTrack is BuildRoute for a caller that already has the records'
// cleaned track (from Track), so the cleaning runs once.
func RouteFromTrack(records []cairn.Record, track []TrackPoint) (route cairn.Route, points []cairn.LatLng, elevations []float64) {
	if len(track) == 0 {
		return cairn.Route{}, nil, nil
	}
	points = make([]cairn.LatLng, len(track))
	elevations = make([]float64, len(track))
	hasAltitude := false
	for i, p := range track {
		points[i] = p.LatLng
		elevations[i] = sanitizeElevation(records[p.Index].Altitude)
		hasAltitude = hasAltitude || isFinite(elevations[i])
	}
	if !hasAltitude {
		elevations = nil
	}

	start, end := points[0], points[len(points)-1]
	box := BBox(points)
	route = cairn.Route{
		Polyline:   EncodePolyline(Simplify(points, DisplayTolerance)),
		PointCount: len(points),
		Start:      &start,
		End:        &end,
		BBox:       box[:],
	}
	if gain, loss, ok := ElevationGainLoss(elevations); ok {
		route.ElevationGain, route.ElevationLoss = &gain, &loss
	}
	return route, points, elevations
}

// sanitizeElevation maps infinities to NaN so that a missing altitude has
// one representation.
func sanitizeElevation(e float64) float64 {
	if math.IsInf(e, 0) {
		return math.NaN()
	}
	return e
}
