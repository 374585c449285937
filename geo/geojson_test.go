package geo

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

func TestLineStringGeoJSON(t *testing.T) {
	points := []cairn.LatLng{{Lat: 46.5, Lng: 6.6}, {Lat: 46.51, Lng: 6.61}, {Lat: 46.52, Lng: 6.6}}
	data, err := LineStringGeoJSON(points, []float64{372, math.NaN(), 380.5})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Type     string
		BBox     []float64
		Geometry struct {
			Type        string
			Coordinates [][]float64
		}
		Properties map[string]any
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Type != "Feature" || doc.Geometry.Type != "LineString" {
		t.Errorf("types = %q, %q; want Feature, LineString", doc.Type, doc.Geometry.Type)
	}
	want := [][]float64{{6.6, 46.5, 372}, {6.61, 46.51}, {6.6, 46.52, 380.5}} // [lng, lat(, ele)]
	if diff := cmp.Diff(want, doc.Geometry.Coordinates); diff != "" {
		t.Errorf("coordinates (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{6.6, 46.5, 6.61, 46.52}, doc.BBox); diff != "" {
		t.Errorf("bbox (-want +got):\n%s", diff)
	}
	if doc.Properties["point_count"] != 3.0 || doc.Properties["distance_m"].(float64) < 2000 {
		t.Errorf("properties = %v", doc.Properties)
	}
	if _, ok := doc.Properties["elevation_gain"]; !ok {
		t.Errorf("properties = %v, want elevation_gain", doc.Properties)
	}
}

func TestLineStringGeoJSONInvalid(t *testing.T) {
	good := []cairn.LatLng{{Lat: 1, Lng: 2}, {Lat: 3, Lng: 4}}
	tests := []struct {
		name       string
		points     []cairn.LatLng
		elevations []float64
		field      string
	}{
		{"one point", good[:1], nil, "points"},
		{"latitude out of range", []cairn.LatLng{{Lat: 1, Lng: 2}, {Lat: 93, Lng: 4}}, nil, "points[1]"},
		{"NaN longitude", []cairn.LatLng{{Lat: 1, Lng: math.NaN()}, {Lat: 3, Lng: 4}}, nil, "points[0]"},
		{"elevation count", good, []float64{1}, "elevations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LineStringGeoJSON(tt.points, tt.elevations)
			if cairn.ErrorCode(err) != cairn.EVALIDATION || cairn.ErrorFields(err)[tt.field] == "" {
				t.Errorf("err = %v (fields %v), want a validation error on %s", err, cairn.ErrorFields(err), tt.field)
			}
		})
	}
}

