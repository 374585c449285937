package geo

import (
	"math"

	"github.com/cairn-fit/cairn"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/simplify"
)

// Simplify reduces points with the Douglas-Peucker algorithm so that no
// dropped point lies further than toleranceM metres from the simplified
// line. The first and last points are always kept, and the points kept are
// the caller's own values, not reprojected copies. Points with NaN or
// infinite coordinates are dropped; a tolerance that is not positive
// returns the (finite) points unchanged.
//
// orb/simplify measures in coordinate units, so the points are first
// projected onto an equirectangular plane centred on the route's mean
// latitude (x = R·λ·cos φ₀, y = R·φ). Over the tens of kilometres an
// activity spans the plane's scale error is a fraction of a percent (1.7 %
// per degree of latitude away from φ₀ at 45°), far below what a display
// tolerance can notice, and unlike Web Mercator it needs no per-point scale
// correction. Longitudes are unwrapped first so that a route crossing the
// antimeridian stays continuous on the plane.
func Simplify(points []cairn.LatLng, toleranceM float64) []cairn.LatLng {
	finite := make([]cairn.LatLng, 0, len(points))
	for _, p := range points {
		if isFinite(p.Lat) && isFinite(p.Lng) {
			finite = append(finite, p)
		}
	}
	if len(finite) <= 2 || !(toleranceM > 0) {
		return finite
	}
	plane := project(finite)
	kept := simplify.DouglasPeucker(toleranceM).LineString(append(orb.LineString(nil), plane...))
	return matchKept(finite, plane, kept)
}

// project maps points onto the local equirectangular plane, in metres.
func project(points []cairn.LatLng) orb.LineString {
	meanLat := 0.0
	for _, p := range points {
		meanLat += p.Lat
	}
	meanLat /= float64(len(points))
	kx := EarthRadius * math.Cos(radians(meanLat)) * math.Pi / 180
	ky := EarthRadius * math.Pi / 180

	plane := make(orb.LineString, len(points))
	lng := points[0].Lng
	for i, p := range points {
		if i > 0 {
			lng += wrap180(p.Lng - points[i-1].Lng)
		}
		plane[i] = orb.Point{kx * lng, ky * p.Lat}
	}
	return plane
}

// wrap180 folds a longitude difference into [-180, 180]. Differences
// already in range are returned untouched: shifting them by 180 and back
// would round away the small steps between neighbouring fixes.
func wrap180(d float64) float64 {
	if d >= -180 && d <= 180 {
		return d
	}
	return math.Mod(math.Mod(d+180, 360)+360, 360) - 180
}

// matchKept maps the simplified line back to the original points. The
// simplifier only filters its input, keeping order and copying values, so
// walking both lines in step finds each kept point's index exactly. Points
// so close that they project to the same plane point are interchangeable,
// except that the ends must stay the caller's own first and last points.
func matchKept(points []cairn.LatLng, plane, kept orb.LineString) []cairn.LatLng {
	out := make([]cairn.LatLng, 0, len(kept))
	i := 0
	for _, k := range kept {
		for i < len(plane) && plane[i] != k {
			i++
		}
		if i == len(plane) {
			break // cannot happen: kept is a subsequence of plane
		}
		out = append(out, points[i])
		i++
	}
	out[len(out)-1] = points[len(points)-1]
	return out
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
