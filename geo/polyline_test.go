package geo

import (
	"math"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/twpayne/go-polyline"
	"pgregory.net/rapid"
)

// Google's documented example.
const googleExample = "_p~iF~ps|U_ulLnnqC_mqNvxq`@"

var googlePoints = []cairn.LatLng{{Lat: 38.5, Lng: -120.2}, {Lat: 40.7, Lng: -120.95}, {Lat: 43.252, Lng: -126.453}}

func TestEncodePolyline(t *testing.T) {
	if got := EncodePolyline(googlePoints); got != googleExample {
		t.Errorf("EncodePolyline = %q, want %q", got, googleExample)
	}
	if got := EncodePolyline(nil); got != "" {
		t.Errorf("EncodePolyline(nil) = %q, want empty", got)
	}
	withBad := []cairn.LatLng{googlePoints[0], {Lat: math.NaN()}, googlePoints[1], {Lat: 95}, googlePoints[2]}
	if got := EncodePolyline(withBad); got != googleExample {
		t.Errorf("EncodePolyline skipping invalid points = %q, want %q", got, googleExample)
	}
}

func TestDecodePolyline(t *testing.T) {
	got, err := DecodePolyline(googleExample)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(googlePoints, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("DecodePolyline (-want +got):\n%s", diff)
	}
	if got, err := DecodePolyline(""); err != nil || len(got) != 0 {
		t.Errorf(`DecodePolyline("") = %v, %v; want no points`, got, err)
	}
}

func TestDecodePolylineInvalid(t *testing.T) {
	for _, s := range []string{
		"!!!",                  // bytes outside the alphabet
		"_p~iF",                // a latitude without its longitude
		"_p~i",                 // unterminated number
		"é",                    // not ASCII
		"~~~~~~~~~~~~~~~~~~~~", // overflow
		string(polyline.EncodeCoords([][]float64{{100, 0}})), // well-formed, but latitude 100°
		string(polyline.EncodeCoords([][]float64{{0, 200}})), // well-formed, but longitude 200°
	} {
		got, err := DecodePolyline(s)
		if cairn.ErrorCode(err) != cairn.EVALIDATION {
			t.Errorf("DecodePolyline(%q) = %v, %v; want a validation error", s, got, err)
		}
	}
}

func latLngGen() *rapid.Generator[cairn.LatLng] {
	return rapid.Custom(func(t *rapid.T) cairn.LatLng {
		return cairn.LatLng{
			Lat: rapid.Float64Range(-90, 90).Draw(t, "lat"),
			Lng: rapid.Float64Range(-180, 180).Draw(t, "lng"),
		}
	})
}

func TestPolylineRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		points := rapid.SliceOf(latLngGen()).Draw(t, "points")
		got, err := DecodePolyline(EncodePolyline(points))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(points) {
			t.Fatalf("decoded %d points, want %d", len(got), len(points))
		}
		for i := range points {
			// Rounding to 1e-5 is off by at most half a unit, plus float noise.
			if math.Abs(got[i].Lat-points[i].Lat) > 0.5e-5+1e-9 || math.Abs(got[i].Lng-points[i].Lng) > 0.5e-5+1e-9 {
				t.Fatalf("point %d: %v decoded as %v", i, points[i], got[i])
			}
		}
	})
}

func FuzzDecodePolyline(f *testing.F) {
	for _, s := range []string{googleExample, "", "??", "_p~iF", "~~~~~~~~~~~~~~~~", "_ibE_ibE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		points, err := DecodePolyline(s)
		if err != nil {
			if cairn.ErrorCode(err) != cairn.EVALIDATION {
				t.Fatalf("error %v is not a validation error", err)
			}
			return
		}
		for _, p := range points {
			if !Valid(p) {
				t.Fatalf("decoded invalid position %v", p)
			}
		}
		// Decoded points are exact multiples of 1e-5: they re-encode to
		// something that decodes to the same points.
		again, err := DecodePolyline(EncodePolyline(points))
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(points) {
			t.Fatalf("re-encoding gave %d points, want %d", len(again), len(points))
		}
		for i := range points {
			if math.Abs(again[i].Lat-points[i].Lat) > 1e-9 || math.Abs(again[i].Lng-points[i].Lng) > 1e-9 {
				t.Fatalf("point %d: %v re-encoded as %v", i, points[i], again[i])
			}
		}
	})
}
