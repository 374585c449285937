package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/cairn-fit/cairn"
)

// GeoJSON (RFC 7946) positions are [longitude, latitude] or [longitude,
// latitude, elevation]. cairn encodes and decodes them itself rather than
// through orb/geojson because orb.Point is two-dimensional: orb drops the
// elevation on both reading and writing.

type geoJSONLineString struct {
	Type        string      `json:"type"`
	Coordinates [][]float64 `json:"coordinates"`
}

type geoJSONFeature struct {
	Type       string            `json:"type"`
	BBox       []float64         `json:"bbox,omitempty"`
	Geometry   geoJSONLineString `json:"geometry"`
	Properties map[string]any    `json:"properties"`
}

// LineStringGeoJSON returns a GeoJSON Feature whose geometry is the
// LineString through points, with the bounding box as the Feature's bbox
// and properties point_count, distance_m and, when there are elevations,
// elevation_gain and elevation_loss (see ElevationGainLoss).
//
// elevations is nil or has one value per point; a point whose elevation is
// NaN is written as a two-element position. Invalid input (fewer than two
// points, a position out of range, a length mismatch) is an EVALIDATION
// error.
func LineStringGeoJSON(points []cairn.LatLng, elevations []float64) ([]byte, error) {
	if err := checkLine(points, elevations); err != nil {
		return nil, err
	}
	coords := make([][]float64, len(points))
	for i, p := range points {
		coords[i] = []float64{p.Lng, p.Lat}
		if elevations != nil && isFinite(elevations[i]) {
			coords[i] = append(coords[i], elevations[i])
		}
	}
	box := BBox(points)
	props := map[string]any{
		"point_count": len(points),
		"distance_m":  math.Round(Length(points)*10) / 10,
	}
	if gain, loss, ok := ElevationGainLoss(elevations); ok {
		props["elevation_gain"] = math.Round(gain*10) / 10
		props["elevation_loss"] = math.Round(loss*10) / 10
	}
	return json.Marshal(geoJSONFeature{
		Type:       "Feature",
		BBox:       box[:],
		Geometry:   geoJSONLineString{Type: "LineString", Coordinates: coords},
		Properties: props,
	})
}

func checkLine(points []cairn.LatLng, elevations []float64) error {
	if len(points) < 2 {
		return invalid("points", "a LineString needs at least two positions")
	}
	if elevations != nil && len(elevations) != len(points) {
		return invalid("elevations", fmt.Sprintf("has %d values for %d points", len(elevations), len(points)))
	}
	for i, p := range points {
		if msg := positionProblem(p); msg != "" {
			return invalid(fmt.Sprintf("points[%d]", i), msg)
		}
	}
	return nil
}

// positionProblem says what is wrong with p, or "" when nothing is.
func positionProblem(p cairn.LatLng) string {
	switch {
	case !(p.Lat >= -90 && p.Lat <= 90):
		return fmt.Sprintf("latitude %v is not within [-90, 90]", p.Lat)
	case !(p.Lng >= -180 && p.Lng <= 180):
		return fmt.Sprintf("longitude %v is not within [-180, 180]", p.Lng)
	}
	return ""
}

// geoJSONObject holds the members of any GeoJSON object that ParseGeoJSON
// looks at.
type geoJSONObject struct {
	Type        string            `json:"type"`
	Coordinates json.RawMessage   `json:"coordinates"`
	Geometry    json.RawMessage   `json:"geometry"`
	Features    []json.RawMessage `json:"features"`
}

// ParseGeoJSON reads a route upload: a LineString geometry, a Feature whose
// geometry is a LineString, or a FeatureCollection holding exactly one
// LineString feature (other features, such as waypoints, are ignored). It
// returns the positions and, when any position has a third element, the
// elevations (NaN for positions without one); elevations is nil otherwise.
// Anything else is an EVALIDATION error whose field says what is wrong.
func ParseGeoJSON(data []byte) ([]cairn.LatLng, []float64, error) {
	obj, err := decodeObject(data, "body")
	if err != nil {
		return nil, nil, err
	}
	switch obj.Type {
	case "LineString":
		return parseLineString(obj, "coordinates")
	case "Feature":
		return parseFeature(obj, "geometry")
	case "FeatureCollection":
		return parseCollection(obj)
	case "MultiLineString":
		return nil, nil, invalid("type", "a MultiLineString is not supported: send one LineString per route")
	}
	return nil, nil, invalid("type", fmt.Sprintf("is %q; want a LineString, Feature or FeatureCollection", obj.Type))
}

