package gpx

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cairn-fit/cairn"
)

// fixtureWant is what a GPX fixture decodes to: per activity, where it
// comes from, its number of points and how many of them have a time.
type fixtureWant struct {
	acts    []string // "kind points timed"
	warning string
}

const waypointsWarning = "GPX: no track or route: the activity is made of the file's waypoints"

var fixtureWants = map[string]fixtureWant{
	"Mojstrovka.gpx": {acts: []string{"track 184 184"}},
	"cerknicko-without-times.gpx": {acts: []string{"track 173 0", "track 52 0", "track 2 0", "track 44 0",
		"track 2 0", "track 2 0", "track 21 5"}, warning: "GPX: skipped 1 tracks or routes without points"},
	"file.gpx":                                      {acts: []string{"track 4 4"}},
	"gpx-without-root-attributes.gpx":               {acts: []string{"track 1 1"}},
	"gpx-without-xml-declaration.gpx":               {acts: []string{"track 1 1"}},
	"gpx1.0_with_all_fields.gpx":                    {acts: []string{"route 3 1", "route 2 0", "track 1 1"}, warning: "GPX: skipped 1 tracks or routes without points"},
	"gpx1.1_with_all_fields.gpx":                    {acts: []string{"route 3 1", "route 2 0", "track 1 1"}, warning: "GPX: skipped 1 tracks or routes without points"},
	"gpx1.1_with_extensions.gpx":                    {acts: []string{"route 1 0", "track 1 1"}},
	"gpx1.1_with_extensions_without_namespaces.gpx": {acts: []string{"waypoints 1 0"}, warning: waypointsWarning},
	"gpx_with_garmin_extension.gpx":                 {acts: []string{"waypoints 1 1"}, warning: waypointsWarning},
	"graphhopper.gpx.gz":                            {acts: []string{"route 22 0", "track 171 22"}},
	"iso8859-1encoded.gpx":                          {acts: []string{"waypoints 8 8"}, warning: waypointsWarning},
	"korita-zbevnica.gpx":                           {acts: []string{"track 358 0", "track 176 176", "track 337 337"}, warning: "GPX: skipped 1 tracks or routes without points"},
	"visnjan.gpx":                                   {acts: []string{"track 413 413"}},
}

func TestFixtures(t *testing.T) {
	fixtureDir(t)
	for _, path := range fixturePaths() {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			want, ok := fixtureWants[name]
			if !ok {
				t.Fatalf("no expectation for fixture %s", name)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			file, err := Decode(f)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			checkFixture(t, file, want)
		})
	}
}

func checkFixture(t *testing.T, file *cairn.DecodedFile, want fixtureWant) {
	t.Helper()
	if file.Kind != cairn.KindActivity || file.Format != cairn.FormatGPX || file.Partial {
		t.Errorf("kind %s format %s partial %v", file.Kind, file.Format, file.Partial)
	}
	var got []string
	for _, a := range file.Activities {
		timed := 0
		for j, r := range a.Records {
			if !r.Time.IsZero() {
				timed++
			}
			if math.IsNaN(r.Lat) || math.Abs(r.Lat) > 90 || math.Abs(r.Lon) > 180 {
				t.Fatalf("record %d: position %v,%v", j, r.Lat, r.Lon)
			}
		}
		got = append(got, fmt.Sprintf("%s %d %d", a.Metadata["gpx"], len(a.Records), timed))
		if _, err := cairn.MarshalMetadata(a.Metadata); err != nil {
			t.Errorf("metadata: %v", err)
		}
	}
	if !slices.Equal(got, want.acts) {
		t.Errorf("activities %q, want %q", got, want.acts)
	}
	if want.warning != "" && !slices.Contains(file.Warnings, want.warning) {
		t.Errorf("warnings %q, want %q", file.Warnings, want.warning)
	}
}

func fixture(t *testing.T, name string) *cairn.DecodedFile {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	file, err := Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return file
}

func TestFixtureDetails(t *testing.T) {
	a := fixture(t, "gpx_with_garmin_extension.gpx").Activities[0]
	if r := a.Records[0]; r.HeartRate != 171 || r.Altitude != 3.4 || !r.Time.Equal(time.Date(2016, 6, 17, 23, 41, 3, 0, time.UTC)) {
		t.Errorf("Runkeeper waypoint %+v", r)
	}
	file := fixture(t, "gpx1.1_with_all_fields.gpx")
	trk := file.Activities[2]
	if trk.Name != "example name t" || trk.Records[0].Altitude != 11.1 || !slices.Equal(trk.Metadata["segment_starts"].([]int), []int{0, 1}) {
		t.Errorf("track %q, ele %v, metadata %v", trk.Name, trk.Records[0].Altitude, trk.Metadata)
	}
	file = fixture(t, "gpx1.0_with_all_fields.gpx")
	if r := file.Activities[2].Records[0]; !r.Time.Equal(time.Date(2013, 1, 1, 12, 0, 4, 0, time.UTC)) {
		t.Errorf("a time without zone is UTC: %v", r.Time)
	}
	file = fixture(t, "korita-zbevnica.gpx")
	if a := file.Activities[0]; a.Sport != "..." || a.Type != cairn.ActivityOther || a.Name != "03-OCT-10 #2" {
		t.Errorf("sport %q type %s name %q", a.Sport, a.Type, a.Name)
	}
	file = fixture(t, "file.gpx")
	if file.Device == nil || file.Device.Model != "eTrex 10" || file.Activities[0].Records[0].Cadence != 0 {
		t.Errorf("device %+v, cadence %v", file.Device, file.Activities[0].Records[0].Cadence)
	}
	file = fixture(t, "graphhopper.gpx.gz")
	if r := file.Activities[0].Records[0]; !math.IsNaN(r.Distance) || r.Lat != 49.477268 {
		t.Errorf("route point %+v", r)
	}
}