func TestParseGeoJSON(t *testing.T) {
	wantPoints := []cairn.LatLng{{Lat: 46.5, Lng: 6.6}, {Lat: 46.51, Lng: 6.61}}
	tests := []struct {
		name       string
		doc        string
		elevations []float64
	}{
		{"geometry", `{"type":"LineString","coordinates":[[6.6,46.5],[6.61,46.51]]}`, nil},
		{"feature with elevation", `{"type":"Feature","properties":{"name":"x"},
			"geometry":{"type":"LineString","coordinates":[[6.6,46.5,372.5],[6.61,46.51,380]]}}`, []float64{372.5, 380}},
		{"some elevations", `{"type":"LineString","coordinates":[[6.6,46.5],[6.61,46.51,380,7]]}`, []float64{math.NaN(), 380}},
		{"collection with waypoints", `{"type":"FeatureCollection","features":[
			{"type":"Feature","geometry":{"type":"Point","coordinates":[6.6,46.5]},"properties":{}},
			{"type":"Feature","geometry":null,"properties":{}},
			{"type":"Feature","geometry":{"type":"LineString","coordinates":[[6.6,46.5],[6.61,46.51]]},"properties":{}}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			points, elevations, err := ParseGeoJSON([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantPoints, points); diff != "" {
				t.Errorf("points (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.elevations, elevations, cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("elevations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseGeoJSONInvalid(t *testing.T) {
	tests := []struct {
		name, doc, field string
	}{
		{"empty", ``, "body"},
		{"null", `null`, "body"},
		{"not JSON", `{"type":`, "body"},
		{"array", `[1,2]`, "body"},
		{"unknown type", `{"type":"Polygon","coordinates":[]}`, "type"},
		{"multi line", `{"type":"MultiLineString","coordinates":[]}`, "type"},
		{"missing coordinates", `{"type":"LineString"}`, "coordinates"},
		{"one position", `{"type":"LineString","coordinates":[[6.6,46.5]]}`, "coordinates"},
		{"latitude too big", `{"type":"LineString","coordinates":[[6.6,46.5],[6.6,91]]}`, "coordinates[1]"},
		{"lat/lng swapped", `{"type":"LineString","coordinates":[[46.5,6.6],[46.5,-120.5]]}`, "coordinates[1]"},
		{"longitude too big", `{"type":"LineString","coordinates":[[180.5,46.5],[6.6,46.5]]}`, "coordinates[0]"},
		{"null coordinate", `{"type":"LineString","coordinates":[[6.6,46.5],[null,46.5]]}`, "coordinates[1]"},
		{"short position", `{"type":"LineString","coordinates":[[6.6,46.5],[6.6]]}`, "coordinates[1]"},
		{"string coordinate", `{"type":"LineString","coordinates":[[6.6,46.5],["6.6",46.5]]}`, "coordinates"},
		{"feature without geometry", `{"type":"Feature","properties":{}}`, "geometry"},
		{"feature with a point", `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}`, "geometry.type"},
		{"empty collection", `{"type":"FeatureCollection","features":[]}`, "features"},
		{"two lines", `{"type":"FeatureCollection","features":[
			{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}},
			{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}}]}`, "features"},
		{"bad line in collection", `{"type":"FeatureCollection","features":[
			{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}},
			{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,95]]}}]}`, "features[1].geometry.coordinates[1]"},
		{"not a feature in collection", `{"type":"FeatureCollection","features":[{"type":"LineString"}]}`, "features[0].type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseGeoJSON([]byte(tt.doc))
			fields := cairn.ErrorFields(err)
			if cairn.ErrorCode(err) != cairn.EVALIDATION || fields[tt.field] == "" {
				t.Errorf("err = %v (fields %v), want a validation error on %s", err, fields, tt.field)
			}
			for _, msg := range fields {
				if strings.Contains(msg, "geo.") || strings.Contains(msg, "Go value") {
					t.Errorf("message %q leaks Go internals", msg)
				}
			}
		})
	}
}

func TestGeoJSONRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		points := rapid.SliceOfN(latLngGen(), 2, 50).Draw(t, "points")
		var elevations []float64
		if rapid.Bool().Draw(t, "with elevations") {
			elevations = rapid.SliceOfN(rapid.Float64Range(-500, 9000), len(points), len(points)).Draw(t, "elevations")
		}
		data, err := LineStringGeoJSON(points, elevations)
		if err != nil {
			t.Fatal(err)
		}
		gotPoints, gotElevations, err := ParseGeoJSON(data)
		if err != nil {
			t.Fatal(err)
		}
		// encoding/json writes the shortest representation that reads back
		// exactly, so the round trip is lossless.
		if diff := cmp.Diff(points, gotPoints); diff != "" {
			t.Fatalf("points (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(elevations, gotElevations); diff != "" {
			t.Fatalf("elevations (-want +got):\n%s", diff)
		}
	})
}

func FuzzParseGeoJSON(f *testing.F) {
	for _, s := range []string{
		`{"type":"LineString","coordinates":[[6.6,46.5],[6.61,46.51,3]]}`,
		`{"type":"Feature","geometry":{"type":"LineString","coordinates":[[6.6,46.5],[6.61,46.51]]}}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}}]}`,
		`{"type":"LineString","coordinates":[[6.6,46.5],[null,1e400]]}`,
		`[]`, `null`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		points, elevations, err := ParseGeoJSON(data)
		if err != nil {
			if cairn.ErrorCode(err) != cairn.EVALIDATION || len(cairn.ErrorFields(err)) == 0 {
				t.Fatalf("error %v is not a validation error naming a field", err)
			}
			return
		}
		if len(points) < 2 || (elevations != nil && len(elevations) != len(points)) {
			t.Fatalf("%d points, %d elevations", len(points), len(elevations))
		}
		for _, p := range points {
			if !Valid(p) {
				t.Fatalf("invalid position %v accepted", p)
			}
		}
		// Whatever was accepted writes back out and reads back the same.
		out, err := LineStringGeoJSON(points, elevations)
		if err != nil {
			t.Fatalf("accepted input does not write back: %v", err)
		}
		again, againEle, err := ParseGeoJSON(out)
		if err != nil {
			t.Fatalf("written GeoJSON does not parse: %v", err)
		}
		if !cmp.Equal(points, again) || !cmp.Equal(elevations, againEle, cmpopts.EquateNaNs()) {
			t.Fatal("round trip changed the route")
		}
	})
}
