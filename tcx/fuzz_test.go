package tcx

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/cairn-fit/cairn"
)

// FuzzDecode checks that no input makes Decode panic or return anything
// but a clean *cairn.Error or a well-formed file.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(tcxDoc))
	f.Add([]byte(`<TrainingCenterDatabase><Courses><Course><Name>c</Name><Track><Trackpoint><Time>2024-01-01T00:00:00Z</Time></Trackpoint></Track></Course></Courses></TrainingCenterDatabase>`))
	f.Add([]byte(`<TrainingCenterDatabase><Activities><MultiSportSession><FirstSport><Activity Sport="Running"><Lap StartTime="2024-05-01T07:00:00Z"/></Activity></FirstSport></MultiSportSession></Activities></TrainingCenterDatabase>`))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(tcxDoc))
	zw.Close()
	f.Add(gz.Bytes())
	for _, path := range fixturePaths() {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(bytes.NewReader(data))
		if err != nil {
			var e *cairn.Error
			if !errors.As(err, &e) || (e.Code != cairn.EINVALIDFILE && e.Code != cairn.ETOOLARGE) || e.Message == "" {
				t.Fatalf("error %v (%T) is not a clean EINVALIDFILE", err, err)
			}
			return
		}
		if file.Kind != cairn.KindActivity || len(file.Activities) == 0 {
			t.Fatalf("kind %s with %d activities", file.Kind, len(file.Activities))
		}
		if file.Partial && len(file.Warnings) == 0 {
			t.Fatal("partial without a warning")
		}
		for _, a := range file.Activities {
			if !a.Type.Valid() {
				t.Fatalf("type %q", a.Type)
			}
			if _, err := json.Marshal(a.Metadata); err != nil {
				t.Fatalf("metadata: %v", err)
			}
			if _, err := json.Marshal(a.Laps); err != nil {
				t.Fatalf("laps: %v", err)
			}
			for _, v := range []*float64{a.Totals.DistanceM, a.Totals.TimerS, a.Totals.Calories, a.Totals.AvgHR, a.Totals.MaxHR} {
				if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
					t.Fatalf("total %v", *v)
				}
			}
			for _, r := range a.Records {
				if math.IsNaN(r.Lat) != math.IsNaN(r.Lon) || math.Abs(r.Lat) > 90 || math.Abs(r.Lon) > 180 {
					t.Fatalf("position %v,%v", r.Lat, r.Lon)
				}
			}
		}
	})
}
