package gpx

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
	for _, s := range []string{
		gpx11,
		`<gpx version="1.0"><trk><trkseg><trkpt lat="1" lon="2"><speed>3</speed></trkpt></trkseg></trk></gpx>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><gpx><rte><name>caf` + "\xe9" + `</name><rtept lat="1" lon="2"/></rte></gpx>`,
		`<gpx><wpt lat="1" lon="2"><extensions><hr>150</hr></extensions></wpt></gpx>`,
		`<gpx><trk><trkseg><trkpt lat="1" lon="2">`,
	} {
		f.Add([]byte(s))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(gpx11))
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
			if len(a.Records) == 0 || !a.Type.Valid() {
				t.Fatalf("activity %s with %d records", a.Type, len(a.Records))
			}
			if _, err := json.Marshal(a.Metadata); err != nil {
				t.Fatalf("metadata: %v", err)
			}
			for _, r := range a.Records {
				if math.IsNaN(r.Lat) != math.IsNaN(r.Lon) || math.Abs(r.Lat) > 90 || math.Abs(r.Lon) > 180 {
					t.Fatalf("position %v,%v", r.Lat, r.Lon)
				}
			}
		}
	})
}
