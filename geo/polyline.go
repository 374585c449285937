package geo

import (
	"github.com/cairn-fit/cairn"
	"github.com/twpayne/go-polyline"
)

// polylineScale is the precision of Google's encoded polyline format:
// coordinates are rounded to 1e-5 degrees (about a metre).
const polylineScale = 1e5

var codec = polyline.Codec{Dim: 2, Scale: polylineScale}

// EncodePolyline returns the Google encoded polyline (precision 1e-5) of
// points in order. Points that are not valid positions (NaN, out of range)
// are left out: they have no encoding that would decode back to them.
func EncodePolyline(points []cairn.LatLng) string {
	flat := make([]float64, 0, 2*len(points))
	for _, p := range points {
		if Valid(p) {
			flat = append(flat, p.Lat, p.Lng)
		}
	}
	// EncodeFlatCoords only fails on a dimension mismatch, impossible here.
	buf, _ := codec.EncodeFlatCoords(make([]byte, 0, 4*len(flat)), flat)
	return string(buf)
}

// DecodePolyline decodes a Google encoded polyline (precision 1e-5). A
// malformed string, or one that decodes to positions outside [-90, 90] ×
// [-180, 180], is an EVALIDATION error.
func DecodePolyline(s string) ([]cairn.LatLng, error) {
	// DecodeFlatCoords sums the deltas as integers, so long polylines do
	// not accumulate floating-point drift the way DecodeCoords does.
	flat, _, err := codec.DecodeFlatCoords(nil, []byte(s))
	if err != nil {
		return nil, invalid("polyline", "is not a valid encoded polyline: "+err.Error())
	}
	points := make([]cairn.LatLng, len(flat)/2)
	for i := range points {
		points[i] = cairn.LatLng{Lat: flat[2*i], Lng: flat[2*i+1]}
		if !Valid(points[i]) {
			return nil, invalid("polyline", "decodes to a position outside [-90, 90] × [-180, 180]")
		}
	}
	return points, nil
}

func invalid(field, message string) *cairn.Error {
	return cairn.Invalid(map[string]string{field: message})
}
