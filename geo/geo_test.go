package geo

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"pgregory.net/rapid"
)

func TestHaversine(t *testing.T) {
	tests := []struct {
		name string
		a, b cairn.LatLng
		want float64 // metres
		tol  float64
	}{
		{"same point", cairn.LatLng{Lat: 46.5, Lng: 6.6}, cairn.LatLng{Lat: 46.5, Lng: 6.6}, 0, 0},
		{"one degree of equator", cairn.LatLng{}, cairn.LatLng{Lng: 1}, 111195.080, 0.01},
		{"one degree of meridian", cairn.LatLng{Lat: 10}, cairn.LatLng{Lat: 11}, 111195.080, 0.01},
		{"Paris to London", cairn.LatLng{Lat: 48.8566, Lng: 2.3522}, cairn.LatLng{Lat: 51.5074, Lng: -0.1278}, 343556.5, 1},
		{"New York to London", cairn.LatLng{Lat: 40.7128, Lng: -74.0060}, cairn.LatLng{Lat: 51.5074, Lng: -0.1278}, 5570229.9, 1},
		{"across the antimeridian", cairn.LatLng{Lng: 179.5}, cairn.LatLng{Lng: -179.5}, 111195.080, 0.01},
		{"antipodes", cairn.LatLng{Lat: 0, Lng: 0}, cairn.LatLng{Lat: 0, Lng: 180}, math.Pi * EarthRadius, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Haversine(tt.a, tt.b); math.Abs(got-tt.want) > tt.tol {
				t.Errorf("Haversine = %.3f m, want %.3f ± %g", got, tt.want, tt.tol)
			}
			if got, back := Haversine(tt.a, tt.b), Haversine(tt.b, tt.a); math.Abs(got-back) > 1e-6 {
				t.Errorf("not symmetric: %v vs %v", got, back)
			}
		})
	}
}