const gpx11 = `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"
 xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">
<metadata><name>Morning</name><time>2024-05-01T06:00:00Z</time></metadata>
<trk><name>Lunch Run</name><type>running</type><trkseg>
<trkpt lat="46.1" lon="14.5"><ele>300.5</ele><time>2024-05-01T07:00:00Z</time>
 <extensions><gpxtpx:TrackPointExtension><gpxtpx:atemp>21.5</gpxtpx:atemp><gpxtpx:hr>140</gpxtpx:hr><gpxtpx:cad>85</gpxtpx:cad></gpxtpx:TrackPointExtension>
 <power>250</power></extensions></trkpt>
<trkpt lat="46.2" lon="14.6"><time>2024-05-01T07:00:05.5+02:00</time><extensions><heartrate>141</heartrate><cadence>86</cadence></extensions></trkpt>
</trkseg></trk>
</gpx>`

func TestDecodeSynthetic(t *testing.T) {
	file := mustDecode(t, gpx11)
	a := file.Activities[0]
	if a.Type != cairn.ActivityRun || a.Sport != "running" || a.Name != "Lunch Run" || len(a.Records) != 2 {
		t.Fatalf("activity %s %q %q, %d records", a.Type, a.Sport, a.Name, len(a.Records))
	}
	r := a.Records[0]
	if r.Lat != 46.1 || r.Lon != 14.5 || r.Altitude != 300.5 || r.HeartRate != 140 || r.Cadence != 85 ||
		r.Temperature != 21.5 || r.Power != 250 || !math.IsNaN(r.Speed) || !math.IsNaN(r.Distance) {
		t.Errorf("record %+v", r)
	}
	r = a.Records[1]
	if want := time.Date(2024, 5, 1, 5, 0, 5, 5e8, time.UTC); !r.Time.Equal(want) || r.Time.Location() != time.UTC {
		t.Errorf("time %v, want %v in UTC", r.Time, want)
	}
	if r.HeartRate != 141 || r.Cadence != 86 || !math.IsNaN(r.Altitude) {
		t.Errorf("record %+v", r)
	}
	if !a.Start.Equal(time.Date(2024, 5, 1, 5, 0, 5, 5e8, time.UTC)) || !a.End.Equal(time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("span %v – %v: earliest to latest", a.Start, a.End)
	}
}

func TestDecodeGPX10(t *testing.T) {
	file := mustDecode(t, `<gpx version="1.0"><name>File name</name><time>2020-01-01T00:00:00Z</time>
<trk><trkseg><trkpt lat="1" lon="2"><speed>3.5</speed><course>90</course></trkpt></trkseg>
<trkseg><trkpt lat="1.1" lon="2.1"/></trkseg></trk></gpx>`)
	a := file.Activities[0]
	if a.Name != "File name" || a.Records[0].Speed != 3.5 || !a.Start.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("name %q speed %v start %v", a.Name, a.Records[0].Speed, a.Start)
	}
	if !slices.Equal(a.Metadata["segment_starts"].([]int), []int{0, 1}) {
		t.Errorf("segments %v", a.Metadata["segment_starts"])
	}
}

func TestDecodeMultipleTracks(t *testing.T) {
	file := mustDecode(t, `<gpx><trk><type>Ride</type><trkseg><trkpt lat="1" lon="1"/></trkseg></trk>
<trk><type>Hike</type><trkseg><trkpt lat="2" lon="2"/><trkpt lat="3" lon="3"/></trkseg></trk>
<rte><rtept lat="4" lon="4"/></rte><wpt lat="5" lon="5"/></gpx>`)
	var types []cairn.ActivityType
	for _, a := range file.Activities {
		types = append(types, a.Type)
	}
	if !slices.Equal(types, []cairn.ActivityType{cairn.ActivityRide, cairn.ActivityHike, cairn.ActivityOther}) {
		t.Errorf("types %v: one activity per track and route, waypoints ignored", types)
	}
}

