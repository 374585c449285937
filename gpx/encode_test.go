package gpx

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
	a := cairn.DecodedActivity{
		Type:  cairn.ActivityMountainBike,
		Name:  `Ride <to> "the" lake & back`,
		Start: time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC),
		Records: []cairn.Record{
			{Time: time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC), Lat: 46.05, Lon: 14.5, Altitude: 300.2,
				HeartRate: 140.4, Cadence: 85, Power: 250, Speed: 5.5, Distance: 0, Temperature: 18},
			{Lat: nan, Lon: nan, Altitude: nan, HeartRate: 150, Cadence: nan, Power: nan, Speed: nan, Distance: nan, Temperature: nan},
			{Lat: 46.06, Lon: 14.51, Altitude: nan, HeartRate: nan, Cadence: nan, Power: nan, Speed: nan, Distance: nan, Temperature: nan},
		},
	}
	var b bytes.Buffer
	if err := Encode(&b, a); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`<gpx version="1.1" creator="cairn"`,
		`<name>Ride &lt;to&gt; &#34;the&#34; lake &amp; back</name>`,
		`<type>mountain_bike</type>`,
		`<gpxtpx:hr>140</gpxtpx:hr>`,
		`<gpxpx:PowerInWatts>250</gpxpx:PowerInWatts>`,
		`<trkpt lat="46.06" lon="14.51"></trkpt>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	// Well-formed XML that Decode reads back.
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
	if got.Name != a.Name || got.Type != a.Type || len(got.Records) != 2 {
		t.Errorf("read back %q %s with %d records: the record without position is left out", got.Name, got.Type, len(got.Records))
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

// TestPropertyRoundTrip: Decode(Encode(a)) gives a back, for what GPX can
// hold: positioned records, whole heart rate, cadence and power, exact
// floats elsewhere, no distance.
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
		if got.Type != a.Type || got.Name != a.Name || len(got.Records) != len(a.Records) {
			t.Fatalf("activity %s %q %d records, want %s %q %d", got.Type, got.Name, len(got.Records), a.Type, a.Name, len(a.Records))
		}
		for i, want := range a.Records {
			want.Distance = math.NaN() // GPX has no place for it
			if !sameRecord(got.Records[i], want) {
				t.Fatalf("record %d: %+v, want %+v", i, got.Records[i], want)
			}
		}
	})
}

// drawActivity draws an activity whose records GPX can hold exactly.
func drawActivity(t *rapid.T) cairn.DecodedActivity {
	maybe := func(name string, gen *rapid.Generator[float64]) float64 {
		if rapid.Bool().Draw(t, "has "+name) {
			return gen.Draw(t, name)
		}
		return math.NaN()
	}
	whole := func(max int) *rapid.Generator[float64] {
		return rapid.Map(rapid.IntRange(0, max), func(i int) float64 { return float64(i) })
	}
	a := cairn.DecodedActivity{
		Type: rapid.SampledFrom(cairn.ActivityTypes).Draw(t, "type"),
		Name: rapid.StringMatching(`[\p{L}\p{N} <>&"'.,-]{0,30}`).Draw(t, "name"),
	}
	a.Name = strings.TrimSpace(a.Name)
	at := time.Unix(rapid.Int64Range(0, 4e9).Draw(t, "start"), 0).UTC()
	for range rapid.IntRange(1, 100).Draw(t, "records") {
		at = at.Add(time.Duration(rapid.Int64Range(1, 1e10).Draw(t, "dt")))
		r := cairn.Record{
			Lat:         rapid.Float64Range(-90, 90).Draw(t, "lat"),
			Lon:         rapid.Float64Range(-180, 180).Draw(t, "lon"),
			Altitude:    maybe("altitude", rapid.Float64Range(-500, 9000)),
			HeartRate:   maybe("hr", whole(255)),
			Cadence:     maybe("cadence", whole(255)),
			Power:       maybe("power", whole(3000)),
			Speed:       maybe("speed", rapid.Float64Range(0, 100)),
			Distance:    maybe("distance", rapid.Float64Range(0, 1e6)),
			Temperature: maybe("temperature", rapid.Float64Range(-40, 60)),
		}
		if rapid.Bool().Draw(t, "timed") {
			r.Time = at
		}
		a.Records = append(a.Records, r)
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