func TestUsable(t *testing.T) {
	tests := []struct {
		p    cairn.LatLng
		want bool
	}{
		{cairn.LatLng{Lat: 46.5, Lng: 6.6}, true},
		{cairn.LatLng{Lat: 0, Lng: 0}, false},
		{cairn.LatLng{Lat: 0, Lng: 0.001}, true}, // the equator is a real place
		{cairn.LatLng{Lat: math.NaN(), Lng: 6.6}, false},
		{cairn.LatLng{Lat: 91, Lng: 6.6}, false},
		{cairn.LatLng{Lat: 45, Lng: -180.1}, false},
		{cairn.LatLng{Lat: -90, Lng: 180}, true},
	}
	for _, tt := range tests {
		if got := Usable(tt.p); got != tt.want {
			t.Errorf("Usable(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func TestBBox(t *testing.T) {
	points := []cairn.LatLng{{Lat: 46.5, Lng: 6.6}, {Lat: 46.2, Lng: 6.9}, {Lat: math.NaN(), Lng: 0}, {Lat: 46.8, Lng: 6.1}}
	want := [4]float64{6.1, 46.2, 6.9, 46.8}
	if got := BBox(points); got != want {
		t.Errorf("BBox = %v, want %v", got, want)
	}
	if got := BBox(nil); got != ([4]float64{}) {
		t.Errorf("BBox(nil) = %v, want zeros", got)
	}
}

// offset returns p moved north and east by the given metres, on the local
// tangent plane: exact enough for the few hundred metres the tests use.
func offset(p cairn.LatLng, northM, eastM float64) cairn.LatLng {
	mPerDeg := EarthRadius * math.Pi / 180
	return cairn.LatLng{
		Lat: p.Lat + northM/mPerDeg,
		Lng: p.Lng + eastM/(mPerDeg*math.Cos(radians(p.Lat))),
	}
}

// record returns a record at p, t seconds after a fixed start.
func record(p cairn.LatLng, t float64, alt float64) cairn.Record {
	nan := math.NaN()
	return cairn.Record{
		Time: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(t * float64(time.Second))),
		Lat:  p.Lat, Lon: p.Lng, Altitude: alt,
		HeartRate: nan, Cadence: nan, Power: nan, Speed: nan, Distance: nan, Temperature: nan,
	}
}

func TestTrackDropsGlitches(t *testing.T) {
	start := cairn.LatLng{Lat: 46.5, Lng: 6.6}
	var recs []cairn.Record
	for i := range 20 {
		recs = append(recs, record(offset(start, 0, 3*float64(i)), float64(i), math.NaN()))
	}
	recs[3].Lat, recs[3].Lon = 0, 0                            // null island
	recs[5].Lat = math.NaN()                                   // no fix
	recs[8].Lat, recs[8].Lon = offset(start, 5000, 0).Lat, 6.6 // a 5 km spike
	recs[12].Lat, recs[12].Lon = math.NaN(), math.NaN()        // no fix
	track := Track(recs)
	for _, p := range track {
		if p.Index == 3 || p.Index == 5 || p.Index == 8 || p.Index == 12 {
			t.Errorf("kept glitch at record %d", p.Index)
		}
		if p.Jump {
			t.Errorf("unexpected jump at record %d", p.Index)
		}
	}
	if len(track) != 16 {
		t.Errorf("kept %d points, want 16", len(track))
	}
}

func TestTrackRestartsAfterARealJump(t *testing.T) {
	a, b := cairn.LatLng{Lat: 46.5, Lng: 6.6}, cairn.LatLng{Lat: 47.5, Lng: 7.6}
	var recs []cairn.Record
	for i := range 10 {
		recs = append(recs, record(offset(a, 0, 3*float64(i)), float64(i), math.NaN()))
	}
	for i := range 10 {
		recs = append(recs, record(offset(b, 0, 3*float64(i)), float64(10+i), math.NaN()))
	}
	track := Track(recs)
	jumps := 0
	for _, p := range track {
		if p.Jump {
			jumps++
			if p.Index != 10 {
				t.Errorf("jump at record %d, want 10", p.Index)
			}
		}
	}
	if jumps != 1 || len(track) != 20 {
		t.Errorf("got %d points and %d jumps, want 20 and 1", len(track), jumps)
	}
}

func TestTrackDropsAWildFirstFix(t *testing.T) {
	start := cairn.LatLng{Lat: 46.5, Lng: 6.6}
	recs := []cairn.Record{record(cairn.LatLng{Lat: 12, Lng: 34}, 0, math.NaN())}
	for i := 1; i < 20; i++ {
		recs = append(recs, record(offset(start, 0, 3*float64(i)), float64(i), math.NaN()))
	}
	track := Track(recs)
	if track[0].Index != 1 || track[0].Jump || len(track) != 19 {
		t.Errorf("track of %d points starts with %+v, want 19 from record 1 without a jump", len(track), track[0])
	}
}

func TestTrackWithoutTimestampsKeepsEveryFix(t *testing.T) {
	recs := []cairn.Record{
		{Lat: 46.5, Lon: 6.6, Time: time.Time{}},
		{Lat: 47.5, Lon: 7.6, Time: time.Time{}},
	}
	if got := Track(recs); len(got) != 2 || got[1].Jump {
		t.Errorf("Track = %+v, want both fixes without a jump", got)
	}
}

func TestBuildRoute(t *testing.T) {
	start := cairn.LatLng{Lat: 46.5, Lng: 6.6}
	var recs []cairn.Record
	for i := range 1000 { // 3 km due east, climbing 50 m then descending 20 m
		alt := 400 + 0.1*float64(i)
		if i > 500 {
			alt = 450 - 0.04*float64(i-500)
		}
		recs = append(recs, record(offset(start, 0, 3*float64(i)), float64(i), alt))
	}
	route, points, elevations := BuildRoute(recs)
	if route.PointCount != 1000 || len(points) != 1000 || len(elevations) != 1000 {
		t.Fatalf("PointCount = %d, points %d, elevations %d, want 1000", route.PointCount, len(points), len(elevations))
	}
	if *route.Start != points[0] || *route.End != points[999] {
		t.Errorf("Start/End = %v/%v", *route.Start, *route.End)
	}
	if len(route.BBox) != 4 || route.BBox[0] != start.Lng || route.BBox[3] < start.Lat {
		t.Errorf("BBox = %v", route.BBox)
	}
	display, err := DecodePolyline(route.Polyline)
	if err != nil {
		t.Fatal(err)
	}
	if len(display) > 10 { // a straight line simplifies to its ends
		t.Errorf("display polyline has %d points, want a handful", len(display))
	}
	if g := *route.ElevationGain; math.Abs(g-50) > 1 {
		t.Errorf("ElevationGain = %v, want ≈ 50", g)
	}
	if l := *route.ElevationLoss; math.Abs(l-20) > 1 {
		t.Errorf("ElevationLoss = %v, want ≈ 20", l)
	}
}

func TestBuildRouteWithoutPositions(t *testing.T) {
	recs := []cairn.Record{record(cairn.LatLng{Lat: math.NaN(), Lng: math.NaN()}, 0, 100)}
	route, points, elevations := BuildRoute(recs)
	if route.PointCount != 0 || route.Polyline != "" || route.Start != nil || points != nil || elevations != nil {
		t.Errorf("BuildRoute of an indoor activity = %+v, %v, %v; want zero values", route, points, elevations)
	}
}

func TestElevationGainLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noisy := func(n int, f func(i int) float64) []float64 {
		alt := make([]float64, n)
		for i := range alt {
			alt[i] = f(i) + 2*rng.Float64() - 1 // ±1 m
		}
		return alt
	}
	tests := []struct {
		name       string
		alt        []float64
		gain, loss float64
		tol        float64
	}{
		{"flat with ±1 m noise", noisy(3600, func(int) float64 { return 500 }), 0, 0, 0.5},
		{"steady climb in small steps", noisy(2000, func(i int) float64 { return 0.05 * float64(i) }), 100, 0, 2},
		{"up 100 down 60", noisy(3000, func(i int) float64 {
			if i < 1000 {
				return 0.1 * float64(i)
			}
			return 100 - 0.03*float64(i-1000)
		}), 100, 60, 2},
		{"single-sample spikes ignored", spiky(), 0, 0, 0},
		{"NaNs skipped", []float64{0, math.NaN(), 5, math.NaN(), 10, 10, 10}, 10, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gain, loss, ok := ElevationGainLoss(tt.alt)
			if !ok {
				t.Fatal("ok = false")
			}
			if math.Abs(gain-tt.gain) > tt.tol || math.Abs(loss-tt.loss) > tt.tol {
				t.Errorf("gain, loss = %.2f, %.2f; want %.0f, %.0f ± %g", gain, loss, tt.gain, tt.loss, tt.tol)
			}
		})
	}
	if _, _, ok := ElevationGainLoss([]float64{math.NaN(), 3}); ok {
		t.Error("one usable sample: ok = true")
	}
}