func TestDecodeCharsets(t *testing.T) {
	doc := func(enc string, name []byte) []byte {
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0" encoding="` + enc + `"?><gpx><trk><name>`)
		b.Write(name)
		b.WriteString(`</name><trkseg><trkpt lat="1" lon="2"/></trkseg></trk></gpx>`)
		return b.Bytes()
	}
	for _, tt := range []struct {
		enc  string
		name []byte
		want string
	}{
		{"ISO-8859-1", []byte("Cerkni\xe8ko jezero \xe9t\xe9"), "Cerknièko jezero été"},
		{"latin1", []byte("caf\xe9"), "café"},
		{"windows-1252", []byte("\x93quoted\x94 \x80 caf\xe9"), "“quoted” € café"},
		{"US-ASCII", []byte("plain"), "plain"},
	} {
		file, err := Decode(iotest.HalfReader(bytes.NewReader(doc(tt.enc, tt.name))))
		if err != nil {
			t.Fatalf("%s: %v", tt.enc, err)
		}
		if got := file.Activities[0].Name; got != tt.want {
			t.Errorf("%s: name %q, want %q", tt.enc, got, tt.want)
		}
	}
	_, err := Decode(bytes.NewReader(doc("EBCDIC", []byte("x"))))
	wantError(t, err, cairn.EINVALIDFILE, `GPX: unsupported encoding "EBCDIC"`)
}

func TestDecodeGzip(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(gpx11))
	zw.Close()
	file, err := Decode(bytes.NewReader(b.Bytes()))
	if err != nil || len(file.Activities[0].Records) != 2 {
		t.Fatalf("gzip: %v", err)
	}
	_, err = Decode(bytes.NewReader(b.Bytes()[:20]))
	wantError(t, err, cairn.EINVALIDFILE, "GPX: unexpected end of file")
	_, err = Decode(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0}))
	wantError(t, err, cairn.EINVALIDFILE, "GPX: invalid gzip data")
}

func TestDecodeBroken(t *testing.T) {
	// Cut inside the second point: the first one is kept.
	cut := gpx11[:strings.Index(gpx11, `<trkpt lat="46.2"`)+30]
	file := mustDecode(t, cut)
	if !file.Partial || len(file.Activities[0].Records) != 1 || file.Warnings[0] != "GPX: unexpected end of file: kept the points before it" {
		t.Errorf("partial %v, %d records, warnings %q", file.Partial, len(file.Activities[0].Records), file.Warnings)
	}
	bad := strings.Replace(gpx11, "</trkseg>", "</trk>", 1)
	file = mustDecode(t, bad)
	if !file.Partial || !strings.HasPrefix(file.Warnings[0], "GPX: invalid XML at line 10") {
		t.Errorf("partial %v, warnings %q", file.Partial, file.Warnings)
	}
	tests := []struct{ name, in, msg string }{
		{"empty", "", "GPX: file is empty"},
		{"not XML", "\x0e\x10\xd9\x07 FIT", "GPX: invalid XML at line 1"},
		{"other XML", `<?xml version="1.0"?><TrainingCenterDatabase/>`, "GPX: not a GPX file (the root element is not <gpx>)"},
		{"text only", "hello", "GPX: not a GPX file (the root element is not <gpx>)"},
		{"no points", `<gpx><metadata><name>x</name></metadata><trk><trkseg/></trk></gpx>`, "GPX: no track points"},
		{"broken early", "<gpx>\n<trk><name>a</nam></trk>", "GPX: invalid XML at line 2"},
		{"truncated", `<gpx><trk><trkseg><trkpt lat="1" lon="2">`, "GPX: unexpected end of file"},
		{"too deep", "<gpx>" + strings.Repeat("<a>", 1000), "GPX: elements nested too deep"},
	}
	for _, tt := range tests {
		_, err := decodeString(t, tt.in)
		if err == nil {
			t.Fatalf("%s: decoded", tt.name)
		}
		wantError(t, err, cairn.EINVALIDFILE, tt.msg)
	}
}

func TestDecodeBadValues(t *testing.T) {
	file := mustDecode(t, `<gpx><trk><trkseg>
<trkpt lat="91" lon="2"><ele>high</ele><time>yesterday</time></trkpt>
<trkpt lat="NaN" lon="Inf"><extensions><hr>x</hr></extensions></trkpt>
</trkseg></trk></gpx>`)
	for i, r := range file.Activities[0].Records {
		if !math.IsNaN(r.Lat) || !math.IsNaN(r.Lon) || !math.IsNaN(r.Altitude) || !math.IsNaN(r.HeartRate) || !r.Time.IsZero() {
			t.Errorf("record %d %+v: invalid values must be NaN", i, r)
		}
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestDecodeReaderError(t *testing.T) {
	cause := errors.New("network down")
	_, err := Decode(io.MultiReader(strings.NewReader(gpx11[:100]), failingReader{cause}))
	if !errors.Is(err, cause) || cairn.ErrorCode(err) != cairn.EINTERNAL {
		t.Errorf("error %v, want the reader's", err)
	}
}
