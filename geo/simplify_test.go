package geo

import (
	"math"
	"slices"
	"testing"

	"github.com/cairn-fit/cairn"
	"pgregory.net/rapid"
)

// lineWithBump returns 11 points 50 m apart along the given bearing with
// the middle one pushed bumpM metres sideways.
func lineWithBump(start cairn.LatLng, northward bool, bumpM float64) []cairn.LatLng {
	points := make([]cairn.LatLng, 11)
	for i := range points {
		along, side := 50*float64(i), 0.0
		if i == 5 {
			side = bumpM
		}
		if northward {
			points[i] = offset(start, along, side)
		} else {
			points[i] = offset(start, side, along)
		}
	}
	return points
}

func TestSimplifyToleranceIsInMetres(t *testing.T) {
	tests := []struct {
		name      string
		start     cairn.LatLng
		northward bool
	}{
		// At 60° a degree of longitude is half a degree of latitude: a
		// tolerance in degrees would be off by a factor of two one way.
		{"bump east of a meridian at 60°N", cairn.LatLng{Lat: 60, Lng: 10}, true},
		{"bump north of a parallel at 60°N", cairn.LatLng{Lat: 60, Lng: 10}, false},
		{"bump north of a parallel at the equator", cairn.LatLng{Lat: 0.01, Lng: 10}, false},
		{"bump east of a meridian at 45°S", cairn.LatLng{Lat: -45, Lng: -70}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			points := lineWithBump(tt.start, tt.northward, 10)
			for _, c := range []struct {
				tol  float64
				kept bool
			}{{5, true}, {9.5, true}, {10.5, false}, {20, false}} {
				got := Simplify(points, c.tol)
				if got[0] != points[0] || got[len(got)-1] != points[len(points)-1] {
					t.Errorf("tolerance %g m: first or last point lost", c.tol)
				}
				if kept := slices.Contains(got, points[5]); kept != c.kept {
					t.Errorf("tolerance %g m: bump kept = %v, want %v", c.tol, kept, c.kept)
				}
				if !c.kept && len(got) != 2 {
					t.Errorf("tolerance %g m: kept %d points of a straight line, want 2", c.tol, len(got))
				}
			}
		})
	}
}

func TestSimplifyAcrossTheAntimeridian(t *testing.T) {
	start := cairn.LatLng{Lat: -16, Lng: 179.998}
	points := lineWithBump(start, false, 10)
	for i := range points {
		if points[i].Lng > 180 {
			points[i].Lng -= 360
		}
	}
	if got := Simplify(points, 5); !slices.Contains(got, points[5]) {
		t.Errorf("bump dropped at 5 m: %v", got)
	}
	if got := Simplify(points, 20); len(got) != 2 {
		t.Errorf("kept %d points at 20 m, want 2", len(got))
	}
}

func TestSimplifyEdgeCases(t *testing.T) {
	a, b := cairn.LatLng{Lat: 1, Lng: 1}, cairn.LatLng{Lat: 2, Lng: 2}
	if got := Simplify(nil, 5); len(got) != 0 {
		t.Errorf("Simplify(nil) = %v", got)
	}
	if got := Simplify([]cairn.LatLng{a, {Lat: math.NaN()}, b}, 5); len(got) != 2 {
		t.Errorf("NaN point not dropped: %v", got)
	}
	points := lineWithBump(a, true, 1)
	if got := Simplify(points, 0); len(got) != len(points) {
		t.Errorf("zero tolerance kept %d of %d points", len(got), len(points))
	}
	if got := Simplify(points, math.NaN()); len(got) != len(points) {
		t.Errorf("NaN tolerance kept %d of %d points", len(got), len(points))
	}
	if points[1] != lineWithBump(a, true, 1)[1] {
		t.Error("Simplify modified its input")
	}
}

// distanceToSegment is the distance in metres from p to segment ab on the
// local plane around a, computed independently of project.
func distanceToSegment(p, a, b cairn.LatLng) float64 {
	kx := math.Cos(radians(a.Lat)) * EarthRadius * math.Pi / 180
	ky := EarthRadius * math.Pi / 180
	px, py := (p.Lng-a.Lng)*kx, (p.Lat-a.Lat)*ky
	bx, by := (b.Lng-a.Lng)*kx, (b.Lat-a.Lat)*ky
	l2 := bx*bx + by*by
	u := 0.0
	if l2 > 0 {
		u = math.Max(0, math.Min(1, (px*bx+py*by)/l2))
	}
	return math.Hypot(px-u*bx, py-u*by)
}

func TestSimplifyProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// A wandering track within a few km of a random place.
		origin := cairn.LatLng{
			Lat: rapid.Float64Range(-70, 70).Draw(t, "lat"),
			Lng: rapid.Float64Range(-179, 179).Draw(t, "lng"),
		}
		steps := rapid.SliceOfN(rapid.Float64Range(-30, 30), 2, 200).Draw(t, "steps")
		points := []cairn.LatLng{origin}
		for i := 0; i+1 < len(steps); i += 2 {
			points = append(points, offset(points[len(points)-1], steps[i], steps[i+1]))
		}
		tol := rapid.Float64Range(0.5, 50).Draw(t, "tolerance")
		got := Simplify(points, tol)

		if got[0] != points[0] || got[len(got)-1] != points[len(points)-1] {
			t.Fatal("first or last point lost")
		}
		// The result is a subsequence, and every dropped point is within
		// the tolerance (plus the plane's approximation) of its segment.
		j := 0
		for i, p := range points {
			if j < len(got) && p == got[j] {
				j++
				continue
			}
			if j == len(got) && p == got[j-1] {
				continue // a duplicate of the last point
			}
			if j == 0 || j == len(got) {
				t.Fatalf("point %d dropped outside any segment", i)
			}
			if d := distanceToSegment(p, got[j-1], got[j]); d > tol*1.01+0.01 {
				t.Fatalf("dropped point %d is %.2f m from the line, tolerance %.2f", i, d, tol)
			}
		}
		if j != len(got) {
			t.Fatal("result is not a subsequence of the input")
		}
	})
}
