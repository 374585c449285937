package tcx

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"pgregory.net/rapid"
)

func TestEncode(t *testing.T) {
	nan := math.NaN()
	t0 := time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC)
	total, dist := 90.0, 1234.5
	a := cairn.DecodedActivity{
		Type:   cairn.ActivityTrailRun,
		Name:   "Hills & <dales>",
		Start:  t0,
		Totals: cairn.DeviceTotals{TimerS: &total, DistanceM: &dist},
		Records: []cairn.Record{
			{Time: t0, Lat: 46.1, Lon: 14.5, Altitude: 300, HeartRate: 130.6, Cadence: 88, Power: nan, Speed: 3.2, Distance: 0, Temperature: 20},
			{Time: t0.Add(time.Minute), Lat: nan, Lon: nan, Altitude: nan, HeartRate: 140, Cadence: nan, Power: 250, Speed: nan, Distance: 200, Temperature: nan},
		},
	}
	var b bytes.Buffer
	if err := Encode(&b, a); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`<Activity Sport="Running">`,
		`<Notes>Hills &amp; &lt;dales&gt;</Notes>`,
		`<TotalTimeSeconds>90</TotalTimeSeconds>`,
		`<HeartRateBpm><Value>131</Value></HeartRateBpm>`,
		`<ns3:RunCadence>88</ns3:RunCadence>`,
		`<ns3:Watts>250</ns3:Watts>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	dec := xml.NewDecoder(strings.NewReader(out))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("invalid XML: %v\n%s", err, out)
		}
	}
	file := mustDecode(t, out)
	got := file.Activities[0]
	if got.Type != cairn.ActivityRun || got.Name != a.Name || len(got.Records) != 2 || *got.Totals.DistanceM != dist {
		t.Errorf("read back %s %q, %d records, totals %+v", got.Type, got.Name, len(got.Records), got.Totals)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestEncodeWriteError(t *testing.T) {
	a := cairn.DecodedActivity{Records: make([]cairn.Record, 1000)}
	if err := Encode(failingWriter{}, a); err == nil {
		t.Error("no error from a failing writer")
	}
}

// coarse is the type an activity comes back as: TCX knows three sports.
func coarse(t cairn.ActivityType) cairn.ActivityType {
	return cairn.MapSport(cairn.FormatTCX, sportAttr(t), "")
}

// TestPropertyRoundTrip: Decode(Encode(a)) gives a back, for what TCX can
// hold: three sports, whole heart rate, cadence, power and calories, no
// temperature.
func TestPropertyRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := drawActivity(t)
		var b bytes.Buffer
		if err := Encode(&b, a); err != nil {
			t.Fatalf("Encode: %v", err)
		}
		file, err := Decode(&b)
		if err != nil {
			t.Fatalf("Decode: %v\n%s", err, b.String())
		}
		got := file.Activities[0]
		if got.Type != coarse(a.Type) || got.Name != a.Name || !got.Start.Equal(a.Start) {
			t.Fatalf("activity %s %q %v, want %s %q %v", got.Type, got.Name, got.Start, coarse(a.Type), a.Name, a.Start)
		}
		if len(got.Laps) != len(a.Laps) || len(got.Records) != len(a.Records) {
			t.Fatalf("%d laps %d records, want %d and %d", len(got.Laps), len(got.Records), len(a.Laps), len(a.Records))
		}
		for i, l := range a.Laps {
			if g := got.Laps[i]; !g.Start.Equal(l.Start) || g != (cairn.Lap{Start: g.Start, ElapsedS: l.TimerS, TimerS: l.TimerS,
				DistanceM: l.DistanceM, Calories: l.Calories, AvgHR: l.AvgHR, MaxHR: l.MaxHR}) {
				t.Fatalf("lap %d: %+v, want %+v", i, g, l)
			}
		}
		for i, want := range a.Records {
			want.Temperature = math.NaN() // TCX has no place for it
			if !sameRecord(got.Records[i], want) {
				t.Fatalf("record %d: %+v, want %+v", i, got.Records[i], want)
			}
		}
	})
}

// drawActivity draws an activity whose laps and records TCX holds.
func drawActivity(t *rapid.T) cairn.DecodedActivity {
	maybe := func(name string, gen *rapid.Generator[float64]) float64 {
		if rapid.Bool().Draw(t, "has "+name) {
			return gen.Draw(t, name)
		}
		return math.NaN()
	}
	whole := func(lo, hi int) *rapid.Generator[float64] {
		return rapid.Map(rapid.IntRange(lo, hi), func(i int) float64 { return float64(i) })
	}
	a := cairn.DecodedActivity{
		Type: rapid.SampledFrom(cairn.ActivityTypes).Draw(t, "type"),
		Name: strings.TrimSpace(rapid.StringMatching(`[\p{L}\p{N} <>&"'.,-]{0,30}`).Draw(t, "name")),
	}
	at := time.Unix(rapid.Int64Range(1, 4e9).Draw(t, "start"), rapid.Int64Range(0, 999).Draw(t, "ms")*1e6).UTC()
	a.Start = at
	for range rapid.IntRange(1, 5).Draw(t, "laps") {
		a.Laps = append(a.Laps, cairn.Lap{
			Start:     at,
			TimerS:    rapid.Float64Range(0, 1e5).Draw(t, "timer"),
			DistanceM: rapid.Float64Range(0, 1e5).Draw(t, "distance"),
			Calories:  whole(0, 5000).Draw(t, "calories"),
			AvgHR:     whole(0, 220).Draw(t, "avg hr"),
			MaxHR:     whole(0, 250).Draw(t, "max hr"),
		})
		for range rapid.IntRange(0, 20).Draw(t, "records") {
			r := cairn.Record{Lat: math.NaN(), Lon: math.NaN(),
				Altitude:    maybe("altitude", rapid.Float64Range(-500, 9000)),
				HeartRate:   maybe("hr", whole(1, 255)),
				Cadence:     maybe("cadence", whole(0, 254)),
				Power:       maybe("power", whole(0, 3000)),
				Speed:       maybe("speed", rapid.Float64Range(0, 100)),
				Distance:    maybe("record distance", rapid.Float64Range(0, 1e6)),
				Temperature: math.NaN(),
			}
			if rapid.Bool().Draw(t, "has position") {
				r.Lat = rapid.Float64Range(-90, 90).Draw(t, "lat")
				r.Lon = rapid.Float64Range(-180, 180).Draw(t, "lon")
			}
			if rapid.IntRange(0, 9).Draw(t, "timed") > 0 {
				r.Time = at
				at = at.Add(time.Duration(rapid.Int64Range(1, 1e10).Draw(t, "dt")))
			}
			a.Records = append(a.Records, r)
		}
		at = at.Add(time.Duration(rapid.Int64Range(1, 1e10).Draw(t, "lap gap")))
	}
	return a
}

// sameRecord compares records, NaN equal to NaN.
func sameRecord(a, b cairn.Record) bool {
	eq := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	return a.Time.Equal(b.Time) && eq(a.Lat, b.Lat) && eq(a.Lon, b.Lon) && eq(a.Altitude, b.Altitude) &&
		eq(a.HeartRate, b.HeartRate) && eq(a.Cadence, b.Cadence) && eq(a.Power, b.Power) &&
		eq(a.Speed, b.Speed) && eq(a.Distance, b.Distance) && eq(a.Temperature, b.Temperature)
}
