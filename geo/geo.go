// Package geo is cairn's route geometry: distances, encoded polylines,
// simplification, GeoJSON and the route rollup of an activity. It sits on
// github.com/paulmach/orb and github.com/twpayne/go-polyline and imports
// nothing of cairn but the root package, so that analysis can build on it.
package geo

import (
	"math"

	"github.com/cairn-fit/cairn"
)

// EarthRadius is the mean Earth radius (IUGG R1) in metres. The mean radius
// rather than the equatorial one keeps haversine distances within ~0.5 % of
// the ellipsoidal distance at every latitude.
const EarthRadius = 6371008.8

// Haversine returns the great-circle distance between a and b in metres.
func Haversine(a, b cairn.LatLng) float64 {
	φ1, φ2 := radians(a.Lat), radians(b.Lat)
	sinDφ := math.Sin((φ2 - φ1) / 2)
	sinDλ := math.Sin(radians(b.Lng-a.Lng) / 2)
	h := sinDφ*sinDφ + math.Cos(φ1)*math.Cos(φ2)*sinDλ*sinDλ
	// Rounding can push h a hair above 1 for antipodal points; Asin would
	// then return NaN.
	return 2 * EarthRadius * math.Asin(math.Sqrt(math.Min(h, 1)))
}

func radians(deg float64) float64 { return deg * math.Pi / 180 }

// Valid reports whether p is a WGS84 position: finite, latitude within
// [-90, 90] and longitude within [-180, 180].
func Valid(p cairn.LatLng) bool {
	return p.Lat >= -90 && p.Lat <= 90 && p.Lng >= -180 && p.Lng <= 180
}

// nullIsland is how close to (0, 0) a fix must be to count as the
// placeholder that devices write before they have a fix (about 1 cm).
const nullIsland = 1e-7

// Usable reports whether p is a position worth keeping from a recording:
// valid and not the (0, 0) "null island" that devices write when they have
// no fix. Nobody records an activity in the Gulf of Guinea to the centimetre.
func Usable(p cairn.LatLng) bool {
	return Valid(p) && (math.Abs(p.Lat) > nullIsland || math.Abs(p.Lng) > nullIsland)
}

// BBox returns the bounding box of the valid points as min lng, min lat,
// max lng, max lat (GeoJSON order), and all zeros when there is none. A
// route that crosses the antimeridian gets a box spanning the globe; no
// activity has needed better yet.
func BBox(points []cairn.LatLng) [4]float64 {
	box := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	found := false
	for _, p := range points {
		if !Valid(p) {
			continue
		}
		found = true
		box[0], box[1] = math.Min(box[0], p.Lng), math.Min(box[1], p.Lat)
		box[2], box[3] = math.Max(box[2], p.Lng), math.Max(box[3], p.Lat)
	}
	if !found {
		return [4]float64{}
	}
	return box
}

// Length returns the haversine length of the path through points in metres.
func Length(points []cairn.LatLng) float64 {
	total := 0.0
	for i := 1; i < len(points); i++ {
		total += Haversine(points[i-1], points[i])
	}
	return total
}