func decodeObject(data []byte, field string) (geoJSONObject, error) {
	var obj geoJSONObject
	if len(bytes.TrimSpace(data)) == 0 || bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return obj, invalid(field, "is missing or null")
	}
	if err := json.Unmarshal(data, &obj); err != nil {
		// The decoder's own messages name Go types; say it in GeoJSON terms.
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return obj, invalid(field, fmt.Sprintf("is not valid JSON (at byte %d)", syntax.Offset))
		}
		return obj, invalid(field, "must be a GeoJSON object with a string type")
	}
	return obj, nil
}

func parseFeature(feature geoJSONObject, field string) ([]cairn.LatLng, []float64, error) {
	geom, err := decodeObject(feature.Geometry, field)
	if err != nil {
		return nil, nil, err
	}
	if geom.Type != "LineString" {
		return nil, nil, invalid(field+".type", fmt.Sprintf("is %q; want a LineString", geom.Type))
	}
	return parseLineString(geom, field+".coordinates")
}

func parseCollection(fc geoJSONObject) ([]cairn.LatLng, []float64, error) {
	var (
		line      *geoJSONObject
		lineField string
	)
	for i, raw := range fc.Features {
		field := fmt.Sprintf("features[%d]", i)
		f, err := decodeObject(raw, field)
		if err != nil {
			return nil, nil, err
		}
		if f.Type != "Feature" {
			return nil, nil, invalid(field+".type", fmt.Sprintf("is %q; want a Feature", f.Type))
		}
		var geom geoJSONObject
		if len(f.Geometry) > 0 && json.Unmarshal(f.Geometry, &geom) == nil && geom.Type == "LineString" {
			if line != nil {
				return nil, nil, invalid("features", "holds more than one LineString: send one route at a time")
			}
			line, lineField = &geom, field+".geometry.coordinates"
		}
	}
	if line == nil {
		return nil, nil, invalid("features", "holds no LineString feature")
	}
	return parseLineString(*line, lineField)
}

// parseLineString reads the positions of a LineString. Coordinates decode
// as pointers so that a null is reported rather than read as 0.
func parseLineString(ls geoJSONObject, field string) ([]cairn.LatLng, []float64, error) {
	var coords [][]*float64
	if len(ls.Coordinates) == 0 {
		return nil, nil, invalid(field, "is missing")
	}
	if err := json.Unmarshal(ls.Coordinates, &coords); err != nil {
		return nil, nil, invalid(field, "must be an array of [longitude, latitude(, elevation)] positions")
	}
	if len(coords) < 2 {
		return nil, nil, invalid(field, "a LineString needs at least two positions")
	}
	points := make([]cairn.LatLng, len(coords))
	elevations := make([]float64, len(coords))
	hasElevation := false
	for i, c := range coords {
		p, ele, err := parsePosition(c, fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return nil, nil, err
		}
		points[i], elevations[i] = p, ele
		hasElevation = hasElevation || !math.IsNaN(ele)
	}
	if !hasElevation {
		elevations = nil
	}
	return points, elevations, nil
}

// parsePosition reads [lng, lat] or [lng, lat, ele]; further elements,
// which RFC 7946 discourages, are ignored. The elevation is NaN when absent.
func parsePosition(c []*float64, field string) (cairn.LatLng, float64, error) {
	if len(c) < 2 {
		return cairn.LatLng{}, 0, invalid(field, "a position needs a longitude and a latitude")
	}
	for _, x := range c[:min(len(c), 3)] {
		if x == nil {
			return cairn.LatLng{}, 0, invalid(field, "coordinates must be numbers, not null")
		}
	}
	p := cairn.LatLng{Lng: *c[0], Lat: *c[1]}
	if msg := positionProblem(p); msg != "" {
		return cairn.LatLng{}, 0, invalid(field, msg)
	}
	ele := math.NaN()
	if len(c) >= 3 {
		ele = *c[2]
	}
	return p, ele, nil
}
