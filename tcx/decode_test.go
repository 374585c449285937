package tcx

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
)

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

// TestFixtures checks every TCX fixture decodes completely.
func TestFixtures(t *testing.T) {
	fixtureDir(t)
	for _, path := range fixturePaths() {
		t.Run(filepath.Base(path), func(t *testing.T) {
			file := fixture(t, filepath.Base(path))
			if file.Kind != cairn.KindActivity || file.Format != cairn.FormatTCX || file.Partial || len(file.Activities) == 0 {
				t.Fatalf("kind %s format %s partial %v, %d activities", file.Kind, file.Format, file.Partial, len(file.Activities))
			}
			for _, a := range file.Activities {
				if len(a.Records) == 0 || len(a.Laps) == 0 || a.Start.IsZero() || !a.End.After(a.Start) {
					t.Errorf("%d records, %d laps, %v – %v", len(a.Records), len(a.Laps), a.Start, a.End)
				}
				for i, r := range a.Records {
					if r.Time.IsZero() || math.IsNaN(r.Lat) != math.IsNaN(r.Lon) {
						t.Fatalf("record %d %+v", i, r)
					}
				}
				if _, err := cairn.MarshalMetadata(a.Metadata); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestFixtureTest(t *testing.T) {
	file := fixture(t, "test.tcx")
	want := cairn.DeviceInfo{Model: "Forerunner 410 Software Version 2.20", SerialNumber: "3854007508", FirmwareVersion: "2.20"}
	if *file.Device != want {
		t.Errorf("device %+v", *file.Device)
	}
	a := file.Activities[0]
	if a.Type != cairn.ActivityRun || a.Sport != "Running" || a.Name != "Aerobics" || len(a.Records) != 384 || len(a.Laps) != 3 {
		t.Errorf("%s %q %q, %d records, %d laps", a.Type, a.Sport, a.Name, len(a.Records), len(a.Laps))
	}
	if !a.Start.Equal(time.Date(2012, 12, 26, 21, 29, 53, 0, time.UTC)) {
		t.Errorf("start %v", a.Start)
	}
	l := a.Laps[0]
	if l.TimerS != 608.47 || l.DistanceM != 1609.34399414 || l.Calories != 94 || l.AvgHR != 139 || l.MaxHR != 189 {
		t.Errorf("lap %+v", l)
	}
	// Totals: sums of the laps, maximum of their maxima, average weighted by time.
	var dist, timer, cal, hrTime, maxHR float64
	for _, l := range a.Laps {
		dist, timer, cal = dist+l.DistanceM, timer+l.TimerS, cal+l.Calories
		hrTime += l.AvgHR * l.TimerS
		maxHR = math.Max(maxHR, l.MaxHR)
	}
	tt := a.Totals
	if *tt.DistanceM != dist || *tt.TimerS != timer || *tt.Calories != cal || *tt.MaxHR != maxHR ||
		math.Abs(*tt.AvgHR-hrTime/timer) > 1e-9 || tt.ElapsedS != nil {
		t.Errorf("totals %v %v %v %v %v", *tt.DistanceM, *tt.TimerS, *tt.Calories, *tt.MaxHR, *tt.AvgHR)
	}
	if r := a.Records[0]; r.HeartRate != 62 || r.Altitude != 178.942626953 || r.Distance != 0 || r.Lat != 35.951880198 {
		t.Errorf("record %+v", r)
	}
}

func TestFixtureNoHR(t *testing.T) {
	a := fixture(t, "no_hr.tcx").Activities[0]
	for _, r := range a.Records {
		if !math.IsNaN(r.HeartRate) {
			t.Fatalf("heart rate %v in a file without", r.HeartRate)
		}
	}
	if a.Totals.AvgHR != nil || a.Totals.MaxHR != nil || a.Laps[0].AvgHR != 0 {
		t.Errorf("heart rate totals %v %v", a.Totals.AvgHR, a.Totals.MaxHR)
	}
}

func TestFixtureSUP(t *testing.T) {
	a := fixture(t, "sup_activity_1.tcx").Activities[0]
	if a.Type != cairn.ActivityOther || a.Sport != "Other" || len(a.Records) != 111 {
		t.Errorf("%s %q %d records", a.Type, a.Sport, len(a.Records))
	}
	if r := a.Records[2]; r.Speed != 0.6439999938011169 || r.HeartRate != 89 {
		t.Errorf("record %+v: speed from the TPX extension", r)
	}
	if a.Totals.Steps == nil || *a.Totals.Steps <= 0 {
		t.Errorf("steps %v from the laps' LX extension", a.Totals.Steps)
	}
}

const tcxDoc = `<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" xmlns:ax="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
 <Activities>
  <Activity Sport="Biking">
   <Id>2024-05-01T07:00:00Z</Id>
   <Lap StartTime="2024-05-01T07:00:00Z">
    <TotalTimeSeconds>60</TotalTimeSeconds><DistanceMeters>500</DistanceMeters><MaximumSpeed>9.5</MaximumSpeed>
    <Calories>20</Calories><AverageHeartRateBpm><Value>130</Value></AverageHeartRateBpm>
    <MaximumHeartRateBpm><Value>150</Value></MaximumHeartRateBpm><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>
    <Track>
     <Trackpoint><Time>2024-05-01T07:00:00Z</Time><Position><LatitudeDegrees>46.1</LatitudeDegrees><LongitudeDegrees>14.5</LongitudeDegrees></Position>
      <AltitudeMeters>300</AltitudeMeters><DistanceMeters>0</DistanceMeters><HeartRateBpm><Value>120</Value></HeartRateBpm><Cadence>80</Cadence>
      <Extensions><ax:TPX><ax:Speed>8.5</ax:Speed><ax:Watts>210</ax:Watts></ax:TPX></Extensions></Trackpoint>
     <Trackpoint><Time>2024-05-01T07:00:30Z</Time><HeartRateBpm><Value>125</Value></HeartRateBpm></Trackpoint>
    </Track>
   </Lap>
   <Lap StartTime="2024-05-01T07:01:00Z">
    <TotalTimeSeconds>120</TotalTimeSeconds><DistanceMeters>1000</DistanceMeters><Calories>35</Calories>
    <AverageHeartRateBpm><Value>160</Value></AverageHeartRateBpm><MaximumHeartRateBpm><Value>171</Value></MaximumHeartRateBpm>
    <Track><Trackpoint><Time>2024-05-01T07:02:00Z</Time><Extensions><ax:TPX><ax:RunCadence>88</ax:RunCadence></ax:TPX></Extensions></Trackpoint></Track>
   </Lap>
   <Notes>Commute</Notes>
   <Creator><Name>Edge 530</Name><UnitId>42</UnitId><Version><VersionMajor>9</VersionMajor><VersionMinor>10</VersionMinor></Version></Creator>
  </Activity>
 </Activities>
</TrainingCenterDatabase>`

func TestDecodeSynthetic(t *testing.T) {
	file := mustDecode(t, tcxDoc)
	a := file.Activities[0]
	if a.Type != cairn.ActivityRide || a.Name != "Commute" || len(a.Records) != 3 || len(a.Laps) != 2 {
		t.Fatalf("%s %q, %d records, %d laps", a.Type, a.Name, len(a.Records), len(a.Laps))
	}
	r := a.Records[0]
	if r.Lat != 46.1 || r.Altitude != 300 || r.HeartRate != 120 || r.Cadence != 80 || r.Speed != 8.5 || r.Power != 210 || !math.IsNaN(r.Temperature) {
		t.Errorf("record %+v", r)
	}
	if r := a.Records[1]; !math.IsNaN(r.Lat) || !math.IsNaN(r.Lon) || r.HeartRate != 125 {
		t.Errorf("record without position %+v", r)
	}
	if r := a.Records[2]; r.Cadence != 88 {
		t.Errorf("run cadence %v", r.Cadence)
	}
	tt := a.Totals
	if *tt.DistanceM != 1500 || *tt.TimerS != 180 || *tt.Calories != 55 || *tt.MaxHR != 171 || *tt.MaxSpeed != 9.5 ||
		math.Abs(*tt.AvgHR-(130*60+160*120)/180.0) > 1e-9 {
		t.Errorf("totals %+v", tt)
	}
	if want := time.Date(2024, 5, 1, 7, 3, 0, 0, time.UTC); !a.End.Equal(want) {
		t.Errorf("end %v, want the end of the last lap %v", a.End, want)
	}
	if file.Device.Model != "Edge 530" || file.Device.SerialNumber != "42" || file.Device.FirmwareVersion != "9.10" {
		t.Errorf("device %+v", file.Device)
	}
}

func TestDecodeMultisport(t *testing.T) {
	doc := `<TrainingCenterDatabase><Activities><MultiSportSession><Id>2024-05-01T07:00:00Z</Id>
<FirstSport><Activity Sport="Running"><Id>2024-05-01T07:00:00Z</Id><Lap StartTime="2024-05-01T07:00:00Z"><TotalTimeSeconds>10</TotalTimeSeconds></Lap></Activity></FirstSport>
<NextSport><Transition StartTime="2024-05-01T07:00:10Z"><TotalTimeSeconds>5</TotalTimeSeconds></Transition>
<Activity Sport="Biking"><Id>2024-05-01T07:00:15Z</Id><Lap StartTime="2024-05-01T07:00:15Z"><TotalTimeSeconds>10</TotalTimeSeconds></Lap></Activity></NextSport>
</MultiSportSession></Activities></TrainingCenterDatabase>`
	file := mustDecode(t, doc)
	if len(file.Activities) != 2 || file.Activities[1].Type != cairn.ActivityRide || file.Activities[1].Metadata["session_index"] != 1 {
		t.Errorf("%d activities: %+v", len(file.Activities), file.Activities)
	}
}

func TestDecodeBroken(t *testing.T) {
	cut := tcxDoc[:strings.Index(tcxDoc, "<Notes>")]
	file := mustDecode(t, cut)
	if !file.Partial || len(file.Activities[0].Records) != 3 || file.Warnings[0] != "TCX: unexpected end of file: kept the data before it" {
		t.Errorf("partial %v warnings %q", file.Partial, file.Warnings)
	}
	tests := []struct{ name, in, msg string }{
		{"empty", "", "TCX: file is empty"},
		{"GPX", `<gpx version="1.1"><trk/></gpx>`, "TCX: not a TCX file (the root element is not <TrainingCenterDatabase>)"},
		{"no activities", `<TrainingCenterDatabase><Activities/></TrainingCenterDatabase>`, "TCX: no activities"},
		{"broken", "<TrainingCenterDatabase>\n<Activities></Activity>", "TCX: invalid XML at line 2"},
		{"too deep", "<TrainingCenterDatabase>" + strings.Repeat("<a>", 1000), "TCX: elements nested too deep"},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><TrainingCenterDatabase/>`, `TCX: unsupported encoding "ISO-8859-1"`},
	}
	for _, tt := range tests {
		_, err := decodeString(t, tt.in)
		if err == nil {
			t.Fatalf("%s: decoded", tt.name)
		}
		wantError(t, err, cairn.EINVALIDFILE, tt.msg)
	}
}

func TestDecodeGzip(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(tcxDoc))
	zw.Close()
	file, err := Decode(&b)
	if err != nil || len(file.Activities[0].Records) != 3 {
		t.Fatalf("gzip: %v", err)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestDecodeReaderError(t *testing.T) {
	cause := errors.New("network down")
	_, err := Decode(io.MultiReader(strings.NewReader(tcxDoc[:200]), failingReader{cause}))
	if !errors.Is(err, cause) || cairn.ErrorCode(err) != cairn.EINTERNAL {
		t.Errorf("error %v, want the reader's", err)
	}
}