func spiky() []float64 {
	alt := make([]float64, 100)
	for i := range alt {
		alt[i] = 200
	}
	alt[20], alt[60] = 260, 120
	return alt
}

func TestTrackProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 80).Draw(t, "n")
		origin := cairn.LatLng{Lat: 46.5, Lng: 6.6}
		var recs []cairn.Record
		clock := 0.0
		for range n {
			clock += float64(rapid.IntRange(0, 30).Draw(t, "step"))
			p := offset(origin, rapid.Float64Range(-500, 500).Draw(t, "north"), rapid.Float64Range(-500, 500).Draw(t, "east"))
			switch rapid.IntRange(0, 9).Draw(t, "glitch") {
			case 0:
				p = cairn.LatLng{}
			case 1:
				p = cairn.LatLng{Lat: rapid.Float64Range(-90, 90).Draw(t, "wild lat"), Lng: rapid.Float64Range(-180, 180).Draw(t, "wild lng")}
			case 2:
				p.Lat = math.NaN()
			}
			recs = append(recs, record(p, clock, math.NaN()))
		}
		track := Track(recs)
		for k, p := range track {
			if !Usable(p.LatLng) {
				t.Fatalf("unusable point %v kept", p)
			}
			if k == 0 {
				if p.Jump {
					t.Fatal("track starts with a jump")
				}
				continue
			}
			prev := track[k-1]
			if p.Index <= prev.Index {
				t.Fatalf("indices out of order: %d after %d", p.Index, prev.Index)
			}
			if !p.Jump && implausible(recs[prev.Index], recs[p.Index], prev.LatLng, p.LatLng) {
				t.Fatalf("step %d→%d is implausible but not marked as a jump", prev.Index, p.Index)
			}
		}
	})
}

func TestBuildRouteProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 60).Draw(t, "n")
		recs := make([]cairn.Record, n)
		for i := range recs {
			p := cairn.LatLng{
				Lat: rapid.OneOf(rapid.Float64Range(-90, 90), rapid.Float64()).Draw(t, "lat"),
				Lng: rapid.OneOf(rapid.Float64Range(-180, 180), rapid.Float64()).Draw(t, "lng"),
			}
			recs[i] = record(p, float64(i), rapid.Float64().Draw(t, "alt"))
			if rapid.Bool().Draw(t, "untimed") {
				recs[i].Time = time.Time{}
			}
		}
		route, points, elevations := BuildRoute(recs)
		if route.PointCount != len(points) || (elevations != nil && len(elevations) != len(points)) {
			t.Fatalf("PointCount %d, %d points, %d elevations", route.PointCount, len(points), len(elevations))
		}
		if len(points) == 0 {
			return
		}
		decoded, err := DecodePolyline(route.Polyline)
		if err != nil || len(decoded) < 1 || len(decoded) > len(points) {
			t.Fatalf("polyline %q: %d points, %v", route.Polyline, len(decoded), err)
		}
		for _, v := range append(route.BBox, ptrValues(route.ElevationGain, route.ElevationLoss)...) {
			if !isFinite(v) {
				t.Fatalf("non-finite figure in %+v", route)
			}
		}
	})
}

func ptrValues(ps ...*float64) []float64 {
	var out []float64
	for _, p := range ps {
		if p != nil {
			out = append(out, *p)
		}
	}
	return out
}
