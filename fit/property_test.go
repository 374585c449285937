package fit

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/proto"
	"pgregory.net/rapid"
)

// Resolutions of the FIT record fields (the setters truncate).
const (
	semicircle  = 180.0 / (1 << 31) // degrees
	altitudeRes = 1.0 / 5           // m, scale 5 offset 500
	speedRes    = 1.0 / 1000        // m/s
	distanceRes = 1.0 / 100         // m
)

// TestPropertyRoundTrip encodes a random activity with muktihari/fit's
// encoder and checks that Decode gives back every sample within the FIT
// field resolution, with NaN for what was left out.
func TestPropertyRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		start := time.Unix(rapid.Int64Range(1e9, 2e9).Draw(t, "start"), 0).UTC()
		n := rapid.IntRange(1, 300).Draw(t, "records")
		mesgs := []proto.Message{fileID(typedef.FileActivity)}
		want := make([]cairn.Record, n)
		at := start
		for i := range want {
			at = at.Add(time.Duration(rapid.IntRange(1, 30).Draw(t, "dt")) * time.Second)
			m, r := drawRecord(t, at)
			mesgs, want[i] = append(mesgs, m), r
		}
		withSession := rapid.Bool().Draw(t, "session")
		if withSession {
			mesgs = append(mesgs, session(start, at.Sub(start), typedef.SportCycling, typedef.SubSportRoad, 1000))
		}
		b := encode(t, mesgs...)
		switch rapid.SampledFrom([]int{14, 12, 0}).Draw(t, "header") {
		case 12:
			b = withHeader(t, b, 12)
		case 0:
			b = withHeader(t, b, 0)
		}
		file, err := Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if file.Partial || len(file.Activities) != 1 {
			t.Fatalf("partial %v, %d activities, warnings %q", file.Partial, len(file.Activities), file.Warnings)
		}
		got := file.Activities[0].Records
		if len(got) != n {
			t.Fatalf("%d records, want %d", len(got), n)
		}
		for i := range want {
			compareRecord(t, i, got[i], want[i])
		}
		if withSession && file.Activities[0].Type != cairn.ActivityRide {
			t.Fatalf("type %s", file.Activities[0].Type)
		}
	})
}

// drawRecord draws one record, as a FIT message and as the record Decode
// should return; each field is left out at random.
func drawRecord(t *rapid.T, at time.Time) (proto.Message, cairn.Record) {
	m := mesgdef.NewRecord(nil).SetTimestamp(at)
	r := cairn.Record{Time: at, Lat: nan, Lon: nan, Altitude: nan, HeartRate: nan, Cadence: nan,
		Power: nan, Speed: nan, Distance: nan, Temperature: nan}
	has := func(name string) bool { return rapid.Bool().Draw(t, "has "+name) }
	if has("position") {
		r.Lat = rapid.Float64Range(-89.999, 89.999).Draw(t, "lat")
		r.Lon = rapid.Float64Range(-179.999, 179.999).Draw(t, "lon")
		m.SetPositionLatDegrees(r.Lat).SetPositionLongDegrees(r.Lon)
	}
	if has("altitude") {
		r.Altitude = rapid.Float64Range(-400, 8000).Draw(t, "altitude")
		m.SetAltitudeScaled(r.Altitude)
	}
	if has("hr") {
		hr := rapid.IntRange(0, 254).Draw(t, "hr")
		r.HeartRate = float64(hr)
		m.SetHeartRate(uint8(hr))
	}
	if has("cadence") {
		c := rapid.IntRange(0, 254).Draw(t, "cadence")
		r.Cadence = float64(c)
		m.SetCadence(uint8(c))
	}
	if has("power") {
		p := rapid.IntRange(0, 3000).Draw(t, "power")
		r.Power = float64(p)
		m.SetPower(uint16(p))
	}
	if has("speed") {
		r.Speed = rapid.Float64Range(0, 65).Draw(t, "speed")
		m.SetSpeedScaled(r.Speed)
	}
	if has("distance") {
		r.Distance = rapid.Float64Range(0, 1e6).Draw(t, "distance")
		m.SetDistanceScaled(r.Distance)
	}
	if has("temperature") {
		c := rapid.IntRange(-40, 60).Draw(t, "temperature")
		r.Temperature = float64(c)
		m.SetTemperature(int8(c))
	}
	return m.ToMesg(nil), r
}

func compareRecord(t *rapid.T, i int, got, want cairn.Record) {
	if !got.Time.Equal(want.Time) {
		t.Fatalf("record %d: time %v, want %v", i, got.Time, want.Time)
	}
	for _, f := range []struct {
		name      string
		got, want float64
		res       float64
	}{
		{"lat", got.Lat, want.Lat, semicircle},
		{"lon", got.Lon, want.Lon, semicircle},
		{"altitude", got.Altitude, want.Altitude, altitudeRes},
		{"heart rate", got.HeartRate, want.HeartRate, 0},
		{"cadence", got.Cadence, want.Cadence, 0},
		{"power", got.Power, want.Power, 0},
		{"speed", got.Speed, want.Speed, speedRes},
		{"distance", got.Distance, want.Distance, distanceRes},
		{"temperature", got.Temperature, want.Temperature, 0},
	} {
		if math.IsNaN(f.want) != math.IsNaN(f.got) || math.Abs(f.got-f.want) > f.res+1e-9 {
			t.Fatalf("record %d: %s %v, want %v (±%v)", i, f.name, f.got, f.want, f.res)
		}
	}
}
